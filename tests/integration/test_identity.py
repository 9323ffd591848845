"""apim_identity against the local Azure: the identity matrix, references, refusals and errors.

Every behaviour runs check → apply → idempotent check → idempotent apply (with --diff) and then looks at what the
local Azure holds and at its request log.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from harness.quartet import assert_idempotent, run_quartet, runs_of
from integration.reads_support import reads

RG = "rg-ident"
IDENTITIES = ("id-a", "id-b", "id-c")
FAST = {"time_scale": 0.01}  # APIM updates take 15 Azure seconds: 0.15 s here

# Start states (seeded) and the module arguments that ask for them.
STATES: dict[str, dict[str, Any]] = {
    "none": {"seed": None, "args": {"state": "absent"}, "type": "None", "users": []},
    "system": {"seed": {"type": "SystemAssigned"},
               "args": {"system_assigned": True, "user_assigned_identities": [], "user_assigned_mode": "exact"},
               "type": "SystemAssigned", "users": []},
    "user": {"seed": {"type": "UserAssigned", "user_assigned": ["id-a", "id-b"]},
             "args": {"system_assigned": False, "user_assigned_identities": ["id-a", "id-b"],
                      "user_assigned_mode": "exact"},
             "type": "UserAssigned", "users": ["id-a", "id-b"]},
    "both": {"seed": {"type": "SystemAssigned, UserAssigned", "user_assigned": ["id-a", "id-b"]},
             "args": {"system_assigned": True, "user_assigned_identities": ["id-a", "id-b"],
                      "user_assigned_mode": "exact"},
             "type": "SystemAssigned, UserAssigned", "users": ["id-a", "id-b"]},
}

# Every transition between the four states, plus dropping one of several user-assigned identities (exact and
# remove modes) and adding one while keeping the others (add mode).
EXTRA_CASES = [
    ("drop-one-exact", "user", {"user_assigned_identities": ["id-a"], "user_assigned_mode": "exact"},
     "UserAssigned", ["id-a"]),
    ("drop-one-remove", "both", {"user_assigned_identities": ["id-a"], "user_assigned_mode": "remove"},
     "SystemAssigned, UserAssigned", ["id-b"]),
    ("add-one-keep-others", "user", {"user_assigned_identities": ["id-c"]}, "UserAssigned", ["id-a", "id-b", "id-c"]),
]


def matrix_cases() -> list[dict[str, Any]]:
    """One case per service: (name, start state, module arguments, expected type and user-assigned names)."""
    cases = []
    for start in STATES:
        for goal in STATES:
            if start != goal:
                cases.append({"service": f"apim-{start}-to-{goal}", "start": start, "args": STATES[goal]["args"],
                              "type": STATES[goal]["type"], "users": STATES[goal]["users"]})
    for name, start, args, kind, users in EXTRA_CASES:
        cases.append({"service": f"apim-{name}", "start": start, "args": args, "type": kind, "users": users})
    return cases


def identity_world(services: dict[str, Optional[dict]], identities: tuple = IDENTITIES,
                   extra_rg: Optional[dict] = None) -> dict[str, Any]:
    """A resource group with user-assigned identities and API Management services with seeded identities."""
    rg: dict[str, Any] = {
        "name": RG, "location": "westeurope",
        "user_assigned_identities": [{"name": n} for n in identities],
        "apim_services": [dict({"name": name, "sku": "Developer"}, **({"identity": seed} if seed else {}))
                          for name, seed in services.items()],
    }
    rg.update(extra_rg or {})
    return {"location": "westeurope", "resource_groups": [rg]}


def uami_id(azure: Any, name: str, group: str = RG) -> str:
    """ARM id of a user-assigned identity."""
    return f"{azure.rg_id(group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


def service_path(azure: Any, name: str) -> str:
    """ARM id of a service."""
    return f"{azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{name}"


def stored_identity(azure: Any, state: dict, name: str) -> tuple[str, list[str]]:
    """(type, sorted user-assigned names) of a service as the local Azure holds it."""
    body = state["resources"][service_path(azure, name).lower()]
    identity = body.get("identity") or {}
    users = sorted(k.rsplit("/", 1)[-1] for k in (identity.get("userAssignedIdentities") or {}))
    return identity.get("type") or "None", users


def args_for(service: str, **args: Any) -> dict[str, Any]:
    """apim_identity arguments for a service of the test resource group."""
    return {"resource_group": RG, "service_name": service, **args}


def quartet(playbook: Any, extra_vars: dict, task: str) -> tuple[Any, Any]:
    """check → apply → idempotent check → idempotent apply (no task may change on the re-runs); returns the check
    and apply runs."""
    runs = run_quartet(runs_of(playbook, "identity_module", extra_vars=extra_vars),
                       predict=False, apply_changes=False, apply_writes=False)
    return runs.check, runs.apply


# ----------------------------------------------------------------------------------------------------------------------
# the identity matrix: None <-> SystemAssigned <-> UserAssigned <-> both, and dropping one of several
# ----------------------------------------------------------------------------------------------------------------------

def test_identity_matrix_every_transition(local_azure, world, playbook):
    cases = matrix_cases()
    world(identity_world({c["service"]: STATES[c["start"]]["seed"] for c in cases}), **FAST)
    before = playbook("identity_info", extra_vars={"info_rg": RG}).state
    extra_vars = {"identity_cases": [args_for(c["service"], **c["args"]) for c in cases]}

    check = playbook("identity_matrix", extra_vars=extra_vars, check=True, diff=True)
    assert check.rc == 0, check.explain()
    assert check.requests.writes() == []
    predicted = check.task("Apply apim_identity to each service")["results"]
    for case, result in zip(cases, predicted):
        assert result["changed"], case["service"]
        assert result["diff"]["before"]["identity"]["type"] == STATES[case["start"]]["type"], case["service"]
        assert result["diff"]["after"]["identity"]["type"] == case["type"], case["service"]
        assert sorted(u["name"] for u in result["identity"]["user_assigned"]) == case["users"], case["service"]
    for case in cases:  # nothing moved in check mode
        assert stored_identity(local_azure, check.state, case["service"]) == \
            stored_identity(local_azure, before, case["service"])

    apply = playbook("identity_matrix", extra_vars=extra_vars, diff=True)
    assert apply.rc == 0, apply.explain()
    results = apply.task("Apply apim_identity to each service")["results"]
    for case, result in zip(cases, results):
        assert result["changed"], case["service"]
        assert stored_identity(local_azure, apply.state, case["service"]) == (case["type"], case["users"])
        assert result["identity"]["type"] == case["type"]
        assert result["diff"]["after"]["identity"]["type"] == case["type"]
        patches = apply.requests.writes().matching("PATCH", service_path(local_azure, case["service"]))
        assert len(patches) == 1, case["service"]
        assert set(patches[0]["body"]) == {"identity"}, "the PATCH must carry only identity"
    assert_idempotent(runs_of(playbook, "identity_matrix", extra_vars=extra_vars))


def test_patch_sends_empty_object_for_kept_and_null_for_removed(local_azure, world, playbook):
    world(identity_world({"apim-one": STATES["both"]["seed"]}), **FAST)
    args = args_for("apim-one", user_assigned_identities=["id-b"], user_assigned_mode="remove")
    check, apply = quartet(playbook, {"identity_args": args}, "Apply apim_identity")
    [patch] = apply.requests.writes()
    users = patch["body"]["identity"]["userAssignedIdentities"]
    assert {k.rsplit("/", 1)[-1]: v for k, v in users.items()} == {"id-a": {}, "id-b": None}
    assert patch["body"]["identity"]["type"] == "SystemAssigned, UserAssigned"
    result = apply.task("Apply apim_identity")
    system_principal = result["identity"]["principal_id"]
    assert system_principal and result["diff"]["before"]["identity"]["principal_id"] == system_principal
    assert [u["name"] for u in result["identity"]["user_assigned"]] == ["id-a"]
    assert stored_identity(local_azure, apply.state, "apim-one") == ("SystemAssigned, UserAssigned", ["id-a"])


def test_system_assigned_principal_is_returned_and_survives_user_changes(local_azure, world, playbook):
    world(identity_world({"apim-one": None}), **FAST)
    args = args_for("apim-one", system_assigned=True)
    check, apply = quartet(playbook, {"identity_args": args}, "Apply apim_identity")
    predicted = check.task("Apply apim_identity")["identity"]
    assert predicted["type"] == "SystemAssigned" and predicted["principal_id"] == "(known after apply)"  # not created yet
    created = apply.task("Apply apim_identity")["identity"]
    stored = apply.state["resources"][service_path(local_azure, "apim-one").lower()]["identity"]
    assert created["principal_id"] == stored["principalId"] and created["tenant_id"] == local_azure.tenant_id
    assert created["principal_id"] in apply.state["principals"]
    attach = playbook("identity_module", extra_vars={"identity_args": args_for(
        "apim-one", user_assigned_identities=["id-a"])})
    assert attach.rc == 0, attach.explain()
    after = attach.task("Apply apim_identity")["identity"]
    assert after["principal_id"] == created["principal_id"], "attaching a user identity must keep the principal"


# ----------------------------------------------------------------------------------------------------------------------
# references: by name, by id, ids differing only in case
# ----------------------------------------------------------------------------------------------------------------------

def test_user_assigned_by_id_from_another_group(local_azure, world, playbook):
    spec = identity_world({"apim-one": None})
    spec["resource_groups"].append({"name": "rg-shared", "location": "westeurope",
                                    "user_assigned_identities": [{"name": "id-shared"}]})
    world(spec, **FAST)
    shared = uami_id(local_azure, "id-shared", "rg-shared")
    args = args_for("apim-one", user_assigned_identities=[shared, "id-a"])
    check, apply = quartet(playbook, {"identity_args": args}, "Apply apim_identity")
    assert stored_identity(local_azure, apply.state, "apim-one") == ("UserAssigned", ["id-a", "id-shared"])
    users = {u["name"]: u for u in apply.task("Apply apim_identity")["identity"]["user_assigned"]}
    stored = apply.state["resources"][shared.lower()]["properties"]
    assert users["id-shared"]["client_id"] == stored["clientId"]
    assert users["id-shared"]["principal_id"] == stored["principalId"]
    # check mode already knew the client ids (read from the identities, not invented)
    predicted = {u["name"]: u for u in check.task("Apply apim_identity")["identity"]["user_assigned"]}
    assert predicted["id-shared"]["client_id"] == stored["clientId"]


def test_ids_differing_only_in_case_cause_no_change(local_azure, world, playbook):
    world(identity_world({"apim-one": STATES["user"]["seed"]}), **FAST)
    shouting = uami_id(local_azure, "id-a").upper() + "/"
    args = args_for("apim-one", user_assigned_identities=[shouting, "ID-B"], user_assigned_mode="exact")
    assert_idempotent(runs_of(playbook, "identity_module", extra_vars={"identity_args": args}))


# ----------------------------------------------------------------------------------------------------------------------
# reads (issue 10): attached identities are not read again, the PATCH's final response is not re-read
# ----------------------------------------------------------------------------------------------------------------------

def test_reads_of_a_no_op_and_of_a_converge(local_azure, world, playbook):
    world(identity_world({"apim-one": STATES["both"]["seed"]}), **FAST)
    keep = args_for("apim-one", system_assigned=True, user_assigned_identities=["id-a", uami_id(local_azure, "ID-B")],
                    user_assigned_mode="exact")
    for noop in assert_idempotent(runs_of(playbook, "identity_module", extra_vars={"identity_args": keep}), diff=False):
        assert reads(noop) == ["GET service/apim-one"], reads(noop)
    grow = args_for("apim-one", user_assigned_identities=["id-a", "id-c"])
    check = playbook("identity_module", extra_vars={"identity_args": grow}, check=True)
    assert reads(check) == ["GET service/apim-one", "GET userassignedidentities/id-c"], reads(check)
    apply = playbook("identity_module", extra_vars={"identity_args": grow})
    assert apply.rc == 0, apply.explain()
    polls = [r for r in reads(apply) if "/operationresults/" in r]
    # The SDK's poller fetches the service once the operation is done, and that read is the verification (issue 17:
    # no second read; the peer sends the same).
    assert reads(apply) == ["GET service/apim-one", "GET userassignedidentities/id-c"] + polls + \
        ["GET service/apim-one"], reads(apply)
    assert polls, "the PATCH is long-running: it is polled"
    users = {u["name"]: u for u in apply.task("Apply apim_identity")["identity"]["user_assigned"]}
    stored = apply.state["resources"][uami_id(local_azure, "id-c").lower()]["properties"]
    assert users["id-c"]["client_id"] == stored["clientId"] and users["id-c"]["principal_id"] == stored["principalId"]
    assert users["id-a"]["client_id"], "kept identities keep their ids from the final response"
    expected = ("SystemAssigned, UserAssigned", ["id-a", "id-b", "id-c"])
    assert stored_identity(local_azure, apply.state, "apim-one") == expected


# ----------------------------------------------------------------------------------------------------------------------
# limits and errors: refused before any write, in plain words
# ----------------------------------------------------------------------------------------------------------------------

def test_eleventh_identity_refused_with_zero_writes(local_azure, world, playbook):
    names = tuple(f"id-{i:02d}" for i in range(11))
    world(identity_world({"apim-full": {"type": "UserAssigned", "user_assigned": list(names[:10])}}, names), **FAST)
    for mode in ({"check": True}, {}):
        run = playbook("identity_module", extra_vars={"identity_args": args_for(
            "apim-full", user_assigned_identities=[names[10]])}, **mode)
        failed = run.task("Apply apim_identity")
        assert failed["_status"] == "failed" and failed["error_code"] == "TooManyUserAssignedIdentities", run.explain()
        assert "at most 10" in failed["msg"] and "11" in failed["msg"]
        assert run.requests.writes() == []
    # eleven listed at once: refused before any call to Azure
    run = playbook("identity_module", extra_vars={"identity_args": args_for(
        "apim-full", user_assigned_identities=list(names), user_assigned_mode="exact")})
    assert run.task("Apply apim_identity")["error_code"] == "TooManyUserAssignedIdentities"
    assert run.requests.arm() == []
    stored = run.state["resources"][service_path(local_azure, "apim-full").lower()]["identity"]
    assert len(stored["userAssignedIdentities"]) == 10


@pytest.mark.parametrize("args,code,words", [
    ({"service_name": "apim-missing", "system_assigned": True}, "ServiceNotFound",
     ["apim-missing", "was not found", RG]),
    ({"user_assigned_identities": ["id-nope"]}, "IdentityNotFound", ["id-nope", "was not found", "user_assigned_identity"]),
    ({"user_assigned_identities": ["/subscriptions/x/nonsense"]}, "MalformedResourceId", ["Malformed"]),
    ({"user_assigned_identities": ["rg/id-a"]}, "MalformedResourceId", ["bare name or a full id"]),
    ({"state": "absent", "system_assigned": True}, "InvalidParameters", ["state=absent"]),
])
def test_clear_errors_before_any_write(local_azure, world, playbook, args, code, words):
    world(identity_world({"apim-one": None}), **FAST)
    run = playbook("identity_module", extra_vars={"identity_args": {**args_for("apim-one"), **args}})
    failed = run.task("Apply apim_identity")
    assert failed["_status"] == "failed" and failed["error_code"] == code, failed
    for word in words:
        assert word in failed["msg"], failed["msg"]
    assert run.requests.writes() == []


def test_waits_for_a_running_update_before_writing(local_azure, world, playbook):
    world(identity_world({"apim-one": None}), time_scale=0.01, apim_update_s=200.0)
    arm = local_azure.arm()
    started = arm.request("PATCH", service_path(local_azure, "apim-one"), "2024-05-01", {"tags": {"busy": "yes"}})
    assert started.status_code == 202
    run = playbook("identity_module", extra_vars={"identity_args": args_for("apim-one", system_assigned=True)})
    assert run.rc == 0, run.explain()
    patches = run.requests.matching("PATCH")
    assert len(patches) == 1 and patches[0]["status"] == 202, "waited, then one PATCH that was accepted"
    body = run.state["resources"][service_path(local_azure, "apim-one").lower()]
    assert body["identity"]["type"] == "SystemAssigned" and body["tags"] == {"busy": "yes"}
