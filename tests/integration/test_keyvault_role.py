"""The apim_keyvault_access role through the two shipped playbooks: preflight + grant (one module run) → network →
verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integration import kv_worlds
from integration.kv_quartet import run_quartet

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
ROLE = "azure_apim.identity.apim_keyvault_access : "
GRANT = ROLE + "Grant or revoke the identity's secret access"
VERIFY = ROLE + "Verify that the identity can now read the vault"


def _module_runs(run: Any) -> int:
    """Module processes that called Azure: each signs in with one token request."""
    return len([e for e in run.requests if "/oauth2/" in e["path"] and e["path"].rstrip("/").endswith("/token")])


COMMON = {"apim_keyvault_access_service_name": "apim-kv", "apim_keyvault_access_service_resource_group": "rg-kv",
          "apim_keyvault_access_vault_resource_group": "rg-kv"}


@pytest.fixture
def seeded(world: Any) -> dict[str, Any]:
    return world(kv_worlds.world())


def test_access_policy_playbook_with_network_remediation(local_azure: Any, seeded: dict, playbook: Any) -> None:
    extra = {**COMMON, "apim_keyvault_access_vault": "kv-ap", "apim_keyvault_access_remediate_network": True,
             "apim_keyvault_access_verify_secret": "https://kv-ap.vault.azure.net/secrets/api-cert",
             "apim_keyvault_access_verify_certificate": True,
             "apim_keyvault_access_certificate_permissions": ["get"]}
    q = run_quartet(playbook, PLAYBOOKS / "keyvault_access_policy.yml", GRANT, extra)
    assert set(q.apply.changed_tasks()) == {GRANT, ROLE + "Add the Microsoft.KeyVault service endpoint to the "
                                            "service's subnet", ROLE + "Allow outbound 443 to AzureKeyVault and "
                                            "AzureActiveDirectory in the subnet's NSG"}
    assert q.apply.task(VERIFY)["findings"] == []
    before = {f["code"] for f in q.apply.task(GRANT)["preflight"]["findings"]}
    assert before == {"NoSecretAccess", "NoKeyVaultServiceEndpoint"}
    assert q.recheck.changed_tasks() == [] and q.reapply.changed_tasks() == []
    # A no-op re-run with a secret to verify: the grant with its preflight, the two network modules and the
    # verification.
    assert q.reapply.task(VERIFY)["findings"] == []
    assert _module_runs(q.reapply) == 4
    principal = seeded["principals"]["apim-kv"]["object_id"]
    policies = q.reapply.state["resources"][kv_worlds.vault_id(local_azure, "kv-ap").lower()]["properties"][
        "accessPolicies"]
    assert [p["permissions"] for p in policies if p["objectId"] == principal] == [
        {"secrets": ["get", "list"], "certificates": ["get"]}]


def test_rbac_playbook_refuses_an_access_policy_vault(local_azure: Any, seeded: dict, playbook: Any) -> None:
    result = playbook(PLAYBOOKS / "keyvault_rbac.yml", extra_vars={**COMMON, "apim_keyvault_access_vault": "kv-ap"})
    assert result.rc != 0
    assert result.task(GRANT).get("error_code") == "PermissionModelMismatch", result.task(GRANT)
    assert result.requests.writes() == []


def test_rbac_playbook(local_azure: Any, seeded: dict, playbook: Any) -> None:
    extra = {**COMMON, "apim_keyvault_access_vault": "kv-rbac", "apim_keyvault_access_identity": "id-apim-kv",
             "apim_keyvault_access_verify_secret": "backend-key"}
    q = run_quartet(playbook, PLAYBOOKS / "keyvault_rbac.yml", GRANT, extra)
    assert q.apply.task(GRANT)["role_assignment"]["role_name"] == "Key Vault Secrets User"
    assert q.apply.task(VERIFY)["ok"] is True
    assert not q.apply.requests.matching(path_contains="accessPolicies")
    # A secret to verify is checked on every run (the preflight before the grant does not read it).
    assert q.reapply.task(VERIFY)["ok"] is True
    assert _module_runs(q.reapply) == 2


def test_missing_vault_stops_at_the_grant(local_azure: Any, seeded: dict, playbook: Any) -> None:
    result = playbook(PLAYBOOKS / "keyvault_rbac.yml", extra_vars={**COMMON, "apim_keyvault_access_vault": "kv-gone"})
    assert result.rc != 0
    assert "'kv-gone' was not found" in result.task(GRANT)["msg"], result.task(GRANT)
    assert result.requests.writes() == []


def test_missing_vault_on_removal_stops_at_detect(local_azure: Any, seeded: dict, playbook: Any) -> None:
    extra = {**COMMON, "apim_keyvault_access_vault": "kv-gone", "apim_keyvault_access_state": "absent"}
    result = playbook(PLAYBOOKS / "keyvault_rbac.yml", extra_vars=extra)
    assert result.rc != 0
    assert "kv-gone was not found" in result.task(ROLE + "Stop when the vault does not exist")["msg"]
    assert result.requests.writes() == []


TRUSTED = ROLE + "Allow trusted Microsoft services (API Management) through the vault firewall"


def test_firewalled_vault_finding_names_the_variable_then_the_variable_fixes_it(
        local_azure: Any, seeded: dict, playbook: Any) -> None:
    extra = {**COMMON, "apim_keyvault_access_vault": "kv-fw-nobypass"}
    blocked = playbook(PLAYBOOKS / "keyvault_rbac.yml", extra_vars=extra)
    assert blocked.rc != 0  # verify fails: the firewall still blocks API Management
    fixes = [f["fix"] for f in blocked.task(GRANT)["preflight"]["findings"] if f["code"] == "FirewallBlocks"]
    assert fixes and "apim_keyvault_access_allow_trusted_services: true" in fixes[0], fixes
    assert not blocked.requests.matching(method="PATCH", path_contains="/vaults/kv-fw-nobypass")
    # The re-run changes nothing, and still fails: the preflight found what the verification fails on.
    again = playbook(PLAYBOOKS / "keyvault_rbac.yml", extra_vars=extra)
    assert again.rc != 0 and again.task(GRANT)["changed"] is False, again.explain()
    assert "FirewallBlocks" in str(again.task(VERIFY)), again.task(VERIFY)
    q = run_quartet(playbook, PLAYBOOKS / "keyvault_rbac.yml", TRUSTED,
                    {**extra, "apim_keyvault_access_allow_trusted_services": True,
                     "apim_keyvault_access_remediate_network": True})
    assert q.apply.task(TRUSTED)["network_acls"]["bypass"] == "AzureServices"
    assert q.apply.task(TRUSTED)["network_acls"]["default_action"] == "Deny"
    assert q.apply.task(VERIFY)["ok"] is True
    patches = q.apply.requests.matching(method="PATCH", path_contains="/vaults/kv-fw-nobypass")
    assert len(patches) == 1 and list(patches[0]["body"]["properties"]) == ["networkAcls"]
    # The no-op re-run: the preflight already saw what the verification would see (issue 17). Trusted services, the
    # grant with its preflight and the two network modules; no verification.
    with pytest.raises(KeyError):
        q.reapply.task(VERIFY)
    assert _module_runs(q.reapply) == 4
