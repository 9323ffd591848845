"""user_assigned_identity and its _info twin, through the real azure-mgmt-msi SDK and a fake transport."""
from __future__ import annotations

import json

import pytest

from ansible_collections.azure_apim.identity.plugins.modules import user_assigned_identity as uai
from ansible_collections.azure_apim.identity.plugins.modules import user_assigned_identity_info as uai_info

from ...conftest import CLIENT_SECRET, body_of

BASE = {"resource_group": "rg-apim", "name": "id-apim"}


def test_create_then_idempotent(run_module, msi, transport):
    created = run_module(uai, dict(BASE, location="West Europe", tags={"owner": "platform"}))
    assert not created.failed, created.result
    identity = created.result["identity"]
    assert created.result["changed"] is True
    assert identity["name"] == "id-apim" and identity["tags"] == {"owner": "platform"}
    assert identity["principal_id"] == msi.identities[("rg-apim", "id-apim")]["properties"]["principalId"]
    assert [w.method for w in transport.writes()] == ["PUT"]
    assert body_of(transport.writes()[0]) == {"location": "West Europe", "tags": {"owner": "platform"}}
    assert created.result["auth"]["credential"] == "ClientSecretCredential"
    assert created.result["auth"]["source"] == "env"
    # azure-mgmt-msi 7.0.0 sends 2023-01-31, 7.1.0 sends 2024-11-30; resource groups go through the ARM REST client.
    assert set(msi.api_versions) <= {"2023-01-31", "2024-11-30", "2022-09-01"}

    transport.requests.clear()
    again = run_module(uai, dict(BASE, location="westeurope", tags={"owner": "platform"}))
    assert again.result["changed"] is False
    assert transport.writes() == []


def test_location_defaults_to_resource_group(run_module, msi, transport):
    msi.groups["rg-apim"] = "northeurope"
    result = run_module(uai, BASE)
    assert result.result["identity"]["location"] == "northeurope"
    assert body_of(transport.writes()[0])["location"] == "northeurope"


def test_check_mode_create_sends_no_write(run_module, msi, transport):
    result = run_module(uai, dict(BASE, location="westeurope"), check_mode=True)
    assert result.result["changed"] is True
    assert result.result["identity"]["principal_id"] == "(known after apply)"  # assigned on creation
    assert result.result["identity"]["location"] == "westeurope"
    assert run_module(uai, BASE, check_mode=True).result["identity"]["location"] == "westeurope"  # from the group
    assert transport.writes() == []
    assert msi.identities == {}


def test_tags_merge_by_default_and_purge_on_request(run_module, msi, transport):
    msi.add("rg-apim", "id-apim", tags={"foreign": "keep", "owner": "old"})
    merged = run_module(uai, dict(BASE, tags={"owner": "platform"}), diff=True)
    assert merged.result["identity"]["tags"] == {"foreign": "keep", "owner": "platform"}
    assert merged.result["diff"]["before"]["tags"] == {"foreign": "keep", "owner": "old"}
    assert [w.method for w in transport.writes()] == ["PATCH"]

    purged = run_module(uai, dict(BASE, tags={"owner": "platform"}, purge_tags=True))
    assert purged.result["changed"] is True
    assert msi.identities[("rg-apim", "id-apim")]["tags"] == {"owner": "platform"}


def test_unset_tags_are_untouched(run_module, msi, transport):
    msi.add("rg-apim", "id-apim", tags={"foreign": "keep"})
    result = run_module(uai, dict(BASE, purge_tags=True))
    assert result.result["changed"] is False
    assert transport.writes() == []


def test_check_mode_tag_update_predicts_without_writing(run_module, msi, transport):
    msi.add("rg-apim", "id-apim", tags={"a": "1"})
    result = run_module(uai, dict(BASE, tags={"b": "2"}), check_mode=True)
    assert result.result["changed"] is True
    assert result.result["identity"]["tags"] == {"a": "1", "b": "2"}
    assert transport.writes() == []
    assert msi.identities[("rg-apim", "id-apim")]["tags"] == {"a": "1"}


def test_location_change_is_refused_before_any_write(run_module, msi, transport):
    msi.add("rg-apim", "id-apim", location="westeurope")
    result = run_module(uai, dict(BASE, location="eastus"))
    assert result.failed
    assert "cannot move region" in result.result["msg"]
    assert transport.writes() == []


