# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Entities inside an API Management service as plain dicts: named values, loggers, certificates, policies, APIs and
operations.

Every read returns the entity's ETag next to its properties (``etag``), so updates can send ``If-Match`` and a
concurrent change by another writer is detected (412) instead of overwritten. SDK models never leave this file.

Azure behaviour this relies on:

- Named values: writes are long-running (202 then the entity); GET never returns the value of a secret named
  value, and this collection never calls ``listValue``. A Key Vault named value reports the outcome of APIM's last
  fetch of the secret in ``keyVault.lastStatus`` (``code`` Success or the Key Vault error, ``message``); APIM
  fetches on create, on ``refreshSecret`` and every four hours.
- Loggers: writes are synchronous. Credentials given as a connection string come back masked as
  ``{{Logger-Credentials-<id>}}`` (a hidden named value), so they can never be compared with what was sent.
"""
from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._arm import OperationGroup, with_etag
from ._errors import AzureApimError
from ._kv_propagation import until_accepted
from ._lro import OperationStillRunning

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

SYSTEM_ASSIGNED = "SystemAssigned"


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def key_vault_to_dict(kv: Any) -> Dict[str, Any]:
    """The ``keyVault`` part of a named value or certificate: the secret, the identity APIM reads it with and the
    outcome of APIM's last fetch (``last_status``)."""
    status = getattr(kv, "last_status", None)
    return {
        "secret_identifier": getattr(kv, "secret_identifier", None),
        # No identityClientId means the system-assigned identity; spelled out so a change is visible.
        "identity_client_id": getattr(kv, "identity_client_id", None) or SYSTEM_ASSIGNED,
        "last_status": None if status is None else {
            "code": getattr(status, "code", None),
            "message": getattr(status, "message", None),
            "time_stamp_utc": _iso(getattr(status, "time_stamp_utc", None)),
        },
    }


class ServiceEntities(OperationGroup):
    """One kind of entity inside one API Management service: reads carry the ETag, deletes are guarded by it."""

    client_name = "apim"
    noun = ""

    def __init__(self, module: AzureApimModule, resource_group: str, service: str) -> None:
        super().__init__(module)
        self.group, self.service = resource_group, service

    @staticmethod
    def to_dict(model: Any, etag: Optional[str] = None) -> Dict[str, Any]:
        raise NotImplementedError

    def get(self, name: str) -> Optional[Dict[str, Any]]:
        """The entity (with ``etag``), or None when absent."""
        found = self.module.read(self._ops.get, self.group, self.service, name, cls=with_etag,
                                 what="reading {0} {1}".format(self.noun, name))
        return None if found is None else self.to_dict(*found)

    def list(self) -> List[Dict[str, Any]]:
        """All entities of this kind in the service ([] when the service does not exist)."""
        pages = self.module.read(lambda: list(self._ops.list_by_service(self.group, self.service)),
                                 what="listing {0}s of {1}".format(self.noun, self.service))
        return [self.to_dict(m) for m in pages or []]

    def delete(self, name: str, etag: Optional[str]) -> None:
        """DELETE guarded by the ETag."""
        self.module.call(self._ops.delete, self.group, self.service, name, etag or "*",
                         what="deleting {0} {1}".format(self.noun, name), retry=())


# ----------------------------------------------------------------------------------------------------------------
# named values
# ----------------------------------------------------------------------------------------------------------------

def named_value_to_dict(model: Any, etag: Optional[str] = None) -> Dict[str, Any]:
    """A NamedValueContract as a dict. ``value`` only for non-secret values (APIM omits secret ones)."""
    kv = getattr(model, "key_vault", None)
    result = {
        "id": getattr(model, "id", None),
        "name": getattr(model, "name", None),
        "display_name": getattr(model, "display_name", None),
        "secret": bool(getattr(model, "secret", False)),
        "tags": list(getattr(model, "tags", None) or []),
        "key_vault": None if kv is None else key_vault_to_dict(kv),
        "provisioning_state": getattr(model, "provisioning_state", None),
        "etag": etag,
    }
    if not result["secret"] and getattr(model, "value", None) is not None:
        result["value"] = model.value
    return result


