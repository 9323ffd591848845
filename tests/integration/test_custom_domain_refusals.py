"""Each refusal of apim_custom_domain happens before any write and names the fix (check mode and apply)."""
from __future__ import annotations

import pytest

from integration.custom_domain_world import BARE_SERVICE, OTHER_UAI, UAI, by_host, secret_id, seed
from integration.test_custom_domain import quartet

CASES = [
    # (item, words the message must contain)
    ({"host_name": "a.contoso.com", "key_vault_secret_id": "https://kv-dom.vault.azure.net/certificates/api-contoso-com"},
     ["certificate URL", "https://kv-dom.vault.azure.net/secrets/api-contoso-com"]),
    ({"host_name": "b.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "no-such-cert")},
     ["does not exist", "no-such-cert", "import the certificate"]),
    ({"host_name": "c.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "plain-text")},
     ["content type", "text/plain", "application/x-pkcs12"]),
    ({"host_name": "d.contoso.com", "service_name": BARE_SERVICE, "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com")},
     ["system-assigned identity is not enabled", "apim_identity"]),
    ({"host_name": "e.contoso.com", "identity": OTHER_UAI, "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com")},
     ["not attached", OTHER_UAI, "apim_identity"]),
    ({"host_name": "f.contoso.com", "key_vault_secret_id": secret_id("kv-dom-closed", "api-contoso-com")},
     ["cannot read secrets", "keyvault_access first"]),
    ({"host_name": "g.contoso.com", "identity": UAI, "key_vault_secret_id": secret_id("kv-dom-closed", "api-contoso-com")},
     ["cannot read secrets", "keyvault_access first", "user-assigned"]),
    ({"host_name": "h.contoso.com", "identity": UAI, "key_vault_secret_id": secret_id("kv-dom-fw", "api-contoso-com")},
     ["firewall", "system-assigned", "trusted"]),
    ({"host_name": "j.contoso.com", "key_vault_secret_id": secret_id("kv-dom-rbac-none", "api-contoso-com")},
     ["cannot read secrets", "role assignment", "keyvault_access first"]),
    ({"host_name": "i.contoso.com", "key_vault": "kv-dom-missing", "secret_name": "x"},
     ["kv-dom-missing", "not found"]),
]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_each_refusal_writes_nothing_and_names_the_fix(world, local_azure, playbook, check_mode):
    seed(world, local_azure)
    run = playbook("custom_domain_many", check=check_mode,
                   extra_vars={"dom_items": [case[0] for case in CASES], "dom_ignore_errors": True})
    assert run.rc == 0, run.explain()
    results = run.task("Ensure each hostname")["results"]
    assert len(results) == len(CASES)
    for (item, words), result in zip(CASES, results):
        assert result.get("failed") is True, (item, result)
        message = result["msg"]
        for word in words:
            assert word.lower() in message.lower(), (word, message)
    assert run.requests.writes() == [], "a refusal must come before any write"
    held = by_host(run.state)
    assert list(held) == ["apim-dom.azure-api.net"]


def test_firewalled_and_rbac_vaults_work_with_the_system_identity(world, local_azure, playbook):
    # The vault that refuses the user-assigned identity behind its firewall is fine for the system-assigned one
    # (a trusted Microsoft service); an RBAC vault is fine with the Key Vault Secrets User role.
    seed(world, local_azure)
    items = [{"host_name": "fw.contoso.com", "key_vault_secret_id": secret_id("kv-dom-fw", "api-contoso-com")},
             {"type": "Portal", "host_name": "rbac.contoso.com",
              "key_vault_secret_id": secret_id("kv-dom-rbac", "api-contoso-com")}]
    run = quartet(playbook, {"dom_items": items}, name="custom_domain_many", task="Ensure each hostname")
    held = by_host(run.state)
    assert held["fw.contoso.com"]["certificateSource"] == "KeyVault"
    assert held["rbac.contoso.com"]["certificateStatus"] == "Completed"
    assert [w["method"] for w in run.requests.writes()] == ["PATCH", "PATCH"]
