"""user_assigned_identity through ansible-playbook against the local Azure: check → apply → check → apply."""
from __future__ import annotations

from harness.quartet import run_quartet, runs_of

UAI_TYPE = "microsoft.managedidentity/userassignedidentities"


def _identity(state: dict, name: str) -> dict | None:
    for rid, body in state.get("resources", {}).items():
        if rid.lower().endswith("/" + UAI_TYPE + "/" + name.lower()):
            return body
    return None


def test_create_quartet_then_tags_then_delete(world, playbook):
    world("demo")
    args = {"uai_name": "id-apim-new", "uai_tags": {"team": "ops"}}

    # The re-runs go without --diff.
    q = run_quartet(runs_of(playbook, "uai_present", extra_vars=args), "Ensure the user-assigned identity",
                    rerun_diff=False)
    check, apply = q.check, q.apply
    assert _identity(check.state, "id-apim-new") is None

    result = apply.task("Ensure the user-assigned identity")
    assert result["diff"]["before"] in ({}, None) or not result["diff"]["before"]
    stored = _identity(apply.state, "id-apim-new")
    assert stored is not None and stored["tags"] == {"team": "ops"}
    assert result["identity"]["principal_id"] == stored["properties"]["principalId"]
    assert result["identity"]["client_id"] == stored["properties"]["clientId"]
    assert [e["method"] for e in apply.requests.writes()] == ["PUT"]
    info = apply.task("Read it back with the info module")
    assert [i["client_id"] for i in info["identities"]] == [stored["properties"]["clientId"]]

    # Additive tags by default: a tag set by someone else survives ours.
    more = playbook("uai_present", extra_vars={"uai_name": "id-apim-new", "uai_tags": {"env": "demo"}}, diff=True)
    assert more.rc == 0, more.explain()
    assert _identity(more.state, "id-apim-new")["tags"] == {"team": "ops", "env": "demo"}

    gone = playbook("uai_present", extra_vars={"uai_name": "id-apim-new", "uai_state": "absent"})
    assert gone.rc == 0, gone.explain()
    assert _identity(gone.state, "id-apim-new") is None
    assert [e["method"] for e in gone.requests.writes()] == ["DELETE"]
    # The seeded identity the task does not name is untouched.
    assert _identity(gone.state, "id-apim-demo") is not None


def test_identities_list_quartet_in_one_module_run(world, playbook):
    world("demo")
    task = "Ensure the user-assigned identities"
    items = [{"name": "id-list-a", "tags": {"team": "ops"}}, {"name": "id-list-b"}]
    q = run_quartet(runs_of(playbook, "uai_list", extra_vars={"uai_items": items}), task)
    check, apply, check2, apply2 = q.check, q.apply, q.recheck, q.reapply
    assert sorted(check.task(task)["diff"]["after"]) == ["rg-apim-demo/id-list-a", "rg-apim-demo/id-list-b"]
    assert _identity(check.state, "id-list-a") is None
    assert [(e["method"], e["path"].rsplit("/", 1)[-1]) for e in apply.requests.writes()] == [
        ("PUT", "id-list-a"), ("PUT", "id-list-b")]
    assert _identity(apply.state, "id-list-a")["tags"] == {"team": "ops"}
    results = apply.task(task)["identities"]
    assert [r["identity"]["principal_id"] for r in results] == [
        _identity(apply.state, n)["properties"]["principalId"] for n in ("id-list-a", "id-list-b")]
    for rerun in (check2, apply2):
        # one read per identity, nothing else
        assert [e["method"] for e in rerun.requests.arm()] == ["GET", "GET"]
    gone = playbook("uai_list", extra_vars={"uai_items": items, "uai_state": "absent"})
    assert gone.rc == 0, gone.explain()
    assert [e["method"] for e in gone.requests.writes()] == ["DELETE", "DELETE"]
    assert _identity(gone.state, "id-list-a") is None and _identity(gone.state, "id-apim-demo") is not None
