# Private to the azure_apim.identity test suite.
"""Scenarios 24-31 (issue 15): real Azure is slow and strange. RBAC propagation before a hostname write, a task
deadline against an unregistered resource provider, odd bodies and headers, a lost operation-status URL.

Each scenario asserts the nothing-lost contract: whatever the run does not own is identical before and after, and
a failing run sends no write except the one the scenario is about.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from reliability.conftest import require_modules
from reliability.snapshot import foreign_view
from reliability.worlds import (DOMAIN_HOST, DOMAIN_RBAC_VAULT, FAST, FOREIGN_IDENTITY, RG, SERVICE, VAULT, attached,
                                ids, rel_world, seed_rbac_domain, service_of)

require_modules("apim_custom_domain", "apim_identity", "keyvault_access")

HOST = DOMAIN_HOST
KV_RBAC = DOMAIN_RBAC_VAULT
CERT = f"https://{KV_RBAC}.vault.azure.net/secrets/api-rel-contoso-com"
# The RBAC propagation keeps the local Azure's realistic default (600 Azure s = 12 s of wall clock at FAST's
# time_scale): the grant the scenario makes is not effective yet when the hostname write is first sent.
PROPAGATING = dict(FAST, rbac_propagation_s=600.0)


def _hosts(service: dict) -> dict[str, dict]:
    return {h["hostName"].lower(): h for h in service["properties"]["hostnameConfigurations"]}


def _dom_args(**extra: Any) -> dict:
    return {"resource_group": RG, "service_name": SERVICE, "host_name": HOST, "key_vault_secret_id": CERT, **extra}


def _foreign(rel, state) -> dict:
    return foreign_view(state, shared={ids(rel.azure.subscription_id)["service"]:
                                       ["properties.hostnameConfigurations"]})


def _refused_patches(run) -> list:
    return [e for e in run.requests.matching("PATCH", f"/service/{SERVICE}") if e["status"] == 400]


@pytest.mark.scenario(24, "RBAC grant still propagating before a hostname write")
def test_hostname_write_waits_for_rbac_propagation(rel, record):
    seed_rbac_domain(rel, PROPAGATING)
    before = rel.state()
    runs = rel.quartet("apim_custom_domain", _dom_args(timeout=300))
    apply = runs["apply"]
    assert _refused_patches(apply), "the first write was not refused: nothing was propagating\n" + apply.explain()
    after = runs["apply_again"].state
    hosts = _hosts(service_of(rel, after))
    assert hosts[HOST]["keyVaultId"] == CERT and hosts[HOST]["certificate"]["subject"] == "CN=" + HOST
    assert set(_hosts(service_of(rel, before))) <= set(hosts), "a hostname that was there is gone"
    rel.assert_foreign_unchanged(_foreign(rel, before), _foreign(rel, after))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(25, "RBAC propagation outlasts the task timeout")
def test_propagation_deadline_names_the_grant_and_loses_nothing(rel, record):
    seed_rbac_domain(rel, PROPAGATING)
    before = rel.state()
    run = rel.run("apim_custom_domain", _dom_args(timeout=4))
    assert run.failed, run.explain()
    assert run.result.get("error_code") == "RbacPropagationPending", run.explain()
    message = run.result["msg"]
    assert "granted at" in message and "up to 10 minutes" in message and "re-run" in message, message
    assert all(e["method"] == "PATCH" and e["status"] == 400 for e in run.writes()), run.explain()
    after = rel.state()
    assert _hosts(service_of(rel, after)) == _hosts(service_of(rel, before))
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
    assert attached(service_of(rel, runs["apply_again"].state)) == {FOREIGN_IDENTITY, "id-rel-a"}
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
    assert attached(service_of(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
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
    assert attached(service_of(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
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
    principal = service_of(rel, state)["identity"]["principalId"]
    assignments_before = {k: v for k, v in state["resources"].items() if "/roleassignments/" in k}
    run = rel.run("apim_identity", {"resource_group": RG, "service_name": SERVICE, "system_assigned": False})
    assert not run.failed and run.changed, run.explain()
    warnings = json.dumps(run.result.get("warnings") or [])
    assert principal in warnings and sid["rbac_vault"].lower() in warnings.lower(), run.explain()
    after = rel.state()
    assert {k: v for k, v in after["resources"].items() if "/roleassignments/" in k} == assignments_before, \
        "disabling an identity must not remove grants by itself"
    assert attached(service_of(rel, after)) == {FOREIGN_IDENTITY}
    record(writes=len(run.writes()), reruns=0)


# Principal rotation with Azure's realistic waits: a new system-assigned principal takes 30 Azure seconds to
# replicate in Entra ID (role assignments for it are refused with PrincipalNotFound until then) and RBAC grants
# 10 minutes to propagate; both scaled by FAST's time_scale.
ROTATING = dict(FAST, rbac_propagation_s=600.0, identity_replication_s=30.0)


def _foreign_named_value(rel) -> None:
    """Another team's named value reads kv-rel-ap with its own identity (id-foreign): the service references the
    vault, so the service's access-policy entries there are looked at."""
    arm, svc = rel.azure.arm(), ids(rel.azure.subscription_id)["service"]
    identity = arm.get(svc, "2022-08-01").json()["identity"]
    client = next(v["clientId"] for k, v in identity["userAssignedIdentities"].items()
                  if k.lower().endswith("/" + FOREIGN_IDENTITY))
    resp = arm.put(f"{svc}/namedValues/other-team-key", {"properties": {"displayName": "other-team-key", "keyVault": {
        "secretIdentifier": "https://kv-rel-ap.vault.azure.net/secrets/backend-key", "identityClientId": client}}},
        "2022-08-01")
    assert resp.status_code < 300, resp.text
    deadline = time.monotonic() + 30
    while arm.get(f"{svc}/namedValues/other-team-key", "2022-08-01").status_code != 200:
        assert time.monotonic() < deadline, "the named value never appeared"
        time.sleep(0.1)
    rel.admin.clear_requests()