def _key_vault_model(models: Any, key_vault: Dict[str, Any]) -> Any:
    client_id = key_vault.get("identity_client_id")
    return models.KeyVaultContractCreateProperties(
        secret_identifier=key_vault["secret_identifier"],
        identity_client_id=None if not client_id or client_id == SYSTEM_ASSIGNED else client_id)


class NamedValues(ServiceEntities):
    """Named values of one service."""

    operations = "named_value"
    noun = "named value"
    to_dict = staticmethod(named_value_to_dict)

    @property
    def _models(self) -> Any:
        from azure.mgmt.apimanagement import models

        return models

    def create(self, name: str, wanted: Dict[str, Any]) -> None:
        """PUT a new named value and wait for it (APIM answers 202)."""
        kv = wanted.get("key_vault")
        params = self._models.NamedValueCreateContract(
            display_name=wanted["display_name"], tags=wanted.get("tags") or None,
            secret=True if kv else bool(wanted.get("secret", False)),
            value=None if kv else wanted.get("value"),
            key_vault=_key_vault_model(self._models, kv) if kv else None)
        self.module.lro(self._ops.begin_create_or_update, self.group, self.service, name, params,
                        what="creating named value {0}".format(name), retry=())

    def update(self, name: str, etag: Optional[str], changes: Dict[str, Any]) -> None:
        """PATCH only the changed properties, guarded by the entity's ETag (a concurrent change gives 412)."""
        kv = changes.get("key_vault")
        params = self._models.NamedValueUpdateParameters(
            display_name=changes.get("display_name"), tags=changes.get("tags"),
            secret=True if kv else changes.get("secret"), value=changes.get("value"),
            key_vault=_key_vault_model(self._models, kv) if kv else None)
        self.module.lro(self._ops.begin_update, self.group, self.service, name, etag or "*", params,
                        what="updating named value {0}".format(name), retry=())

    def refresh(self, name: str) -> None:
        """Ask APIM to fetch the Key Vault secret again now (updates keyVault.lastStatus) and wait for it."""
        self.module.lro(self._ops.begin_refresh_secret, self.group, self.service, name,
                        what="refreshing the Key Vault secret of named value {0}".format(name), retry=())


# ----------------------------------------------------------------------------------------------------------------
# loggers
# ----------------------------------------------------------------------------------------------------------------

MASK_PREFIX = "{{Logger-Credentials-"


def is_masked(value: Optional[str]) -> bool:
    """True for the placeholder APIM returns instead of a stored credential."""
    return bool(value) and str(value).startswith(MASK_PREFIX)


def logger_to_dict(model: Any, etag: Optional[str] = None) -> Dict[str, Any]:
    """A LoggerContract as a dict; a masked connection string is reported as ``connection_string_set: true``."""
    creds = dict(getattr(model, "credentials", None) or {})
    connection = creds.get("connectionString")
    return {
        "id": getattr(model, "id", None),
        "name": getattr(model, "name", None),
        "logger_type": getattr(model, "logger_type", None),
        "description": getattr(model, "description", None),
        "is_buffered": getattr(model, "is_buffered", None),
        "resource_id": getattr(model, "resource_id", None),
        "credentials": {
            "name": creds.get("name"),
            "endpoint_address": creds.get("endpointAddress"),
            "identity_client_id": creds.get("identityClientId"),
            "connection_string_set": connection is not None,
        },
        "etag": etag,
    }


class Loggers(ServiceEntities):
    """Loggers of one service."""

    operations = "logger"
    noun = "logger"
    to_dict = staticmethod(logger_to_dict)

    def put(self, name: str, body: Dict[str, Any], etag: Optional[str]) -> Optional[Dict[str, Any]]:
        """Create or replace the logger (synchronous); ``etag`` guards a replace.

        Returns the logger as APIM answered (stored, credentials masked as on a read), None without a body.
        """
        from azure.mgmt.apimanagement import models

        params = models.LoggerContract(
            logger_type=body["logger_type"], description=body.get("description"),
            credentials=body["credentials"], is_buffered=body.get("is_buffered"),
            resource_id=body.get("resource_id"))
        found = self.module.call(self._ops.create_or_update, self.group, self.service, name, params, if_match=etag,
                                 cls=with_etag, what="writing logger {0}".format(name), retry=())
        return None if not found or found[0] is None else logger_to_dict(*found)


