# Private to the azure_apim.identity test suite.
"""Scenarios 5-7 and 14-15: role assignments and Key Vault access policies under faults and concurrent writers."""

from __future__ import annotations

import uuid

import pytest

from reliability.conftest import ORACLE, require_modules
from reliability.snapshot import foreign_view, resources_of_type
from reliability.worlds import FAST, OTHER_APP_SECRET, RBAC_VAULT, RG, SERVICE, VAULT, ids, other_app, rel_world

require_modules("role_assignment", "keyvault_access")

RA_TYPE = "Microsoft.Authorization/roleAssignments"
SECRETS_USER = "Key Vault Secrets User"


def _apim_principal(state: dict, azure) -> str:
    return state["resources"][ids(azure.subscription_id)["service"].lower()]["identity"]["principalId"]


def _assignments(state: dict, scope: str, principal_id: str) -> list[dict]:
    return [ra for ra in resources_of_type(state, RA_TYPE).values()
            if ra["properties"]["scope"].lower().rstrip("/") == scope.lower().rstrip("/")
            and ra["properties"]["principalId"].lower() == principal_id.lower()]


def _ra_args(rel, **extra) -> dict:
    return {"scope": ids(rel.azure.subscription_id)["rbac_vault"], "role": SECRETS_USER, "service_name": SERVICE,
            "service_resource_group": RG, "identity": "system", **extra}


def _owned_assignments(state: dict, scope: str, principal_id: str) -> list[str]:
    return [ra["id"] for ra in _assignments(state, scope, principal_id)]


@pytest.mark.scenario(5, "role assignment PUT retried after commit (RoleAssignmentExists)")
def test_role_assignment_replayed_after_commit_is_adopted(rel, record):
    rel.seed(rel_world(), **FAST)
    scope = ids(rel.azure.subscription_id)["rbac_vault"]
    principal = _apim_principal(rel.state(), rel.azure)
    before = foreign_view(rel.state())
    exists = {"error": {"code": "RoleAssignmentExists", "message": "The role assignment already exists.",
                        "details": [{"code": "RoleAssignmentExists",
                                     "message": "The role assignment already exists."}]}}
    faults = [
        # The first PUT is committed but its response never arrives; azure-core sends it again ...
        {"method": "PUT", "path": "roleAssignments/", "apply_then_fail": True, "drop_connection": True, "times": 1},
        # ... and that replay is told the assignment exists (ARM does not always see its own fresh write as "same").
        {"method": "PUT", "path": "roleAssignments/", "status": 409, "body": exists, "times": 1},
    ]
    runs = rel.quartet("role_assignment", _ra_args(rel), faults=faults)
    apply = runs["apply"]

    puts = apply.requests.matching("PUT", "roleAssignments/")
    assert len(puts) == 2 and all(e.get("fault") for e in puts), apply.explain()
    state = runs["apply_again"].state
    found = _assignments(state, scope, principal)
    assert len(found) == 1, f"exactly one assignment for the triple: {found}"
    assert apply.result["role_assignment"]["id"].lower() == found[0]["id"].lower()
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=[found[0]["id"]]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(6, "identical role assignment under another name adopted")
def test_identical_assignment_under_a_random_name_is_adopted(rel, record):
    world = rel_world()
    foreign_name = str(uuid.uuid4())
    world["role_assignments"].append({"scope": "/subscriptions/{subscription_id}/resourceGroups/" + RG +
                                      "/providers/Microsoft.KeyVault/vaults/" + RBAC_VAULT,
                                      "role": SECRETS_USER, "principal": SERVICE, "name": foreign_name})
    rel.seed(world, **FAST)
    scope = ids(rel.azure.subscription_id)["rbac_vault"]
    before_state = rel.state()
    principal = _apim_principal(before_state, rel.azure)
    assert [ra["name"] for ra in _assignments(before_state, scope, principal)] == [foreign_name]
    runs = rel.idempotent("role_assignment", _ra_args(rel))
    result = runs["apply_again"].result["role_assignment"]
    assert result["name"] == foreign_name and result["adopted"] is True
    state = runs["apply_again"].state
    assert [ra["name"] for ra in _assignments(state, scope, principal)] == [foreign_name], "not deleted, not doubled"
    rel.assert_foreign_unchanged(foreign_view(before_state), foreign_view(state))
    record(writes=0, reruns=0)


