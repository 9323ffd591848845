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
    # The floor (issue 17), as azure.azcollection's: the create reads the identity and PUTs it; with a location
    # given the resource group is not read. The third request is the info task's read.
    assert [(e["method"], e["path"].rsplit("/", 2)[-2].lower()) for e in apply.requests.arm()] == [
        ("GET", "userassignedidentities"), ("PUT", "userassignedidentities"), ("GET", "userassignedidentities")]
    assert check.requests.matching("GET", "/resourcegroups/rg-apim-demo"), \
        "check mode reads the group: it must predict a create into a missing group as failing"
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


def test_create_into_a_missing_group_fails_in_check_mode_and_on_apply(world, playbook):
    """Check mode reads the group to predict the failure; the apply learns it from Azure's 404 on the PUT."""
    world("demo")
    args = {"uai_name": "id-apim-nogroup", "uai_group": "rg-does-not-exist"}
    check = playbook("uai_present", extra_vars=args, check=True)
    apply = playbook("uai_present", extra_vars=args)
    for run in (check, apply):
        result = run.task("Ensure the user-assigned identity")
        assert run.rc != 0, run.explain()
        assert result.get("error_code") == "ResourceGroupNotFound", run.explain()
        assert "resource group" in result["msg"].lower(), run.explain()
    assert check.requests.writes() == [], "check mode must not write"
    assert [e["method"] for e in apply.requests.writes()] == ["PUT"]
    assert _identity(apply.state, "id-apim-nogroup") is None
