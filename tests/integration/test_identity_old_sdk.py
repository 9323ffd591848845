"""apim_identity and apim_service with the oldest supported SDKs (azure.azcollection 3.x pins: azure-mgmt-apimanagement
4.0.1 sends api-version 2022-08-01): the raw JSON bodies, the LRO waits and the entity listings work there too.

Needs an interpreter with those pins: `make compat-venv` (.venv-compat) or AZURE_APIM_OLD_SDK_PYTHON.
"""

from __future__ import annotations

import pytest

from harness import runner as harness_runner
from integration.test_identity import RG, args_for, identity_world, quartet, service_path, stored_identity


def old_sdk_python() -> str:
    """The old-SDK interpreter, or skip."""
    return harness_runner.old_sdk_python() or pytest.skip(harness_runner.OLD_SDK_MISSING)


def test_identity_change_with_the_oldest_sdks(local_azure, world, playbook):
    python = old_sdk_python()
    world(identity_world({"apim-old": {"type": "SystemAssigned, UserAssigned", "user_assigned": ["id-a", "id-b"]}}),
          time_scale=0.01)
    args = args_for("apim-old", user_assigned_identities=["id-b"], user_assigned_mode="remove")
    check, apply = quartet(playbook, {"identity_args": args, "ansible_python_interpreter": python},
                           "Apply apim_identity")
    assert stored_identity(local_azure, apply.state, "apim-old") == ("SystemAssigned, UserAssigned", ["id-a"])
    [patch] = apply.requests.writes()
    assert patch["query"].get("api-version") == "2022-08-01", "the old SDK's api-version was not used"
    assert set(patch["body"]) == {"identity"}
    listed = {e["path"].rsplit("/", 1)[-1] for e in apply.requests.matching("GET", "/apim-old/")}
    assert {"namedValues", "loggers", "certificates"} <= listed


def test_service_create_with_the_oldest_sdks(local_azure, world, playbook):
    python = old_sdk_python()
    world(identity_world({}), time_scale=0.01)
    args = {"resource_group": RG, "name": "apim-old-new", "sku_name": "Developer", "publisher_name": "Contoso",
            "publisher_email": "api@contoso.com", "system_assigned": True}
    run = playbook("identity_service", extra_vars={"service_args": args, "ansible_python_interpreter": python})
    assert run.rc == 0, run.explain()
    [put] = run.requests.writes()
    assert put["query"].get("api-version") == "2022-08-01"
    body = run.state["resources"][service_path(local_azure, "apim-old-new").lower()]
    assert body["properties"]["provisioningState"] == "Succeeded" and body["identity"]["type"] == "SystemAssigned"
