"""The plan across dependent steps of a check run (_plan.py): what is assumed, only when listed and only in check
mode; planned identities; values only the apply knows."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._access import resolve_planned
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_identity import identities_planned
from ansible_collections.azure_apim.identity.plugins.module_utils._plan import (
    UNKNOWN, Assumptions, merge_planned, unknown_after_write,
)

SUB = "00000000-0000-0000-0000-000000000001"
UAMI = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a"
SERVICE = {"name": "apim", "resource_group": "rg", "identity": {"type": "None", "user_assigned_identities": {}}}


def _module(assume: Optional[dict], check_mode: bool = True) -> Any:
    warnings: list = []
    return SimpleNamespace(params={"assume": assume}, check_mode=check_mode, subscription_id=SUB,
                           warn=warnings.append, warnings=warnings)


def test_planned_system_identity_is_assumed_with_a_warning():
    module = _module({"identities": [{"service": "RG/apim", "identity": "system"}]})
    found = resolve_planned(module, SERVICE, "system")
    assert found["principal_id"] == UNKNOWN and found["kind"] == "system" and found["planned"]
    assert "system-assigned identity of API Management service 'apim'" in module.warnings[0]


def test_planned_user_identity_has_unknown_client_id():
    module = _module({"identities": [{"service": "rg/apim", "identity": UAMI.upper()}]})
    found = resolve_planned(module, SERVICE, "id-a")
    assert found["client_id"] == UNKNOWN and found["resource_id"].lower() == UAMI.lower()


@pytest.mark.parametrize("assume, check_mode", [
    (None, True),  # nothing in the play creates it
    ({"identities": [{"service": "rg/other", "identity": "system"}]}, True),  # another service's
    ({"identities": [{"service": "rg/apim", "identity": UAMI}]}, True),  # another identity
    ({"identities": [{"service": "rg/apim", "identity": "system"}]}, False),  # a real run ignores assume
])
def test_unplanned_identity_fails_as_the_apply_would(assume, check_mode):
    with pytest.raises(AzureApimError) as err:
        resolve_planned(_module(assume, check_mode), SERVICE, "system")
    assert err.value.code == "IdentityNotEnabled"


def test_secret_access_and_created_identity_lookups():
    assumptions = Assumptions(_module({"secret_access": [{"vault": "KV", "service": "rg/apim", "identity": "system"}],
                                       "identities": [{"identity": UAMI}]}))
    assert assumptions.secret_access("kv", "rg/apim", "system")
    assert not assumptions.secret_access("kv", "rg/apim", UAMI)
    assert assumptions.identity_created(UAMI.upper()) and not assumptions.identity_enabled("rg/apim", UAMI)


def test_identities_planned_lists_only_what_the_change_adds():
    before = {"type": "UserAssigned", "user_assigned_identities": {UAMI: {}}}
    other = UAMI.replace("id-a", "id-b")
    after = {"type": "SystemAssigned, UserAssigned", "user_assigned_identities": {UAMI: {}, other: {}}}
    assert identities_planned("rg", "apim", before, after) == [
        {"service": "rg/apim", "identity": "system"}, {"service": "rg/apim", "identity": other.lower()}]
    assert identities_planned("rg", "apim", after, after) == []


def test_merge_planned_appends_per_kind():
    into: dict = {}
    merge_planned(into, {"identities": [{"identity": "a"}]})
    merge_planned(into, None)
    merge_planned(into, {"identities": [{"identity": "b"}], "secret_access": [{"vault": "kv"}]})
    assert into == {"identities": [{"identity": "a"}, {"identity": "b"}], "secret_access": [{"vault": "kv"}]}


def test_unknown_after_write_marks_etags_and_ids_of_created_resources():
    assert unknown_after_write({"id": None, "etag": None, "name": "x"}, created=True) == {
        "id": UNKNOWN, "etag": UNKNOWN, "name": "x"}
    assert unknown_after_write({"id": "/known", "etag": '"1"'}, created=False) == {"id": "/known", "etag": UNKNOWN}
    assert unknown_after_write(None, created=True) is None
