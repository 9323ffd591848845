"""The apim_trusted_access role through playbooks/trusted_access.yml: data roles on Storage, Service Bus and Event
Hubs for the service's identities, idempotent and scoped to exactly the named resource."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from integration.harness import REPO_ROOT
from integration.nv_support import EVENTHUB_NS, FAST, RG, SERVICE, UAMI, assert_quartet, resource, service_id, world_spec

pytestmark = pytest.mark.integration

PLAYBOOK = REPO_ROOT / "playbooks" / "trusted_access.yml"
TASK = "azure_apim.identity.apim_trusted_access : Assign the data roles to the API Management identity"
ROLE_IDS = {
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
}


def _assignments(state: dict) -> list:
    return [r for r in state["resources"].values()
            if r.get("type", "").lower() == "microsoft.authorization/roleassignments"]


def _grants(azure) -> list:
    rg = azure.rg_id(RG)
    return [
        {"scope": f"{rg}/providers/Microsoft.Storage/storageAccounts/stnvdemo", "role": "Storage Blob Data Reader"},
        {"scope": f"{rg}/providers/Microsoft.Storage/storageAccounts/stnvdemo", "role": "Storage Blob Data Contributor",
         "identity": UAMI},
        {"scope": f"{rg}/providers/Microsoft.ServiceBus/namespaces/sb-nv", "role": "Azure Service Bus Data Sender"},
        {"scope": f"{rg}/providers/Microsoft.ServiceBus/namespaces/sb-nv", "role": "Azure Service Bus Data Receiver"},
        {"scope": f"{rg}/providers/Microsoft.EventHub/namespaces/{EVENTHUB_NS}", "role": "Azure Event Hubs Data Sender"},
    ]


def test_grants_are_idempotent_and_scoped_to_the_named_resource(world, playbook, local_azure):
    world(world_spec(), **FAST)
    before = {a["id"] for a in _assignments(local_azure.admin.state())}
    extra = {"apim_trusted_access_service_name": SERVICE, "apim_trusted_access_resource_group": RG,
             "apim_trusted_access_grants": _grants(local_azure)}
    apply = assert_quartet(playbook, PLAYBOOK, extra, TASK).apply
    new = [a for a in _assignments(apply.state) if a["id"] not in before]
    system = resource(apply.state, service_id(local_azure))["identity"]["principalId"]
    uami = next(r for r in apply.state["resources"].values() if r.get("name") == UAMI)["properties"]["principalId"]
    found = sorted((a["properties"]["scope"].lower(), a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
                    a["properties"]["principalId"]) for a in new)
    expected = sorted((g["scope"].lower(), ROLE_IDS[g["role"]], uami if g.get("identity") else system)
                      for g in _grants(local_azure))
    assert found == expected  # exactly these five, each at the resource itself (no group or subscription scope)
    assert len([w for w in apply.requests.writes() if w["method"] == "PUT"]) == 5
    # one module run for the five grants: the service (for the principals) is read once
    service_reads = [e for e in apply.requests.arm().matching("GET")
                     if e["path"].lower().rstrip("/") == service_id(local_azure).lower()]
    assert len(service_reads) == 1, [e["path"] for e in apply.requests.arm()]


def test_a_failing_grant_names_itself_and_reports_the_grants_before_it(world, playbook, local_azure):
    world(world_spec(), **FAST)
    grants = _grants(local_azure)[:3]
    grants[1] = dict(grants[1], identity="id-unattached")
    extra = {"apim_trusted_access_service_name": SERVICE, "apim_trusted_access_resource_group": RG,
             "apim_trusted_access_grants": grants}
    run = playbook(PLAYBOOK, extra_vars=extra)
    assert run.rc != 0
    result = run.task(TASK)
    assert result["msg"].startswith("role assignment Storage Blob Data Contributor at {0} (item 2 of 3 in "
                                    "assignments): ".format(grants[1]["scope"])), result["msg"]
    assert [entry["role_assignment"]["role_name"] for entry in result["assignments"]] == ["Storage Blob Data Reader"]
    assert [w["method"] for w in run.requests.writes()] == ["PUT"]


def test_removing_one_grant_leaves_the_others(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = {"apim_trusted_access_service_name": SERVICE, "apim_trusted_access_resource_group": RG,
             "apim_trusted_access_grants": _grants(local_azure)}
    assert playbook(PLAYBOOK, extra_vars=extra).rc == 0
    count = len(_assignments(local_azure.admin.state()))
    drop = dict(_grants(local_azure)[2], state="absent")
    run = playbook(PLAYBOOK, extra_vars={**extra, "apim_trusted_access_grants": [drop]})
    assert run.rc == 0, run.explain()
    assert [w["method"] for w in run.requests.writes()] == ["DELETE"]
    assert len(_assignments(run.state)) == count - 1


def test_an_unknown_role_is_refused_by_the_argument_spec(world, playbook, local_azure):
    world(world_spec(), **FAST)
    grant = dict(_grants(local_azure)[0], role="Owner")
    run = playbook(PLAYBOOK, extra_vars={"apim_trusted_access_service_name": SERVICE,
                                         "apim_trusted_access_resource_group": RG,
                                         "apim_trusted_access_grants": [grant]})
    assert run.rc != 0 and "Owner" in run.stdout
    assert run.requests.writes() == []


def test_example_vars_match_the_argument_spec():
    example = yaml.safe_load(Path(REPO_ROOT / "playbooks" / "vars" / "trusted_access.yml").read_text())
    spec = yaml.safe_load(Path(REPO_ROOT / "roles" / "apim_trusted_access" / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert set(example) <= set(options)
    roles = set(options["apim_trusted_access_grants"]["options"]["role"]["choices"])
    assert {g["role"] for g in example["apim_trusted_access_grants"]} <= roles
    assert roles == set(ROLE_IDS)
