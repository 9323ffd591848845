# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The plan across dependent steps of one check run (the ``assume`` option).

In check mode nothing is written, so a step whose prerequisite an earlier task is about to create (the service's
identity, a user-assigned identity, a Key Vault grant) would fail as if that prerequisite were
missing. The hand-over is explicit: a module that predicts such a prerequisite returns it in ``planned``; the roles
collect those entries in the facts ``apim_identity_planned`` and ``apim_keyvault_access_planned`` and pass
them to later modules as ``assume``. A
module then uses an assumed prerequisite only in check mode, only when the entry names exactly what it needs, says
so in a warning and shows what Azure assigns on creation as ``(known after apply)``. Anything not listed still fails
with the error the apply would give; a real run ignores ``assume``.

Entry shapes (every string compared case-insensitively):

- ``identities``: ``{"service": "<resource group>/<service name>", "identity": "system" | "<user-assigned id>"}``
  (the identity enabled/attached on that service); ``{"identity": "<user-assigned id>"}`` alone: it is created.
- ``secret_access``: ``{"vault": "<vault name>", "service": "<rg>/<name>", "identity": "system" | "<id>"}``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


# What Terraform-style plans show for a value Azure assigns when it creates the object.
UNKNOWN = "(known after apply)"
KINDS = ("identities", "secret_access")

ASSUME_OPTION: Dict[str, Any] = {"type": "dict", "default": None}


def _norm(value: Optional[str]) -> str:
    return str(value or "").strip().rstrip("/").lower()


def service_key(resource_group: str, name: str) -> str:
    """How plan entries name a service."""
    return "{0}/{1}".format(_norm(resource_group), _norm(name))


def identity_key(reference: Optional[str], resource_id: Optional[str] = None) -> str:
    """``system`` or the normalised id of a user-assigned identity."""
    if resource_id:
        return _norm(resource_id)
    return "system" if _norm(reference) in ("", "system", "systemassigned") else _norm(reference)


def is_unknown(value: Any) -> bool:
    """True for a value only the apply will know."""
    return value == UNKNOWN


class Assumptions:
    """The ``assume`` option of a module, consulted only in check mode."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module
        raw = (module.params.get("assume") or {}) if module.check_mode else {}
        self.entries: Dict[str, List[Dict[str, str]]] = {
            kind: [{k: _norm(v) for k, v in (e or {}).items()} for e in raw.get(kind) or []] for kind in KINDS}

    def _has(self, kind: str, **wanted: str) -> bool:
        return any(all(entry.get(k) == _norm(v) for k, v in wanted.items()) for entry in self.entries[kind])

    def identity_created(self, resource_id: str) -> bool:
        """True when an earlier task of this check run creates the user-assigned identity ``resource_id``."""
        return self._has("identities", identity=resource_id)

    def identity_enabled(self, service: str, identity: str) -> bool:
        """True when an earlier task of this check run enables/attaches ``identity`` on ``service``."""
        return self._has("identities", service=service, identity=identity)

    def secret_access(self, vault: str, service: str, identity: str) -> bool:
        """True when an earlier task of this check run lets the identity read the vault's secrets."""
        return self._has("secret_access", vault=vault, service=service, identity=identity)

    def warn(self, what: str) -> None:
        """The warning every assumed prerequisite gives."""
        self.module.warn("check mode assumes {0}, which an earlier task of this run plans to create; values Azure "
                         "assigns then show as {1!r}".format(what, UNKNOWN))


def planned(**entries: List[Dict[str, str]]) -> Dict[str, List[Dict[str, str]]]:
    """The ``planned`` return value of a check run (empty kinds left out)."""
    return {kind: items for kind, items in entries.items() if items}


def merge_planned(into: Dict[str, List[Dict[str, str]]], more: Optional[Dict[str, Any]]) -> None:
    """Add the ``planned`` entries of one list item to the task's."""
    for kind, items in (more or {}).items():
        into.setdefault(kind, []).extend(items)


def unknown_after_write(predicted: Any, created: bool) -> Any:
    """A check-mode prediction with what Azure assigns on the write as UNKNOWN: a new etag on every write; the id
    of a created resource when the prediction could not derive it."""
    if not isinstance(predicted, dict):
        return predicted
    marked = dict(predicted)
    if "etag" in marked:
        marked["etag"] = UNKNOWN
    if created and "id" in marked and marked["id"] is None:
        marked["id"] = UNKNOWN
    return marked
