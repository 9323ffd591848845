"""The site playbooks (both identity paths of the article end to end) and the safe teardown, on a world with
foreign state beside the site: each converges (check -> apply -> idempotent check -> idempotent apply, zero writes
on the re-runs), lands in the emulator's state, and leaves what it does not own as it was."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.pfx import make_pfx_b64
from integration.harness import REPO_ROOT
from integration.site_support import (
    FAST, FOREIGN_OBJECT_ID, HOST, LEGACY_HOST, LEGACY_UAMI, RG, ROLE_IDS, SECRET_VALUE, UAMI, VAULT,
    access_policies, add_legacy_hostname, assignments, children, find, hostnames, quartet, service_path, site_vars,
    world_spec, writes,
)

pytestmark = pytest.mark.integration

PLAYBOOKS = REPO_ROOT / "playbooks"
PFX_PASSWORD = "teardown-pfx-password-93c1"
IDENTITY_TASK = "azure_apim.identity.apim_identity : Enable the identities on the service"
GRANT_TASK = "azure_apim.identity.apim_keyvault_access : Grant or revoke the identity's secret access"


def _seed(world: Any, local_azure: Any) -> dict[str, Any]:
    world(world_spec(), **FAST)
    add_legacy_hostname(local_azure)
    return local_azure.admin.state()


def _principal(state: dict, local_azure: Any, identity: str) -> tuple[str, str]:
    """(principal id, client id or 'SystemAssigned') of the service's identity."""
    body = find(state, service_path(local_azure))["identity"]
    if identity == "system":
        return body["principalId"], "SystemAssigned"
    entry = next(v for k, v in body["userAssignedIdentities"].items() if k.lower().endswith("/" + identity))
    return entry["principalId"], entry["clientId"]


def _assert_site(state: dict, local_azure: Any, identity: str, foreign_assignments: list) -> str:
    """The article's end state for one identity, and the foreign state beside it untouched; returns its principal."""
    principal, client = _principal(state, local_azure, identity)
    service = find(state, service_path(local_azure))
    attached = [k.rsplit("/", 1)[-1] for k in service["identity"].get("userAssignedIdentities") or {}]
    assert LEGACY_UAMI in attached, "the foreign user-assigned identity was detached"
    assert service["tags"] == {"owner": "platform-team"}
    policies = access_policies(state, local_azure)
    assert sorted(policies[principal]["secrets"]) == ["get", "list"]
    assert policies[FOREIGN_OBJECT_ID]["secrets"] == ["get", "list", "set"]
    hosts = hostnames(state, local_azure)
    assert hosts[HOST]["keyVaultId"] == f"https://{VAULT}.vault.azure.net/secrets/api-contoso-com"
    assert hosts[HOST]["certificate"]["subject"] == f"CN={HOST}" and hosts[HOST]["certificate"]["expiry"]
    assert hosts[HOST].get("identityClientId", "SystemAssigned") in (client, None) or identity == "system"
    assert hosts[LEGACY_HOST]["keyVaultId"].endswith("/legacy-contoso-com"), "the foreign hostname changed"
    assert any(h["hostName"].endswith(".azure-api.net") for h in hosts.values()), "the built-in hostname is gone"
    parent = service_path(local_azure)
    named = children(state, parent, "namedValues")["backend-api-key"]["properties"]
    assert named["keyVault"]["lastStatus"]["code"] == "Success"
    assert named["keyVault"].get("identityClientId") == (None if identity == "system" else client)
    policy = children(state, parent, "policies")["policy"]["_raw"]  # the snapshot masks "value"; _raw is the text
    assert "authentication-managed-identity" in policy and "https://vault.azure.net" in policy
    logger = children(state, parent, "loggers")["eventhub-logger"]["properties"]
    assert logger["credentials"]["identityClientId"] == client
    ours = [a for a in assignments(state) if a[2] == principal]
    assert sorted(role for _scope, role, _p in ours) == sorted(
        ROLE_IDS[r] for r in ("Storage Blob Data Reader", "Azure Service Bus Data Sender", "Azure Event Hubs Data Sender"))
    assert all(a in assignments(state) for a in foreign_assignments), "a foreign role assignment disappeared"
    return principal


def _teardown_vars(local_azure: Any, **overrides: Any) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load((PLAYBOOKS / "vars/teardown.yml").read_text(encoding="utf-8"))
    data.update({"teardown_subscription_id": local_azure.subscription_id, "teardown_azure": {"timeout": 900}})
    data.update(overrides)
    return data


