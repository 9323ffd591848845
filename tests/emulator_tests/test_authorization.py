"""Microsoft.Authorization: role definitions, role assignments, $filter, replication and propagation delays."""

from __future__ import annotations

import uuid

import pytest

from emulator import authorization

API = "2022-04-01"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def _ra_path(scope, name):
    return f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"


def _rd(azure, guid):
    return f"/subscriptions/{azure.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def _body(azure, principal_id, guid=KV_SECRETS_USER, principal_type="ServicePrincipal"):
    props = {"roleDefinitionId": _rd(azure, guid), "principalId": principal_id}
    if principal_type:
        props["principalType"] = principal_type
    return {"properties": props}


@pytest.fixture
def demo(local_azure, world):
    summary = world("demo")
    vault = f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.KeyVault/vaults/kv-contoso-rbac"
    return {"summary": summary, "vault": vault, "uami": summary["principals"]["id-apim-demo"]["object_id"],
            "ops": summary["principals"]["ops-team"]["object_id"]}


def test_role_definition_get_and_filter_by_name(local_azure):
    client = local_azure.arm()
    scope = f"/subscriptions/{local_azure.subscription_id}"
    got = client.get(f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{KV_SECRETS_USER}", API).json()
    assert got["properties"]["roleName"] == "Key Vault Secrets User"
    assert got["id"] == _rd(local_azure, KV_SECRETS_USER)
    assert "Microsoft.KeyVault/vaults/secrets/getSecret/action" in got["properties"]["permissions"][0]["dataActions"]
    listed = client.get(f"{scope}/providers/Microsoft.Authorization/roleDefinitions", API,
                        params={"$filter": "roleName eq 'Key Vault Certificate User'"}).json()["value"]
    assert [r["name"] for r in listed] == ["db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"]
    missing = client.get(f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}", API)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "RoleDefinitionDoesNotExist"


def test_create_get_list_delete(local_azure, demo):
    client = local_azure.arm()
    name = str(uuid.uuid4())
    created = client.put(_ra_path(demo["vault"], name), _body(local_azure, demo["uami"]), API)
    assert created.status_code == 201
    props = created.json()["properties"]
    assert props["scope"] == demo["vault"] and props["principalType"] == "ServicePrincipal"
    assert client.get(_ra_path(demo["vault"], name), API).json()["name"] == name
    again = client.put(_ra_path(demo["vault"], name), _body(local_azure, demo["uami"]), API)
    assert again.status_code == 200
    assert client.delete(_ra_path(demo["vault"], name), API).status_code == 200
    assert client.delete(_ra_path(demo["vault"], name), API).status_code == 204
    gone = client.get(_ra_path(demo["vault"], name), API)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "RoleAssignmentNotFound"


def test_duplicate_under_another_name_is_role_assignment_exists(local_azure, demo):
    client = local_azure.arm()
    first = str(uuid.uuid4())
    assert client.put(_ra_path(demo["vault"], first), _body(local_azure, demo["uami"]), API).status_code == 201
    dup = client.put(_ra_path(demo["vault"], str(uuid.uuid4())), _body(local_azure, demo["uami"]), API)
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "RoleAssignmentExists"
    assert first in str(dup.json()["error"]["details"])


def test_invalid_name_role_and_scope(local_azure, demo):
    client = local_azure.arm()
    bad_name = client.put(_ra_path(demo["vault"], "not-a-guid"), _body(local_azure, demo["uami"]), API)
    assert bad_name.json()["error"]["code"] == "InvalidRoleAssignmentId"
    bad_role = client.put(_ra_path(demo["vault"], str(uuid.uuid4())),
                          _body(local_azure, demo["uami"], guid=str(uuid.uuid4())), API)
    assert bad_role.json()["error"]["code"] == "RoleDefinitionDoesNotExist"
    no_scope = client.put(_ra_path(demo["vault"] + "-nope", str(uuid.uuid4())), _body(local_azure, demo["uami"]), API)
    assert no_scope.status_code == 404


def test_principal_not_found_while_replicating_unless_principal_type(local_azure, demo):
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-apim-demo")
    new = client.put(f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-new", {"location": "westeurope"},
                     "2023-01-31").json()["properties"]["principalId"]
    untyped = client.put(_ra_path(demo["vault"], str(uuid.uuid4())),
                         _body(local_azure, new, principal_type=None), API)
    assert untyped.status_code == 400
    error = untyped.json()["error"]
    assert error["code"] == "PrincipalNotFound" and "principalType" in error["message"]
    typed = client.put(_ra_path(demo["vault"], str(uuid.uuid4())), _body(local_azure, new), API)
    assert typed.status_code == 201
    local_azure.admin.advance(31)  # identity_replication_s defaults to 30
    later = client.put(_ra_path(demo["vault"], str(uuid.uuid4())),
                       _body(local_azure, new, guid="db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", principal_type=None), API)
    assert later.status_code == 201
    unknown = client.put(_ra_path(demo["vault"], str(uuid.uuid4())), _body(local_azure, str(uuid.uuid4())), API)
    assert unknown.json()["error"]["code"] == "PrincipalNotFound"


def test_list_filters(local_azure, demo):
    client = local_azure.arm()
    sub = f"/subscriptions/{local_azure.subscription_id}"
    rg = local_azure.rg_id("rg-apim-demo")
    at_vault = str(uuid.uuid4())
    at_rg = str(uuid.uuid4())
    client.put(_ra_path(demo["vault"], at_vault), _body(local_azure, demo["uami"]), API)
    client.put(_ra_path(rg, at_rg), _body(local_azure, demo["ops"], guid="acdd72a7-3385-48ef-bd42-f606fba81ae7"), API)
    path = f"{rg}/providers/Microsoft.Authorization/roleAssignments"

    def names(flt=None):
        params = {"$filter": flt} if flt else None
        return {r["name"] for r in client.get(path, API, params=params).json()["value"]}

    everything = names()
    assert {at_vault, at_rg} <= everything  # at, below and above (the subscription Owner) the scope
    assert at_vault not in names("atScope()")  # below the group: left out
    assert names(f"principalId eq '{demo['uami']}'") == {at_vault}
    assert names(f"assignedTo('{demo['ops']}')") == {at_rg}
    sub_list = client.get(f"{sub}/providers/Microsoft.Authorization/roleAssignments", API,
                          params={"$filter": "atScope()"}).json()["value"]
    assert {r["properties"]["scope"] for r in sub_list} == {sub}


def test_secret_read_grant_waits_for_propagation(local_azure, demo):
    client = local_azure.arm()
    local_azure.admin.advance(31)  # the seeded identity is long replicated anyway
    secret = demo["vault"] + "/secrets/backend-api-key"
    client.put(_ra_path(secret, str(uuid.uuid4())), _body(local_azure, demo["uami"]), API)
    # checked in-process on the same world the server uses
    w = local_azure.server.world
    assert not authorization.grants_secret_read(w, demo["uami"], secret)
    assert authorization.pending_secret_read(w, demo["uami"], secret)
    assert not authorization.grants_secret_read(w, demo["uami"], demo["vault"])  # narrower scope does not cover vault
    local_azure.admin.advance(601)
    assert authorization.grants_secret_read(w, demo["uami"], secret)
    assert not authorization.grants_secret_read(w, demo["ops"], secret)


@pytest.mark.parametrize("role, action, allowed", [
    ("Key Vault Secrets User", authorization.SECRET_READ_ACTION, True),
    ("Key Vault Certificate User", authorization.SECRET_READ_ACTION, True),
    ("Key Vault Secrets Officer", authorization.SECRET_READ_ACTION, True),
    ("Key Vault Reader", authorization.SECRET_READ_ACTION, False),
    ("Reader", authorization.SECRET_READ_ACTION, False),
    ("Azure Event Hubs Data Sender", "Microsoft.EventHub/namespaces/send/action", True),
    ("Azure Service Bus Data Receiver", "Microsoft.ServiceBus/namespaces/send/action", False),
])
def test_data_actions_of_builtin_roles(role, action, allowed):
    assert authorization.role_allows_data_action(authorization.role_by_name(role), action) is allowed


def test_contributor_cannot_write_role_assignments():
    contributor = authorization.role_by_name("Contributor")
    assert authorization.role_allows_action(contributor, "Microsoft.Network/virtualNetworks/write")
    assert not authorization.role_allows_action(contributor, "Microsoft.Authorization/roleAssignments/write")


def test_arm_checks_the_callers_roles(local_azure, world):
    from emulator.client import ArmClient

    world({"resource_groups": [{"name": "rg-x"}], "service_principals": [
        {"name": "deployer", "client_id": "0d1e6b5a-1111-4a4a-9b9b-000000000001", "client_secret": "deployer-pw",
         "roles": [{"scope": "/subscriptions/{subscription_id}/resourceGroups/rg-x", "role": "Contributor"}]},
        {"name": "auditor", "client_id": "0d1e6b5a-1111-4a4a-9b9b-000000000002", "client_secret": "auditor-pw",
         "roles": [{"scope": "/subscriptions/{subscription_id}", "role": "Reader"}]}]})
    rg = local_azure.rg_id("rg-x")

    def client(app_id, secret):
        return ArmClient(local_azure.base_url, local_azure.ca_bundle, local_azure.tenant_id, app_id, secret)

    deployer = client("0d1e6b5a-1111-4a4a-9b9b-000000000001", "deployer-pw")
    auditor = client("0d1e6b5a-1111-4a4a-9b9b-000000000002", "auditor-pw")
    made = deployer.put(f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x",
                        {"location": "westeurope"}, "2023-01-31")
    assert made.status_code == 201
    principal = made.json()["properties"]["principalId"]
    denied = deployer.put(_ra_path(rg, str(uuid.uuid4())), _body(local_azure, principal), API)
    assert denied.status_code == 403
    error = denied.json()["error"]
    assert error["code"] == "AuthorizationFailed"
    assert "'Microsoft.Authorization/roleAssignments/write'" in error["message"] and rg in error["message"]
    assert auditor.get(rg, "2021-04-01").status_code == 200
    assert auditor.put(rg, {"location": "westeurope"}, "2021-04-01").status_code == 403
    outside = deployer.put(local_azure.rg_id("rg-other"), {"location": "westeurope"}, "2021-04-01")
    assert outside.status_code == 403  # Contributor on rg-x only


def test_principal_type_must_match_once_replicated(local_azure, demo):
    resp = local_azure.arm().put(_ra_path(demo["vault"], str(uuid.uuid4())),
                                 _body(local_azure, demo["uami"], principal_type="User"), API)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "UnmatchedPrincipalType"
    assert "'ServicePrincipal'" in resp.json()["error"]["message"]
