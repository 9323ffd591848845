"""apim_service against the local Azure: create with identities (waiting through Activating), adopt a running
create on re-run, update only what differs, delete and wait."""

from __future__ import annotations

from typing import Any

import pytest

from harness.quartet import run_quartet as shared_quartet, runs_of
from integration.test_identity import RG, identity_world, service_path, stored_identity

NEW = "apim-new"


def service_args(**args: Any) -> dict[str, Any]:
    """apim_service arguments for the new service of the test resource group."""
    return {"resource_group": RG, "name": NEW, **args}


def run_quartet(playbook: Any, args: dict) -> tuple[Any, Any]:
    """check → apply → idempotent check → idempotent apply of apim_service."""
    extra = {"service_args": args}
    runs = shared_quartet(runs_of(playbook, "identity_service", extra_vars=extra),
                          predict=False, apply_changes=False, apply_writes=False)
    return runs.check, runs.apply


CREATE = dict(location="westeurope", sku_name="StandardV2", publisher_name="Contoso",
              publisher_email="api-team@contoso.com", tags={"env": "test"}, system_assigned=True,
              user_assigned_identities=["id-a"])


def test_create_with_identities_waits_through_activating(local_azure, world, playbook):
    world(identity_world({}), time_scale=0.02, apim_create_s=45.0)
    check, apply = run_quartet(playbook, service_args(**CREATE))
    predicted = check.task("Apply apim_service")
    assert predicted["changed"] and predicted["service"]["id"] == "(known after apply)"
    assert predicted["service"]["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert predicted["diff"]["before"] == {}
    [put] = apply.requests.writes()
    assert put["method"] == "PUT" and put["status"] == 201
    assert put["body"]["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert [k.rsplit("/", 1)[-1] for k in put["body"]["identity"]["userAssignedIdentities"]] == ["id-a"]
    assert put["body"]["sku"] == {"name": "StandardV2", "capacity": 1}
    polls = apply.requests.matching("GET", "/operationresults/")
    assert polls, "the create must be waited for through its operation"
    created = apply.task("Apply apim_service")["service"]
    assert created["provisioning_state"] == "Succeeded" and created["identity"]["principal_id"]
    body = apply.state["resources"][service_path(local_azure, NEW).lower()]
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert stored_identity(local_azure, apply.state, NEW) == ("SystemAssigned, UserAssigned", ["id-a"])
    assert body["tags"] == {"env": "test"}


def test_rerun_during_activation_adopts_and_waits(local_azure, world, playbook):
    world(identity_world({}), time_scale=0.01, apim_create_s=600.0)  # 6 s of real time
    first = playbook("identity_service", extra_vars={"service_args": service_args(**CREATE, timeout=2)})
    failed = first.task("Apply apim_service")
    assert failed["_status"] == "failed" and failed["error_code"] == "OperationStillRunning", first.explain()
    assert "re-run" in failed["msg"] and failed["provisioning_state"] in ("Created", "Activating"), failed["msg"]
    assert len(first.requests.matching("PUT")) == 1
    second = playbook("identity_service", extra_vars={"service_args": service_args(**CREATE)}, diff=True)
    assert second.rc == 0, second.explain()
    assert second.requests.writes() == [], "a re-run during activation must not write again"
    assert second.task("Apply apim_service")["service"]["provisioning_state"] == "Succeeded"
    assert stored_identity(local_azure, second.state, NEW) == ("SystemAssigned, UserAssigned", ["id-a"])


def test_update_patches_only_what_differs(local_azure, world, playbook):
    world(identity_world({NEW: {"type": "SystemAssigned"}}), time_scale=0.01)
    args = service_args(sku_capacity=2, tags={"owner": "platform"}, user_assigned_identities=["id-b"])
    check, apply = run_quartet(playbook, args)
    [patch] = apply.requests.writes()
    assert patch["method"] == "PATCH"
    assert set(patch["body"]) == {"sku", "tags", "identity"}
    assert patch["body"]["sku"] == {"name": "Developer", "capacity": 2}
    assert patch["body"]["identity"]["type"] == "SystemAssigned, UserAssigned"
    body = apply.state["resources"][service_path(local_azure, NEW).lower()]
    assert body["sku"]["capacity"] == 2 and body["tags"] == {"owner": "platform"}
    assert body["properties"]["publisherEmail"] == "admin@contoso.com", "unset options stay as they are"
    diff = check.task("Apply apim_service")["diff"]
    assert diff["before"]["sku"]["capacity"] == 1 and diff["after"]["sku"]["capacity"] == 2


def test_delete_waits_until_gone(local_azure, world, playbook):
    world(identity_world({NEW: {"type": "SystemAssigned"}}), time_scale=0.01)
    check, apply = run_quartet(playbook, service_args(state="absent"))
    assert check.task("Apply apim_service")["diff"]["after"] == {}
    assert [w["method"] for w in apply.requests.writes()] == ["DELETE"]
    assert service_path(local_azure, NEW).lower() not in apply.state["resources"]


@pytest.mark.parametrize("args,code,words", [
    ({"sku_name": "Developer"}, "InvalidParameters", ["publisher_name", "publisher_email"]),
    ({**CREATE, "sku_name": "Consumption", "sku_capacity": 2}, "InvalidParameters", ["Consumption"]),
    ({**CREATE, "resource_group": "rg-missing"}, "ResourceGroupNotFound", ["rg-missing"]),
    ({**CREATE, "user_assigned_identities": ["id-nope"]}, "IdentityNotFound", ["id-nope"]),
])
def test_create_errors_before_any_write(local_azure, world, playbook, args, code, words):
    world(identity_world({}), time_scale=0.01)
    run = playbook("identity_service", extra_vars={"service_args": service_args(**args)})
    failed = run.task("Apply apim_service")
    assert failed["_status"] == "failed" and failed["error_code"] == code, run.explain()
    for word in words:
        assert word in failed["msg"]
    assert run.requests.writes() == []


def test_location_cannot_change(local_azure, world, playbook):
    world(identity_world({NEW: None}), time_scale=0.01)
    run = playbook("identity_service", extra_vars={"service_args": service_args(location="eastus")})
    failed = run.task("Apply apim_service")
    assert failed["error_code"] == "LocationImmutable" and run.requests.writes() == []
