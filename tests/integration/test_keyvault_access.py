"""keyvault_access against the local Azure: access-policy and RBAC vaults, firewall, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integration import kv_worlds
from integration.kv_quartet import run_quartet
from integration.reads_support import reads

TASK = "Key Vault access"
KV_API = "2023-07-01"


@pytest.fixture
def seeded(world: Any) -> dict[str, Any]:
    return world(kv_worlds.world())


def _vault(state: dict, local_azure: Any, name: str) -> dict:
    return state["resources"][kv_worlds.vault_id(local_azure, name).lower()]


def _policies(state: dict, local_azure: Any, name: str) -> list[dict]:
    return _vault(state, local_azure, name)["properties"]["accessPolicies"]


def _vars(**extra: Any) -> dict[str, Any]:
    return {"kv_vault": "kv-ap", "kv_vault_resource_group": "rg-kv", "kv_service_name": "apim-kv",
            "kv_service_resource_group": "rg-kv", **extra}


def _vault_writes(result: Any) -> list[dict]:
    """Writes to the vault resource itself (PUT/PATCH of .../vaults/<name>), which must never happen."""
    return [e for e in result.requests.writes() if e["path"].lower().rstrip("/").split("/")[-2] == "vaults"]


def test_access_policy_grant_keeps_foreign_policies_and_removes_exactly(local_azure: Any, seeded: dict,
                                                                        playbook: Any) -> None:
    principal = seeded["principals"]["apim-kv"]["object_id"]
    before = json.dumps(_policies(local_azure.admin.state(), local_azure, "kv-ap"), sort_keys=True)
    q = run_quartet(playbook, "keyvault_access_one", TASK, _vars())
    task = q.apply.task(TASK)
    assert task["permission_model"] == "access_policy" and task["role_assignment"] == {}
    assert task["diff"]["before"] == {} and task["diff"]["after"]["permissions"]["secrets"] == ["get", "list"]
    assert q.check.task(TASK)["diff"]["after"]["object_id"] == principal
    policies = _policies(q.reapply.state, local_azure, "kv-ap")
    assert json.dumps(policies[:2], sort_keys=True) == before  # foreign entries byte-identical, in place
    ours = policies[2]
    assert ours["objectId"] == principal and ours["permissions"]["secrets"] == ["get", "list"]
    writes = q.apply.requests.writes()
    assert [(e["method"], e["path"].rsplit("/", 2)[-2:]) for e in writes] == [("PUT", ["accessPolicies", "add"])]
    assert writes[0]["body"]["properties"]["accessPolicies"][0]["objectId"] == principal
    assert all(_vault_writes(r) == [] for r in (q.check, q.apply, q.recheck, q.reapply))
    info = q.reapply.task("Key Vault access info")
    assert info["access"] == [{"kind": "access_policy", "principal_id": principal, "tenant_id": ours["tenantId"],
                               "application_id": None, "permissions": {"secrets": ["get", "list"], "keys": [],
                                                                       "certificates": [], "storage": []}}]

    gone = playbook("keyvault_access_one", extra_vars=_vars(kv_state="absent"), diff=True)
    assert gone.rc == 0 and gone.task(TASK)["changed"] is True, gone.explain()
    remove = gone.requests.writes()
    assert len(remove) == 1 and remove[0]["path"].endswith("/accessPolicies/remove")
    assert remove[0]["body"]["properties"]["accessPolicies"] == [ours]  # exactly as stored
    assert json.dumps(_policies(gone.state, local_azure, "kv-ap"), sort_keys=True) == before
    again = playbook("keyvault_access_one", extra_vars=_vars(kv_state="absent"))
    assert again.task(TASK)["changed"] is False and again.requests.writes() == []


def test_exact_mode_replaces_only_listed_kinds(local_azure: Any, seeded: dict, playbook: Any) -> None:
    principal = seeded["principals"]["ops-team"]["object_id"]
    extra = _vars(kv_service_name=None, kv_service_resource_group=None, kv_principal_id=principal,
                  kv_secret_permissions=["get"], kv_permissions_mode="exact")
    extra = {k: v for k, v in extra.items() if v is not None}
    q = run_quartet(playbook, "keyvault_access_one", TASK, extra)
    entry = next(p for p in _policies(q.reapply.state, local_azure, "kv-ap") if p["objectId"] == principal)
    assert entry["permissions"]["secrets"] == ["get"]
    assert entry["permissions"]["certificates"] == ["get"]  # a kind not listed stays as it was
    assert q.apply.requests.writes()[0]["path"].endswith("/accessPolicies/replace")
    assert q.check.task(TASK)["diff"]["before"]["permissions"]["secrets"] == ["Get", "List", "Set"]


def test_additive_mode_keeps_more_permissions(local_azure: Any, seeded: dict, playbook: Any) -> None:
    principal = seeded["principals"]["ops-team"]["object_id"]
    result = playbook("keyvault_access_one", extra_vars={"kv_vault": "kv-ap", "kv_principal_id": principal})
    assert result.rc == 0 and result.task(TASK)["changed"] is False, result.explain()  # Get/List already there
    assert result.requests.writes() == []


def test_other_writer_between_read_and_write_and_conflict(local_azure: Any, seeded: dict, playbook: Any) -> None:
    vault_path = kv_worlds.vault_id(local_azure, "kv-ap")
    stale = local_azure.arm().get(vault_path, KV_API).json()
    other = seeded["principals"]["other-app"]["object_id"]
    newcomer = "7d0c1b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    kv_worlds.grant_policy(local_azure, "kv-ap", newcomer, ["get"])
    # Our first read is the stale one (taken before the other writer's add); our first write meets a busy vault.
    local_azure.admin.add_fault(method="GET", path=r"/vaults/kv-ap$", times=1, status=200, body=stale)
    local_azure.admin.add_fault(method="PUT", path=r"/accessPolicies/add$", times=1, status=409, body={
        "error": {"code": "ConflictError", "message": "A conflict occurred; the vault changed."}})
    result = playbook("keyvault_access_one", extra_vars=_vars())
    assert result.rc == 0, result.explain()
    ids = [p["objectId"] for p in _policies(result.state, local_azure, "kv-ap")]
    assert newcomer in ids and other in ids and seeded["principals"]["apim-kv"]["object_id"] in ids
    adds = result.requests.matching("PUT", "/accessPolicies/add")
    assert [e["status"] for e in adds] == [409, 200]
    assert _vault_writes(result) == []


def test_rbac_vault_through_keyvault_access(local_azure: Any, seeded: dict, playbook: Any) -> None:
    q = run_quartet(playbook, "keyvault_access_one", TASK, _vars(kv_vault="kv-rbac"))
    task = q.apply.task(TASK)
    assert task["permission_model"] == "rbac" and task["access_policy"] == {}
    assert task["role_assignment"]["role_name"] == "Key Vault Secrets User"
    assert not q.apply.requests.matching(path_contains="accessPolicies")
    principal = seeded["principals"]["apim-kv"]["object_id"]
    mine = [r for r in q.reapply.state["resources"].values()
            if r.get("type") == "Microsoft.Authorization/roleAssignments"
            and r["properties"]["principalId"] == principal]
    assert len(mine) == 1
    info = q.reapply.task("Key Vault access info")
    assert [(a["kind"], a["name"]) for a in info["access"]] == [("role_assignment", mine[0]["name"])]


def test_rbac_vault_certificate_permissions_choose_the_certificate_user_role(
        local_azure: Any, seeded: dict, playbook: Any) -> None:
    q = run_quartet(playbook, "keyvault_access_one", TASK, _vars(kv_vault="kv-rbac",
                                                                 kv_certificate_permissions=["get", "list"]))
    task = q.apply.task(TASK)
    assert task["role_assignment"]["role_name"] == "Key Vault Certificate User"
    assert any("granted as the role 'Key Vault Certificate User'" in w for w in task.get("warnings", []))
    sent = [w for w in q.apply.requests.writes() if "roleAssignments" in w["path"]]
    assert len(sent) == 1 and sent[0]["body"]["properties"]["roleDefinitionId"].endswith(
        "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba")


@pytest.mark.parametrize("extra,words", [
    ({"kv_certificate_permissions": ["get", "import"]}, ["['import']", "Key Vault Certificates Officer"]),
    ({"kv_certificate_permissions": ["get"], "kv_role": "Key Vault Reader"}, ["'Key Vault Reader'"]),
])
def test_rbac_vault_refuses_certificate_permissions_it_cannot_honour(local_azure: Any, seeded: dict, playbook: Any,
                                                                     extra: dict, words: list) -> None:
    run = playbook("keyvault_access_one", extra_vars=_vars(kv_vault="kv-rbac", **extra), tags=["access"])
    assert run.rc != 0 and run.requests.writes() == []
    result = run.task(TASK)
    assert result["error_code"] == "CertificatePermissionsOnRbacVault", result
    assert all(w in result["msg"] + result.get("hint", "") for w in words), result


@pytest.mark.parametrize("vault,converge_extra,noop_extra", [
    # access policy: the vault is read once; after the write it is read again to verify the entry
    ("kv-ap", ["GET vaults/kv-ap"], []),
    # RBAC: the built-in role resolves from the table, the assignments listed; the PUT's answer is verified
    ("kv-rbac", ["GET vaults/kv-rbac/roleassignments"], ["GET vaults/kv-rbac/roleassignments"]),
])
def test_reads_of_a_converge_and_of_a_no_op(local_azure: Any, seeded: dict, playbook: Any, vault: str,
                                            converge_extra: list, noop_extra: list) -> None:
    base = ["GET service/apim-kv", f"GET vaults/{vault}"]
    apply = playbook("keyvault_access_one", extra_vars=_vars(kv_vault=vault), tags=["access"])
    assert apply.rc == 0 and apply.task(TASK)["changed"] is True, apply.explain()
    assert reads(apply) == base + converge_extra, reads(apply)
    for check in (True, False):
        again = playbook("keyvault_access_one", extra_vars=_vars(kv_vault=vault), tags=["access"], check=check)
        assert again.rc == 0 and again.task(TASK)["changed"] is False, again.explain()
        assert reads(again) == base + noop_extra, reads(again)


def test_info_never_fails_on_not_found(local_azure: Any, seeded: dict, playbook: Any) -> None:
    for extra in ({"kv_vault": "kv-missing"}, {"kv_service_name": "apim-missing"}):
        result = playbook("keyvault_access_one", extra_vars=_vars(**extra), tags=["info"])
        info = result.task("Key Vault access info")
        assert info["_status"] == "ok" and info["access"] == [], info


def test_firewall_refuses_user_assigned_without_writes(local_azure: Any, seeded: dict, playbook: Any) -> None:
    result = playbook("keyvault_access_one", extra_vars=_vars(kv_vault="kv-fw", kv_identity="id-apim-kv"))
    assert result.rc != 0
    task = result.task(TASK)
    assert task["error_code"] == "FirewallBlocksUserAssigned" and "system-assigned" in task["msg"]
    assert result.requests.writes() == []
    downgraded = playbook("keyvault_access_one",
                          extra_vars=_vars(kv_vault="kv-fw", kv_identity="id-apim-kv", kv_allow_user=True))
    assert downgraded.rc == 0, downgraded.explain()
    assert downgraded.task(TASK)["changed"] is True
    assert any("firewall" in w for w in downgraded.task(TASK).get("warnings", []))


def test_firewall_with_system_identity_and_bypass_passes(local_azure: Any, seeded: dict, playbook: Any) -> None:
    q = run_quartet(playbook, "keyvault_access_one", TASK, _vars(kv_vault="kv-fw"))
    fw = q.apply.task(TASK)["firewall"]
    assert fw["enabled"] is True and fw["passes"] is True and not q.apply.task(TASK).get("warnings")


@pytest.mark.parametrize("extra, code, text", [
    ({"kv_vault": "kv-missing"}, "VaultNotFound", "kv-missing"),
    ({"kv_vault": "kv-ap", "kv_vault_resource_group": None}, None, None),  # found by listing the subscription
    ({"kv_permission_model": "rbac"}, "PermissionModelMismatch", "access_policy"),
    ({"kv_vault": "kv-rbac", "kv_role": "Key Vault Secret Reader"}, "RoleNotFound", "Key Vault"),
    ({"kv_service_name": None, "kv_service_resource_group": None,
      "kv_principal_id": "0a9b8c7d-1111-4222-8333-944455566677",
      "kv_principal_tenant_id": "99999999-9999-4999-8999-999999999999"}, "TenantMismatch", "tenant"),
    ({"kv_identity": "id-unknown"}, "IdentityNotEnabled", "id-unknown"),
])
def test_bad_input(local_azure: Any, seeded: dict, playbook: Any, extra: dict, code: str, text: str) -> None:
    extra_vars = {k: v for k, v in _vars(**extra).items() if v is not None}
    result = playbook("keyvault_access_one", extra_vars=extra_vars, check=code is None)
    task = result.task(TASK)
    if code is None:
        assert result.rc == 0 and task["changed"] is True, result.explain()
    else:
        assert result.rc != 0 and task["_status"] == "failed" and task["error_code"] == code, task
        assert text in task["msg"]
    assert result.requests.writes() == []
