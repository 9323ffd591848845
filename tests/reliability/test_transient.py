# Private to the azure_apim.identity test suite.
"""Scenarios 1-4: throttling, transient server errors, dropped connections and lost responses.

Each scenario arms its faults for the applying run only, then checks (i) the final state, (ii) that foreign state is
identical, (iii) the exact writes in the request log, (iv) an idempotent check run and real run with zero writes.
"""

from __future__ import annotations

import pytest

from reliability.snapshot import find, foreign_view
from reliability.worlds import FAST, RG, ids, rel_world

UAI = "user_assigned_identity"
UAI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
NEW = "id-rel-new"


def _uai_args(name: str = NEW, **extra: object) -> dict:
    return {"resource_group": RG, "name": name, "location": "westeurope", **extra}


def _owned(rel, name: str = NEW) -> list[str]:
    return [ids(rel.azure.subscription_id)["uai"] + name]


def _principals_named(state: dict, name: str) -> list[dict]:
    return [p for p in state["principals"].values() if p["display_name"] == name]


def _effective(entries) -> list:
    """Writes the server answered without an injected fault."""
    return [e for e in entries if "fault" not in e]


@pytest.mark.scenario(1, "429 + Retry-After on the first GETs")
def test_first_reads_throttled_with_retry_after(rel, record):
    rel.seed(rel_world(), **FAST)
    before = foreign_view(rel.state(), owned=_owned(rel))
    fault = {"method": "GET", "path": f"userAssignedIdentities/{NEW}$", "status": 429,
             "headers": {"Retry-After": "2"}, "times": 2}
    runs = rel.quartet(UAI, _uai_args(tags={"app": "rel"}), faults=[fault])
    apply = runs["apply"]

    gets = apply.requests.matching("GET", f"userAssignedIdentities/{NEW}")
    assert [e["status"] for e in gets[:3]] == [429, 429, 404], apply.explain()
    # The client waited what Retry-After asked before each new attempt.
    gaps = [later["time"] - earlier["time"] for earlier, later in zip(gets[:2], gets[1:3])]
    assert all(gap >= 1.9 for gap in gaps), gaps
    assert [e["method"] for e in apply.writes()] == ["PUT"]
    state = runs["apply_again"].state
    stored = find(state, UAI_TYPE, NEW)
    assert len(stored) == 1 and stored[0]["tags"] == {"app": "rel"}
    assert len(_principals_named(state, NEW)) == 1
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=_owned(rel),
                                                      owned_principals=[stored[0]["properties"]["principalId"]]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(2, "PATCH 429 without Retry-After")
def test_patch_throttled_without_retry_after(rel, record):
    rel.seed(rel_world(), **FAST)
    owned = _owned(rel, "id-rel-a")
    before = foreign_view(rel.state(), owned=owned)
    fault = {"method": "PATCH", "path": "userAssignedIdentities/id-rel-a$", "status": 429, "times": 2}
    runs = rel.quartet(UAI, _uai_args("id-rel-a", tags={"tier": "gold"}), faults=[fault])
    apply = runs["apply"]

    patches = apply.requests.matching("PATCH", "userAssignedIdentities/id-rel-a")
    assert [e["status"] for e in patches] == [429, 429, 200], apply.explain()
    assert [e["method"] for e in apply.writes()] == ["PATCH"] * 3
    assert len(_effective(apply.writes())) == 1
    assert find(runs["apply_again"].state, UAI_TYPE, "id-rel-a")[0]["tags"] == {"tier": "gold"}
    rel.assert_foreign_unchanged(before, foreign_view(runs["apply_again"].state, owned=owned))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(3, "500/503 and dropped connections (reads, idempotent writes)")
def test_transient_errors_and_dropped_connections(rel, record):
    rel.seed(rel_world(), **FAST)
    before = foreign_view(rel.state(), owned=_owned(rel))
    path = f"userAssignedIdentities/{NEW}$"
    faults = [
        {"method": "GET", "path": path, "status": 503, "times": 1},
        {"method": "GET", "path": path, "drop_connection": True, "times": 1},
        {"method": "PUT", "path": path, "status": 500, "times": 1},
        {"method": "PUT", "path": path, "drop_connection": True, "times": 1},
    ]
    runs = rel.quartet(UAI, _uai_args(), faults=faults)
    apply = runs["apply"]

    puts = apply.requests.matching("PUT", f"userAssignedIdentities/{NEW}")
    assert len(puts) == 3, apply.explain()  # 500, dropped (not applied), then the one that counts
    assert len(_effective(puts)) == 1 and puts[-1]["status"] == 201
    gets = apply.requests.matching("GET", f"userAssignedIdentities/{NEW}")
    assert [bool(e.get("fault")) for e in gets[:2]] == [True, True]
    state = runs["apply_again"].state
    stored = find(state, UAI_TYPE, NEW)
    assert len(stored) == 1 and len(_principals_named(state, NEW)) == 1
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=_owned(rel),
                                                      owned_principals=[stored[0]["properties"]["principalId"]]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(4, "write applied, response lost, retried")
def test_lost_response_after_applied_write(rel, record):
    rel.seed(rel_world(), **FAST)
    before = foreign_view(rel.state(), owned=_owned(rel))
    fault = {"method": "PUT", "path": f"userAssignedIdentities/{NEW}$", "apply_then_fail": True,
             "drop_connection": True, "times": 1}
    runs = rel.quartet(UAI, _uai_args(tags={"app": "rel"}), faults=[fault])
    apply = runs["apply"]

    puts = apply.requests.matching("PUT", f"userAssignedIdentities/{NEW}")
    assert len(puts) == 2 and puts[0].get("fault"), apply.explain()
    # The replay found the identity the lost response had created: updated in place, not created twice.
    assert puts[1]["status"] == 200
    state = runs["apply_again"].state
    stored = find(state, UAI_TYPE, NEW)
    assert len(stored) == 1 and len(_principals_named(state, NEW)) == 1
    assert apply.result["identity"]["principal_id"] == stored[0]["properties"]["principalId"]
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=_owned(rel),
                                                      owned_principals=[stored[0]["properties"]["principalId"]]))
    record(writes=len(apply.writes()), reruns=0)
