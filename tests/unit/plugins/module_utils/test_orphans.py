"""The grant marker and the attribution of orphaned grants (pure functions, no Azure)."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from ansible_collections.azure_apim.identity.plugins.module_utils._authz import (
    DESCRIPTION_RECOMMENDED_MAX, assignment_name, grant_marker, marked_description, parse_marker,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._orphans import (
    current_principals, gone_reason, is_attributed, policies_of, tied_principals, vault_hosts,
)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
SERVICE = SUB + "/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-contoso"
OTHER_SERVICE = SUB + "/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-other"
UAI = SUB + "/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim"
VAULT = SUB + "/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-apim"
ROLE = SUB + "/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
OLD, NEW, USER, FOREIGN = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                           "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444")


def _assignment(principal: str, description: Optional[str], name: Optional[str] = None) -> dict[str, Any]:
    return {"name": name or assignment_name(VAULT, principal, ROLE), "scope": VAULT, "principal_id": principal,
            "role_definition_id": ROLE, "description": description}


@pytest.mark.parametrize("kind, identity_id, expected", [
    ("system", None, {"service_id": SERVICE.lower(), "kind": "system", "identity_id": None}),
    ("user", UAI, {"service_id": SERVICE.lower(), "kind": "user", "identity_id": UAI.lower()}),
])
def test_marker_round_trips(kind: str, identity_id: Optional[str], expected: dict) -> None:
    marker = grant_marker(SERVICE, kind, identity_id)
    assert parse_marker(marker) == expected
    assert parse_marker(marker + " | ops ticket 42") == expected  # the user's own text follows the marker
    assert len(marker) < DESCRIPTION_RECOMMENDED_MAX


@pytest.mark.parametrize("description", [
    None, "", "granted by hand", "azure_apim.identity grant for API Management service apim-contoso; identity: system",
    "prefix azure_apim.identity grant for API Management service " + SERVICE + "; identity: system",
])
def test_other_descriptions_are_not_markers(description: Optional[str]) -> None:
    assert parse_marker(description) is None


@pytest.mark.parametrize("principal, user_text, expected", [
    ({"kind": "system", "service_id": SERVICE}, None, grant_marker(SERVICE, "system")),
    ({"kind": "user", "service_id": SERVICE, "resource_id": UAI}, "ticket 42",
     grant_marker(SERVICE, "user", UAI) + " | ticket 42"),
    ({"kind": None, "service_id": None}, "ticket 42", "ticket 42"),  # a principal given by id: not attributed
    ({"kind": None, "service_id": None}, None, None),
    ({"kind": "user", "service_id": SERVICE, "resource_id": None}, None, None),
])
def test_marked_description(principal: dict, user_text: Optional[str], expected: Optional[str]) -> None:
    assert marked_description(principal, user_text) == expected


def test_tied_principals_take_only_this_services_markers() -> None:
    listed = [_assignment(OLD, grant_marker(SERVICE, "system")), _assignment(USER, grant_marker(SERVICE, "user", UAI)),
              _assignment(FOREIGN, grant_marker(OTHER_SERVICE, "system")), _assignment(NEW, None)]
    assert tied_principals(listed, SERVICE.upper()) == {
        OLD: {"kind": "system", "identity_id": None}, USER: {"kind": "user", "identity_id": UAI.lower()}}


@pytest.mark.parametrize("principal, tie, identity_now, gone", [
    (OLD, {"kind": "system", "identity_id": None}, {}, True),  # not the current system principal
    (NEW, {"kind": "system", "identity_id": None}, {}, False),  # the current one
    (USER, {"kind": "user", "identity_id": UAI}, None, True),  # the identity resource is gone (404)
    (USER, {"kind": "user", "identity_id": UAI}, {"properties": {"principalId": FOREIGN}}, True),  # recreated
    (USER, {"kind": "user", "identity_id": UAI}, {"properties": {"principalId": USER}}, False),  # detached, alive
])
def test_gone_reason(principal: str, tie: dict, identity_now: Optional[dict], gone: bool) -> None:
    current = current_principals({"principal_id": NEW, "user_assigned_identities": {}})
    assert bool(gone_reason(principal, tie, current, identity_now)) is gone


@pytest.mark.parametrize("assignment, attributed", [
    (_assignment(OLD, grant_marker(SERVICE, "system")), True),
    (_assignment(OLD, None), True),  # deterministic name, for a principal a marker ties to the service
    (_assignment(OLD, None, name="5b0c9a1e-0000-4000-8000-000000000001"), False),  # someone else's name
    (_assignment(OLD, "granted by hand", name="5b0c9a1e-0000-4000-8000-000000000002"), False),
    (_assignment(OLD, grant_marker(OTHER_SERVICE, "system")), False),  # another service's marker
    (_assignment(FOREIGN, grant_marker(SERVICE, "system")), False),  # not a gone principal
])
def test_is_attributed(assignment: dict, attributed: bool) -> None:
    assert is_attributed(assignment, SERVICE, {OLD}) is attributed


def test_vault_hosts_and_policies() -> None:
    service = {"hostname_configurations": [{"key_vault_id": "https://KV-Apim.vault.azure.net/secrets/cert"},
                                           {"key_vault_id": None}]}
    users = {"named_value": [{"secret_identifier": "https://kv-nv.vault.azure.net/secrets/key"}], "certificate": []}
    assert vault_hosts(service, users) == {"kv-apim.vault.azure.net", "kv-nv.vault.azure.net"}
    vault = {"name": "kv-apim", "id": VAULT, "permission_model": "access_policy", "access_policies": [
        {"object_id": OLD.upper(), "tenant_id": "t", "application_id": None, "permissions": {"secrets": ["get"]}},
        {"object_id": FOREIGN, "tenant_id": "t", "application_id": None, "permissions": {"secrets": ["get"]}}]}
    found = policies_of([vault], {OLD: {"kind": "system", "identity_id": None}})
    assert [(p["vault"], p["object_id"], p["kind"]) for p in found] == [("kv-apim", OLD.upper(), "system")]