def test_delete_and_absent_noop(run_module, msi, transport):
    msi.add("rg-apim", "id-apim")
    deleted = run_module(uai, dict(BASE, state="absent"))
    assert deleted.result["changed"] is True and deleted.result["identity"] == {}
    assert msi.identities == {}
    transport.requests.clear()
    again = run_module(uai, dict(BASE, state="absent"))
    assert again.result["changed"] is False
    assert transport.writes() == []


def test_forbidden_read_is_not_absent(run_module, msi, transport):
    transport.queue("GET", msi.ID, [(403, {"x-ms-request-id": "req-403"},
                                     {"error": {"code": "AuthorizationFailed", "message": "no read access"}})])
    result = run_module(uai, dict(BASE, location="westeurope"))
    assert result.failed
    assert result.result["status"] == 403
    assert result.result["error_code"] == "AuthorizationFailed"
    assert result.result["request_id"] == "req-403"
    assert "Traceback" in result.result["exception"]
    assert transport.writes() == []


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("location", [None, "westeurope"])
def test_missing_resource_group_fails_clearly(run_module, msi, transport, check_mode, location):
    result = run_module(uai, dict(BASE, resource_group="rg-missing", location=location), check_mode=check_mode)
    assert result.failed
    assert "rg-missing" in result.result["msg"] and "does not exist" in result.result["msg"]
    assert result.result["error_code"] == "ResourceGroupNotFound"
    # An apply with a location does not read the group (issue 17): Azure refuses the PUT itself, nothing is created.
    refused_put = not check_mode and location is not None
    assert [r.method for r in transport.writes()] == (["PUT"] if refused_put else [])
    assert msi.identities == {}


def test_wrong_secret_fails_without_leaking_it(run_module, msi, transport, azure_env):
    env = dict(azure_env, AZURE_SECRET="wrong-" + CLIENT_SECRET)
    result = run_module(uai, BASE, env=env)
    assert result.failed
    assert result.result["error_code"] == "AADSTS7000215"
    assert CLIENT_SECRET not in json.dumps(result.result)
    assert transport.arm_requests() == []


def test_info_by_name_list_and_missing(run_module, msi, transport):
    msi.add("rg-apim", "id-a")
    msi.add("rg-apim", "id-b")
    one = run_module(uai_info, {"resource_group": "rg-apim", "name": "id-a"})
    assert [i["name"] for i in one.result["identities"]] == ["id-a"]
    listed = run_module(uai_info, {"resource_group": "rg-apim"})
    assert sorted(i["name"] for i in listed.result["identities"]) == ["id-a", "id-b"]
    assert run_module(uai_info, {"resource_group": "rg-apim", "name": "nope"}).result["identities"] == []
    assert run_module(uai_info, {"resource_group": "rg-missing"}).result["identities"] == []
    assert transport.writes() == []


def test_info_name_requires_resource_group(run_module, msi):
    result = run_module(uai_info, {"name": "id-a"})
    assert result.failed and "resource_group" in result.result["msg"]


@pytest.mark.parametrize("module_py", [uai, uai_info])
def test_documentation_parses_and_matches_the_argument_spec(module_py):
    import yaml

    doc = yaml.safe_load(module_py.DOCUMENTATION)
    assert set(doc["options"]) == set(module_py.ARGUMENT_SPEC)
    yaml.safe_load(module_py.EXAMPLES)
    yaml.safe_load(module_py.RETURN)


def test_secret_from_environment_is_masked_by_ansible(make_module):
    module = make_module()
    assert module.auth.secret == CLIENT_SECRET
    assert CLIENT_SECRET in module.module.no_log_values


@pytest.mark.parametrize("existing, methods", [
    (None, ["GET", "PUT"]),                              # read identity, create (location given: no group read)
    ({"owner": "old"}, ["GET", "PATCH"]),                # read identity, update tags
])
def test_a_write_is_verified_from_its_response_without_reading_again(run_module, msi, transport, existing, methods):
    if existing is not None:
        msi.add("rg-apim", "id-apim", tags=existing)
    result = run_module(uai, dict(BASE, location="westeurope", tags={"owner": "platform"}))
    assert result.result["changed"] is True and result.result["identity"]["tags"]["owner"] == "platform"
    assert [r.method for r in transport.arm_requests()] == methods
