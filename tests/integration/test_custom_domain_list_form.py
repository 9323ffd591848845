"""apim_custom_domain with `hostnames` (the list form): every entry validated first, one PATCH for all of them, one
read of the service on a no-op; refusals, exclusive and foreign hostnames as in the single form.

The playbook runs this one task only, so each request log below is the module's own.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from emulator import pfx

from integration.custom_domain_world import BUILTIN, RG, SERVICE, UAI, by_host, secret_id, seed, service_writes
from integration.test_custom_domain import quartet
from integration.test_custom_domain_lists import PORTAL, _foreign_write, _settle

PLAYBOOK = "custom_domain_list"
TASK = "Ensure the hostnames"
PASSWORD = "List-Pfx-Pass-828"


@pytest.fixture
def dom(world: Any, local_azure: Any) -> Any:
    """The seeded custom-domain world."""
    seed(world, local_azure)
    return local_azure


def _three(blob: str) -> list[dict]:
    """A Proxy hostname (system identity, default SSL binding), a developer portal one (user-assigned identity,
    vault and secret by name) and a management one with an inline PFX."""
    return [
        {"host_name": "api.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com"),
         "default_ssl_binding": True},
        {"type": "DeveloperPortal", "host_name": "developer.contoso.com", "key_vault": "kv-dom",
         "secret_name": "portal-contoso-com", "identity": UAI},
        {"type": "Management", "host_name": "management.contoso.com", "certificate": blob,
         "certificate_password": PASSWORD},
    ]


def _service_path(local_azure: Any) -> str:
    return f"{local_azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{SERVICE}".lower()


def _arm_calls(run: Any) -> list[tuple[str, str]]:
    """(method, path) of every management-plane request of the run, paths lower-cased."""
    return [(e["method"], e["path"].lower()) for e in run.requests.arm()]


def test_three_hostnames_one_patch_and_one_read_on_the_no_op(dom, playbook):
    blob = pfx.make_pfx_b64("management.contoso.com", days=200, password=PASSWORD)
    extra = {"dom_hostnames": _three(blob)}
    applied = quartet(playbook, extra, name=PLAYBOOK, task=TASK)
    result = applied.task(TASK)
    held = by_host(applied.state)
    assert set(held) == {BUILTIN, "api.contoso.com", "developer.contoso.com", "management.contoso.com"}
    assert held["api.contoso.com"]["defaultSslBinding"] is True and held[BUILTIN]["defaultSslBinding"] is False
    assert held["developer.contoso.com"]["identityClientId"] == result["hostnames"][1]["identity_client_id"]
    assert held["developer.contoso.com"]["identityClientId"] is not None
    assert held["management.contoso.com"]["certificateSource"] == "Custom"

    # One PATCH carrying the whole list, only hostnameConfigurations.
    writes = service_writes(applied.requests)
    assert [w["method"] for w in writes] == ["PATCH"] and applied.requests.writes() == writes
    sent = writes[0]["body"]["properties"]["hostnameConfigurations"]
    assert {h["hostName"] for h in sent} == set(held) and set(writes[0]["body"]) == {"properties"}
    # After the write the service is not read again: the operation's final GET is the verification.
    service = _service_path(dom)
    calls = _arm_calls(applied)
    patch_at = calls.index(("PATCH", service))
    after = calls[patch_at + 1:]
    assert after[-1] == ("GET", service) and all("/operationresults/" in p for _m, p in after[:-1]), after

    # Result: the entries in the order asked, the whole list, the diff; no secret anywhere.
    assert [(h["type"], h["host_name"]) for h in result["hostnames"]] == [
        ("Proxy", "api.contoso.com"), ("DeveloperPortal", "developer.contoso.com"),
        ("Management", "management.contoso.com")]
    assert result["hostname"] == result["hostnames"][0]
    assert result["hostnames"][0]["certificate"] == held["api.contoso.com"]["certificate"]
    assert result["hostnames"][2]["certificate"]["thumbprint"] == held["management.contoso.com"]["certificate"][
        "thumbprint"]
    assert [h["host_name"] for h in result["diff"]["before"]["hostname_configurations"]] == [BUILTIN]
    assert {h["host_name"] for h in result["diff"]["after"]["hostname_configurations"]} == set(held)
    assert result["removed_host_names"] == []
    shown = applied.stdout + applied.stderr + json.dumps(applied.result)
    assert PASSWORD not in shown and blob[:64] not in shown

    # The no-op reads the service once and nothing else (no vault lookup for the vault given by name).
    for check_mode in (True, False):
        again = playbook(PLAYBOOK, extra_vars=extra, check=check_mode)
        assert again.task(TASK)["changed"] is False, again.task(TASK)
        assert _arm_calls(again) == [("GET", service)], _arm_calls(again)


def test_check_mode_predicts_and_diff_shows_the_whole_list(dom, playbook):
    hostnames = _three(pfx.make_pfx_b64("management.contoso.com", password=PASSWORD))[:2]
    check = playbook(PLAYBOOK, extra_vars={"dom_hostnames": hostnames}, check=True, diff=True)
    assert check.rc == 0, check.explain()
    result = check.task(TASK)
    assert result["changed"] is True and check.requests.writes() == []
    assert [h["host_name"] for h in result["hostnames"]] == ["api.contoso.com", "developer.contoso.com"]
    assert result["hostnames"][0]["certificate"] == "(known after apply)"  # known once API Management has fetched it
    assert [h["host_name"] for h in result["diff"]["after"]["hostname_configurations"]] == [
        BUILTIN, "api.contoso.com", "developer.contoso.com"]
    assert "api.contoso.com" in check.stdout  # the diff is shown
    assert set(by_host(check.state)) == {BUILTIN}


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_bad_entries_among_good_ones_refuse_the_whole_list(dom, playbook, check_mode):
    hostnames = [
        {"host_name": "good.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com")},
        {"type": "Portal", "host_name": "closed.contoso.com",
         "key_vault_secret_id": secret_id("kv-dom-closed", "api-contoso-com")},
        {"type": "Scm", "host_name": "plain.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "plain-text")},
        {"type": "DeveloperPortal", "host_name": "fine.contoso.com", "key_vault": "kv-dom",
         "secret_name": "portal-contoso-com"},
    ]
    run = playbook(PLAYBOOK, extra_vars={"dom_hostnames": hostnames}, check=check_mode)
    assert run.rc != 0
    result = run.task(TASK)
    assert result["_status"] == "failed", result
    message = result["msg"]
    assert "2 of the hostnames cannot be bound; nothing was changed" in message
    assert "Portal closed.contoso.com" in message and "keyvault_access first" in message
    assert "Scm plain.contoso.com" in message and "application/x-pkcs12" in message
    assert "good.contoso.com" not in message and "fine.contoso.com" not in message
    assert [(r["hostname"], r["error_code"]) for r in result["refused"]] == [
        ("Portal closed.contoso.com", "NoSecretAccess"), ("Scm plain.contoso.com", "NotACertificate")]
    assert result["error_code"] == "NoSecretAccess"
    assert run.requests.writes() == []
    assert set(by_host(run.state)) == {BUILTIN}


@pytest.mark.parametrize("hostnames, code, words", [
    ([{"host_name": "api.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com")},
      {"type": "Proxy", "host_name": "API.contoso.com.", "key_vault_secret_id": secret_id("kv-dom", "x")}],
     "DuplicateHostname", ["Proxy API.contoso.com.", "twice", "one entry per type and host name"]),
    ([{"host_name": "a.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com"),
       "default_ssl_binding": True},
      {"host_name": "b.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com"),
       "default_ssl_binding": True}],
     "ConflictingDefaultSslBinding", ["Proxy a.contoso.com, Proxy b.contoso.com", "one Proxy entry only"]),
], ids=["duplicate", "two-defaults"])
def test_a_list_apim_cannot_hold_is_refused_before_calling_azure(dom, playbook, hostnames, code, words):
    run = playbook(PLAYBOOK, extra_vars={"dom_hostnames": hostnames})
    result = run.task(TASK)
    assert result["_status"] == "failed" and result["error_code"] == code, result
    for word in words:
        assert word in result["msg"], (word, result["msg"])
    assert run.requests.arm() == [], "refused before any call to Azure"


def test_entry_options_are_checked_per_entry_and_the_single_form_is_exclusive(dom, playbook, tmp_path):
    no_source = playbook(PLAYBOOK, extra_vars={"dom_hostnames": [{"host_name": "x.contoso.com"}]})
    assert no_source.task(TASK)["_status"] == "failed"
    assert "key_vault_secret_id" in no_source.task(TASK)["msg"] and "hostnames" in no_source.task(TASK)["msg"]
    assert no_source.requests.arm() == []

    both = tmp_path / "both.yml"
    both.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Both forms\n      azure_apim.identity.apim_custom_domain:\n"
        "        resource_group: rg-dom\n        service_name: apim-dom\n        host_name: a.contoso.com\n"
        "        key_vault_secret_id: https://kv-dom.vault.azure.net/secrets/api-contoso-com\n"
        "        hostnames: []\n")
    run = playbook(both)
    assert run.task("Both forms")["_status"] == "failed"
    assert "mutually exclusive" in run.task("Both forms")["msg"] and run.requests.arm() == []


def test_foreign_hostnames_kept_and_exclusive_keeps_exactly_the_list(dom, playbook):
    assert _foreign_write(dom, [PORTAL, {"type": "Scm", "hostName": "scm.contoso.com",
                                         "keyVaultId": secret_id("kv-dom", "portal-contoso-com")}]).status_code == 202
    _settle(dom)
    dom.admin.clear_requests()
    hostnames = [
        {"host_name": "api.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com")},
        {"type": "Management", "host_name": "management.contoso.com",
         "key_vault_secret_id": secret_id("kv-dom", "api-contoso-com"), "identity": UAI},
    ]
    added = quartet(playbook, {"dom_hostnames": hostnames}, name=PLAYBOOK, task=TASK)
    assert set(by_host(added.state)) == {BUILTIN, "portal.contoso.com", "scm.contoso.com", "api.contoso.com",
                                         "management.contoso.com"}
    assert by_host(added.state)["portal.contoso.com"]["keyVaultId"] == PORTAL["keyVaultId"]
    assert len(service_writes(added.requests)) == 1

    # Exclusive: the listed ones plus keep_host_names stay (and the built-in one); one PATCH removes the rest,
    # together with a removal asked in the list itself.
    exclusive = {"dom_hostnames": [hostnames[0], dict(hostnames[1], state="absent")], "dom_exclusive": True,
                 "dom_keep": ["SCM.contoso.com"]}
    purged = quartet(playbook, exclusive, name=PLAYBOOK, task=TASK)
    assert set(by_host(purged.state)) == {BUILTIN, "api.contoso.com", "scm.contoso.com"}
    assert [w["method"] for w in service_writes(purged.requests)] == ["PATCH"]
    result = purged.task(TASK)
    assert sorted(result["removed_host_names"]) == ["management.contoso.com", "portal.contoso.com"]
    assert result["hostnames"][1] == {}
