"""Worlds seeded by the Key Vault access, role assignment, network and preflight tests."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

# The collection is importable as ansible_collections.azure_apim.identity through <repo>/.collections.
_COLLECTIONS = str(Path(__file__).resolve().parents[2] / ".collections")
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)

FOREIGN_OBJECT_ID = "6f1e3c2a-0b7d-4c1e-9a55-3f0b2d9c8e11"
OTHER_OBJECT_ID = "0a9b8c7d-1111-4222-8333-944455566677"

BASE: dict[str, Any] = {
    "location": "westeurope",
    "config": {"network_update_s": 0.2, "rbac_propagation_s": 0, "keyvault_provisioning_s": 0.2},
    "service_principals": [
        {"name": "ops-team", "kind": "ServicePrincipal", "object_id": FOREIGN_OBJECT_ID},
        {"name": "other-app", "kind": "ServicePrincipal", "object_id": OTHER_OBJECT_ID},
    ],
    "resource_groups": [{
        "name": "rg-kv",
        "location": "westeurope",
        "user_assigned_identities": [{"name": "id-apim-kv"}],
        "route_tables": [{"name": "rt-apim"}],
        "network_security_groups": [{"name": "nsg-apim", "rules": [
            {"name": "AllowHttpsInbound", "priority": 200, "direction": "Inbound", "access": "Allow",
             "protocol": "Tcp", "source_address_prefix": "Internet", "destination_address_prefix": "VirtualNetwork",
             "destination_port_range": "443"},
            {"name": "AllowSqlOutbound", "priority": 100, "direction": "Outbound", "access": "Allow",
             "protocol": "Tcp", "source_address_prefix": "VirtualNetwork", "destination_address_prefix": "Sql",
             "destination_port_range": "1433"},
        ]}],
        "virtual_networks": [{"name": "vnet-apim", "address_prefixes": ["10.10.0.0/16"], "subnets": [
            {"name": "snet-apim", "address_prefix": "10.10.1.0/24", "service_endpoints": ["Microsoft.Storage"],
             "route_table": "rt-apim", "nsg": "nsg-apim"}]}],
        "key_vaults": [
            {"name": "kv-ap", "rbac": False, "access_policies": [
                {"principal": "ops-team", "permissions": {"secrets": ["Get", "List", "Set"], "certificates": ["get"]}},
                {"principal": "other-app", "permissions": {"keys": ["get"]}}],
             "secrets": [{"name": "api-cert", "certificate": {"subject": "CN=api.contoso.com"}},
                         {"name": "plain", "value": "not-a-real-secret-value"}]},
            {"name": "kv-rbac", "rbac": True, "secrets": [{"name": "backend-key", "value": "rbac-secret-value"}]},
            {"name": "kv-fw", "rbac": False, "network_acls": {"default_action": "Deny", "bypass": "AzureServices"}},
            {"name": "kv-fw-nobypass", "rbac": True,
             "network_acls": {"default_action": "Deny", "bypass": "None"}},
        ],
        "apim_services": [{"name": "apim-kv", "identity": {"type": "SystemAssigned, UserAssigned",
                                                           "user_assigned": ["id-apim-kv"]},
                           "virtual_network": {"type": "External", "subnet": "vnet-apim/snet-apim"}}],
    }],
}


def world(**changes: Any) -> dict[str, Any]:
    """A deep copy of the base world (tests mutate their copy)."""
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


def rg(spec: dict[str, Any]) -> dict[str, Any]:
    """The resource group of a world spec."""
    return spec["resource_groups"][0]


def helper_module(local_azure: Any, args: dict[str, Any] | None = None) -> Any:
    """An AzureApimModule talking to the local Azure, for calling module_utils helpers directly."""
    import json
    from unittest import mock

    from ansible.module_utils import basic
    from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

    payload = json.dumps({"ANSIBLE_MODULE_ARGS": dict(args or {})}).encode()
    with mock.patch.object(basic, "_ANSIBLE_ARGS", payload):
        try:
            from ansible.module_utils.testing import patch_module_args
        except ImportError:  # ansible-core < 2.19
            return AzureApimModule({}, env=local_azure.env())
        with patch_module_args(dict(args or {})):
            return AzureApimModule({}, env=local_azure.env())


def vault_id(local_azure: Any, name: str, group: str = "rg-kv") -> str:
    """ARM id of a seeded vault."""
    return f"{local_azure.rg_id(group)}/providers/Microsoft.KeyVault/vaults/{name}"


def grant_policy(local_azure: Any, vault: str, object_id: str, secrets: list[str]) -> None:
    """Add an access policy behind the collection's back (another writer), then forget the request."""
    resp = local_azure.arm().put(vault_id(local_azure, vault) + "/accessPolicies/add", {"properties": {
        "accessPolicies": [{"tenantId": local_azure.tenant_id, "objectId": object_id,
                            "permissions": {"secrets": secrets}}]}}, "2023-07-01")
    resp.raise_for_status()
    local_azure.admin.clear_requests()