def _orphans(rel, check: bool) -> dict:
    info = rel.run("apim_identity_info", {"resource_group": RG, "service_name": SERVICE, "orphaned_grants": True},
                   check=check)
    assert not info.failed and not info.changed and info.writes() == [], info.explain()
    return info.result["identities"][0]["orphaned_grants"]


@pytest.mark.scenario(31, "principal rotation: orphaned grants are listed and removed, nothing else")
def test_principal_rotation_orphans_are_listed_and_removed(rel, record):
    rel.seed(rel_world(), **ROTATING)
    sid = ids(rel.azure.subscription_id)
    _foreign_named_value(rel)
    system = {"service_name": SERVICE, "service_resource_group": RG}
    for module, args in (("keyvault_access", dict(system, vault=VAULT, vault_resource_group=RG)),
                         ("role_assignment", dict(system, scope=sid["rbac_vault"], role="Key Vault Secrets User"))):
        grant = rel.run(module, args)
        assert not grant.failed and grant.changed, grant.explain()
    old = service_of(rel)["identity"]["principalId"]
    for enabled in (False, True):
        flip = rel.run("apim_identity", {"resource_group": RG, "service_name": SERVICE, "system_assigned": enabled})
        assert not flip.failed and flip.changed, flip.explain()
    # The site re-run grants the new principal, which is still replicating: PrincipalNotFound is waited out.
    regrant = rel.run("role_assignment", dict(system, scope=sid["rbac_vault"], role="Key Vault Secrets User"))
    assert not regrant.failed and regrant.changed, regrant.explain()
    state = rel.state()
    new = service_of(rel, state)["identity"]["principalId"]
    assert new != old
    found = _orphans(rel, check=True)
    assert [(g["principal_id"], g["scope"].lower()) for g in found["role_assignments"]] == [
        (old, sid["rbac_vault"].lower())]
    assert [(p["vault"], p["object_id"]) for p in found["access_policies"]] == [(VAULT, old)]
    orphan_ids = [g["id"] for g in found["role_assignments"]]
    policies_before = [p for p in state["resources"][sid["vault"].lower()]["properties"]["accessPolicies"]
                       if p["objectId"] != old]
    before = foreign_view(state, owned=orphan_ids, shared={sid["vault"]: ["properties.accessPolicies"]})

    removals = [rel.quartet("role_assignment", {"principal_id": old, "scope": sid["rbac_vault"],
                                                "role": "Key Vault Secrets User", "state": "absent"}),
                rel.quartet("keyvault_access", {"principal_id": old, "vault": sid["vault"],
                                                "permission_model": "access_policy", "state": "absent"})]
    after_state = removals[-1]["apply_again"].state
    assert _orphans(rel, check=False) == {"principals": [], "role_assignments": [], "access_policies": []}
    assert after_state["resources"][sid["vault"].lower()]["properties"]["accessPolicies"] == policies_before
    rel.assert_foreign_unchanged(before, foreign_view(after_state, owned=orphan_ids,
                                                      shared={sid["vault"]: ["properties.accessPolicies"]}))
    record(writes=sum(len(r["apply"].writes()) for r in removals), reruns=0)
