# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""API Management services as plain dicts, and resolution of "which identity of the service" references.

Every capability that acts *as* the service's identity (Key Vault grants, custom domains, named values, loggers,
backend authentication, trusted access) names that identity the same way: ``system`` for the system-assigned one,
or a user-assigned identity by name (resolved in the service's resource group) or by ARM id. This module turns
such a reference into the principal id, tenant id and client id the other APIs need.
"""
from __future__ import annotations

import copy
import datetime
import json
from importlib import metadata
from typing import Any, Dict, List, Optional

from ._arm import OperationGroup, tracked_resource
from ._errors import AzureApimError
from ._ids import is_guid, normalize_resource_id, resolve_resource_id
from ._lro import wait_poller


SERVICE_TYPE = "Microsoft.ApiManagement/service"
USER_ASSIGNED_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
SYSTEM_REFERENCES = ("system", "systemassigned", "system_assigned")

# APIM's identity "type" strings. The service returns "SystemAssigned, UserAssigned" (comma + space).
TYPE_NONE = "None"
TYPE_SYSTEM = "SystemAssigned"
TYPE_USER = "UserAssigned"
TYPE_BOTH = "SystemAssigned, UserAssigned"


def identity_type(system: bool, user: bool) -> str:
    """The identity type string for a combination of system and user-assigned identities."""
    if system and user:
        return TYPE_BOTH
    return TYPE_SYSTEM if system else TYPE_USER if user else TYPE_NONE


def split_identity_type(value: Optional[str]) -> tuple:
    """(has_system, has_user) from any spelling APIM accepts ("SystemAssigned,UserAssigned", "systemAssigned", …)."""
    parts = {p.strip().lower() for p in (value or "").split(",")}
    return "systemassigned" in parts, "userassigned" in parts


def identity_to_dict(identity: Any) -> Dict[str, Any]:
    """An SDK identity model (or None) as the dict modules return; user-assigned keys are normalised ids."""
    if identity is None:
        return {"type": TYPE_NONE, "principal_id": None, "tenant_id": None, "user_assigned_identities": {}}
    system, user = split_identity_type(getattr(identity, "type", None))
    users: Dict[str, Dict[str, Any]] = {}
    for key, value in (getattr(identity, "user_assigned_identities", None) or {}).items():
        users[str(key)] = {
            "principal_id": getattr(value, "principal_id", None),
            "client_id": getattr(value, "client_id", None),
        }
    return {
        "type": identity_type(system, user),
        "principal_id": getattr(identity, "principal_id", None),
        "tenant_id": getattr(identity, "tenant_id", None),
        "user_assigned_identities": users,
    }


def _hostname_to_dict(model: Any) -> Dict[str, Any]:
    cert = getattr(model, "certificate", None)
    return {
        "type": getattr(model, "type", None),
        "host_name": getattr(model, "host_name", None),
        "key_vault_id": getattr(model, "key_vault_id", None),
        "identity_client_id": getattr(model, "identity_client_id", None),
        "default_ssl_binding": getattr(model, "default_ssl_binding", None),
        "negotiate_client_certificate": getattr(model, "negotiate_client_certificate", None),
        "certificate_source": getattr(model, "certificate_source", None),
        "certificate_status": getattr(model, "certificate_status", None),
        "certificate": None if cert is None else {
            "expiry": _iso(getattr(cert, "expiry", None)),
            "thumbprint": getattr(cert, "thumbprint", None),
            "subject": getattr(cert, "subject", None),
        },
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def service_to_dict(model: Any) -> Dict[str, Any]:
    """An SDK ApiManagementServiceResource as a plain dict (snake_case, names match module options)."""
    sku = getattr(model, "sku", None)
    return {
        **tracked_resource(model),
        "sku": {"name": getattr(sku, "name", None), "capacity": getattr(sku, "capacity", None)} if sku else None,
        "publisher_name": getattr(model, "publisher_name", None),
        "publisher_email": getattr(model, "publisher_email", None),
        "provisioning_state": getattr(model, "provisioning_state", None),
        "gateway_url": getattr(model, "gateway_url", None),
        "virtual_network_type": getattr(model, "virtual_network_type", None),
        "subnet_id": getattr(getattr(model, "virtual_network_configuration", None), "subnet_resource_id", None),
        "identity": identity_to_dict(getattr(model, "identity", None)),
        "hostname_configurations": [_hostname_to_dict(h) for h in getattr(model, "hostname_configurations", None) or []],
    }


def _json(body: Dict[str, Any]) -> bytes:
    """A request body as bytes: every supported SDK version sends bytes as they are."""
    return json.dumps(body).encode("utf-8")


# The api-version each azure-mgmt-apimanagement major release sends by default. Service reads go through the generic
# ARM client (no SDK import) but must speak the version the SDK's writes use, so that old SDK pins keep working where
# only older api-versions exist. tests/unit checks the entry of the installed SDK against its client.
SDK_API_VERSIONS = {4: "2022-08-01", 5: "2024-05-01"}


def service_api_version() -> str:
    """The default api-version of the installed azure-mgmt-apimanagement (the newest known one for newer majors)."""
    try:
        major = int(metadata.version("azure-mgmt-apimanagement").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        major = max(SDK_API_VERSIONS)
    known = sorted(SDK_API_VERSIONS)
    eligible = [k for k in known if k <= major] or known[:1]
    return SDK_API_VERSIONS[eligible[-1]]


class _Body:
    """A read-only view of ARM JSON with the SDK models' snake_case attribute names (``properties`` flattened, as
    the SDK does), so that the *_to_dict converters read a plain GET's body exactly like a model."""

    def __init__(self, body: Dict[str, Any]) -> None:
        self._body = dict(body.get("properties") or {}, **{k: v for k, v in body.items() if k != "properties"})

    def __getattr__(self, name: str) -> Any:
        head, *rest = name.split("_")
        value = self._body.get(head + "".join(p[:1].upper() + p[1:] for p in rest))
        if name == "user_assigned_identities" and isinstance(value, dict):
            return {key: _Body(item or {}) for key, item in value.items()}
        if isinstance(value, dict) and name != "tags":
            return _Body(value)
        if isinstance(value, list):
            return [_Body(v) if isinstance(v, dict) else v for v in value]
        return _datetime(value) if name == "expiry" and value else value