# ----------------------------------------------------------------------------------------------------------------
# certificates (client / CA certificates of the service, e.g. for backend mTLS) and the backends that use them
# ----------------------------------------------------------------------------------------------------------------

def certificate_to_dict(model: Any, etag: Optional[str] = None) -> Dict[str, Any]:
    """A CertificateContract as a dict; ``key_vault`` None for an uploaded (inline) certificate."""
    kv = getattr(model, "key_vault", None)
    key_vault = key_vault_to_dict(kv) if getattr(kv, "secret_identifier", None) else None
    return {"id": getattr(model, "id", None), "name": getattr(model, "name", None),
            "subject": getattr(model, "subject", None), "thumbprint": getattr(model, "thumbprint", None),
            "expiration_date": _iso(getattr(model, "expiration_date", None)), "key_vault": key_vault, "etag": etag}


def backend_certificate_refs(model: Any) -> Dict[str, Any]:
    """A backend's name and the certificates its credentials use (ids and thumbprints)."""
    creds = getattr(model, "credentials", None)
    return {"name": getattr(model, "name", None),
            "certificate_ids": list(getattr(creds, "certificate_ids", None) or []),
            "thumbprints": list(getattr(creds, "certificate", None) or [])}


class Certificates(ServiceEntities):
    """Certificates of one service. Writes are synchronous; reads carry the ETag that guards updates."""

    operations = "certificate"
    noun = "certificate"
    to_dict = staticmethod(certificate_to_dict)

    def put(self, name: str, body: Dict[str, Any], etag: Optional[str], retry: Any = ()) -> Dict[str, Any]:
        """Create or replace the certificate; ``body`` holds ``key_vault`` {secret_identifier, identity_client_id}
        or ``data`` + ``password`` (PFX). APIM fetches a Key Vault secret during the call."""
        from azure.mgmt.apimanagement import models

        kv = body.get("key_vault")
        params = models.CertificateCreateOrUpdateParameters(
            data=body.get("data"), password=body.get("password"),
            key_vault=_key_vault_model(models, kv) if kv else None)
        found = self.module.call(self._ops.create_or_update, self.group, self.service, name, params, if_match=etag,
                                 cls=with_etag, what="writing certificate {0}".format(name), retry=retry)
        return certificate_to_dict(*found)

    def refresh(self, name: str) -> Dict[str, Any]:
        """Ask APIM to fetch the Key Vault secret again now; returns the certificate as refreshed."""
        model = self.module.call(self._ops.refresh_secret, self.group, self.service, name,
                                 what="refreshing the Key Vault secret of certificate {0}".format(name), retry=())
        return certificate_to_dict(model)

    def backends(self) -> List[Dict[str, Any]]:
        """Every backend of the service with the certificates it uses."""
        ops = self.module.client("apim").backend
        pages = self.module.read(lambda: list(ops.list_by_service(self.group, self.service)),
                                 what="listing backends of {0}".format(self.service))
        return [backend_certificate_refs(m) for m in pages or []]


