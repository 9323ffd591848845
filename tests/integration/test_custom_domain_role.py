"""The apim_custom_domains role: binds a list (check → apply → check → apply), exclusive keeps only the list."""
from __future__ import annotations

import json

from emulator import pfx

from integration.custom_domain_world import BUILTIN, UAI, by_host, secret_id, seed, service_writes
from integration.test_custom_domain import quartet

BIND = "azure_apim.identity.apim_custom_domains : Bind the hostnames to their certificates"


def test_role_binds_the_list_and_exclusive_removes_the_rest(world, local_azure, playbook):
    seed(world, local_azure)
    password = "Role-Pfx-Pass-271"
    blob = pfx.make_pfx_b64("legacy.contoso.com", password=password)
    hostnames = [
        {"host_name": "api.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com"),
         "default_ssl_binding": True},
        {"type": "DeveloperPortal", "host_name": "developer.contoso.com", "key_vault": "kv-dom",
         "secret_name": "portal-contoso-com", "identity": UAI},
        {"type": "Portal", "host_name": "legacy.contoso.com", "certificate": blob, "certificate_password": password},
    ]
    applied = quartet(playbook, {"dom_hostnames": hostnames}, name="custom_domain_role", task=BIND)
    held = by_host(applied.state)
    assert set(held) == {BUILTIN, "api.contoso.com", "developer.contoso.com", "legacy.contoso.com"}
    assert held["legacy.contoso.com"]["certificateSource"] == "Custom"
    assert [w["method"] for w in service_writes(applied.requests)] == ["PATCH"]  # one update for the list
    assert [h["host_name"] for h in applied.task(BIND)["hostnames"]] == [h["host_name"] for h in hostnames]
    shown = applied.stdout + applied.stderr + json.dumps(applied.result)
    assert password not in shown and blob[:64] not in shown
    # The role reads nothing back: the bind task's result is the fact (issue 17), and its one module run is the
    # whole role's cost (2 sign-in requests).
    facts = applied.task("azure_apim.identity.apim_custom_domains : Keep the hostnames before and after the change")[
        "ansible_facts"]
    assert {h["host_name"] for h in facts["apim_custom_domains_after"]["hostname_configurations"]} == set(held)
    assert BUILTIN in {h["host_name"] for h in facts["apim_custom_domains_before"]["hostname_configurations"]}
    assert len(applied.requests) - len(applied.requests.arm()) == 2, "one module process signs in once"
    # Both Key Vault hostnames name kv-dom without its resource group: one lookup by name filter for the run
    # (issue 17), never a list of the subscription's vaults.
    lookups = [e for e in applied.requests.arm() if e["path"].lower().endswith("/resources")]
    assert len(lookups) == 1 and "name eq 'kv-dom'" in json.dumps(lookups[0]), lookups
    assert not [e for e in applied.requests.arm() if e["path"].lower().endswith("/vaults")]
    assert len([e for e in applied.requests.arm() if e["path"].lower().endswith("/vaults/kv-dom")]) == 1

    # Exclusive with a shorter list: legacy goes, the built-in entry stays.
    exclusive = {"dom_hostnames": hostnames[:2], "dom_exclusive": True}
    purged = quartet(playbook, exclusive, name="custom_domain_role", task=BIND)
    assert set(by_host(purged.state)) == {BUILTIN, "api.contoso.com", "developer.contoso.com"}
    assert purged.task(BIND)["removed_host_names"] == ["legacy.contoso.com"]
    assert [w["method"] for w in service_writes(purged.requests)] == ["PATCH"]
