"""Orphaned grants against the local Azure: after a principal rotation (system identity disabled and enabled again,
user-assigned identity deleted), apim_identity_info lists the old principals' grants this collection made for the
service, and the apim_teardown role removes them, also on a re-run after the identity is gone. Foreign grants
(other principals, assignments without the marker, another service's marked ones, others' access-policy entries)
are never listed and survive byte-identical. Real modules, real SDK; assertions on the stored state and request log.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

RG = "rg-og"
SERVICE, OTHER = "apim-og", "apim-og-other"
APIM_API = "2022-08-01"
RA_TYPE = "Microsoft.Authorization/roleAssignments"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
FOREIGN = "6f1e3c2a-0b7d-4c1e-9a55-3f0b2d9c8e11"
# Realistic local Azure: identity replication (30 s) and RBAC propagation (10 min) as in Azure, 100x faster.
SETTINGS = {"time_scale": 0.01}


def _world() -> dict[str, Any]:
    rg_id = "/subscriptions/{subscription_id}/resourceGroups/" + RG
    return {
        "location": "westeurope",
        "service_principals": [{"name": "ops-team", "kind": "ServicePrincipal", "object_id": FOREIGN}],
        "resource_groups": [{
            "name": RG, "location": "westeurope",
            "user_assigned_identities": [{"name": "id-gone"}, {"name": "id-kept"}],
            "key_vaults": [
                {"name": "kv-ap", "rbac": False, "access_policies": [
                    {"principal": "ops-team", "permissions": {"secrets": ["Get", "List"]}},
                    {"principal": "id-kept", "permissions": {"secrets": ["get"]}}],
                 "secrets": [{"name": "plain", "value": "not-a-real-secret-value"}]},
                {"name": "kv-rbac", "rbac": True, "secrets": [{"name": "backend-key", "value": "rbac-value"}]},
            ],
            "apim_services": [
                {"name": SERVICE, "sku": "Developer",
                 "identity": {"type": "SystemAssigned, UserAssigned", "user_assigned": ["id-gone", "id-kept"]}},
                {"name": OTHER, "sku": "Developer", "identity": {"type": "SystemAssigned"}}],
        }],
        # Foreign assignments: the ops team on the vault, and one for the service's current principal made by
        # someone else (no marker, a random name).
        "role_assignments": [
            {"scope": rg_id + "/providers/Microsoft.KeyVault/vaults/kv-rbac", "role": "Key Vault Secrets Officer",
             "principal": "ops-team"},
            {"scope": rg_id, "role": "Reader", "principal": SERVICE},
        ],
    }


def _vars(azure: Any, **extra: Any) -> dict[str, Any]:
    vault = f"{azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/kv-rbac"
    return {"og_rg": RG, "og_service": SERVICE, "og_other_service": OTHER, "og_vault_rbac_id": vault, **extra}


def _service(azure: Any, name: str = SERVICE) -> str:
    return f"{azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{name}"


def _assignments(state: dict) -> dict[str, dict]:
    return {k: v for k, v in state["resources"].items() if v.get("type") == RA_TYPE}


def _policies(state: dict, azure: Any, vault: str = "kv-ap") -> list[dict]:
    vault_id = f"{azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/{vault}".lower()
    return state["resources"][vault_id]["properties"]["accessPolicies"]


def _reference_kv_ap(azure: Any) -> None:
    """A named value of the service reads kv-ap with id-kept: the service references that vault."""
    arm, svc = azure.arm(), _service(azure)
    identity = arm.get(svc, APIM_API).json()["identity"]
    client = next(v["clientId"] for k, v in identity["userAssignedIdentities"].items() if k.endswith("/id-kept"))
    resp = arm.put(f"{svc}/namedValues/backend-key", {"properties": {"displayName": "backend-key", "keyVault": {
        "secretIdentifier": "https://kv-ap.vault.azure.net/secrets/plain", "identityClientId": client}}}, APIM_API)
    assert resp.status_code < 300, resp.text
    deadline = time.monotonic() + 30
    while arm.get(f"{svc}/namedValues/backend-key", APIM_API).status_code != 200:
        assert time.monotonic() < deadline, "named value never appeared"
        time.sleep(0.1)


@pytest.fixture
def rotated(local_azure: Any, world: Any, playbook: Any) -> dict[str, Any]:
    """Grants made by the collection for both identities of the service (and for another service), then the
    system identity disabled and enabled again and the user-assigned identity id-gone detached and deleted."""
    summary = world(_world(), **SETTINGS)
    _reference_kv_ap(local_azure)
    extra = _vars(local_azure, og_user_identity="id-gone")
    granted = playbook("orphaned_grants", extra_vars=extra, tags=["grant"])
    assert granted.rc == 0, granted.explain()
    old = local_azure.arm().get(_service(local_azure), APIM_API).json()["identity"]
    # Attribution: the assignments the collection made for the service's identities carry its marker.
    service_id = _service(local_azure)
    marks = sorted(v["properties"]["description"] for v in _assignments(granted.state).values()
                   if (v["properties"].get("description") or "").startswith("azure_apim.identity grant"))
    uai = next(k for k in old["userAssignedIdentities"] if k.endswith("/id-gone"))
    assert marks == sorted([f"azure_apim.identity grant for API Management service {service_id}; identity: system",
                            f"azure_apim.identity grant for API Management service {service_id}; identity: {uai}",
                            "azure_apim.identity grant for API Management service "
                            f"{_service(local_azure, OTHER)}; identity: system"])
    regrant = playbook("orphaned_grants", extra_vars=extra, tags=["grant"])
    assert regrant.rc == 0 and regrant.requests.writes() == [], "a re-run rewrote a grant: " + regrant.explain()
    rotation = playbook("orphaned_grants", extra_vars=extra, tags=["rotate"])
    assert rotation.rc == 0, rotation.explain()
    new = rotation.state["resources"][_service(local_azure).lower()]["identity"]["principalId"]
    assert new != old["principalId"]
    gone_user = next(v["principalId"] for k, v in old["userAssignedIdentities"].items() if k.endswith("/id-gone"))
    kept_user = next(v["principalId"] for k, v in old["userAssignedIdentities"].items() if k.endswith("/id-kept"))
    return {"old": old["principalId"], "new": new, "gone_user": gone_user, "kept_user": kept_user,
            "rotation": rotation, "state": rotation.state, "summary": summary}


def _foreign(state: dict, azure: Any, ours: set[str]) -> tuple[dict, list]:
    """Every assignment and kv-ap entry not of a principal in ``ours`` (lower case): what must survive."""
    assignments = {k: v for k, v in _assignments(state).items()
                   if v["properties"]["principalId"].lower() not in ours
                   or not (v["properties"].get("description") or "").startswith("azure_apim.identity grant")}
    return assignments, [p for p in _policies(state, azure) if p["objectId"].lower() not in ours]


def test_rotation_lists_orphans_and_teardown_removes_only_them(local_azure: Any, rotated: dict,
                                                               playbook: Any) -> None:
    old, gone_user = rotated["old"].lower(), rotated["gone_user"].lower()
    disabled = rotated["rotation"].task("Disable the system identity")
    assert any("orphaned_grants" in w for w in disabled.get("warnings") or []), disabled
    ours = {old, gone_user}
    before = _foreign(rotated["state"], local_azure, ours)
    for check in (True, False):
        run = playbook("orphaned_grants", extra_vars=_vars(local_azure), tags=["info"], check=check)
        assert run.rc == 0 and run.requests.writes() == [], run.explain()
        entry = run.task("List orphaned grants")["identities"][0]
        found = entry["orphaned_grants"]
        assert {(p["principal_id"], p["kind"]) for p in found["principals"]} == {(old, "system"), (gone_user, "user")}
        listed = {(a["principal_id"].lower(), a["role_name"], a["kind"]) for a in found["role_assignments"]}
        assert listed == {(old, "Key Vault Secrets User", "system"), (gone_user, "Key Vault Secrets User", "user")}
        assert [(p["vault"], p["object_id"].lower()) for p in found["access_policies"]] == [("kv-ap", old)]
        assert [p["object_id"].lower() for p in entry["key_vault_access_policies"]] == [rotated["kept_user"].lower()]
        # one role-assignment list for the subscription, no per-assignment read; one read of the deleted identity
        assert len(run.requests.matching(path_contains="roleAssignments")) == 1
        assert len(run.requests.matching(path_contains="userAssignedIdentities/id-gone")) == 1

    # Every service of the resource group: still one role-assignment list and one vault list for all of them.
    every = playbook("orphaned_grants", extra_vars=_vars(local_azure, og_every_service=True), tags=["info"])
    assert every.rc == 0 and every.requests.writes() == [], every.explain()
    by_name = {e["service_name"]: e["orphaned_grants"] for e in every.task("List orphaned grants")["identities"]}
    assert len(by_name[SERVICE]["role_assignments"]) == 2 and by_name[OTHER]["role_assignments"] == []
    assert len(every.requests.matching(path_contains="roleAssignments")) == 1
    assert len(every.requests.matching(path_contains="Microsoft.KeyVault/vaults")) == 1

    check = playbook("orphaned_grants", extra_vars=_vars(local_azure), tags=["teardown"], check=True, diff=True)
    assert check.rc == 0 and check.requests.writes() == [], check.explain()
    apply = playbook("orphaned_grants", extra_vars=_vars(local_azure), tags=["teardown"], diff=True)
    assert apply.rc == 0, apply.explain()
    deleted = [e["path"] for e in apply.requests.writes()]
    assert len(deleted) == 3 and all(e["method"] in ("DELETE", "PUT") for e in apply.requests.writes()), deleted
    left = [v for v in _assignments(apply.state).values() if v["properties"]["principalId"].lower() in ours]
    assert [v["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for v in left] == [READER], \
        "an orphaned assignment stayed, or the unmarked Reader assignment (not ours) went"
    assert old not in {p["objectId"].lower() for p in _policies(apply.state, local_azure)}
    assert _foreign(apply.state, local_azure, ours) == before, "a foreign grant changed"
    again = playbook("orphaned_grants", extra_vars=_vars(local_azure), tags=["teardown"])
    assert again.rc == 0 and again.requests.writes() == [], again.explain()


def test_teardown_rerun_after_identity_gone_removes_orphans(local_azure: Any, world: Any, playbook: Any) -> None:
    world(_world(), **SETTINGS)
    _reference_kv_ap(local_azure)
    vaults = [{"vault": "kv-rbac", "resource_group": RG}, {"vault": "kv-ap", "resource_group": RG}]
    extra = _vars(local_azure, og_teardown_vaults=vaults)
    granted = playbook("orphaned_grants", extra_vars=extra, tags=["grant"])
    assert granted.rc == 0, granted.explain()
    old = granted.state["resources"][_service(local_azure).lower()]["identity"]["principalId"].lower()
    before = _foreign(granted.state, local_azure, {old})
    # A teardown that ended right after the identity went: the grants it should have revoked are still there.
    died = playbook("orphaned_grants", extra_vars=extra, tags=["disable"])
    assert died.rc == 0, died.explain()
    mine = [v for v in _assignments(died.state).values() if v["properties"]["principalId"].lower() == old]
    assert len(mine) == 2  # the marked Key Vault grant and the foreign Reader assignment
    rerun = playbook("orphaned_grants", extra_vars=dict(extra, og_teardown_remove_identity=True), tags=["teardown"])
    assert rerun.rc == 0, rerun.explain()
    assert rerun.task("azure_apim.identity.apim_teardown : Revoke the identity's Key Vault access")["_status"] == "skipped"
    left = [v for v in _assignments(rerun.state).values() if v["properties"]["principalId"].lower() == old]
    assert [v["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for v in left] == [READER], \
        "only the unmarked Reader assignment (not ours) may stay"
    assert old not in {p["objectId"].lower() for p in _policies(rerun.state, local_azure)}
    assert _foreign(rerun.state, local_azure, {old}) == before
    again = playbook("orphaned_grants", extra_vars=dict(extra, og_teardown_remove_identity=True), tags=["teardown"])
    assert again.rc == 0 and again.requests.writes() == [], again.explain()
