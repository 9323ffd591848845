"""apim_custom_domain through ansible-playbook against the local Azure: check → apply → check → apply.

Every scenario asserts the task results, the diff, what the local Azure holds and its request log (writes).
"""
from __future__ import annotations

from typing import Any

import pytest

from harness.quartet import run_quartet, runs_of
from integration.custom_domain_world import BUILTIN, by_host, secret_id, seed, service_writes

TASK = "Ensure the hostname"
API_SECRET = secret_id("kv-dom", "api-contoso-com")


@pytest.fixture
def dom(world: Any, local_azure: Any) -> Any:
    """The seeded custom-domain world."""
    seed(world, local_azure)
    return local_azure


def quartet(playbook: Any, extra: dict, name: str = "custom_domain_one", task: str = TASK) -> Any:
    """check → apply → idempotent check → idempotent apply (re-runs without --diff); returns the apply run."""
    return run_quartet(runs_of(playbook, name, extra_vars=extra), task,
                       apply_writes=False, rerun_diff=False).apply


def _patch_bodies(requests: Any) -> list[dict]:
    return [e.get("body") for e in service_writes(requests)]


def test_system_assigned_proxy_quartet_diff_state_and_request_log(dom, playbook):
    extra = {"dom_host": "api.contoso.com", "dom_secret_id": API_SECRET, "dom_default_ssl_binding": True}
    apply = quartet(playbook, extra)
    result = apply.task(TASK)
    held = by_host(apply.state)
    ours = held["api.contoso.com"]
    assert ours["keyVaultId"] == API_SECRET and ours["certificateSource"] == "KeyVault"
    assert ours["identityClientId"] is None  # the system-assigned identity, as in the article's template
    assert ours["defaultSslBinding"] is True and held[BUILTIN]["defaultSslBinding"] is False
    assert set(held) == {BUILTIN, "api.contoso.com"}
    # Returned: certificate source, status, expiry, thumbprint, subject.
    assert result["hostname"]["certificate_source"] == "KeyVault"
    assert result["hostname"]["certificate_status"] == ours["certificateStatus"]
    assert result["hostname"]["certificate"] == ours["certificate"]
    assert result["hostname"]["certificate"]["subject"] == "CN=api.contoso.com"
    assert 360 <= result["hostname"]["expires_in_days"] <= 366
    # Diff: the list before and after, both with the built-in entry.
    assert result["hostname"] == apply.task(TASK)["hostname"]
    assert [h["host_name"] for h in result["diff"]["before"]["hostname_configurations"]] == [BUILTIN]
    assert [h["host_name"] for h in result["diff"]["after"]["hostname_configurations"]] == [BUILTIN, "api.contoso.com"]
    # Request log: one PATCH of the service carrying only hostnameConfigurations, guarded by the ETag.
    writes = service_writes(apply.requests)
    assert [w["method"] for w in writes] == ["PATCH"]
    assert list(writes[0]["body"]["properties"]) == ["hostnameConfigurations"]
    assert set(writes[0]["body"]) == {"properties"}
    assert apply.requests.writes() == writes, "no write outside the service"
    info = apply.task("Read the hostnames back")["hostname_configurations"]
    assert [h["certificate"]["thumbprint"] for h in info] == [ours["certificate"]["thumbprint"]]


def test_secret_id_case_and_trailing_slash_variants_cause_no_change(dom, playbook):
    first = playbook("custom_domain_one", extra_vars={"dom_host": "api.contoso.com", "dom_secret_id": API_SECRET})
    assert first.rc == 0, first.explain()
    for variant in (API_SECRET.upper().replace("HTTPS://", "https://") + "/", API_SECRET + "/",
                    "https://KV-DOM.vault.azure.net:443/secrets/api-contoso-com"):
        for check_mode in (True, False):
            again = playbook("custom_domain_one", check=check_mode,
                             extra_vars={"dom_host": "API.Contoso.com", "dom_secret_id": variant})
            assert again.rc == 0, again.explain()
            assert again.task(TASK)["changed"] is False, (variant, again.task(TASK))
            assert again.requests.writes() == []
    # The vault and secret given separately name the same certificate: no change either.
    split = playbook("custom_domain_one", extra_vars={"dom_host": "api.contoso.com", "dom_key_vault": "kv-dom",
                                                      "dom_secret_name": "api-contoso-com"})
    assert split.task(TASK)["changed"] is False and split.requests.writes() == []
