"""user_assigned_identity through ansible-playbook against the local Azure: check → apply → check → apply."""
from __future__ import annotations

UAI_TYPE = "microsoft.managedidentity/userassignedidentities"


def _identity(state: dict, name: str) -> dict | None:
    for rid, body in state.get("resources", {}).items():
        if rid.lower().endswith("/" + UAI_TYPE + "/" + name.lower()):
            return body
    return None


def test_create_quartet_then_tags_then_delete(world, playbook):
    world("demo")
    args = {"uai_name": "id-apim-new", "uai_tags": {"team": "ops"}}

    check = playbook("uai_present", extra_vars=args, check=True, diff=True)
    assert check.rc == 0, check.explain()
    assert check.task("Ensure the user-assigned identity")["changed"] is True
    assert check.requests.writes() == [], "check mode must not write"
    assert _identity(check.state, "id-apim-new") is None

    apply = playbook("uai_present", extra_vars=args, diff=True)
    assert apply.rc == 0, apply.explain()
    result = apply.task("Ensure the user-assigned identity")
    assert result["changed"] is True
    assert result["diff"]["before"] in ({}, None) or not result["diff"]["before"]
    stored = _identity(apply.state, "id-apim-new")
    assert stored is not None and stored["tags"] == {"team": "ops"}
    assert result["identity"]["principal_id"] == stored["properties"]["principalId"]
    assert result["identity"]["client_id"] == stored["properties"]["clientId"]
    assert [e["method"] for e in apply.requests.writes()] == ["PUT"]
    info = apply.task("Read it back with the info module")
    assert [i["client_id"] for i in info["identities"]] == [stored["properties"]["clientId"]]

    for check_mode in (True, False):
        again = playbook("uai_present", extra_vars=args, check=check_mode)
        assert again.rc == 0, again.explain()
        assert again.task("Ensure the user-assigned identity")["changed"] is False
        assert again.requests.writes() == []

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
