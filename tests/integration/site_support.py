"""World, runs and state readers shared by the site playbook and teardown integration tests."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

# assert_no_secret: imported from here by the site plan tests
from harness.quartet import assert_no_secret, run_quartet, runs_of  # noqa: F401  # pylint: disable=unused-import
from integration.harness import REPO_ROOT

RG = "rg-apim-demo"
SERVICE = "apim-contoso-demo"
VAULT = "kv-contoso-demo"
UAMI = "id-apim-demo"
LEGACY_UAMI = "id-legacy"
HOST = "api.contoso.com"
LEGACY_HOST = "legacy.contoso.com"
FOREIGN_OBJECT_ID = "6f1e3c2a-0b7d-4c1e-9a55-3f0b2d9c8e11"
SECRET_VALUE = "demo-backend-key-not-a-real-secret"
APIM_API = "2022-08-01"
# Azure seconds -> wall clock; RBAC grants take effect at once so named values and certificates resolve.
FAST = {"time_scale": 0.005, "rbac_propagation_s": 0}
ROLE_IDS = {
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
}


def world_spec() -> dict[str, Any]:
    """The demo world plus what a real subscription has beside the site: a user-assigned identity (id-legacy)
    attached to the service with its own access policy and a Key Vault hostname, ops-team's access policy and
    Reader role, tags on the service. The site's own user-assigned identity does not exist yet."""
    spec = yaml.safe_load((REPO_ROOT / "tests/emulator/worlds/demo.yaml").read_text(encoding="utf-8"))
    spec = copy.deepcopy(spec)
    group = spec["resource_groups"][0]
    group["user_assigned_identities"] = [{"name": LEGACY_UAMI}]
    group["key_vaults"][0]["access_policies"].append({"principal": LEGACY_UAMI, "permissions": {"secrets": ["get"]}})
    group["key_vaults"][0]["secrets"].append({"name": "legacy-contoso-com",
                                              "certificate": {"subject": f"CN={LEGACY_HOST}", "days": 200}})
    service = group["apim_services"][0]
    service["identity"] = {"type": "UserAssigned", "user_assigned": [LEGACY_UAMI]}
    service["tags"] = {"owner": "platform-team"}
    spec["role_assignments"] = [{"scope": "/subscriptions/{subscription_id}/resourceGroups/" + RG, "role": "Reader",
                                 "principal": "ops-team", "principal_type": "ServicePrincipal"}]
    return spec


def service_path(azure: Any) -> str:
    """ARM id of the service."""
    return f"{azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{SERVICE}"


def add_legacy_hostname(azure: Any) -> None:
    """Bind legacy.contoso.com to the vault through id-legacy behind the collection's back, and wait for it."""
    arm, path = azure.arm(), service_path(azure)
    body = arm.get(path, APIM_API).json()
    client_id = next(v["clientId"] for k, v in body["identity"]["userAssignedIdentities"].items()
                     if k.endswith("/" + LEGACY_UAMI))
    hosts = body["properties"]["hostnameConfigurations"] + [{
        "type": "Proxy", "hostName": LEGACY_HOST, "identityClientId": client_id,
        "keyVaultId": f"https://{VAULT}.vault.azure.net/secrets/legacy-contoso-com"}]
    response = arm.request("PATCH", path, APIM_API, {"properties": {"hostnameConfigurations": hosts}})
    assert response.status_code < 300, response.text
    deadline = time.monotonic() + 60
    while True:
        props = arm.get(path, APIM_API).json()["properties"]
        if props.get("provisioningState") == "Succeeded" and not props.get("targetProvisioningState"):
            break
        assert time.monotonic() < deadline, "the legacy hostname never settled"
        time.sleep(0.1)
    azure.admin.clear_requests()


def site_vars(azure: Any, path: str, **overrides: Any) -> dict[str, Any]:
    """The example variables file of a site playbook, pointed at this subscription, with fast waits."""
    data = yaml.safe_load((REPO_ROOT / "playbooks/vars" / f"{path}.yml").read_text(encoding="utf-8"))
    data.update({"site_subscription_id": azure.subscription_id, "site_named_values_wait_interval": 1,
                 "site_azure": {"timeout": 900}})
    data.update(overrides)
    return data


def writes(run: Any) -> list:
    """The ARM writes a run sent."""
    return list(run.requests.writes())


def quartet(playbook: Callable[..., Any], path: Path, extra: dict[str, Any], secrets: tuple = ()) -> tuple:
    """check -> apply -> idempotent check -> idempotent apply (all with --diff, any task counts; see
    tests/harness/quartet.py); returns (check, apply)."""
    runs = run_quartet(runs_of(playbook, path, extra_vars=extra), None,
                       apply_changes=False, secrets=secrets)
    return runs.check, runs.apply


def find(state: dict[str, Any], resource_id: str) -> Optional[dict]:
    """A resource of a state snapshot by id (case-insensitive)."""
    return state["resources"].get(resource_id.lower()) or next(
        (v for k, v in state["resources"].items() if k.lower() == resource_id.lower()), None)


def children(state: dict[str, Any], parent: str, kind: str) -> dict[str, dict]:
    """Child resources of ``parent`` of one type (``namedValues``, ``loggers``, ``policies``), by name."""
    prefix = f"{parent.lower()}/{kind.lower()}/"
    return {v["name"]: v for k, v in state["resources"].items() if k.lower().startswith(prefix)}


def assignments(state: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every role assignment as (scope, role definition guid, principal id)."""
    return sorted((r["properties"]["scope"].lower(), r["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
                   r["properties"]["principalId"]) for r in state["resources"].values()
                  if r.get("type", "").lower() == "microsoft.authorization/roleassignments")


def access_policies(state: dict[str, Any], azure: Any) -> dict[str, dict]:
    """The vault's access-policy entries by object id."""
    vault = find(state, f"{azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/{VAULT}")
    return {p["objectId"]: p["permissions"] for p in vault["properties"]["accessPolicies"]}


def hostnames(state: dict[str, Any], azure: Any) -> dict[str, dict]:
    """The service's hostname configurations by host name."""
    body = find(state, service_path(azure))
    return {h["hostName"]: h for h in body["properties"]["hostnameConfigurations"]}
