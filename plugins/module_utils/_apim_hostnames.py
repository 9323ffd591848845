# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Custom-domain hostname configurations of an API Management service (plain dicts in and out).

APIM keeps all hostnames of a service in one list (``properties.hostnameConfigurations``) that is replaced as a
whole by every write. A task manages only the entries it names: it computes a small delta ("this entry must look
like this", "that one must be gone"), merges it into a freshly read list so every other entry survives,
PATCHes only ``hostnameConfigurations`` (guarded by the service ETag), waits, re-reads and re-merges when a
concurrent writer dropped something.
"""
from __future__ import annotations

import base64
import copy
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ._access import resolve_planned
from ._apim import same_identity_client, service_to_dict
from ._errors import AzureApimError
from ._ids import SecretUri, parse_secret_uri, same_secret_id
from ._lro import is_transitional, provisioning_state, wait_until_settled
from ._pfx import days_until, parse_iso_time, read_pfx_info
from ._plan import UNKNOWN
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED, Deadline, TransientKind
from ._secret_access import keyvault_secret_uri, refuse_keyvault_problems

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

HOSTNAME_TYPES = ("Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi")
SOURCE_BUILTIN = "BuiltIn"
SOURCE_KEYVAULT = "KeyVault"
SOURCE_CUSTOM = "Custom"
# The default domains APIM assigns (public, China and US Government clouds); they cannot carry custom certificates.
BUILTIN_SUFFIXES = (".azure-api.net", ".azure-api.cn", ".azure-api.us")
EXPIRY_WARNING_DAYS = 30
SECRET_KEYS = ("encoded_certificate", "certificate_password")
# Settings of an entry the module compares; None in the desired entry means "leave as it is".
OPTIONAL_FLAGS = ("default_ssl_binding", "negotiate_client_certificate")

Entry = Dict[str, Any]
Delta = List[Entry]

# A hostname write re-runs read -> merge -> write while APIM is busy and after a 412 (see _retry).
RERUN_ON: Tuple[TransientKind, ...] = (APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED)


# ----------------------------------------------------------------------------------------------------------------
# keys, normalisation, comparison
# ----------------------------------------------------------------------------------------------------------------

def canonical_type(value: str) -> str:
    """The hostname type as APIM spells it (input is case-insensitive)."""
    for known in HOSTNAME_TYPES:
        if known.lower() == str(value).strip().lower():
            return known
    raise AzureApimError("Unknown hostname type {0!r}; use one of {1}".format(value, ", ".join(HOSTNAME_TYPES)),
                         code="InvalidHostnameType")


def entry_key(entry: Entry) -> Tuple[str, str]:
    """An entry's identity in the list: (type, host name), both case-insensitive."""
    return str(entry.get("type") or "").lower(), str(entry.get("host_name") or "").strip().rstrip(".").lower()


def is_builtin(entry: Entry) -> bool:
    """The default ``<service>.azure-api.net`` entry (never removed, never changed by this module)."""
    if str(entry.get("certificate_source") or "") == SOURCE_BUILTIN:
        return True
    return str(entry.get("host_name") or "").lower().endswith(BUILTIN_SUFFIXES)


def entry_satisfied(wanted: Entry, current: Optional[Entry]) -> bool:
    """True when ``current`` already is what ``wanted`` asks for (or is absent when ``wanted`` is an absence)."""
    if wanted.get("absent"):
        return current is None
    if current is None:
        return False
    if wanted.get("restore"):
        return True
    for flag in OPTIONAL_FLAGS:
        if wanted.get(flag) is not None and bool(wanted[flag]) != bool(current.get(flag)):
            return False
    if wanted.get("certificate_source") == SOURCE_CUSTOM:
        thumb = ((current.get("certificate") or {}).get("thumbprint") or "").upper()
        return current.get("certificate_source") == SOURCE_CUSTOM and thumb == wanted["thumbprint"].upper()
    return (current.get("certificate_source") == SOURCE_KEYVAULT or bool(current.get("key_vault_id"))) and \
        same_secret_id(wanted.get("key_vault_id"), current.get("key_vault_id")) and \
        same_identity_client(wanted.get("identity_client_id"), current.get("identity_client_id"))


def find_entry(entries: Iterable[Entry], key: Tuple[str, str]) -> Optional[Entry]:
    """The entry with this key, or None."""
    for entry in entries or []:
        if entry_key(entry) == key:
            return entry
    return None


def delta_satisfied(delta: Delta, current: Optional[Sequence[Entry]]) -> bool:
    """Comparator for ResourceSpec: every instruction of the delta already holds in the current list."""
    return all(entry_satisfied(item, find_entry(current or [], entry_key(item))) for item in delta or [])


# ----------------------------------------------------------------------------------------------------------------
# building the delta and applying it
# ----------------------------------------------------------------------------------------------------------------

def keyvault_entry(type_: str, host_name: str, secret: SecretUri, identity: Dict[str, Any],
                   default_ssl_binding: Optional[bool], negotiate: Optional[bool]) -> Entry:
    """Our entry for a Key Vault certificate fetched by ``identity`` (from ``_apim.resolve_identity``)."""
    return {
        "type": canonical_type(type_), "host_name": host_name.strip(), "key_vault_id": _secret_key_form(secret),
        # The system-assigned identity is designated by leaving identityClientId out (the article's template).
        "identity_client_id": identity.get("client_id") if identity.get("kind") == "user" else None,
        "certificate_source": SOURCE_KEYVAULT, "default_ssl_binding": default_ssl_binding,
        "negotiate_client_certificate": negotiate,
    }


def inline_entry(type_: str, host_name: str, pfx_b64: str, password: Optional[str], info: Dict[str, Any],
                 default_ssl_binding: Optional[bool], negotiate: Optional[bool]) -> Entry:
    """Our entry for an inline (uploaded) PFX; ``info`` is what :func:`read_pfx_info` found in it."""
    return {
        "type": canonical_type(type_), "host_name": host_name.strip(), "encoded_certificate": pfx_b64,
        "certificate_password": password, "certificate_source": SOURCE_CUSTOM, "thumbprint": info["thumbprint"],
        "certificate": {k: info[k] for k in ("expiry", "thumbprint", "subject")},
        "default_ssl_binding": default_ssl_binding, "negotiate_client_certificate": negotiate,
    }


def _secret_key_form(secret: SecretUri) -> str:
    # The default HTTPS port and a trailing slash name the same secret; send the plain form.
    return secret.uri.replace(":443/", "/", 1)


def absent_entry(type_: str, host_name: str) -> Entry:
    """The instruction "this entry must not exist"."""
    return {"type": canonical_type(type_), "host_name": host_name.strip(), "absent": True}


def exclusive_removals(current: Sequence[Entry], ours: Iterable[Tuple[str, str]], keep: Iterable[str]) -> Delta:
    """Absences for every custom entry other than ours (their keys) and those whose host name is in ``keep``."""
    kept = {str(h).strip().rstrip(".").lower() for h in keep or []}
    own = set(ours)
    return [absent_entry(e["type"], e["host_name"]) for e in current or []
            if not is_builtin(e) and entry_key(e) not in own and entry_key(e)[1] not in kept]


def _merged(current: Optional[Entry], wanted: Entry) -> Entry:
    """What APIM will hold for an entry: the wanted certificate source over the current entry (unset flags kept)."""
    if wanted.get("restore"):
        out = {k: v for k, v in wanted.items() if k != "restore"}
    else:
        out = dict(current or {})
        out.update(type=wanted["type"], host_name=wanted["host_name"], certificate_source=wanted["certificate_source"])
        if wanted["certificate_source"] == SOURCE_KEYVAULT:
            same_cert = current is not None and same_secret_id(wanted.get("key_vault_id"), current.get("key_vault_id"))
            out.update(key_vault_id=wanted["key_vault_id"], identity_client_id=wanted.get("identity_client_id"),
                       encoded_certificate=None, certificate_password=None)
            if not same_cert:
                out["certificate"] = None  # APIM fetches the new certificate; it is known after the write
        else:
            out.update(key_vault_id=None, identity_client_id=None, certificate=wanted.get("certificate"),
                       encoded_certificate=wanted.get("encoded_certificate"),
                       certificate_password=wanted.get("certificate_password"))
    for flag in OPTIONAL_FLAGS:
        if wanted.get(flag) is not None:
            out[flag] = wanted[flag]
        out[flag] = bool(out.get(flag))
    return out


def apply_delta(current: Sequence[Entry], delta: Delta) -> Tuple[List[Entry], bool]:
    """The new list: each instruction applied, every other entry kept in place; (list, changed)."""
    result = [copy.deepcopy(dict(e)) for e in current or []]
    changed = False
    for item in delta:
        existing = find_entry(result, entry_key(item))
        if entry_satisfied(item, existing):
            continue
        changed = True
        if item.get("absent"):
            result = [e for e in result if entry_key(e) != entry_key(item)]
            continue
        merged = _merged(existing, item)
        if existing is None:
            result.append(merged)
        else:
            result[result.index(existing)] = merged
        if merged.get("type") == "Proxy" and merged.get("default_ssl_binding"):
            _single_default(result, entry_key(merged))
    return result, changed


def _single_default(entries: List[Entry], default_key: Tuple[str, str]) -> None:
    # Only one Proxy hostname can be the default for clients that send no SNI; APIM clears the others.
    for entry in entries:
        if entry.get("type") == "Proxy" and entry_key(entry) != default_key:
            entry["default_ssl_binding"] = False


def predicted_entries(entries: List[Entry]) -> List[Entry]:
    """Check mode: a Key Vault entry whose certificate APIM fetches on the write shows it as UNKNOWN."""
    return [dict(e, certificate=UNKNOWN, certificate_status=UNKNOWN)
            if e.get("key_vault_id") and e.get("certificate") is None else e for e in entries]


def public_entry(entry: Entry) -> Entry:
    """An entry as the module returns it: no secret material, plus derived certificate facts."""
    out = {k: v for k, v in entry.items() if k not in SECRET_KEYS and k not in ("thumbprint", "absent")}
    out["built_in"] = is_builtin(entry)
    out["versioned_secret"] = bool(_secret_version(entry.get("key_vault_id")))
    cert = entry.get("certificate") or {}
    out["expires_in_days"] = cert if isinstance(cert, str) else days_until(cert.get("expiry"))
    return out


def _secret_version(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    try:
        return parse_secret_uri(value).version
    except AzureApimError:
        return None


# ----------------------------------------------------------------------------------------------------------------
# Azure: read, PATCH, verify
# ----------------------------------------------------------------------------------------------------------------

def _to_model(entry: Entry, models: Any) -> Any:
    """An entry as the SDK's HostnameConfiguration (sent back as read, or ours as wanted)."""
    cert = entry.get("certificate") or None
    cert_model = None
    if cert and cert.get("expiry") and cert.get("thumbprint") and cert.get("subject") and \
            entry.get("certificate_source") != SOURCE_KEYVAULT and not entry.get("encoded_certificate"):
        # Custom (uploaded) certificates are identified by what GET returned; APIM keeps the stored blob.
        cert_model = models.CertificateInformation(expiry=parse_iso_time(str(cert["expiry"])) or cert["expiry"],
                                                   thumbprint=cert["thumbprint"], subject=cert["subject"])
    return models.HostnameConfiguration(
        type=entry["type"], host_name=entry["host_name"], key_vault_id=entry.get("key_vault_id"),
        identity_client_id=entry.get("identity_client_id"), encoded_certificate=entry.get("encoded_certificate"),
        certificate_password=entry.get("certificate_password"),
        default_ssl_binding=entry.get("default_ssl_binding"),
        negotiate_client_certificate=entry.get("negotiate_client_certificate"),
        certificate=cert_model, certificate_source=entry.get("certificate_source"),
    )


def _quoted(etag: Optional[str]) -> Optional[str]:
    if not etag:
        return None
    return etag if etag.startswith('"') or etag.startswith('W/') else '"{0}"'.format(etag)


class HostnameService:
    """Reads a service's hostname list and writes it back through an AzureApimModule."""

    def __init__(self, module: AzureApimModule, resource_group: str, service_name: str) -> None:
        self.module = module
        self.resource_group = resource_group
        self.service_name = service_name
        self.what = "API Management service {0}/{1}".format(resource_group, service_name)

    @property
    def _ops(self) -> Any:
        return self.module.client("apim").api_management_service

    def read(self) -> Optional[Dict[str, Any]]:
        """The service as a plain dict (``hostname_configurations``, ``identity``, ``etag``…), None when absent."""
        model = self.module.read(self._ops.get, self.resource_group, self.service_name, what="reading " + self.what)
        if model is None:
            return None
        service = service_to_dict(model)
        service["etag"] = getattr(model, "etag", None)
        return service

    def require(self, settle: bool = False) -> Dict[str, Any]:
        """The service (once no operation runs on it when ``settle``), or a clear error when it does not exist."""
        service = self.settled() if settle else self.read()
        if service is None:
            raise AzureApimError(
                "API Management service {0!r} was not found in resource group {1!r} of subscription {2}".format(
                    self.service_name, self.resource_group, self.module.subscription_id),
                status=404, code="ServiceNotFound", hint="check resource_group and service_name")
        return service

    def patch(self, entries: Sequence[Entry], etag: Optional[str]) -> Optional[Dict[str, Any]]:
        """PATCH only ``hostnameConfigurations`` (the whole new list) and wait for APIM to apply it.

        Returns the service the operation ended with (the SDK's final GET of the service once the operation
        completed), or None when the operation gave no body.
        """
        from azure.mgmt.apimanagement import models

        body = models.ApiManagementServiceUpdateParameters(
            hostname_configurations=[_to_model(e, models) for e in entries])
        for attribute in body._attribute_map:  # pylint: disable=protected-access
            # The SDK model fills in defaults (disableGateway false, developerPortalStatus Enabled, ...) that a
            # PATCH would apply; only the hostname list may be sent.
            if attribute != "hostname_configurations":
                setattr(body, attribute, None)
        headers = {"If-Match": _quoted(etag)} if etag else {}
        model = self.module.lro(self._ops.begin_update, self.resource_group, self.service_name, body,
                                headers=headers, what="updating the hostnames of " + self.what)
        if model is None or not hasattr(model, "hostname_configurations"):
            return None
        service = service_to_dict(model)
        service["etag"] = getattr(model, "etag", None)
        return service

    def settled(self, known: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
        """The service once no operation runs on it: ``known`` (a service just returned by Azure) when it is
        already settled, else fresh reads."""
        if known is not None and not is_transitional(provisioning_state(known)):
            return known
        return wait_until_settled(self.read, self.module.deadline, self.what)


def write_delta(svc: HostnameService, current: Dict[str, Any], delta: Delta,
                warn: Callable[[str], None]) -> Dict[str, Any]:
    """Merge ``delta`` into ``current``'s list, PATCH, re-read; if a concurrent writer dropped an entry we sent
    (ours or a foreign one), merge it back and write again until everything is there or the deadline passes.

    Returns the settled service after the last write. 409 (busy) and 412 (ETag) propagate to the caller, whose
    whole read -> merge -> write cycle then runs again.
    """
    deadline: Deadline = svc.module.deadline
    pending = list(delta)
    while True:
        new_list, changed = apply_delta(current["hostname_configurations"], pending)
        written = svc.patch(new_list, current.get("etag")) if changed else None
        after = svc.settled(written)
        if after is None:
            raise AzureApimError("{0} disappeared while its hostnames were being changed".format(svc.what),
                                 code="ServiceNotFound")
        dropped = _dropped(new_list, after["hostname_configurations"], pending)
        if not dropped and delta_satisfied(pending, after["hostname_configurations"]):
            return after
        if deadline.expired():
            raise AzureApimError(
                "Another writer kept changing the hostnames of {0}; these are still missing: {1}".format(
                    svc.what, ", ".join(e["host_name"] for e in dropped) or "this task's entry"),
                code="ConcurrentHostnameChange", hint="re-run the task when the other automation has finished")
        warn("Another writer changed the hostnames of {0} during this task; merging again to restore {1}".format(
            svc.what, ", ".join(e["host_name"] for e in dropped) or "this task's entry"))
        known = {entry_key(p) for p in pending}
        pending += _restorable([e for e in dropped if entry_key(e) not in known], svc.what)
        current = after


def _dropped(sent: Sequence[Entry], now: Sequence[Entry], delta: Delta) -> List[Entry]:
    """Entries we sent that are no longer there (built-in and deliberately removed ones excepted)."""
    removed = {entry_key(d) for d in delta if d.get("absent")}
    return [e for e in sent if entry_key(e) not in removed and not is_builtin(e)
            and find_entry(now, entry_key(e)) is None]


def _restorable(dropped: Sequence[Entry], what: str) -> Delta:
    """Instructions that put dropped entries back; an uploaded certificate cannot be re-sent without its PFX."""
    restore: Delta = []
    for entry in dropped:
        if entry.get("certificate_source") == SOURCE_CUSTOM and not entry.get("encoded_certificate"):
            raise AzureApimError(
                "Hostname {0} (an uploaded certificate) was removed from {1} by another writer while this task "
                "ran; it cannot be restored without its PFX".format(entry["host_name"], what),
                code="ConcurrentHostnameChange", hint="upload it again, then re-run this task")
        restore.append(dict({k: v for k, v in entry.items() if k != "certificate"}, restore=True))
    return restore


# ----------------------------------------------------------------------------------------------------------------
# the entry a task asks for (Key Vault checks in _secret_access)
# ----------------------------------------------------------------------------------------------------------------


def secret_named_by_current(current: Optional[Entry], vault_ref: Optional[str], secret_name: Optional[str],
                            secret_version: Optional[str]) -> Optional[SecretUri]:
    """The current entry's secret id when it already names ``vault_ref`` + ``secret_name`` (+ version), else None.

    Key Vault names are unique within a cloud, so the vault in the current URL is the one ``vault_ref`` names (by
    name or resource id): an unchanged hostname needs no vault lookup to build its secret id.
    """
    if not current or not current.get("key_vault_id") or not vault_ref or not secret_name:
        return None
    try:
        secret = parse_secret_uri(current["key_vault_id"])
    except AzureApimError:
        return None
    vault_name = str(vault_ref).strip().rstrip("/").rsplit("/", 1)[-1]
    if secret.vault_name.lower() != vault_name.lower() or secret.name.lower() != str(secret_name).lower():
        return None
    if (secret.version or "").lower() != str(secret_version or "").lower():
        return None
    return secret


def _inline_pfx(params: Dict[str, Any]) -> Optional[str]:
    if params["certificate"]:
        return params["certificate"]
    if not params["certificate_path"]:
        return None
    try:
        with open(params["certificate_path"], "rb") as handle:
            return base64.b64encode(handle.read()).decode("ascii")
    except OSError as err:
        message = "Cannot read certificate_path {0!r}: {1}".format(params["certificate_path"], err.strerror)
        raise AzureApimError(message, code="CertificateFileUnreadable",
                             hint="check the path on the host running the task")


def our_entry(module: AzureApimModule, service: Dict[str, Any], p: Dict[str, Any],
              young: Optional[List[Dict[str, Any]]] = None) -> Entry:
    """One requested hostname (options ``p``), validated against Azure (refusals are raised here, before any
    write). RBAC grants it relies on that may not have propagated yet are appended to ``young``."""
    if is_builtin({"host_name": p["host_name"]}):
        raise AzureApimError("{0} is the service's built-in hostname; its certificate is managed by Azure".format(
            p["host_name"]), code="BuiltInHostname", hint="bind a custom domain you own instead")
    if p["state"] == "absent":
        return absent_entry(p["type"], p["host_name"])
    pfx = _inline_pfx(p)
    if pfx is not None:
        info = read_pfx_info(pfx, p["certificate_password"])
        return inline_entry(p["type"], p["host_name"], pfx, p["certificate_password"], info,
                            p["default_ssl_binding"], p["negotiate_client_certificate"])
    identity = resolve_planned(module, service, p["identity"] or "system")
    current = find_entry(service["hostname_configurations"],
                         entry_key({"type": canonical_type(p["type"]), "host_name": p["host_name"]}))
    vault = None
    if p["key_vault_secret_id"]:
        secret = parse_secret_uri(p["key_vault_secret_id"])  # refuses a /certificates/ URL with the /secrets/ form
    else:
        secret = secret_named_by_current(current, p["key_vault"], p["secret_name"], p["secret_version"])
        if secret is None:
            secret, vault = keyvault_secret_uri(module, None, p["key_vault"], p["secret_name"], p["secret_version"])
    entry = keyvault_entry(p["type"], p["host_name"], secret, identity, p["default_ssl_binding"],
                           p["negotiate_client_certificate"])
    if not entry_satisfied(entry, current):
        # Only a change is checked against Key Vault: an idempotent run reads nothing there.
        if vault is None:
            secret, vault = keyvault_secret_uri(module, secret.uri, p["key_vault"], None, None)
        pending = refuse_keyvault_problems(module, service, identity, secret, vault)
        if young is not None:
            young.extend(pending)
    if secret.version:
        module.warn("{0} pins version {1} of the certificate: automatic rotation is off (API Management follows "
                    "renewals within 4 hours only for a versionless secret id)".format(p["host_name"], secret.version))
    return entry
