"""role_assignment / role_assignment_info against the local Azure: deterministic name, adoption, retries, removal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from integration import kv_worlds
from integration.kv_quartet import run_quartet
from integration.reads_support import reads

TASK = "Role assignment"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def _assignments(state: dict) -> list[dict]:
    return [r for r in state["resources"].values() if r.get("type") == "Microsoft.Authorization/roleAssignments"]


def _of(state: dict, principal: str) -> list[dict]:
    return [r for r in _assignments(state) if r["properties"]["principalId"].lower() == principal.lower()]


@pytest.fixture
def seeded(world: Any) -> dict[str, Any]:
    return world(kv_worlds.world())


def _vars(local_azure: Any, **extra: Any) -> dict[str, Any]:
    return {"ra_scope": kv_worlds.vault_id(local_azure, "kv-rbac"), "ra_role": "Key Vault Secrets User",
            "ra_service_name": "apim-kv", "ra_service_resource_group": "rg-kv", **extra}


def test_vault_scope_quartet_and_removal(local_azure: Any, seeded: dict, playbook: Any) -> None:
    principal = seeded["principals"]["apim-kv"]["object_id"]
    q = run_quartet(playbook, "role_assignment_one", TASK, _vars(local_azure))
    created = q.apply.task(TASK)["role_assignment"]
    assert created["principal_type"] == "ServicePrincipal" and created["adopted"] is False
    assert q.check.task(TASK)["role_assignment"]["name"] == created["name"]  # the name is known before creation
    assert q.check.task(TASK)["diff"]["before"] == {} and q.check.task(TASK)["diff"]["after"]["role_name"]
    mine = _of(q.reapply.state, principal)
    assert len(mine) == 1 and mine[0]["name"] == created["name"]
    assert mine[0]["properties"]["principalType"] == "ServicePrincipal"
    puts = q.apply.requests.writes()
    assert [e["method"] for e in puts] == ["PUT"] and "/roleAssignments/" in puts[0]["path"]
    assert not q.apply.requests.matching(path_contains="accessPolicies")
    assert q.reapply.task("Role assignment info")["role_assignments"][0]["name"] == created["name"]

    gone = playbook("role_assignment_one", extra_vars=_vars(local_azure, ra_state="absent"), diff=True)
    assert gone.rc == 0 and gone.task(TASK)["changed"] is True, gone.explain()
    assert gone.task(TASK)["diff"]["after"] == {}
    assert _of(gone.state, principal) == []
    again = playbook("role_assignment_one", extra_vars=_vars(local_azure, ra_state="absent"))
    assert again.task(TASK)["changed"] is False and again.requests.writes() == []


# Built-in roles resolve from the collection's table (issue 17): no role-definition read, by name or by GUID. The
# create costs 3 ARM requests, the same as azure_rm_roleassignment given the role's full id (bench side by side).
@pytest.mark.parametrize("role", ["Key Vault Secrets User", SECRETS_USER])
def test_reads_of_a_converge_and_of_a_no_op(local_azure: Any, seeded: dict, playbook: Any, role: str) -> None:
    expected = ["GET service/apim-kv", "GET vaults/kv-rbac/roleassignments"]
    extra = _vars(local_azure, ra_role=role)
    apply = playbook("role_assignment_one", extra_vars=extra, tags=["assignment"])
    assert apply.rc == 0 and apply.task(TASK)["changed"] is True, apply.explain()
    assert reads(apply) == expected, "the PUT's answer is verified, not read again: " + repr(reads(apply))
    assert len(apply.requests.arm()) <= 3, [e["path"] for e in apply.requests.arm()]
    assert apply.task(TASK)["role_assignment"]["role_name"] == "Key Vault Secrets User"
    assert apply.task(TASK)["role_assignment"]["adopted"] is False
    for check in (True, False):
        again = playbook("role_assignment_one", extra_vars=extra, tags=["assignment"], check=check)
        assert again.rc == 0 and again.task(TASK)["changed"] is False, again.explain()
        assert reads(again) == expected, reads(again)
    by_id_vars = {k: v for k, v in extra.items() if not k.startswith("ra_service")}
    by_id = playbook("role_assignment_one", tags=["assignment"], extra_vars=dict(
        by_id_vars, ra_principal_id=seeded["principals"]["apim-kv"]["object_id"]))
    assert by_id.rc == 0 and by_id.task(TASK)["changed"] is False, by_id.explain()
    assert reads(by_id) == expected[1:], "a principal given by id needs no service read: " + repr(reads(by_id))


def test_secret_scope(local_azure: Any, seeded: dict, playbook: Any) -> None:
    scope = kv_worlds.vault_id(local_azure, "kv-rbac") + "/secrets/backend-key"
    q = run_quartet(playbook, "role_assignment_one", TASK, _vars(local_azure, ra_scope=scope, ra_identity="id-apim-kv"))
    principal = seeded["principals"]["id-apim-kv"]["object_id"]
    mine = _of(q.reapply.state, principal)
    assert len(mine) == 1 and mine[0]["properties"]["scope"].lower() == scope.lower()


def test_existing_assignment_under_random_name_is_adopted(local_azure: Any, world: Any, playbook: Any) -> None:
    spec = kv_worlds.world()
    random_name = str(uuid.uuid4())
    spec["role_assignments"] = [{"scope": "/subscriptions/{subscription_id}/resourceGroups/rg-kv/providers/"
                                          "Microsoft.KeyVault/vaults/kv-rbac", "role": "Key Vault Secrets User",
                                 "principal": "id-apim-kv", "name": random_name}]
    world(spec)
    result = playbook("role_assignment_one", extra_vars=_vars(local_azure, ra_identity="id-apim-kv"), diff=True)
    assert result.rc == 0, result.explain()
    task = result.task(TASK)
    assert task["changed"] is False and task["role_assignment"]["name"] == random_name
    assert task["role_assignment"]["adopted"] is True
    assert result.requests.writes() == []


def test_role_assignment_exists_conflict_adopts(local_azure: Any, world: Any, playbook: Any) -> None:
    """An assignment created by someone else between our read and our write (ARM answers RoleAssignmentExists)."""
    world(kv_worlds.world())
    scope = kv_worlds.vault_id(local_azure, "kv-rbac")
    local_azure.admin.add_fault(method="GET", path=r"/roleAssignments$", times=1, status=200,
                                body={"value": []})
    arm = local_azure.arm()
    principal = arm.get(local_azure.rg_id("rg-kv") + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                        "id-apim-kv", "2023-01-31").json()["properties"]["principalId"]
    other = str(uuid.uuid4())
    arm.put(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{other}", {"properties": {
        "roleDefinitionId": f"/subscriptions/{local_azure.subscription_id}/providers/Microsoft.Authorization/"
                            f"roleDefinitions/{SECRETS_USER}", "principalId": principal,
        "principalType": "ServicePrincipal"}}, "2022-04-01").raise_for_status()
    result = playbook("role_assignment_one", extra_vars=_vars(local_azure, ra_identity="id-apim-kv"))
    assert result.rc == 0, result.explain()
    task = result.task(TASK)
    assert task["role_assignment"]["name"] == other and task["role_assignment"]["adopted"] is True
    assert len(_of(result.state, principal)) == 1


def test_principal_not_found_is_retried(local_azure: Any, seeded: dict, playbook: Any) -> None:
    local_azure.admin.add_fault(method="PUT", path=r"/roleAssignments/", times=2, status=400, body={
        "error": {"code": "PrincipalNotFound", "message": "Principal does not exist in the directory."}})
    result = playbook("role_assignment_one", extra_vars=_vars(local_azure, ra_timeout=120))
    assert result.rc == 0, result.explain()
    assert result.task(TASK)["changed"] is True
    puts = result.requests.matching("PUT", "/roleAssignments/")
    assert [e["status"] for e in puts] == [400, 400, 201]


@pytest.mark.parametrize("extra, code, text", [
    ({"ra_role": "Key Vault Secret User"}, "RoleNotFound", "Key Vault Secrets User"),
    ({"ra_service_name": "apim-missing"}, "ServiceNotFound", "apim-missing"),
    ({"ra_identity": "id-not-attached"}, "IdentityNotEnabled", "id-not-attached"),
    ({"ra_service_name": None, "ra_principal_id": "not-a-guid"}, "InvalidPrincipalId", "not-a-guid"),
])
def test_bad_input_fails_clearly_without_writes(local_azure: Any, seeded: dict, playbook: Any, extra: dict,
                                                code: str, text: str) -> None:
    extra_vars = {k: v for k, v in _vars(local_azure, **extra).items() if v is not None}
    if "ra_principal_id" in extra_vars:
        extra_vars.pop("ra_service_resource_group")
    result = playbook("role_assignment_one", extra_vars=extra_vars, check=False)
    assert result.rc != 0
    task = result.task(TASK)
    assert task["_status"] == "failed" and task.get("error_code") == code, task
    assert text in task["msg"]
    assert result.requests.writes() == []
