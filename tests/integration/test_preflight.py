"""apim_keyvault_preflight: nothing on a healthy setup, each seeded problem reported with its fix, never a write."""

from __future__ import annotations

from typing import Any

import pytest

from integration import kv_worlds

TASK = "Preflight"


def _healthy_world() -> dict[str, Any]:
    spec = kv_worlds.world()
    group = kv_worlds.rg(spec)
    group["virtual_networks"][0]["subnets"][0]["service_endpoints"] = ["Microsoft.Storage", "Microsoft.KeyVault"]
    group["key_vaults"][2]["secrets"] = [{"name": "api-cert", "certificate": {"subject": "CN=api.contoso.com"}}]
    return spec


@pytest.fixture
def healthy(local_azure: Any, world: Any) -> dict[str, Any]:
    summary = world(_healthy_world())
    kv_worlds.grant_policy(local_azure, "kv-fw", summary["principals"]["apim-kv"]["object_id"], ["get"])
    return summary


def _codes(task: dict) -> dict[str, str]:
    return {f["code"]: f["severity"] for f in task["findings"]}


@pytest.mark.parametrize("check", [False, True])
def test_healthy_setup_reports_nothing(local_azure: Any, healthy: dict, playbook: Any, check: bool) -> None:
    result = playbook("preflight_one", extra_vars={
        "pf_vault": "https://kv-fw.vault.azure.net/secrets/api-cert", "pf_certificate": True}, check=check)
    assert result.rc == 0, result.explain()
    task = result.task(TASK)
    assert task["findings"] == [] and task["ok"] is True and task["changed"] is False
    assert task["network"]["service_endpoint"] is True and task["secret"]["is_pkcs12"] is True
    assert task["access"]["can_read_secrets"] is True
    assert result.requests.writes() == []


def test_each_seeded_problem_is_reported(local_azure: Any, healthy: dict, playbook: Any) -> None:
    arm = local_azure.arm()
    sid = local_azure.rg_id("rg-kv") + "/providers/Microsoft.Network/virtualNetworks/vnet-apim/subnets/snet-apim"
    subnet = arm.get(sid, "2024-05-01").json()
    subnet["properties"]["serviceEndpoints"] = [{"service": "Microsoft.Storage"}]
    arm.put(sid, {"properties": {k: v for k, v in subnet["properties"].items() if k != "provisioningState"}},
            "2024-05-01").raise_for_status()
    nsg = local_azure.rg_id("rg-kv") + "/providers/Microsoft.Network/networkSecurityGroups/nsg-apim"
    arm.put(nsg + "/securityRules/deny-kv", {"properties": {
        "priority": 120, "direction": "Outbound", "access": "Deny", "protocol": "*", "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "AzureKeyVault", "destinationPortRange": "*"}}, "2024-05-01").raise_for_status()
    local_azure.admin.config(advance_s=5)
    local_azure.admin.clear_requests()

    result = playbook("preflight_one", extra_vars={
        "pf_vault": "https://kv-fw.vault.azure.net/secrets/api-cert/0123abcd", "pf_identity": "id-apim-kv",
        "pf_fail_on": "warning"})
    assert result.rc != 0
    task = result.task(TASK)
    assert task["error_code"] == "PreflightFailed"
    assert _codes(task) == {"NoSecretAccess": "error", "FirewallBlocks": "error",
                            "NoKeyVaultServiceEndpoint": "error", "NsgBlocksAzureKeyVault": "error",
                            "VersionedSecretUri": "warning"}
    fixes = {f["code"]: f["fix"] for f in task["findings"]}
    assert "keyvault_access" in fixes["NoSecretAccess"] and "identity: system" in fixes["FirewallBlocks"]
    assert "apim_subnet_service_endpoint" in fixes["NoKeyVaultServiceEndpoint"]
    assert "apim_nsg_outbound_rules" in fixes["NsgBlocksAzureKeyVault"]
    assert "https://kv-fw.vault.azure.net/secrets/api-cert" in fixes["VersionedSecretUri"]
    assert result.requests.writes() == []


def test_plain_secret_as_certificate_missing_secret_and_fail_on(
        local_azure: Any, healthy: dict, playbook: Any) -> None:
    extra = {"pf_vault": "kv-ap", "pf_secret": "plain", "pf_certificate": True, "pf_fail_on": "never"}
    result = playbook("preflight_one", extra_vars=extra)
    assert result.rc == 0, result.explain()
    assert _codes(result.task(TASK)) == {"NoSecretAccess": "error", "NotACertificate": "error"}
    missing = playbook("preflight_one", extra_vars={"pf_vault": "kv-ap", "pf_secret": "nope", "pf_fail_on": "never"})
    assert "SecretNotFound" in _codes(missing.task(TASK))


def test_tenant_mismatch_and_identity_not_enabled(local_azure: Any, healthy: dict, playbook: Any) -> None:
    arm = local_azure.arm()
    vid = kv_worlds.vault_id(local_azure, "kv-foreign")
    arm.put(vid, {"location": "westeurope", "properties": {
        "tenantId": "99999999-9999-4999-8999-999999999999", "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": False, "accessPolicies": []}}, "2023-07-01").raise_for_status()
    local_azure.admin.clear_requests()
    result = playbook("preflight_one", extra_vars={"pf_vault": "kv-foreign", "pf_fail_on": "never"})
    assert _codes(result.task(TASK))["TenantMismatch"] == "error"
    other = playbook("preflight_one", extra_vars={"pf_vault": "kv-ap", "pf_identity": "id-other",
                                                  "pf_fail_on": "never"})
    assert _codes(other.task(TASK)) == {"IdentityNotEnabled": "error"}
    assert result.requests.writes() == [] and other.requests.writes() == []