def _datetime(value: Any) -> Any:
    """An ISO 8601 text as the SDK gives it (a datetime), so the converters render it the same way."""
    try:
        text = str(value).replace("Z", "+00:00")
        if "." in text:  # ARM writes up to 7 fractional digits; Python parses 6
            head, frac = text.split(".", 1)
            digits = "".join(c for c in frac if c.isdigit())
            text = head + "." + (digits[:6] or "0") + frac[len(digits):]
        return datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return value


class ApimServices(OperationGroup):
    """Reads API Management services through an AzureApimModule (plain dicts out)."""

    client_name, operations = "apim", "api_management_service"

    def _memo(self) -> Dict[Any, Any]:
        memo = getattr(self.module, "memo", None)
        return memo if isinstance(memo, dict) else {}

    @staticmethod
    def _memo_key(resource_group: str, name: str) -> tuple:
        return ("apim_service", resource_group.lower(), name.lower())

    def get(self, resource_group: str, name: str, memo: bool = False) -> Optional[Dict[str, Any]]:
        """The service, or None when it (or its resource group) does not exist.

        ``memo=True`` reuses this run's last read of the service (for lookups such as resolving an identity, so the
        items of a list task read it once); the default always reads, as the reads that decide or verify a change
        must. Every read refreshes the memo and every write through this class clears it.
        """
        key, memo_dict = self._memo_key(resource_group, name), self._memo()
        if memo and key in memo_dict:
            return copy.deepcopy(memo_dict[key])
        # A plain GET through the generic ARM client: a module that only reads the service (for an identity's
        # principal or client id) does not import the APIM SDK, whose client loads every operation group (~0.27 s).
        path = "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.ApiManagement/service/{2}".format(
            self.module.subscription_id, resource_group, name)
        body = self.module.read(self.module.arm().get, path, service_api_version(),
                                what="reading API Management service {0}/{1}".format(resource_group, name))
        service = service_to_dict(_Body(body)) if body is not None else None
        memo_dict[key] = copy.deepcopy(service)
        # The ETag of the last fresh read, for writes that must not overwrite a change made since (If-Match).
        memo_dict[("apim_service_etag",) + key[1:]] = (body or {}).get("etag")
        return service

    def etag(self, resource_group: str, name: str) -> Optional[str]:
        """The ETag of this run's last fresh read of the service (None when unknown)."""
        return self._memo().get(("apim_service_etag",) + self._memo_key(resource_group, name)[1:])

    def forget(self, resource_group: str, name: str) -> None:
        """Drop the memo of a service that was just written."""
        self._memo().pop(self._memo_key(resource_group, name), None)

    def require(self, resource_group: str, name: str, memo: bool = False) -> Dict[str, Any]:
        """The service, or a clear error when it does not exist."""
        service = self.get(resource_group, name, memo)
        if service is None:
            raise AzureApimError(
                "API Management service {0!r} was not found in resource group {1!r} of subscription {2}".format(
                    name, resource_group, self.module.subscription_id),
                status=404, code="ServiceNotFound",
                hint="check resource_group and service_name, or create the service first "
                     "(azure_apim.identity.apim_service)")
        return service

    def list(self, resource_group: Optional[str] = None) -> List[Dict[str, Any]]:
        """Services of a resource group (or the subscription); [] when the group does not exist."""
        def pages() -> List[Any]:
            if resource_group:
                return list(self._ops.list_by_resource_group(resource_group))
            return list(self._ops.list())

        return [service_to_dict(m) for m in self.module.read(pages, what="listing API Management services") or []]

    def list_subscription(self) -> List[Dict[str, Any]]:
        """Every service of the subscription, all pages; unlike list(), a subscription that does not exist (or is
        not visible to the caller) fails with ARM's 404 SubscriptionNotFound instead of reading as empty."""
        models = self.module.call(lambda: list(self._ops.list()),
                                  what="listing API Management services of subscription {0}".format(
                                      self.module.subscription_id))
        return [service_to_dict(m) for m in models]

    # -- writes: raw JSON bodies, so the SDK's model defaults never add properties we do not own ---------------
    def _what(self, verb: str, resource_group: str, name: str) -> str:
        return "{0} API Management service {1}/{2}".format(verb, resource_group, name)

    def create(self, resource_group: str, name: str, body: Dict[str, Any]) -> None:
        """PUT a new service and wait for activation (30-45 minutes in Azure) within the deadline."""
        self.forget(resource_group, name)
        self.module.lro(self._ops.begin_create_or_update, resource_group, name, _json(body),
                        what=self._what("creating", resource_group, name))

    def patch(self, resource_group: str, name: str, body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """PATCH only the given top-level keys (identity, tags, sku, properties) and wait for the update.

        Returns the service as the operation's final response carries it (None when that response has no body).
        """
        self.forget(resource_group, name)
        model = self.module.lro(self._ops.begin_update, resource_group, name, _json(body),
                                what=self._what("updating", resource_group, name))
        return _final_service(model)

    def update_identity(self, resource_group: str, name: str, identity: Dict[str, Any],
                        etag: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """PATCH carrying only ``identity`` (never hostnames or customProperties); returns the final service
        as patch() does. ``etag`` (of the read the identity was planned from) makes a concurrent change of the
        service fail with 412 instead of being overwritten."""
        self.forget(resource_group, name)
        headers = {"If-Match": etag if etag.startswith(('"', "W/")) else '"{0}"'.format(etag)} if etag else {}
        model = self.module.lro(self._ops.begin_update, resource_group, name, _json({"identity": identity}),
                                headers=headers, what=self._what("updating the identities of", resource_group, name))
        return _final_service(model)

    def delete(self, resource_group: str, name: str) -> None:
        """DELETE the service and wait until it is gone (a 404 counts as done)."""
        self.forget(resource_group, name)
        poller = self.module.read(self._ops.begin_delete, resource_group, name,
                                  what=self._what("deleting", resource_group, name))
        if poller is not None:
            self.module.call(wait_poller, poller, self.module.deadline, self._what("deleting", resource_group, name),
                             what=self._what("deleting", resource_group, name), retry=())


def resolve_identity(service: Dict[str, Any], reference: Optional[str], subscription_id: str) -> Dict[str, Any]:
    """Resolve ``reference`` against ``service``'s identities: ``system``, or a user-assigned identity given by
    name, ARM id or client id (the value settings such as ``identityClientId`` carry).

    Returns ``{"kind": "system"|"user", "principal_id", "tenant_id", "client_id", "resource_id"}``; ``client_id``
    and ``resource_id`` are None for the system-assigned identity. Raises AzureApimError when the identity is not
    enabled on the service, naming the identities that are attached and the module that attaches one.
    """
    identity = service.get("identity") or identity_to_dict(None)
    ref = (reference or "system").strip()
    if ref.lower() in SYSTEM_REFERENCES:
        return _system_identity(service, identity)
    attached = identity.get("user_assigned_identities") or {}
    key = _attached_by_client_id(attached, ref) if is_guid(ref) else None
    if key is None:
        key = _attached_by_resource_id(attached, ref, subscription_id, service["resource_group"])
    if key is None:
        raise _not_attached(service, ref, attached)
    value = attached[key] or {}
    return {"kind": "user", "principal_id": value.get("principal_id"), "tenant_id": identity.get("tenant_id"),
            "client_id": value.get("client_id"), "resource_id": key}


def _system_identity(service: Dict[str, Any], identity: Dict[str, Any]) -> Dict[str, Any]:
    """The system-assigned identity, or the error saying it is not enabled."""
    if not split_identity_type(identity.get("type"))[0] or not identity.get("principal_id"):
        raise AzureApimError(
            "The system-assigned identity is not enabled on API Management service {0!r}".format(service["name"]),
            code="IdentityNotEnabled",
            hint="enable it first with azure_apim.identity.apim_identity (system_assigned: true)")
    return {"kind": "system", "principal_id": identity["principal_id"], "tenant_id": identity.get("tenant_id"),
            "client_id": None, "resource_id": None}


def _attached_by_client_id(attached: Dict[str, Any], client_id: str) -> Optional[str]:
    """The ARM id of the attached identity whose client id is ``client_id`` (case-insensitive), else None."""
    for key, value in attached.items():
        if ((value or {}).get("client_id") or "").lower() == client_id.lower():
            return key
    return None


def _attached_by_resource_id(attached: Dict[str, Any], ref: str, subscription_id: str,
                             resource_group: str) -> Optional[str]:
    """The attached identity a name or ARM id designates (a GUID-shaped name is a legal identity name too)."""
    wanted = normalize_resource_id(resolve_resource_id(ref, subscription_id, resource_group, USER_ASSIGNED_TYPE))
    for key in attached:
        if normalize_resource_id(key) == wanted:
            return key
    return None


def _not_attached(service: Dict[str, Any], ref: str, attached: Dict[str, Any]) -> AzureApimError:
    """The error for a reference that matches no attached identity; it lists the ones that are attached."""
    listed = ["{0} (client id {1})".format(key.rstrip("/").split("/")[-1], (value or {}).get("client_id"))
              for key, value in sorted(attached.items())]
    what = "client id" if is_guid(ref) else "identity"
    return AzureApimError(
        "User-assigned {0} {1!r} is not attached to API Management service {2!r}; attached: {3}".format(
            what, ref, service["name"], ", ".join(listed) or "none"),
        code="IdentityNotEnabled",
        hint="use system, or the name, resource id or client id of an attached identity, or attach it first with "
             "azure_apim.identity.apim_identity (user_assigned_identities)")


def identity_by_client_id(service: Dict[str, Any], client_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """Which identity an ``identityClientId`` designates: None/"SystemAssigned" = system; else the user-assigned one."""
    identity = service.get("identity") or identity_to_dict(None)
    if not client_id or client_id.lower() == "systemassigned":
        return {"kind": "system", "principal_id": identity.get("principal_id"), "client_id": None, "resource_id": None}
    for key, value in (identity.get("user_assigned_identities") or {}).items():
        if (value.get("client_id") or "").lower() == client_id.lower():
            return {"kind": "user", "principal_id": value.get("principal_id"), "client_id": value.get("client_id"),
                    "resource_id": key}
    return None


# ======================================================================================================================
# Dependents: what uses an identity of the service to reach Key Vault or another Azure service
# ======================================================================================================================


# ======================================================================================================================
# Reading less: the final body of a service update, and identities resolved only when they matter
# ======================================================================================================================

def _final_service(model: Any) -> Optional[Dict[str, Any]]:
    """The service from an update's final LRO response; None when there is none or it is still transitioning.

    azure-core fetches the resource once the operation is done (the Location URL or the resource itself), so
    this body is the service as stored; a caller that gets None reads the service again instead.
    """
    if model is None or not hasattr(model, "identity"):
        return None
    service = service_to_dict(model)
    state = str(service.get("provisioning_state") or "").replace(" ", "").lower()
    return service if service.get("id") and state in ("succeeded", "failed", "") else None


def is_system_reference(reference: Optional[str]) -> bool:
    """True when an ``identity`` option names the system-assigned identity (the default)."""
    return (reference or "system").strip().lower() in SYSTEM_REFERENCES
