# Private to the azure_apim.identity test suite.
"""Scenarios 8-11 (and the service half of 2): long-running APIM updates, timeouts, concurrent writers, failures.

The module under test is apim_identity: attaching a user-assigned identity is a PATCH answered 202 and polled, the
slowest kind of write in the article. Foreign state is the service minus its `identity` block, the other team's
identity (id-foreign) and every other resource.
"""

from __future__ import annotations

import threading

import pytest

from reliability.conftest import require_modules, wait_for
from reliability.snapshot import foreign_view
from reliability.worlds import FAST, FOREIGN_IDENTITY, RG, SERVICE, attached, ids, rel_world, service_of

require_modules("apim_identity")

MODULE = "apim_identity"


def _args(*names: str, **extra: object) -> dict:
    return {"resource_group": RG, "service_name": SERVICE, "user_assigned_identities": list(names), **extra}


def _foreign(rel, state) -> dict:
    return foreign_view(state, shared={ids(rel.azure.subscription_id)["service"]: ["identity"]})


def _service_requests(run, method=None):
    return run.requests.matching(method, f"/service/{SERVICE}")


@pytest.mark.scenario(2, "PATCH 429 without Retry-After")
def test_service_patch_throttled_without_retry_after(rel, record):
    rel.seed(rel_world(), **FAST)
    before = _foreign(rel, rel.state())
    fault = {"method": "PATCH", "path": f"/service/{SERVICE}$", "status": 429, "times": 2}
    runs = rel.quartet(MODULE, _args("id-rel-a"), faults=[fault])
    apply = runs["apply"]
    patches = apply.requests.matching("PATCH", f"/service/{SERVICE}")
    assert [e["status"] for e in patches] == [429, 429, 202], apply.explain()
    state = runs["apply_again"].state
    assert attached(service_of(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
    rel.assert_foreign_unchanged(before, _foreign(rel, state))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(8, "LRO with Retry-After polling")
def test_long_running_update_polls_by_retry_after(rel, record):
    # Real-time clock: the update takes 3 s and the service says Retry-After: 3.
    rel.seed(rel_world(), time_scale=1.0, apim_update_s=3.0)
    before = _foreign(rel, rel.state())
    runs = rel.quartet(MODULE, _args("id-rel-a"))
    apply = runs["apply"]

    assert [e["method"] for e in apply.writes()] == ["PATCH"], apply.explain()
    patch_seq = apply.writes()[0]["seq"]
    after_patch = [e for e in apply.requests.arm() if e["seq"] > patch_seq]
    assert after_patch and all(e["method"] == "GET" for e in after_patch), "no writes while polling"
    polls = [e for e in after_patch if "operationresults" in e["path"].lower()]
    assert 1 <= len(polls) <= 4, f"polling must follow Retry-After, not spin: {len(polls)} polls"
    # azure-core looks once right after the 202, then waits what each answer's Retry-After says.
    assert len(polls) >= 2 and all(later["time"] - earlier["time"] >= 2.5
                                   for earlier, later in zip(polls, polls[1:])), "polls must wait for Retry-After"
    state = runs["apply_again"].state
    assert attached(service_of(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
    assert apply.result["identity"]["type"] == "SystemAssigned, UserAssigned"
    rel.assert_foreign_unchanged(before, _foreign(rel, state))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(9, "LRO outliving the task timeout, re-run")
def test_update_outliving_the_timeout_is_adopted_by_a_rerun(rel, record):
    rel.seed(rel_world(), time_scale=1.0, apim_update_s=12.0)
    before = _foreign(rel, rel.state())
    first = rel.run(MODULE, _args("id-rel-a", timeout=3))
    assert first.failed, first.explain()
    text = first.msg.lower()
    assert "still" in text and "re-run" in text, first.msg
    assert [e["method"] for e in first.writes()] == ["PATCH"]
    assert service_of(rel)["properties"]["provisioningState"] == "Updating"

    rerun = rel.run(MODULE, _args("id-rel-a"))
    assert not rerun.failed, rerun.explain()
    assert rerun.changed is False, "the re-run finds the first run's change done: nothing to do"
    assert rerun.writes() == [], rerun.explain()
    assert len(_service_requests(rerun, "GET")) >= 2, "the re-run waits while the service is Updating"
    state = rerun.state
    assert attached(service_of(rel, state)) == {FOREIGN_IDENTITY, "id-rel-a"}
    rel.idempotent(MODULE, _args("id-rel-a"))
    rel.assert_foreign_unchanged(before, _foreign(rel, state))
    record(writes=len(first.writes()), reruns=1)


def _other_writer(rel, when_fault_hit: int, body: dict) -> threading.Thread:
    """Another team's PATCH on the service, sent as soon as our write has been answered 409."""
    client = rel.azure.arm()
    path = ids(rel.azure.subscription_id)["service"]

    def write() -> None:
        wait_for(lambda: rel.fault_hits()[when_fault_hit] >= 1, timeout=120, interval=0.05)
        response = client.request("PATCH", path, "2024-05-01", body)
        assert response.status_code == 202, response.text

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.scenario(10, "409 while Updating (another writer), merge")
def test_conflict_while_another_writer_updates_is_merged(rel, record):
    rel.seed(rel_world(), time_scale=1.0, apim_update_s=2.0)
    sid = ids(rel.azure.subscription_id)
    busy = {"error": {"code": "Conflict", "message": f"The API Management service '{SERVICE}' is transitioning at "
                                                     "this moment (state: Updating). Please try the request again "
                                                     "later."}}
    before = foreign_view(rel.state(), shared={sid["service"]: ["identity", "tags"]})
    rel.fault(method="PATCH", path=f"/service/{SERVICE}$", status=409, body=busy, times=1)
    other = {"tags": {"owner": "other-team", "changed-by": "other-writer"},
             "identity": {"type": "SystemAssigned, UserAssigned",
                          "userAssignedIdentities": {sid["uai"] + FOREIGN_IDENTITY: {}, sid["uai"] + "id-rel-b": {}}}}
    writer = _other_writer(rel, 0, other)
    run = rel.run(MODULE, _args("id-rel-a"))
    writer.join(timeout=60)
    rel.clear_faults()
    assert not run.failed, run.explain()

    patches = run.requests.matching("PATCH", f"/service/{SERVICE}")
    ours = [e for e in patches if "id-rel-a" in str(e["body"]).lower()]
    assert [e["status"] for e in ours] == [409, 202], run.explain()
    # Our second PATCH came after the service settled again (re-read, not a blind replay).
    assert len(_service_requests(run, "GET")) >= 2
    state = run.state
    service = service_of(rel, state)
    assert attached(service) == {FOREIGN_IDENTITY, "id-rel-a", "id-rel-b"}, "both writers' changes are present"
    assert service["tags"] == {"owner": "other-team", "changed-by": "other-writer"}
    rel.idempotent(MODULE, _args("id-rel-a"))
    rel.assert_foreign_unchanged(before, foreign_view(state, shared={sid["service"]: ["identity", "tags"]}))
    record(writes=len(ours), reruns=0)


@pytest.mark.scenario(11, "LRO ends Failed: code and message, no blind retry")
def test_failed_operation_reports_azure_code_and_message(rel, record):
    rel.seed(rel_world(), time_scale=1.0, apim_update_s=2.0)
    before_state = rel.state()
    before = foreign_view(before_state)
    failure = {"code": "ActivationFailed",
               "message": "The identity could not be assigned: the gateway did not confirm in time."}
    rel.fault(method="PATCH", path=f"/service/{SERVICE}$", fail_operation=failure, times=1)
    run = rel.run(MODULE, _args("id-rel-a"))
    rel.clear_faults()
    assert run.failed, run.explain()
    assert "ActivationFailed" in run.msg or run.result.get("error_code") == "ActivationFailed", run.result
    assert "gateway did not confirm" in run.msg, run.msg
    assert [e["method"] for e in run.writes()] == ["PATCH"], "a failed operation is reported, not blindly retried"
    # Azure rolled the change back: everything, the service included, is as before.
    rel.assert_foreign_unchanged(before, foreign_view(run.state))
    assert attached(service_of(rel, run.state)) == {FOREIGN_IDENTITY}

    rerun = rel.run(MODULE, _args("id-rel-a"))
    assert not rerun.failed and rerun.changed, rerun.explain()
    assert [e["method"] for e in rerun.writes()] == ["PATCH"]
    rel.idempotent(MODULE, _args("id-rel-a"))
    assert attached(service_of(rel)) == {FOREIGN_IDENTITY, "id-rel-a"}
    rel.assert_foreign_unchanged(_foreign(rel, before_state), _foreign(rel, rel.state()))
    record(writes=len(run.writes()) + len(rerun.writes()), reruns=1)
