# Private to the azure_apim.identity test suite.
"""The world the reliability scenarios start from: ours to manage plus plenty that belongs to others.

Foreign things (another team's identity attached to the service, tags, a role assignment, an access-policy entry,
secrets) are seeded so every scenario can prove it leaves them identical.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

RG = "rg-rel"
SERVICE = "apim-rel"
VAULT = "kv-rel-ap"
RBAC_VAULT = "kv-rel-rbac"
FOREIGN_IDENTITY = "id-foreign"
DOM_VAULT = "kv-rel-dom"
FW_VAULT = "kv-rel-fw"
NAMED_VALUE_SECRET = "rel-plain-named-value-secret-Zq8"
OTHER_APP_SECRET = "other-app-client-secret-9fKq2LwX"
VAULT_PLAIN_SECRET = "rel-vault-plain-secret-value-7Hx"

# Azure durations of the suite: short, but long enough that polling and "Updating" really happen.
FAST = {"time_scale": 0.02, "rbac_propagation_s": 60.0}  # identity replication: the realistic 30 s default

BASE: dict[str, Any] = {
    "location": "westeurope",
    "service_principals": [
        {"name": "ops-team", "kind": "ServicePrincipal", "object_id": "6f1e3c2a-0b7d-4c1e-9a55-3f0b2d9c8e11"},
        # A third actor with its own credentials, so its requests are told apart from ours in the log.
        {"name": "other-app", "kind": "ServicePrincipal", "client_secret": OTHER_APP_SECRET,
         "roles": [{"scope": "/subscriptions/{subscription_id}", "role": "Contributor"}]},
    ],
    "resource_groups": [{
        "name": RG,
        "location": "westeurope",
        "tags": {"cost-center": "other-team"},
        "user_assigned_identities": [{"name": FOREIGN_IDENTITY}, {"name": "id-rel-a"}, {"name": "id-rel-b"}],
        "key_vaults": [
            {"name": VAULT, "rbac": False,
             "access_policies": [{"principal": "ops-team",
                                  "permissions": {"secrets": ["get", "list", "set"], "certificates": ["get"]}}],
             "secrets": [{"name": "api-cert", "certificate": {"subject": "CN=api.rel.contoso.com", "days": 365}},
                         {"name": "backend-key", "value": VAULT_PLAIN_SECRET}]},
            {"name": RBAC_VAULT, "rbac": True,
             "secrets": [{"name": "backend-key", "value": VAULT_PLAIN_SECRET + "-rbac"}]},
        ],
        "eventhub_namespaces": [{"name": "evhns-rel", "hubs": ["apim-logs"]}],
        "apim_services": [{"name": SERVICE, "sku": "Developer", "tags": {"owner": "other-team"},
                           "identity": {"type": "SystemAssigned, UserAssigned",
                                        "user_assigned": [FOREIGN_IDENTITY]}}],
    }],
    "role_assignments": [
        {"scope": "/subscriptions/{subscription_id}/resourceGroups/" + RG, "role": "Reader", "principal": "ops-team"},
    ],
}


def rel_world(**changes: Any) -> dict[str, Any]:
    """A copy of the base world; keyword arguments replace keys of the resource group (e.g. apim_services=[...])."""
    spec = copy.deepcopy(BASE)
    spec["resource_groups"][0].update(changes)
    return spec


def ids(subscription_id: str) -> dict[str, str]:
    """ARM ids of the world's resources."""
    rg = f"/subscriptions/{subscription_id}/resourceGroups/{RG}"
    return {
        "rg": rg,
        "service": f"{rg}/providers/Microsoft.ApiManagement/service/{SERVICE}",
        "vault": f"{rg}/providers/Microsoft.KeyVault/vaults/{VAULT}",
        "rbac_vault": f"{rg}/providers/Microsoft.KeyVault/vaults/{RBAC_VAULT}",
        "eventhub": f"{rg}/providers/Microsoft.EventHub/namespaces/evhns-rel",
        "uai": f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/",
    }


def other_app(azure: Any, summary: dict[str, Any]) -> Any:
    """A raw ARM client signed in as the third actor `other-app` (not the automation principal)."""
    from emulator.client import ArmClient

    client_id = summary["principals"]["other-app"]["client_id"]
    return ArmClient(azure.base_url, azure.ca_bundle, azure.tenant_id, client_id, OTHER_APP_SECRET)


def _certs(*names: str) -> list[dict]:
    return [{"name": n, "certificate": {"subject": "CN=" + n.replace("-", "."), "days": 365}} for n in names]


def domain_vaults(service: str = SERVICE) -> dict[str, Any]:
    """Seeded after the service: access policies name its system identity (display name = service) and id-foreign."""
    policies = [{"principal": p, "permissions": {"secrets": ["get", "list"]}} for p in (service, FOREIGN_IDENTITY)]
    return {"resource_groups": [{"name": RG, "location": "westeurope", "key_vaults": [
        {"name": DOM_VAULT, "access_policies": policies,
         "secrets": _certs("api-rel-contoso-com", "legacy-rel-contoso-com")
         + [{"name": "plain-text", "value": "rel-not-a-certificate-value", "content_type": "text/plain"}]},
        {"name": FW_VAULT, "access_policies": policies, "secrets": _certs("api-rel-contoso-com"),
         "network_acls": {"default_action": "Deny", "bypass": "AzureServices"}},
    ]}]}


def secret_uri(name: str, vault: str = DOM_VAULT) -> str:
    """A versionless secret identifier."""
    return f"https://{vault}.vault.azure.net/secrets/{name}"


# A custom domain whose certificate lives in an Azure RBAC vault (scenarios 24-25 and 34).
DOMAIN_HOST = "api.rel.contoso.com"
DOMAIN_RBAC_VAULT = "kv-rel-dom-rbac"


def seed_rbac_domain(rel: Any, config: dict[str, Any]) -> None:
    """The base world (local-Azure ``config``), the domain vaults, and an RBAC vault holding the certificate; then the
    service's system identity is granted Key Vault Secrets User on it by keyvault_access (a grant made now, still
    propagating). The request log starts after the grant."""
    rel.seed(rel_world(), **config)
    vaults = domain_vaults()
    vaults["resource_groups"][0]["key_vaults"].append(
        {"name": DOMAIN_RBAC_VAULT, "rbac": True,
         "secrets": [{"name": "api-rel-contoso-com", "certificate": {"subject": "CN=" + DOMAIN_HOST, "days": 365}}]})
    rel.admin.seed(vaults)
    grant = rel.run("keyvault_access", {"vault": DOMAIN_RBAC_VAULT, "vault_resource_group": RG, "service_name": SERVICE,
                                        "service_resource_group": RG, "secret_permissions": ["get", "list"]})
    assert not grant.failed and grant.changed, grant.explain()
    rel.admin.clear_requests()


def service_of(rel: Any, state: Optional[dict] = None) -> dict:
    """The reliability service as the local Azure holds it (now, or in a captured ``state``)."""
    state = state or rel.state()
    return state["resources"][ids(rel.azure.subscription_id)["service"].lower()]


def attached(service: dict) -> set[str]:
    """Names of the user-assigned identities attached to a service."""
    users = (service.get("identity") or {}).get("userAssignedIdentities") or {}
    return {key.rsplit("/", 1)[-1].lower() for key in users}