def test_system_assigned_site_converges_and_teardown_leaves_foreign_state(world, playbook, local_azure):
    before = _seed(world, local_azure)
    foreign = assignments(before)
    check, apply = quartet(playbook, PLAYBOOKS / "site_system_assigned.yml", site_vars(local_azure, "site_system_assigned"),
                           secrets=(SECRET_VALUE,))
    # A service without the identity yet: check mode plans step 1 and the steps that need its ids (test_site_plan).
    diff = check.task(IDENTITY_TASK)["diff"]
    assert "SystemAssigned" in str(diff["after"]) and "SystemAssigned" not in str(diff["before"]), diff
    assert GRANT_TASK in check.changed_tasks()
    principal = _assert_site(apply.state, local_azure, "system", foreign)

    pfx = make_pfx_b64(HOST, password=PFX_PASSWORD)
    extra = _teardown_vars(local_azure, apim_teardown_certificate=pfx, apim_teardown_certificate_password=PFX_PASSWORD)
    plan, down = quartet(playbook, PLAYBOOKS / "teardown.yml", extra, secrets=(pfx, PFX_PASSWORD, pfx[:64]))
    shown = plan.task("azure_apim.identity.apim_teardown : Show the plan")["apim_teardown_plan"]
    assert shown["hostnames"] == [HOST] and shown["named_values"] == ["backend-api-key"]
    assert "azure_apim.identity.apim_teardown : Remove the system-assigned identity" in plan.changed_tasks()

    state = down.state
    service = find(state, service_path(local_azure))
    assert service["identity"]["type"] == "UserAssigned" and "principalId" not in service["identity"]
    assert service["tags"] == {"owner": "platform-team"}
    hosts = hostnames(state, local_azure)
    assert not hosts[HOST].get("keyVaultId") and hosts[HOST]["certificate"]["subject"] == f"CN={HOST}"
    assert hosts[LEGACY_HOST]["keyVaultId"].endswith("/legacy-contoso-com")
    parent = service_path(local_azure)
    assert children(state, parent, "namedValues") == {} and children(state, parent, "loggers") == {}
    policy = children(state, parent, "policies").get("policy")
    assert policy is None or "authentication-managed-identity" not in policy["_raw"]
    assert assignments(state) == foreign
    policies = access_policies(state, local_azure)
    assert principal not in policies and FOREIGN_OBJECT_ID in policies
    assert len(policies) == len(access_policies(before, local_azure))  # id-legacy's entry stays


def test_user_assigned_site_converges_and_teardown_removes_hostnames(world, playbook, local_azure):
    before = _seed(world, local_azure)
    foreign = assignments(before)
    _check, apply = quartet(playbook, PLAYBOOKS / "site_user_assigned.yml", site_vars(local_azure, "site_user_assigned"),
                            secrets=(SECRET_VALUE,))
    uami = next(r for r in apply.state["resources"].values() if r.get("name") == UAMI)
    assert uami["id"].lower().startswith(local_azure.rg_id(RG).lower()), "the identity was created elsewhere"
    principal = _assert_site(apply.state, local_azure, UAMI, foreign)
    assert "SystemAssigned" not in find(apply.state, service_path(local_azure))["identity"]["type"]

    extra = _teardown_vars(local_azure, apim_teardown_identity=UAMI, apim_teardown_hostname_action="remove",
                           apim_teardown_delete_user_assigned=True)
    down = playbook(PLAYBOOKS / "teardown.yml", extra_vars=extra, diff=True)
    assert down.rc == 0, down.explain()
    state = down.state
    assert HOST not in hostnames(state, local_azure) and LEGACY_HOST in hostnames(state, local_azure)
    assert all(r.get("name") != UAMI for r in state["resources"].values()), "the user-assigned identity still exists"
    service = find(state, service_path(local_azure))
    assert [k.rsplit("/", 1)[-1] for k in service["identity"]["userAssignedIdentities"]] == [LEGACY_UAMI]
    assert assignments(state) == foreign and principal not in access_policies(state, local_azure)
    again = playbook(PLAYBOOKS / "teardown.yml", extra_vars=extra)
    assert again.rc == 0, again.explain()
    assert again.changed_tasks() == [] and writes(again) == []
