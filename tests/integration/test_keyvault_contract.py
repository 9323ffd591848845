"""The Key Vault access report other capabilities call before binding a secret (custom domains, named values)."""

from __future__ import annotations

from typing import Any

import pytest

from integration import kv_worlds


@pytest.fixture
def seeded(local_azure: Any, world: Any) -> dict[str, Any]:
    spec = kv_worlds.world()
    kv_worlds.rg(spec)["role_assignments"] = []
    spec["role_assignments"] = [
        {"scope": "/subscriptions/{subscription_id}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-rbac"
                  "/secrets/backend-key", "role": "Key Vault Secrets User", "principal": "id-apim-kv"},
    ]
    summary = world(spec)
    kv_worlds.grant_policy(local_azure, "kv-ap", summary["principals"]["apim-kv"]["object_id"], ["get", "list"])
    return summary


def _identity(module: Any, which: str) -> dict:
    from ansible_collections.azure_apim.identity.plugins.module_utils._apim import ApimServices, resolve_identity

    service = ApimServices(module).require("rg-kv", "apim-kv")
    return resolve_identity(service, which, module.subscription_id)


def test_access_policy_vault_system_identity_can_read(local_azure: Any, seeded: dict) -> None:
    from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import secret_access

    module = kv_worlds.helper_module(local_azure)
    report = secret_access(module, "https://kv-ap.vault.azure.net/secrets/api-cert", _identity(module, "system"))
    assert report["permission_model"] == "access_policy"
    assert report["can_read_secrets"] is True and report["ok"] is True, report
    assert report["tenant_match"] is True
    assert report["grants"][0]["kind"] == "access_policy"
    assert local_azure.admin.requests().writes() == []


def test_access_policy_vault_user_identity_has_no_access(local_azure: Any, seeded: dict) -> None:
    from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import secret_access

    module = kv_worlds.helper_module(local_azure)
    report = secret_access(module, "kv-ap", _identity(module, "id-apim-kv"))
    assert report["can_read_secrets"] is False
    assert [p["code"] for p in report["problems"]] == ["NoSecretAccess"]


def test_rbac_secret_scope_counts_only_for_that_secret(local_azure: Any, seeded: dict) -> None:
    from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import secret_access

    module = kv_worlds.helper_module(local_azure)
    ident = _identity(module, "id-apim-kv")
    at_secret = secret_access(module, "https://kv-rbac.vault.azure.net/secrets/backend-key/abc", ident)
    assert at_secret["permission_model"] == "rbac"
    assert at_secret["can_read_secrets"] is True
    assert at_secret["grants"][0]["role_name"] == "Key Vault Secrets User"
    vault_wide = secret_access(module, "kv-rbac", ident)
    assert vault_wide["can_read_secrets"] is False


def test_firewall_fit(local_azure: Any, seeded: dict) -> None:
    from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import secret_access

    module = kv_worlds.helper_module(local_azure)
    user = secret_access(module, "kv-fw", _identity(module, "id-apim-kv"))
    assert user["firewall"]["enabled"] is True and user["firewall"]["passes"] is False
    assert "system-assigned" in user["firewall"]["reason"]
    system = secret_access(module, "kv-fw", _identity(module, "system"))
    assert system["firewall"]["passes"] is True
    closed = secret_access(module, "kv-fw-nobypass", _identity(module, "system"))
    assert closed["firewall"]["passes"] is False and "bypass" in closed["firewall"]["reason"]


def test_tenant_mismatch_and_missing_vault(local_azure: Any, seeded: dict) -> None:
    from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
    from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import secret_access

    module = kv_worlds.helper_module(local_azure)
    ident = dict(_identity(module, "system"), tenant_id="99999999-9999-4999-8999-999999999999")
    report = secret_access(module, "kv-ap", ident)
    assert report["tenant_match"] is False and "TenantMismatch" in [p["code"] for p in report["problems"]]
    with pytest.raises(AzureApimError) as caught:
        secret_access(module, "kv-nope", ident)
    assert caught.value.code == "VaultNotFound"


def test_secret_metadata(local_azure: Any, seeded: dict) -> None:
    from ansible_collections.azure_apim.identity.plugins.module_utils._keyvault import secret_metadata

    module = kv_worlds.helper_module(local_azure)
    cert = secret_metadata(module, "kv-ap", "api-cert")
    assert cert["exists"] is True and cert["is_pkcs12"] is True and cert["current_version"]
    assert cert["secret_uri"] == "https://kv-ap.vault.azure.net/secrets/api-cert"
    assert "value" not in cert
    assert secret_metadata(module, "kv-ap", "missing") == {"exists": False, "name": "missing"}
