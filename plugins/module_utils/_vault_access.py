# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of keyvault_access_info and keyvault_network: who can read a vault's secrets (access-policy entries
or role assignments), and the vault firewall's trusted-services switch (see _state.ensure)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._access import PRINCIPAL_OPTIONS, principal_from_params, trusted_services_spec  # pylint: disable=unused-import
from ._authz import SECRET_READ_ACTION, AuthorizationService, allows_data_action, covers
from ._errors import AzureApimError
from ._keyvault import BYPASS_OFF, BYPASS_ON, VaultService
from ._state import ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


def _principal(module: AzureApimModule) -> Optional[str]:
    if not (module.params["principal_id"] or module.params["service_name"]):
        return None
    return principal_from_params(module)["principal_id"]


NOTHING: Dict[str, Any] = {"changed": False, "permission_model": None, "access": []}


def _rbac_access(module: AzureApimModule, vault: Dict[str, Any], principal: Optional[str]) -> List[Dict[str, Any]]:
    authz = AuthorizationService(module)
    found = []
    for item in authz.list_for_scope(vault["id"], principal):
        if principal and str(item["principal_id"]).lower() != principal.lower():
            continue
        role = authz.definition(item["role_definition_id"]) or {}
        if not allows_data_action(role, SECRET_READ_ACTION):
            continue
        if not (covers(item["scope"] or "", vault["id"]) or covers(vault["id"], item["scope"] or "")):
            continue
        found.append({"kind": "role_assignment", "principal_id": item["principal_id"], "name": item["name"],
                      "scope": item["scope"], "role_name": role.get("role_name")})
    return found


def _policy_access(vault: Dict[str, Any], principal: Optional[str]) -> List[Dict[str, Any]]:
    return [{"kind": "access_policy", "principal_id": p["object_id"], "tenant_id": p["tenant_id"],
             "application_id": p["application_id"], "permissions": p["permissions"]}
            for p in vault["access_policies"]
            if principal is None or str(p["object_id"]).lower() == principal.lower()]


def vault_readers(module: AzureApimModule) -> Dict[str, Any]:
    """keyvault_access_info: who can read the vault's secrets. The vault is read first, then the principal only
    when there is access to filter by it.

    A missing vault, or an access-policy vault without entries, is answered from the vault read alone: the API
    Management service is read only when its identity's object id is needed.
    """
    params = module.params
    vault = VaultService(module).find(params["vault"], params["vault_resource_group"])
    if vault is None:
        return dict(NOTHING)
    model = vault["permission_model"]
    if model != "rbac" and not vault["access_policies"]:
        return {"changed": False, "permission_model": model, "access": []}
    try:
        principal = _principal(module)
    except AzureApimError as err:
        if err.code not in ("ServiceNotFound", "IdentityNotEnabled"):
            raise
        return dict(NOTHING)
    if model == "rbac":
        return {"changed": False, "permission_model": "rbac", "access": _rbac_access(module, vault, principal)}
    return {"changed": False, "permission_model": "access_policy", "access": _policy_access(vault, principal)}


def ensure_trusted_services(module: AzureApimModule) -> Dict[str, Any]:
    """keyvault_network: set the vault's bypass, keeping every other firewall rule as it is."""
    params = module.params
    spec = trusted_services_spec(VaultService(module), params["vault"], params["vault_resource_group"])[0]
    wanted = {"bypass": BYPASS_ON if params["trusted_services"] else BYPASS_OFF}
    outcome = ensure(spec, "present", wanted, check_mode=module.check_mode, deadline=module.deadline)
    return outcome.result("network_acls")
