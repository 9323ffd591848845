"""The local Azure world of the custom-domain integration tests, and helpers to read hostnames from its state."""
from __future__ import annotations

from typing import Any, Optional

RG = "rg-dom"
SERVICE = "apim-dom"
BARE_SERVICE = "apim-dom-noid"
UAI = "id-dom"
OTHER_UAI = "id-dom-spare"
BUILTIN = "apim-dom.azure-api.net"
FAST = {"time_scale": 0.01}  # APIM updates take 15 Azure seconds: 0.15 s here


def vault_url(name: str) -> str:
    """The data-plane URL of a seeded vault."""
    return f"https://{name}.vault.azure.net"


def secret_id(vault: str, name: str, version: Optional[str] = None) -> str:
    """A versionless (or versioned) secret identifier."""
    return f"{vault_url(vault)}/secrets/{name}" + (f"/{version}" if version else "")


def _certs(*names: str, days: int = 365) -> list[dict]:
    return [{"name": n, "certificate": {"subject": f"CN={n.replace('-', '.')}", "days": days}} for n in names]


def _policies(*principals: str) -> list[dict]:
    return [{"principal": p, "permissions": {"secrets": ["get", "list"]}} for p in principals]


IDENTITIES_AND_SERVICES = {
    "resource_groups": [{
        "name": RG, "location": "westeurope",
        "user_assigned_identities": [{"name": UAI}, {"name": OTHER_UAI}],
        "apim_services": [
            {"name": SERVICE, "sku": "Developer",
             "identity": {"type": "SystemAssigned, UserAssigned", "user_assigned": [UAI]}},
            {"name": BARE_SERVICE, "sku": "Developer"},
        ],
    }],
}

# Seeded second: access policies name the service's system identity (display name = service name) and the UAI.
VAULTS = {
    "resource_groups": [{
        "name": RG, "location": "westeurope",
        "key_vaults": [
            {"name": "kv-dom", "access_policies": _policies(SERVICE, UAI),
             "secrets": _certs("api-contoso-com", "portal-contoso-com") + _certs("soon-contoso-com", days=10)
             + [{"name": "plain-text", "value": "not-a-certificate", "content_type": "text/plain"}]},
            {"name": "kv-dom-closed", "access_policies": [], "secrets": _certs("api-contoso-com")},
            {"name": "kv-dom-fw", "access_policies": _policies(SERVICE, UAI), "secrets": _certs("api-contoso-com"),
             "network_acls": {"default_action": "Deny", "bypass": "AzureServices"}},
            {"name": "kv-dom-rbac", "rbac": True, "secrets": _certs("api-contoso-com")},
            {"name": "kv-dom-rbac-none", "rbac": True, "secrets": _certs("api-contoso-com")},
        ],
    }],
    # Azure RBAC vault: the system identity holds Key Vault Secrets User on kv-dom-rbac only.
    "role_assignments": [{
        "scope": "/subscriptions/{subscription_id}/resourceGroups/" + RG
                 + "/providers/Microsoft.KeyVault/vaults/kv-dom-rbac",
        "role": "Key Vault Secrets User", "principal": SERVICE}],
}


def seed(world: Any, local_azure: Any) -> None:
    """Reset the local Azure and seed identities, services, then vaults (fast APIM operations)."""
    world(IDENTITIES_AND_SERVICES, **FAST)
    local_azure.admin.seed(VAULTS)
    local_azure.admin.advance(900)  # let the seeded role assignment propagate to Key Vault's data plane
    local_azure.admin.clear_requests()


def hostnames(state: dict, service: str = SERVICE) -> list[dict]:
    """The hostname configurations the local Azure holds for a service."""
    for rid, body in state.get("resources", {}).items():
        if rid.lower().endswith(f"/microsoft.apimanagement/service/{service}"):
            return body["properties"]["hostnameConfigurations"]
    raise KeyError(f"service {service} not in the state")


def by_host(state: dict, service: str = SERVICE) -> dict[str, dict]:
    """Hostname configurations keyed by lower-cased host name."""
    return {h["hostName"].lower(): h for h in hostnames(state, service)}


def service_writes(requests: Any) -> list[dict]:
    """Writes to API Management services (not to vaults, not token requests)."""
    return [e for e in requests.writes() if "/microsoft.apimanagement/service/" in e["path"].lower()]


def identity_client_id(state: dict, name: str = UAI) -> str:
    """Client id of a seeded user-assigned identity."""
    for rid, body in state.get("resources", {}).items():
        if rid.lower().endswith(f"/userassignedidentities/{name}"):
            return body["properties"]["clientId"]
    raise KeyError(name)
