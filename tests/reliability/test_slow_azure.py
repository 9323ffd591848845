# Private to the azure_apim.identity test suite.
"""Scenarios 24-29 (issue 15): real Azure is slow and strange. RBAC propagation before a hostname write, a task
deadline against an unregistered resource provider, odd bodies and headers, a lost operation-status URL.

Each scenario asserts the nothing-lost contract: whatever the run does not own is identical before and after, and
a failing run sends no write except the one the scenario is about.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reliability.conftest import require_modules
from reliability.snapshot import foreign_view
from reliability.worlds import FAST, FOREIGN_IDENTITY, RG, SERVICE, domain_vaults, ids, rel_world

require_modules("apim_custom_domain", "apim_identity", "keyvault_access")

HOST = "api.rel.contoso.com"
KV_RBAC = "kv-rel-dom-rbac"
CERT = f"https://{KV_RBAC}.vault.azure.net/secrets/api-rel-contoso-com"
# The RBAC propagation keeps the local Azure's realistic default (600 Azure s = 12 s of wall clock at FAST's
# time_scale): the grant the scenario makes is not effective yet when the hostname write is first sent.
PROPAGATING = dict(FAST, rbac_propagation_s=600.0)


def _service(rel, state=None) -> dict:
    state = state or rel.state()
    return state["resources"][ids(rel.azure.subscription_id)["service"].lower()]


def _hosts(service: dict) -> dict[str, dict]:
    return {h["hostName"].lower(): h for h in service["properties"]["hostnameConfigurations"]}


def _attached(service: dict) -> set[str]:
    users = (service.get("identity") or {}).get("userAssignedIdentities") or {}
    return {key.rsplit("/", 1)[-1].lower() for key in users}


def _seed_rbac_domain(rel) -> None:
    """The base world, the domain vaults, and an RBAC vault holding the certificate; then the service's system
    identity is granted Key Vault Secrets User on it by keyvault_access (a grant made now, still propagating)."""
    rel.seed(rel_world(), **PROPAGATING)
    vaults = domain_vaults()
    vaults["resource_groups"][0]["key_vaults"].append(
        {"name": KV_RBAC, "rbac": True,
         "secrets": [{"name": "api-rel-contoso-com", "certificate": {"subject": "CN=" + HOST, "days": 365}}]})
    rel.admin.seed(vaults)
    grant = rel.run("keyvault_access", {"vault": KV_RBAC, "vault_resource_group": RG, "service_name": SERVICE,
                                        "service_resource_group": RG, "secret_permissions": ["get", "list"]})
    assert not grant.failed and grant.changed, grant.explain()
    rel.admin.clear_requests()


def _dom_args(**extra: Any) -> dict:
    return {"resource_group": RG, "service_name": SERVICE, "host_name": HOST, "key_vault_secret_id": CERT, **extra}


def _foreign(rel, state) -> dict:
    return foreign_view(state, shared={ids(rel.azure.subscription_id)["service"]:
                                       ["properties.hostnameConfigurations"]})


def _refused_patches(run) -> list:
    return [e for e in run.requests.matching("PATCH", f"/service/{SERVICE}") if e["status"] == 400]


@pytest.mark.scenario(24, "RBAC grant still propagating before a hostname write")
def test_hostname_write_waits_for_rbac_propagation(rel, record):
    _seed_rbac_domain(rel)
    before = rel.state()
    runs = rel.quartet("apim_custom_domain", _dom_args(timeout=300))
    apply = runs["apply"]
    assert _refused_patches(apply), "the first write was not refused: nothing was propagating\n" + apply.explain()
    after = runs["apply_again"].state
    hosts = _hosts(_service(rel, after))
    assert hosts[HOST]["keyVaultId"] == CERT and hosts[HOST]["certificate"]["subject"] == "CN=" + HOST
    assert set(_hosts(_service(rel, before))) <= set(hosts), "a hostname that was there is gone"
    rel.assert_foreign_unchanged(_foreign(rel, before), _foreign(rel, after))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(25, "RBAC propagation outlasts the task timeout")
def test_propagation_deadline_names_the_grant_and_loses_nothing(rel, record):
    _seed_rbac_domain(rel)
    before = rel.state()
    run = rel.run("apim_custom_domain", _dom_args(timeout=4))
    assert run.failed, run.explain()
    assert run.result.get("error_code") == "RbacPropagationPending", run.explain()
    message = run.result["msg"]
    assert "granted at" in message and "up to 10 minutes" in message and "re-run" in message, message
    assert all(e["method"] == "PATCH" and e["status"] == 400 for e in run.writes()), run.explain()
    after = rel.state()
    assert _hosts(_service(rel, after)) == _hosts(_service(rel, before))
    rel.assert_foreign_unchanged(_foreign(rel, before), _foreign(rel, after))
    record(writes=len(run.writes()), reruns=0)


@pytest.mark.scenario(26, "unregistered resource provider vs the task deadline")
def test_missing_provider_registration_fails_fast_without_registering(rel, record):
    rel.seed(dict(rel_world(), unregistered_providers=["Microsoft.ApiManagement"]), **FAST)
    before = rel.state()
    run = rel.run("apim_identity", {"resource_group": RG, "service_name": SERVICE,
                                    "user_assigned_identities": ["id-rel-a"], "timeout": 30})
    assert run.failed and run.result.get("error_code") == "MissingSubscriptionRegistration", run.explain()
    assert run.writes() == [], "nothing may be written, least of all a provider registration\n" + run.explain()
    assert not run.requests.matching(None, "/register"), run.explain()
    assert rel.state()["resources"] == before["resources"]
    record(writes=0, reruns=0)


@pytest.mark.scenario(27, "GET answered 200 without a body")
def test_empty_read_is_an_error_never_absent(rel, record):
    rel.seed(rel_world(), **FAST)
    before = rel.state()
    rel.fault(method="GET", path=f"/service/{SERVICE}$", status=200, body="", times=1)
    run = rel.run("apim_identity", {"resource_group": RG, "service_name": SERVICE,
                                    "user_assigned_identities": ["id-rel-a"]})
    rel.clear_faults()
    assert run.failed and run.result.get("error_code") == "EmptyResponse", run.explain()
    assert "nothing was changed" in run.result["msg"] and run.writes() == [], run.explain()
    assert rel.state()["resources"] == before["resources"]
    runs = rel.quartet("apim_identity", {"resource_group": RG, "service_name": SERVICE,
                                         "user_assigned_identities": ["id-rel-a"]})
    assert _attached(_service(rel, runs["apply_again"].state)) == {FOREIGN_IDENTITY, "id-rel-a"}
    record(writes=len(runs["apply"].writes()), reruns=1)


@pytest.mark.scenario(28, "Retry-After that is neither seconds nor a date")
def test_garbage_retry_after_is_retried_with_default_backoff(rel, record):
    rel.seed(rel_world(), **FAST)
    before = _foreign_identity(rel, rel.state())
    fault = {"method": "PATCH", "path": f"/service/{SERVICE}$", "status": 429, "times": 1,
             "headers": {"Retry-After": "soon-ish, maybe"}}
    runs = rel.quartet("apim_identity", {"resource_group": RG, "service_name": SERVICE,
                                         "user_assigned_identities": ["id-rel-a"]}, faults=[fault])
    patches = runs["apply"].requests.matching("PATCH", f"/service/{SERVICE}")
    assert [e["status"] for e in patches][:1] == [429] and len(patches) == 2, runs["apply"].explain()
    state = runs["apply_again"].state
    assert _attached(_service(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
    rel.assert_foreign_unchanged(before, _foreign_identity(rel, state))
    record(writes=len(runs["apply"].writes()), reruns=0)


def _foreign_identity(rel, state) -> dict:
    return foreign_view(state, shared={ids(rel.azure.subscription_id)["service"]: ["identity"]})


@pytest.mark.scenario(29, "operation-status URL answers 404")
def test_lost_status_url_re_reads_and_reports_the_applied_change(rel, record):
    rel.seed(rel_world(), **FAST)
    before = _foreign_identity(rel, rel.state())
    args = {"resource_group": RG, "service_name": SERVICE, "user_assigned_identities": ["id-rel-a"]}
    fault = {"method": "GET", "path": "/operationresults/", "status": 404, "times": 20,
             "body": {"error": {"code": "NotFound", "message": "The operation was not found."}}}
    runs = rel.quartet("apim_identity", args, faults=[fault])
    apply = runs["apply"]
    assert [e["status"] for e in apply.requests.matching("GET", "/operationresults/")][:1] == [404], apply.explain()
    assert [e["method"] for e in apply.writes()] == ["PATCH"], "the write must not be sent twice\n" + apply.explain()
    state = runs["apply_again"].state
    assert _attached(_service(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
    rel.assert_foreign_unchanged(before, _foreign_identity(rel, state))
    record(writes=1, reruns=0)


@pytest.mark.scenario(30, "principal rotation: disabling the system identity names the grants it leaves")
def test_disabling_the_system_identity_warns_of_the_grants_it_leaves(rel, record):
    rel.seed(rel_world(), **FAST)
    sid = ids(rel.azure.subscription_id)
    grant = rel.run("role_assignment", {"scope": sid["rbac_vault"], "role": "Key Vault Secrets User",
                                        "service_name": SERVICE, "service_resource_group": RG, "identity": "system"})
    assert not grant.failed and grant.changed, grant.explain()
    state = rel.state()
    principal = _service(rel, state)["identity"]["principalId"]
    assignments_before = {k: v for k, v in state["resources"].items() if "/roleassignments/" in k}
    run = rel.run("apim_identity", {"resource_group": RG, "service_name": SERVICE, "system_assigned": False})
    assert not run.failed and run.changed, run.explain()
    warnings = json.dumps(run.result.get("warnings") or [])
    assert principal in warnings and sid["rbac_vault"].lower() in warnings.lower(), run.explain()
    after = rel.state()
    assert {k: v for k, v in after["resources"].items() if "/roleassignments/" in k} == assignments_before, \
        "disabling an identity must not remove grants by itself"
    assert _attached(_service(rel, after)) == {FOREIGN_IDENTITY}
    record(writes=len(run.writes()), reruns=0)
