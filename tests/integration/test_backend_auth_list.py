"""apim_backend_auth with `elements` (issue 17): all elements of one policy are merged together and written with
one PUT; each policy is read once before and once after its write; a no-op writes nothing; bad entries fail first."""

from __future__ import annotations

import pytest
from lxml import etree

from harness.quartet import assert_idempotent, runs_of
from integration.nv_support import FAST, UAMI, resource, world_spec, writes
from integration.reads_support import reads
from integration.test_policy import ELEMENT, PLAYBOOK, TASK, _policy_path, _seed_api

pytestmark = pytest.mark.integration

API_POLICY = "GET service/apim-nv/apis/orders/policies/policy"
OP_POLICY = "GET service/apim-nv/apis/orders/operations/send/policies/policy"
ELEMENTS = [
    {"api_id": "orders", "resource": "https://storage.azure.com/"},
    {"api_id": "orders", "resource": "https://servicebus.azure.net/", "identity": UAMI,
     "output_token_variable_name": "sb-token"},
    {"api_id": "orders", "operation_id": "send", "resource": "https://eventhubs.azure.net/"},
]


def _elements(run, azure, api="orders", operation=None) -> list:
    xml = resource(run.state, _policy_path(azure, api, operation))["_raw"]
    inbound = etree.fromstring(xml.encode()).find("inbound")
    return sorted((e.get("resource"), e.get("output-token-variable-name")) for e in inbound if e.tag == ELEMENT)


def test_two_elements_of_one_policy_cost_one_put(world, playbook, local_azure):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    apply = playbook(PLAYBOOK, extra_vars={"auth_elements": ELEMENTS}, diff=True)
    assert apply.rc == 0 and apply.task(TASK)["changed"] is True, apply.explain()
    puts = [e["path"].lower() for e in writes(apply)]
    assert sorted(puts) == sorted([_policy_path(local_azure, "orders").lower(),
                                   _policy_path(local_azure, "orders", "send").lower()]), puts
    assert _elements(apply, local_azure) == [("https://servicebus.azure.net/", "sb-token"),
                                             ("https://storage.azure.com/", None)]
    assert _elements(apply, local_azure, operation="send") == [("https://eventhubs.azure.net/", None)]
    # each policy read before and after its write; the service once (the identities are checked before writing)
    assert sorted(reads(apply)) == sorted([API_POLICY, "GET service/apim-nv", API_POLICY, OP_POLICY, OP_POLICY])
    task = apply.task(TASK)
    assert [r["changed"] for r in task["elements"]] == [True, True, True]
    assert task["elements"][1]["policy"]["element"]["output_token_variable_name"] == "sb-token"
    assert len(task["diff"]["after"]) == 2
    assert_idempotent(runs_of(playbook, PLAYBOOK, extra_vars={"auth_elements": ELEMENTS}), TASK, diff=False)
    gone = playbook(PLAYBOOK, extra_vars={"auth_elements": ELEMENTS, "auth_state": "absent"})
    assert gone.rc == 0 and gone.task(TASK)["changed"] is True, gone.explain()
    assert len(writes(gone)) == 2
    assert _elements(gone, local_azure) == [] and _elements(gone, local_azure, operation="send") == []


def test_check_mode_predicts_both_without_writes(world, playbook, local_azure):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    check = playbook(PLAYBOOK, extra_vars={"auth_elements": ELEMENTS[:2]}, check=True)
    assert check.rc == 0 and check.task(TASK)["changed"] is True, check.explain()
    assert writes(check) == []
    assert [r["policy"]["element"]["resource"] for r in check.task(TASK)["elements"]] == [
        "https://storage.azure.com/", "https://servicebus.azure.net/"]


@pytest.mark.parametrize("entries, expected", [
    ([ELEMENTS[0], {"api_id": "orders", "output_token_variable_name": "t"}], "item 2 of 2 in elements"),
    ([ELEMENTS[0], dict(ELEMENTS[0])], "listed twice"),                              # the same element twice
    ([ELEMENTS[0], {"operation_id": "send", "resource": "x"}], "without api_id"),
])
def test_bad_entries_fail_before_any_request(world, playbook, local_azure, entries, expected):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    result = playbook(PLAYBOOK, extra_vars={"auth_elements": entries})
    assert result.rc != 0 and expected in result.task(TASK)["msg"], result.task(TASK)
    assert result.requests.arm() == [] or all(not e.get("write") for e in result.requests.arm())
    assert writes(result) == []
