# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""API Management services as plain dicts, and resolution of "which identity of the service" references.

Every capability that acts *as* the service's identity (Key Vault grants, custom domains, named values, loggers,
backend authentication, trusted access) names that identity the same way: ``system`` for the system-assigned one,
or a user-assigned identity by name (resolved in the service's resource group) or by ARM id. This module turns
such a reference into the principal id, tenant id and client id the other APIs need.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._errors import AzureApimError
from ._ids import normalize_resource_id, parse_resource_id, resolve_resource_id

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
    resource_id = getattr(model, "id", None)
    return {
        "id": resource_id,
        "name": getattr(model, "name", None),
        "resource_group": parse_resource_id(resource_id).resource_group if resource_id else None,
        "location": getattr(model, "location", None),
        "tags": dict(getattr(model, "tags", None) or {}),
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


class ApimServices:
    """Reads API Management services through an AzureApimModule (plain dicts out)."""

    def __init__(self, module: Any) -> None:
        self.module = module

    @property
    def _ops(self) -> Any:
        return self.module.client("apim").api_management_service

    def get(self, resource_group: str, name: str) -> Optional[Dict[str, Any]]:
        """The service, or None when it (or its resource group) does not exist."""
        model = self.module.read(self._ops.get, resource_group, name,
                                 what="reading API Management service {0}/{1}".format(resource_group, name))
        return service_to_dict(model) if model is not None else None

    def require(self, resource_group: str, name: str) -> Dict[str, Any]:
        """The service, or a clear error when it does not exist."""
        service = self.get(resource_group, name)
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


def resolve_identity(service: Dict[str, Any], reference: Optional[str], subscription_id: str) -> Dict[str, Any]:
    """Resolve ``reference`` (``system``, a user-assigned name or ARM id) against ``service``'s identities.

    Returns ``{"kind": "system"|"user", "principal_id", "tenant_id", "client_id", "resource_id"}``; ``client_id``
    and ``resource_id`` are None for the system-assigned identity. Raises AzureApimError when the identity is not
    enabled on the service, naming the module that enables it.
    """
    identity = service.get("identity") or identity_to_dict(None)
    has_system = split_identity_type(identity.get("type"))[0]
    ref = (reference or "system").strip()
    if ref.lower() in SYSTEM_REFERENCES:
        if not has_system or not identity.get("principal_id"):
            raise AzureApimError(
                "The system-assigned identity is not enabled on API Management service {0!r}".format(service["name"]),
                code="IdentityNotEnabled",
                hint="enable it first with azure_apim.identity.apim_identity (system_assigned: true)")
        return {"kind": "system", "principal_id": identity["principal_id"], "tenant_id": identity.get("tenant_id"),
                "client_id": None, "resource_id": None}
    wanted = normalize_resource_id(resolve_resource_id(ref, subscription_id, service["resource_group"],
                                                       USER_ASSIGNED_TYPE))
    for key, value in (identity.get("user_assigned_identities") or {}).items():
        if normalize_resource_id(key) == wanted:
            return {"kind": "user", "principal_id": value.get("principal_id"), "tenant_id": identity.get("tenant_id"),
                    "client_id": value.get("client_id"), "resource_id": key}
    raise AzureApimError(
        "User-assigned identity {0!r} is not attached to API Management service {1!r}".format(ref, service["name"]),
        code="IdentityNotEnabled",
        hint="attach it first with azure_apim.identity.apim_identity (user_assigned_identities)")


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
