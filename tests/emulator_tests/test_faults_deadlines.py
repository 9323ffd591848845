"""Fault rules for deadlines and concurrent writers: `delay_s` (a slow or hanging endpoint) and `concurrent_write`
(another writer's request served between the caller's read and its write)."""

from __future__ import annotations

import threading

import pytest


def test_delay_without_status_serves_the_request_after_the_hold(local_azure, world):
    world("empty")
    rg = local_azure.rg_id("rg-empty")
    local_azure.admin.add_fault(method="GET", path="/resourceGroups/rg-empty$", delay_s=0.2, times=1)
    answer = local_azure.arm().get(rg, "2021-04-01")
    assert answer.status_code == 200 and answer.json()["name"] == "rg-empty"
    assert local_azure.admin.faults()[0]["hits"] == 1 and "status" not in local_azure.admin.faults()[0]


def test_delay_with_status_answers_that_status(local_azure, world):
    world("empty")
    rg = local_azure.rg_id("rg-empty")
    local_azure.admin.add_fault(method="GET", path="/resourceGroups/rg-empty$", delay_s=0.1, status=503, times=1)
    assert local_azure.arm().get(rg, "2021-04-01").status_code == 503


def test_a_hanging_request_is_released_when_the_rule_is_cleared(local_azure, world):
    world("empty")
    client = local_azure.arm()
    client.token()  # sign in first: the hold applies to the ARM request only
    rg = local_azure.rg_id("rg-empty")
    local_azure.admin.add_fault(method="GET", path="/resourceGroups/rg-empty$", delay_s=600)
    answers = []
    thread = threading.Thread(target=lambda: answers.append(client.get(rg, "2021-04-01").status_code))
    thread.start()
    assert not any(e["status"] for e in local_azure.admin.requests().matching("GET", "/resourceGroups/rg-empty"))
    local_azure.admin.clear_faults()
    thread.join(timeout=60)  # a liveness guard, not a speed figure: without the release this waits 600 s
    assert answers == [200]


def test_concurrent_write_is_served_first_and_logged_as_the_other_writer(local_azure, world):
    world("empty")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-empty")
    local_azure.admin.add_fault(method="PUT", path="/resourceGroups/rg-empty$", times=1, concurrent_write={
        "method": "PATCH", "path": rg, "api_version": "2021-04-01", "body": {"tags": {"by": "other-writer"}}})
    local_azure.admin.clear_requests()
    answer = client.put(rg, {"location": "westeurope", "tags": {"by": "us"}}, "2021-04-01")
    assert answer.status_code == 200
    log = local_azure.admin.requests().matching(None, "/resourceGroups/rg-empty")
    assert [(e["method"], e.get("actor")) for e in log] == [("PUT", None), ("PATCH", "concurrent-writer")]
    assert log[1]["status"] == 200 and log[1]["seq"] > log[0]["seq"]
    # the other writer's change was made first, ours last: a whole-resource PUT without If-Match overwrites it
    assert local_azure.admin.resource(rg)["tags"] == {"by": "us"}


def test_concurrent_write_rule_needs_method_and_path(local_azure, world):
    world("empty")
    with pytest.raises(RuntimeError, match="concurrent_write"):
        local_azure.admin.add_fault(method="PUT", concurrent_write={"body": {}})
