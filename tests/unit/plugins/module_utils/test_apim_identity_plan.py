"""Identity planning, PATCH bodies, removals and dependents of API Management services (pure helpers)."""
import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_identity import (
    MAX_USER_ASSIGNED, check_user_assigned_count, dependents_error, dependents_of, identity_patch, plan_identity,
    removed_identities, same_identity_keys, same_identity_type, with_user_assigned_list,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_identity import current_identities
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_service import (
    check_service_params, create_body, update_body)
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

SUB = "00000000-0000-0000-0000-000000000001"


def uid(name):
    return "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{1}".format(
        SUB, name)


A, B, C = uid("id-a"), uid("id-b"), uid("id-c")


def identity(kind="None", users=(), principal=None):
    return {"type": kind, "principal_id": principal, "tenant_id": "t" if kind != "None" else None,
            "user_assigned_identities": {u: {"principal_id": "p-" + u[-4:], "client_id": "c-" + u[-4:]} for u in users}}


@pytest.mark.parametrize("current,system,users,mode,kind,keys", [
    (identity(), True, None, "add", "SystemAssigned", []),
    (identity(), None, [A], "add", "UserAssigned", [A]),
    (identity("SystemAssigned", principal="p"), None, [A], "add", "SystemAssigned, UserAssigned", [A]),
    (identity("SystemAssigned, UserAssigned", [A], "p"), False, None, "add", "UserAssigned", [A]),
    (identity("UserAssigned", [A, B]), None, [C], "add", "UserAssigned", [A, B, C]),
    (identity("UserAssigned", [A, B]), None, [A], "exact", "UserAssigned", [A]),
    (identity("UserAssigned", [A, B]), None, [A], "remove", "UserAssigned", [B]),
    (identity("UserAssigned", [A, B]), None, [A, B], "remove", "None", []),
    (identity("UserAssigned", [A, B]), True, [], "exact", "SystemAssigned", []),
    (identity("UserAssigned", [A]), None, [A.upper() + "/"], "add", "UserAssigned", [A]),  # case: no duplicate
    (identity("SystemAssigned", principal="p"), None, None, "add", "SystemAssigned", []),  # nothing asked
])
def test_plan_identity(current, system, users, mode, kind, keys):
    planned = plan_identity(current, system, users, mode)
    assert planned["type"] == kind
    assert list(planned["user_assigned_identities"]) == keys
    assert all(v == {} for v in planned["user_assigned_identities"].values())


def test_plan_keeps_azures_spelling_of_attached_ids():
    planned = plan_identity(identity("UserAssigned", [A]), None, [A.upper()], "exact")
    assert list(planned["user_assigned_identities"]) == [A]


@pytest.mark.parametrize("count,fails", [(MAX_USER_ASSIGNED, False), (MAX_USER_ASSIGNED + 1, True)])
def test_plan_refuses_more_than_ten(count, fails):
    current = identity("UserAssigned", [uid("id-{0}".format(i)) for i in range(count - 1)])
    if fails:
        with pytest.raises(AzureApimError) as err:
            plan_identity(current, None, [uid("new")], "add")
        assert err.value.code == "TooManyUserAssignedIdentities" and str(count) in err.value.msg
    else:
        assert len(plan_identity(current, None, [uid("new")], "add")["user_assigned_identities"]) == count


@pytest.mark.parametrize("refs,fails", [
    (["a"] * 11, False),  # duplicates count once
    (["id-{0}".format(i) for i in range(10)], False),
    (["id-{0}".format(i) for i in range(11)], True),
    (None, False),
])
def test_count_check_before_any_call(refs, fails):
    if fails:
        with pytest.raises(AzureApimError):
            check_user_assigned_count(refs)
    else:
        check_user_assigned_count(refs)


@pytest.mark.parametrize("current,planned,body", [
    (identity("UserAssigned", [A, B]), {"type": "UserAssigned", "user_assigned_identities": {A: {}}},
     {"type": "UserAssigned", "userAssignedIdentities": {A: {}, B: None}}),
    (identity("SystemAssigned", principal="p"), {"type": "SystemAssigned, UserAssigned",
                                                 "user_assigned_identities": {C: {}}},
     {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {C: {}}}),
    # without a user-assigned part in the type, the map is left out (ARM drops them with the type)
    (identity("SystemAssigned, UserAssigned", [A], "p"), {"type": "SystemAssigned", "user_assigned_identities": {}},
     {"type": "SystemAssigned"}),
    (identity("UserAssigned", [A]), {"type": "None", "user_assigned_identities": {}}, {"type": "None"}),
])
def test_identity_patch(current, planned, body):
    assert identity_patch(current, planned) == body


def test_removed_identities():
    current = identity("SystemAssigned, UserAssigned", [A, B], "p")
    removed = removed_identities(current, {"type": "UserAssigned", "user_assigned_identities": {B: {}}})
    assert [(r["kind"], r["resource_id"], r["client_id"]) for r in removed] == [
        ("system", None, None), ("user", A, "c-id-a")]
    assert removed_identities(current, {"type": current["type"], "user_assigned_identities": {A: {}, B: {}}}) == []
    assert len(current_identities(current)) == 3


HOSTS = [
    {"host_name": "x.azure-api.net", "key_vault_id": None, "identity_client_id": None},
    {"host_name": "api.contoso.com", "key_vault_id": "https://kv.vault.azure.net/secrets/c", "identity_client_id": None},
    {"host_name": "portal.contoso.com", "key_vault_id": "https://kv.vault.azure.net/secrets/p",
     "identity_client_id": "C-ID-A"},
]
ENTITIES = {"named_value": [{"name": "nv-sys", "identity_client_id": None}, {"name": "nv-b", "identity_client_id": "c-id-b"}],
            "logger": [{"name": "log-sys", "identity_client_id": "SystemAssigned"}],
            "certificate": [{"name": "cert-a", "identity_client_id": "c-id-a"}]}


@pytest.mark.parametrize("which,expected", [
    ("system", {("hostname", "api.contoso.com"), ("named_value", "nv-sys"), ("logger", "log-sys")}),
    (A, {("hostname", "portal.contoso.com"), ("certificate", "cert-a")}),
    (B, {("named_value", "nv-b")}),
    (C, set()),
])
def test_dependents_of(which, expected):
    everyone = current_identities(identity("SystemAssigned, UserAssigned", [A, B, C], "p"))
    chosen = [r for r in everyone if (r["resource_id"] or "system") == which]
    found = dependents_of(chosen, HOSTS, ENTITIES)
    assert {(d["kind"], d["name"]) for d in found} == expected
    assert all(d["unblock"] for d in found)


def test_dependents_error_names_each_and_how_to_unblock():
    found = dependents_of(current_identities(identity("SystemAssigned", principal="p")), HOSTS, ENTITIES)
    err = dependents_error("apim-x", found)
    assert err.code == "IdentityInUse" and "apim-x" in err.msg
    for name in ("api.contoso.com", "nv-sys", "log-sys"):
        assert name in err.msg
    assert "inline certificate" in err.hint and err.extra["dependents"] == found


@pytest.mark.parametrize("a,b,equal", [
    ("SystemAssigned,UserAssigned", "SystemAssigned, UserAssigned", True),
    ("systemassigned", "SystemAssigned", True), ("None", None, True), ("UserAssigned", "SystemAssigned", False),
])
def test_same_identity_type(a, b, equal):
    assert same_identity_type(a, b) is equal


def test_same_identity_keys_and_user_list():
    assert same_identity_keys({A: {}}, {A.upper() + "/": {"principal_id": "x"}})
    assert not same_identity_keys({A: {}}, {A: {}, B: {}})
    listed = with_user_assigned_list(identity("UserAssigned", [B, A]))["user_assigned"]
    assert [u["name"] for u in listed] == ["id-a", "id-b"] and listed[0]["client_id"] == "c-id-a"


@pytest.mark.parametrize("params,fails", [
    ({"sku_name": "Consumption", "sku_capacity": 1}, True),
    ({"sku_name": "Consumption", "sku_capacity": 0}, False),
    ({"sku_capacity": -1}, True),
    ({"publisher_email": "nobody"}, True),
    ({"publisher_email": "api@contoso.com", "sku_name": "PremiumV2", "sku_capacity": 3}, False),
])
def test_check_service_params(params, fails):
    if fails:
        with pytest.raises(AzureApimError):
            check_service_params(params)
    else:
        check_service_params(params)


def test_create_body_carries_identity():
    wanted = {"sku": {"name": "Developer", "capacity": 1}, "publisher_name": "C", "publisher_email": "a@b.c",
              "tags": {"x": "1"}, "identity": {"type": "SystemAssigned, UserAssigned", "user_assigned_identities": {A: {}}}}
    body = create_body(wanted, "westeurope")
    assert body["identity"] == {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {A: {}}}
    assert body["properties"] == {"publisherName": "C", "publisherEmail": "a@b.c"} and body["location"] == "westeurope"
    assert "identity" not in create_body(dict(wanted, identity={"type": "None", "user_assigned_identities": {}}), "x")


def test_update_body_only_what_differs():
    current = {"name": "s", "location": "West Europe", "sku": {"name": "Developer", "capacity": 1},
               "identity": identity("SystemAssigned", principal="p"), "tags": {}}
    wanted = {"sku": {"capacity": 2}, "publisher_email": "n@c.com", "tags": {"a": "b"},
              "identity": {"type": "SystemAssigned", "user_assigned_identities": {}}}
    body = update_body(current, wanted, ["sku.capacity", "publisher_email"])
    assert body == {"sku": {"name": "Developer", "capacity": 2}, "properties": {"publisherEmail": "n@c.com"}}
    with pytest.raises(AzureApimError) as err:
        update_body(current, dict(wanted, location="eastus"), ["location"])
    assert err.value.code == "LocationImmutable"