def last_status(named_value: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """``keyVault.lastStatus`` of a named value dict (None for plain values or before the first fetch)."""
    return ((named_value or {}).get("key_vault") or {}).get("last_status")


def secret_readable(named_value: Optional[Dict[str, Any]]) -> bool:
    """True when APIM's last fetch of the Key Vault secret succeeded."""
    return ((last_status(named_value) or {}).get("code") or "").lower() == "success"


def describe_status(named_value: Optional[Dict[str, Any]]) -> str:
    """lastStatus as one line: ``<code>: <message>`` (Key Vault's message spans several lines)."""
    status = last_status(named_value) or {}
    message = " ".join(line.strip() for line in str(status.get("message") or "").splitlines() if line.strip())
    return "{0}: {1}".format(status.get("code") or "no status yet", message or "(no message)")


SECRET_ACCESS_HINT = ("grant the API Management identity read access to the secret (Key Vault Secrets User, or an "
                      "access policy with secrets get), check the vault firewall allows trusted Microsoft services; "
                      "Azure RBAC grants can take about 10 minutes to take effect, so raise 'timeout' to wait longer")


def _not_readable(name: str, current: Dict[str, Any], refreshes: int, deadline: Any) -> AzureApimError:
    return AzureApimError(
        "API Management still cannot read the Key Vault secret of named value {0} after {1:.0f} s ({2} refreshes). "
        "Last status {3}".format(name, deadline.elapsed(), refreshes, describe_status(current)),
        code="KeyVaultSecretNotReadable", hint=SECRET_ACCESS_HINT, last_status=last_status(current))


def wait_for_secret(named_values: NamedValues, name: str, deadline: Any, interval: float,
                    sleep: Callable[[float], None] = time.sleep,
                    current: Optional[Dict[str, Any]] = None) -> Tuple[Dict[str, Any], int]:
    """Refresh the secret until APIM reads it (lastStatus Success) or the deadline passes.

    Returns (named value, number of refreshSecret calls). The status read first may be hours old, so a failing
    one is refreshed at once; later attempts wait ``interval`` seconds for access changes to propagate. The
    waiting is _kv_propagation.until_accepted's, as for every Key Vault reference APIM reads. ``current``: the named
    value as this run has just read it (then it is not read again).
    """
    state = {"current": current if current is not None else named_values.get(name), "refreshes": 0}

    def attempt() -> Tuple[bool, Optional[Dict[str, Any]]]:
        if state["current"] is None or secret_readable(state["current"]):
            return True, state["current"]
        try:
            named_values.refresh(name)
        except OperationStillRunning as err:
            raise _not_readable(name, state["current"], state["refreshes"], deadline) from err
        state["refreshes"] += 1
        state["current"] = named_values.get(name)
        return state["current"] is None or secret_readable(state["current"]), state["current"]

    def give_up(_attempts: int, _last: Optional[BaseException]) -> AzureApimError:
        return _not_readable(name, state["current"], state["refreshes"], deadline)

    current = until_accepted(attempt, [], deadline, "named value " + name, sleep=sleep,
                             delays=itertools.repeat(interval), wait_anyway=True, give_up=give_up)
    if current is None:
        raise AzureApimError("Named value {0} disappeared while waiting for its Key Vault secret".format(name),
                             code="NamedValueNotFound", hint="another process deleted it; re-run the task")
    return current, state["refreshes"]


# ----------------------------------------------------------------------------------------------------------------
# entities that reach Azure with one of the service's identities (what removing an identity would break)
# ----------------------------------------------------------------------------------------------------------------

def _key_vault_user(model: Any) -> Optional[Dict[str, Any]]:
    """A named value or certificate that reads Key Vault with an identity, as {name, identity_client_id}."""
    key_vault = getattr(model, "key_vault", None)
    if key_vault is None or not getattr(key_vault, "secret_identifier", None):
        return None
    return {"name": getattr(model, "name", None), "identity_client_id": getattr(key_vault, "identity_client_id", None),
            "secret_identifier": key_vault.secret_identifier}


def _logger_user(model: Any) -> Optional[Dict[str, Any]]:
    """A logger that sends with a managed identity (credentials carry identityClientId), else None."""
    credentials = getattr(model, "credentials", None) or {}
    client_id = next((v for k, v in credentials.items() if k.lower() == "identityclientid"), None)
    if not client_id:
        return None
    return {"name": getattr(model, "name", None), "identity_client_id": client_id}


def _entities(module: AzureApimModule, operations: str, resource_group: str, name: str, what: str) -> List[Any]:
    ops = getattr(module.client("apim"), operations)
    return list(module.read(lambda: list(ops.list_by_service(resource_group, name)),
                            what="listing {0} of {1}/{2}".format(what, resource_group, name)) or [])


def identity_users(module: AzureApimModule, resource_group: str, name: str) -> Dict[str, List[Dict[str, Any]]]:
    """Named values, loggers and certificates that reach Azure with one of the service's identities.

    Each entry is ``{"name", "identity_client_id"}``; ``identity_client_id`` None means the system identity.
    """
    named_values = [_key_vault_user(m) for m in _entities(module, "named_value", resource_group, name, "named values")]
    certificates = [_key_vault_user(m) for m in _entities(module, "certificate", resource_group, name, "certificates")]
    loggers = [_logger_user(m) for m in _entities(module, "logger", resource_group, name, "loggers")]
    return {"named_value": [e for e in named_values if e], "certificate": [e for e in certificates if e],
            "logger": [e for e in loggers if e]}