PRINCIPAL_NOT_FOUND = {"error": {"code": "PrincipalNotFound",
                                 "message": "Principal 0a1b2c does not exist in the directory. If you are creating "
                                            "this principal and then immediately assigning a role, this error might "
                                            "be related to a replication delay."}}


@pytest.mark.scenario(7, "PrincipalNotFound for a while / forever")
def test_principal_not_found_for_a_while_is_waited_out(rel, record):
    rel.seed(rel_world(), **FAST)
    scope = ids(rel.azure.subscription_id)["rbac_vault"]
    principal = _apim_principal(rel.state(), rel.azure)
    before = foreign_view(rel.state())
    fault = {"method": "PUT", "path": "roleAssignments/", "status": 400, "body": PRINCIPAL_NOT_FOUND, "times": 2}
    runs = rel.quartet("role_assignment", _ra_args(rel), faults=[fault])
    apply = runs["apply"]
    assert [e["status"] for e in apply.requests.matching("PUT", "roleAssignments/")] == [400, 400, 201]
    found = _assignments(runs["apply_again"].state, scope, principal)
    assert len(found) == 1
    rel.assert_foreign_unchanged(before, foreign_view(runs["apply_again"].state, owned=[found[0]["id"]]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(7, "PrincipalNotFound for a while / forever")
def test_principal_never_found_fails_at_the_deadline_and_rerun_completes(rel, record):
    rel.seed(rel_world(), **FAST)
    scope = ids(rel.azure.subscription_id)["rbac_vault"]
    principal = _apim_principal(rel.state(), rel.azure)
    before = foreign_view(rel.state())
    rel.fault(method="PUT", path="roleAssignments/", status=400, body=PRINCIPAL_NOT_FOUND)
    failed = rel.run("role_assignment", _ra_args(rel, timeout=8))
    rel.clear_faults()
    assert failed.failed, failed.explain()
    assert "PrincipalNotFound" in failed.msg or failed.result.get("error_code") == "PrincipalNotFound", failed.result
    assert "re-run" in (failed.msg + str(failed.result.get("hint", ""))).lower(), failed.result
    assert _assignments(failed.state, scope, principal) == []

    rerun = rel.run("role_assignment", _ra_args(rel))
    assert not rerun.failed and rerun.changed, rerun.explain()
    assert [e["method"] for e in rerun.writes()] == ["PUT"]
    rel.idempotent("role_assignment", _ra_args(rel))
    found = _assignments(rel.state(), scope, principal)
    assert len(found) == 1, "no duplicate after the re-run"
    rel.assert_foreign_unchanged(before, foreign_view(rel.state(), owned=[found[0]["id"]]))
    record(writes=len(failed.writes()) + len(rerun.writes()), reruns=1)


# --- access-policy vault ------------------------------------------------------------------------------------------


def _policies(state: dict, vault_id: str) -> dict[str, dict]:
    vault = state["resources"][vault_id.lower()]
    return {p["objectId"]: p["permissions"] for p in vault["properties"]["accessPolicies"]}


def _kv_args(**extra) -> dict:
    return {"vault": VAULT, "vault_resource_group": RG, "secret_permissions": ["get", "list"], **extra}


def _uai_principal(state: dict, azure, name: str) -> str:
    return state["resources"][(ids(azure.subscription_id)["uai"] + name).lower()]["properties"]["principalId"]


@pytest.mark.scenario(14, "access-policy vault: parallel grants + third writer")
def test_parallel_grants_and_a_third_writer_keep_every_entry(rel, record):
    summary = rel.seed(rel_world(), **FAST)
    ORACLE.add_secret("client secret", OTHER_APP_SECRET)
    sid = ids(rel.azure.subscription_id)
    state0 = rel.state()
    apim, uai = _apim_principal(state0, rel.azure), _uai_principal(state0, rel.azure, "id-rel-a")
    other_id = summary["principals"]["other-app"]["object_id"]
    ops_before = _policies(state0, sid["vault"])
    third = other_app(rel.azure, summary)

    def third_actor() -> None:
        body = {"properties": {"accessPolicies": [{"tenantId": rel.azure.tenant_id, "objectId": other_id,
                                                   "permissions": {"secrets": ["get"]}}]}}
        assert third.put(sid["vault"] + "/accessPolicies/add", body, "2023-07-01").status_code in (200, 201)
        assert third.request("PATCH", sid["vault"], "2023-07-01", {"tags": {"audit": "third-actor"}}).ok

    runs = rel.parallel([("keyvault_access", _kv_args(service_name=SERVICE, service_resource_group=RG)),
                         ("keyvault_access", _kv_args(principal_id=uai))], also=third_actor)
    for run in runs:
        assert not run.failed and run.changed, run.explain()
    log = runs[0].requests
    ours = [e for e in log.writes().arm() if e.get("caller") != other_id]
    assert ours and all(e["method"] == "PUT" and e["path"].endswith("/accessPolicies/add") for e in ours), ours
    assert not [e for e in ours if e["path"].lower().rstrip("/") == sid["vault"].lower()], "no vault PUT/PATCH"
    state = rel.state()
    policies = _policies(state, sid["vault"])
    assert set(policies[apim]["secrets"]) == {"get", "list"} and set(policies[uai]["secrets"]) == {"get", "list"}
    assert policies[other_id]["secrets"] == ["get"], "the third writer's entry survives"
    for object_id, permissions in ops_before.items():
        assert policies[object_id] == permissions, "entries we do not own are unchanged"
    assert state["resources"][sid["vault"].lower()]["tags"] == {"audit": "third-actor"}
    for args in (_kv_args(service_name=SERVICE, service_resource_group=RG), _kv_args(principal_id=uai)):
        rel.idempotent("keyvault_access", args)
    record(writes=len(ours), reruns=0)


@pytest.mark.scenario(15, "Key Vault 409 ConflictError twice")
def test_vault_conflict_twice_then_success(rel, record):
    rel.seed(rel_world(), **FAST)
    sid = ids(rel.azure.subscription_id)
    state0 = rel.state()
    apim = _apim_principal(state0, rel.azure)
    before = foreign_view(state0, shared={sid["vault"]: ["properties.accessPolicies"]})
    message = "A conflict occurred that prevented the operation from completing. Please retry."
    conflict = {"error": {"code": "ConflictError", "message": message}}
    fault = {"method": "PUT", "path": "/accessPolicies/add$", "status": 409, "body": conflict, "times": 2}
    args = _kv_args(service_name=SERVICE, service_resource_group=RG)
    runs = rel.quartet("keyvault_access", args, faults=[fault])
    apply = runs["apply"]
    adds = apply.requests.matching("PUT", "/accessPolicies/add")
    assert [e["status"] for e in adds] == [409, 409, 200], apply.explain()
    state = runs["apply_again"].state
    policies = _policies(state, sid["vault"])
    assert set(policies[apim]["secrets"]) == {"get", "list"}
    assert {k: v for k, v in policies.items() if k != apim} == _policies(state0, sid["vault"])
    rel.assert_foreign_unchanged(before, foreign_view(state, shared={sid["vault"]: ["properties.accessPolicies"]}))
    record(writes=len(apply.writes()), reruns=0)
