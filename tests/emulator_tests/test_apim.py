"""Microsoft.ApiManagement in the local Azure: each modelled behaviour, through the real SDK where it matters."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from azure.core.exceptions import HttpResponseError

from emulator import pfx

API = "2024-05-01"
KV_API = "2026-02-01"
RG = "rg-apim-demo"
SVC = "apim-contoso-demo"
KV_CERT = "https://kv-contoso-demo.vault.azure.net/secrets/api-contoso-com"
KV_PLAIN = "https://kv-contoso-demo.vault.azure.net/secrets/backend-api-key"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


@pytest.fixture
def demo(local_azure: Any, world: Callable) -> Any:
    world("demo", time_scale=0.01)
    return local_azure


@pytest.fixture
def slow(local_azure: Any, world: Callable) -> Any:
    """The demo world with operations that never end on their own: tests end them with `admin.advance()`, so what
    they see in between does not depend on how busy the machine is."""
    world("demo", time_scale=0.01, apim_create_s=LONG, apim_update_s=LONG, named_value_s=LONG)
    return local_azure


LONG = 1e6


@pytest.fixture
def client(demo: Any) -> Any:
    from azure.mgmt.apimanagement import ApiManagementClient

    return ApiManagementClient(demo.credential(), demo.subscription_id, base_url=demo.base_url,
                               credential_scopes=[f"{demo.base_url}/.default"], connection_verify=demo.ca_bundle,
                               polling_interval=0.01)


def svc_path(azure: Any, name: str = SVC) -> str:
    return f"{azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{name}"


def finish(arm: Any, resp: Any, timeout: float = 20.0) -> Any:
    """Follow Location until the operation ends (the way azure-cli's recorded session did)."""
    location = resp.headers.get("Location") or resp.headers.get("location")
    deadline = time.monotonic() + timeout
    while location and time.monotonic() < deadline:
        final = arm.get(location)
        if final.status_code != 202:
            return final
        time.sleep(float(final.headers.get("Retry-After", 0.05)))
    return resp


def patch(arm: Any, azure: Any, body: dict) -> Any:
    """PATCH the demo service and wait; returns the final response (or the immediate error)."""
    resp = arm.request("PATCH", svc_path(azure), API, body)
    if resp.status_code != 202:
        return resp
    return finish(arm, resp)


def enable_system_identity(arm: Any, azure: Any) -> str:
    final = patch(arm, azure, {"identity": {"type": "SystemAssigned"}})
    assert final.status_code == 200, final.text
    return final.json()["identity"]["principalId"]


def grant_get(arm: Any, azure: Any, object_id: str, vault: str = "kv-contoso-demo") -> None:
    resp = arm.put(f"{azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/{vault}/accessPolicies/add",
                   {"properties": {"accessPolicies": [{"tenantId": azure.tenant_id, "objectId": object_id,
                                                       "permissions": {"secrets": ["get", "list"]}}]}}, KV_API)
    assert resp.status_code == 200, resp.text


def uami(arm: Any, azure: Any, name: str = "id-apim-demo") -> dict:
    resp = arm.get(f"{azure.rg_id(RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}", "2023-01-31")
    assert resp.status_code == 200, resp.text
    return resp.json()


def error_of(resp: Any) -> tuple[int, str]:
    return resp.status_code, resp.json()["error"]["code"]


# ======================================================================================================================
# service lifecycle
# ======================================================================================================================

def test_create_is_a_long_running_operation_with_the_live_shape(slow):
    demo = slow
    arm = demo.arm()
    body = {"location": "westeurope", "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "a@contoso.com", "publisherName": "Contoso"}}
    first = arm.put(svc_path(demo, "apim-raw"), body, API)
    assert first.status_code == 201
    assert first.headers["ETag"].startswith('"') and first.headers["ETag"].strip('"') == first.json()["etag"]
    assert "/operationresults/" in first.headers["Location"] and first.headers["Azure-AsyncOperation"]
    props = first.json()["properties"]
    assert (props["provisioningState"], props["targetProvisioningState"]) == ("Created", "Activating")
    assert first.json()["identity"] is None and first.json()["zones"] is None and props["certificates"] is None
    status = arm.get(first.headers["Azure-AsyncOperation"]).json()
    assert status["status"] == "InProgress"
    assert arm.get(first.headers["Location"]).status_code == 202
    demo.admin.advance(LONG)
    done = finish(arm, first)
    assert done.status_code == 200 and done.json()["properties"]["provisioningState"] == "Succeeded"
    assert done.json()["properties"]["portalUrl"] == "https://apim-raw.portal.azure-api.net"
    assert arm.get(first.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    legacy = arm.put(svc_path(demo, "apim-legacy"), body, "2021-08-01")
    assert legacy.status_code == 201 and "Azure-AsyncOperation" not in legacy.headers  # as recorded live


def test_sdk_pollers_follow_service_create(demo, client):
    from azure.mgmt.apimanagement.models import (ApiManagementServiceIdentity,
                                                 ApiManagementServiceResource,
                                                 ApiManagementServiceSkuProperties)

    created = client.api_management_service.begin_create_or_update(RG, "apim-sdk", ApiManagementServiceResource(
        location="westeurope", publisher_email="a@contoso.com", publisher_name="Contoso",
        sku=ApiManagementServiceSkuProperties(name="Developer", capacity=1),
        identity=ApiManagementServiceIdentity(type="SystemAssigned"))).result()
    assert created.provisioning_state == "Succeeded"
    assert created.identity.principal_id and created.identity.tenant_id == demo.tenant_id
    builtin = created.hostname_configurations[0]
    assert (builtin.host_name, builtin.certificate_source, builtin.type) == (
        "apim-sdk.azure-api.net", "BuiltIn", "Proxy")
    assert created.location == "West Europe"


def test_writes_while_updating_get_409_then_succeed(slow):
    demo = slow
    arm = demo.arm()
    first = arm.request("PATCH", svc_path(demo), API, {"properties": {"publisherName": "Contoso Ltd"}})
    assert first.status_code == 202 and first.content == b""
    during = arm.get(svc_path(demo), API).json()["properties"]
    assert (during["provisioningState"], during["targetProvisioningState"]) == ("Updating", "Succeeded")
    for method, body in (("PATCH", {"tags": {"a": "b"}}), ("DELETE", None)):
        assert error_of(arm.request(method, svc_path(demo), API, body)) == (409, "Conflict")
    demo.admin.advance(LONG)
    assert finish(arm, first).json()["properties"]["publisherName"] == "Contoso Ltd"
    second = arm.request("PATCH", svc_path(demo), API, {"tags": {"a": "b"}})
    assert second.status_code == 202
    demo.admin.advance(LONG)
    assert finish(arm, second).json()["tags"] == {"a": "b"}


def test_patch_merges_put_replaces(demo):
    arm = demo.arm()
    assert patch(arm, demo, {"tags": {"team": "api"}}).status_code == 200
    merged = patch(arm, demo, {"properties": {"publisherName": "New name"}}).json()
    assert merged["tags"] == {"team": "api"} and merged["properties"]["publisherName"] == "New name"
    body = {"location": "westeurope", "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "api-team@contoso.com", "publisherName": "Contoso"}}
    put = arm.put(svc_path(demo), body, API)
    assert put.status_code == 200 and put.json()["properties"]["provisioningState"] == "Updating"
    assert finish(arm, put).json()["tags"] == {}


def test_if_match_on_the_service(demo):
    arm = demo.arm()
    stale = arm.request("PATCH", svc_path(demo), API, {"tags": {}}, headers={"If-Match": '"AAAAAAAAAA0="'})
    assert error_of(stale) == (412, "PreconditionFailed")
    etag = arm.get(svc_path(demo), API).headers["ETag"]
    assert arm.request("PATCH", svc_path(demo), API, {"tags": {}}, headers={"If-Match": etag}).status_code == 202


def test_delete_is_a_long_running_operation(demo, client):
    arm = demo.arm()
    principal = enable_system_identity(arm, demo)
    first = arm.delete(svc_path(demo), API)
    assert first.status_code == 202
    assert first.json()["properties"]["targetProvisioningState"] == "Deleting"
    finish(arm, first)
    assert error_of(arm.get(svc_path(demo), API)) == (404, "ResourceNotFound")
    assert principal not in demo.admin.state()["principals"]  # the system identity goes with the service
    assert arm.delete(svc_path(demo), API).status_code == 204


# ======================================================================================================================
# identities
# ======================================================================================================================

def test_user_assigned_identity_gets_its_ids_filled_in(demo):
    arm = demo.arm()
    ua = uami(arm, demo)
    final = patch(arm, demo, {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua["id"]: {}}}})
    ident = final.json()["identity"]
    assert ident["type"] == "UserAssigned" and ident["tenantId"] == demo.tenant_id and "principalId" not in ident
    assert ident["userAssignedIdentities"][ua["id"]] == {"principalId": ua["properties"]["principalId"],
                                                         "clientId": ua["properties"]["clientId"]}


def test_both_identities_and_removing_one_user_assigned_with_null(demo, local_azure):
    arm = demo.arm()
    ids = [uami(arm, demo)["id"]]
    for name in ("id-two", "id-three"):
        resp = arm.put(f"{demo.rg_id(RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
                       {"location": "westeurope"}, "2023-01-31")
        assert resp.status_code in (200, 201), resp.text
        ids.append(resp.json()["id"])
    both = patch(arm, demo, {"identity": {"type": "SystemAssigned,UserAssigned",
                                          "userAssignedIdentities": {i: {} for i in ids}}}).json()["identity"]
    assert both["type"] == "SystemAssigned, UserAssigned" and both["principalId"]
    left = patch(arm, demo, {"identity": {"type": "SystemAssigned, UserAssigned",
                                          "userAssignedIdentities": {ids[1]: None}}}).json()["identity"]
    assert sorted(left["userAssignedIdentities"]) == sorted([ids[0], ids[2]])
    assert left["principalId"] == both["principalId"]  # the system identity is kept, not regenerated


@pytest.mark.parametrize("value", [{"principalId": "00000000-0000-0000-0000-000000000001"},
                                   {"clientId": "00000000-0000-0000-0000-000000000002"}])
def test_echoing_principal_or_client_id_is_rejected(demo, value):
    arm = demo.arm()
    ua = uami(arm, demo)
    resp = arm.request("PATCH", svc_path(demo), API, {"identity": {"type": "UserAssigned",
                                                                   "userAssignedIdentities": {ua["id"]: value}}})
    assert error_of(resp) == (400, "InvalidIdentityValues")


def test_more_than_ten_user_assigned_identities_is_rejected(demo):
    arm = demo.arm()
    ids = {}
    for i in range(11):
        resp = arm.put(f"{demo.rg_id(RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-{i}",
                       {"location": "westeurope"}, "2023-01-31")
        ids[resp.json()["id"]] = {}
    resp = arm.request("PATCH", svc_path(demo), API, {"identity": {"type": "UserAssigned",
                                                                   "userAssignedIdentities": ids}})
    assert error_of(resp) == (400, "ValidationError")
    assert "at most 10" in resp.json()["error"]["details"][0]["message"]
    del ids[next(iter(ids))]
    assert patch(arm, demo, {"identity": {"type": "UserAssigned", "userAssignedIdentities": ids}}).status_code == 200


def test_missing_user_assigned_identity_is_rejected(demo):
    missing = f"{demo.rg_id(RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-nope"
    resp = demo.arm().request("PATCH", svc_path(demo), API, {"identity": {"type": "UserAssigned",
                                                                          "userAssignedIdentities": {missing: {}}}})
    assert error_of(resp) == (400, "FailedIdentityOperation")


def test_removing_the_system_identity_deletes_its_principal(demo):
    arm = demo.arm()
    principal = enable_system_identity(arm, demo)
    assert principal in demo.admin.state()["principals"]
    final = patch(arm, demo, {"identity": {"type": "None"}})
    assert final.json()["identity"] is None
    assert principal not in demo.admin.state()["principals"]


# ======================================================================================================================
# custom hostnames from Key Vault
# ======================================================================================================================

def hostname(uri: str = KV_CERT, client_id: Any = None, host: str = "api.contoso.com") -> dict:
    entry = {"type": "Proxy", "hostName": host, "keyVaultId": uri, "defaultSslBinding": True}
    if client_id:
        entry["identityClientId"] = client_id
    return {"properties": {"hostnameConfigurations": [entry]}}


def test_keyvault_hostname_loads_the_certificate(demo):
    arm = demo.arm()
    grant_get(arm, demo, enable_system_identity(arm, demo))
    blob = pfx.make_pfx_b64("api.contoso.com", days=90)
    arm.put(f"{demo.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/kv-contoso-demo/secrets/api-contoso-com",
            {"properties": {"value": blob, "contentType": pfx.PKCS12_CONTENT_TYPE}}, KV_API)
    final = patch(arm, demo, hostname())
    assert final.status_code == 200, final.text
    builtin, custom = final.json()["properties"]["hostnameConfigurations"]
    expected = pfx.read_pfx_b64(blob)
    assert custom["certificate"] == expected.as_arm()
    assert (custom["certificateSource"], custom["certificateStatus"]) == ("KeyVault", "Completed")
    assert custom["defaultSslBinding"] is True and builtin["defaultSslBinding"] is False
    assert builtin["hostName"] == f"{SVC}.azure-api.net" and builtin["certificateSource"] == "BuiltIn"


def test_keyvault_hostname_without_access_is_rejected_with_apims_message(demo):
    arm = demo.arm()
    enable_system_identity(arm, demo)
    resp = arm.request("PATCH", svc_path(demo), API, hostname())
    assert error_of(resp) == (400, "InvalidOperation")
    assert resp.json()["error"]["message"].startswith(f"Failed to access KeyVault Secret {KV_CERT} using Managed "
                                                      "Service Identity")
    assert arm.get(svc_path(demo), API).json()["properties"]["provisioningState"] == "Succeeded"  # nothing started


def test_keyvault_hostname_with_unknown_identity_client_id(demo):
    arm = demo.arm()
    enable_system_identity(arm, demo)
    resp = arm.request("PATCH", svc_path(demo), API, hostname(client_id="7c9e6679-7425-40de-944b-e07fc1f90ae7"))
    assert error_of(resp) == (400, "ValidationError")
    detail = resp.json()["error"]["details"][0]
    assert detail["target"] == "identityClientId" and "Can not find Managed Identity" in detail["message"]


def test_keyvault_hostname_needs_a_pkcs12_secret(demo):
    arm = demo.arm()
    grant_get(arm, demo, enable_system_identity(arm, demo))
    resp = arm.request("PATCH", svc_path(demo), API, hostname(KV_PLAIN))
    assert error_of(resp) == (400, "InvalidParameters")
    assert pfx.PKCS12_CONTENT_TYPE in resp.json()["error"]["message"]


def test_keyvault_hostname_through_a_user_assigned_identity(demo):
    arm = demo.arm()
    ua = uami(arm, demo)
    patch(arm, demo, {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ua["id"]: {}}}})
    grant_get(arm, demo, ua["properties"]["principalId"])
    final = patch(arm, demo, hostname(client_id=ua["properties"]["clientId"]))
    assert final.status_code == 200, final.text
    assert final.json()["properties"]["hostnameConfigurations"][1]["identityClientId"] == \
        ua["properties"]["clientId"]


def test_rbac_grant_works_for_hostnames_only_after_propagation(demo):
    arm = demo.arm()
    principal = enable_system_identity(arm, demo)
    demo.admin.config(rbac_propagation_s=LONG)
    vault = f"{demo.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/kv-contoso-rbac"
    blob = pfx.make_pfx_b64("rbac.contoso.com")
    arm.put(f"{vault}/secrets/rbac-cert", {"properties": {"value": blob, "contentType": pfx.PKCS12_CONTENT_TYPE}},
            KV_API)
    grant = arm.put(f"{vault}/providers/Microsoft.Authorization/roleAssignments/0d3a3e3b-8b5c-4c1d-9a0e-3b2f1c4d5e6f",
                    {"properties": {"roleDefinitionId": f"/subscriptions/{demo.subscription_id}/providers/"
                                    f"Microsoft.Authorization/roleDefinitions/{SECRETS_USER}",
                                    "principalId": principal, "principalType": "ServicePrincipal"}}, "2022-04-01")
    assert grant.status_code == 201, grant.text
    uri = "https://kv-contoso-rbac.vault.azure.net/secrets/rbac-cert"
    early = arm.request("PATCH", svc_path(demo), API, hostname(uri, host="rbac.contoso.com"))
    assert error_of(early) == (400, "InvalidOperation") and "ForbiddenByRbac" in early.json()["error"]["message"]
    demo.admin.advance(LONG + 1)
    assert patch(arm, demo, hostname(uri, host="rbac.contoso.com")).status_code == 200


def test_inline_certificate_is_never_returned(demo):
    arm = demo.arm()
    blob = pfx.make_pfx_b64("inline.contoso.com", password="pfx-pass")
    body = {"properties": {"hostnameConfigurations": [{"type": "Proxy", "hostName": "inline.contoso.com",
                                                       "encodedCertificate": blob,
                                                       "certificatePassword": "pfx-pass"}]}}
    final = patch(arm, demo, body)
    entry = final.json()["properties"]["hostnameConfigurations"][1]
    assert entry["certificateSource"] == "Custom"
    assert entry["certificate"]["thumbprint"] == pfx.read_pfx_b64(blob, "pfx-pass").thumbprint
    assert entry["encodedCertificate"] is None and entry["certificatePassword"] is None
    assert blob not in arm.get(svc_path(demo), API).text and "pfx-pass" not in final.text
    wrong = {"properties": {"hostnameConfigurations": [{"type": "Proxy", "hostName": "inline.contoso.com",
                                                        "encodedCertificate": blob, "certificatePassword": "no"}]}}
    assert error_of(arm.request("PATCH", svc_path(demo), API, wrong)) == (400, "InvalidParameters")
    # sending back what GET returned keeps the uploaded certificate
    again = patch(arm, demo, {"properties": {"hostnameConfigurations": final.json()["properties"][
        "hostnameConfigurations"]}})
    assert again.status_code == 200 and again.json()["properties"]["hostnameConfigurations"][1] == entry


def test_identity_used_by_a_hostname_cannot_be_removed_until_the_hostname_moves(demo):
    arm = demo.arm()
    grant_get(arm, demo, enable_system_identity(arm, demo))
    assert patch(arm, demo, hostname()).status_code == 200
    blocked = arm.request("PATCH", svc_path(demo), API, {"identity": {"type": "None"}})
    assert error_of(blocked) == (400, "InvalidOperation")
    assert "hostname configuration 'api.contoso.com'" in blocked.json()["error"]["message"]
    # the documented way out: switch to an inline certificate and disable the identity in one update
    blob = pfx.make_pfx_b64("api.contoso.com")
    unblocked = patch(arm, demo, {"identity": {"type": "None"}, "properties": {"hostnameConfigurations": [
        {"type": "Proxy", "hostName": "api.contoso.com", "encodedCertificate": blob}]}})
    assert unblocked.status_code == 200 and unblocked.json()["identity"] is None


# ======================================================================================================================
# named values
# ======================================================================================================================

def test_named_value_lifecycle_through_the_sdk(demo, client):
    from azure.mgmt.apimanagement.models import NamedValueCreateContract, NamedValueUpdateParameters

    created = client.named_value.begin_create_or_update(RG, SVC, "backend-key", NamedValueCreateContract(
        display_name="backend-key", value="s3cr3t-value", secret=True, tags=["demo"])).result()
    assert created.display_name == "backend-key" and created.value is None  # secrets never come back
    got = client.named_value.get(RG, SVC, "backend-key")
    assert got.value is None and got.secret is True
    assert [nv.value for nv in client.named_value.list_by_service(RG, SVC)] == [None]
    assert client.named_value.list_value(RG, SVC, "backend-key").value == "s3cr3t-value"
    etag = client.named_value.get_entity_tag(RG, SVC, "backend-key")
    assert etag is None or isinstance(etag, bool)  # HEAD returns no body; existence is the answer
    with pytest.raises(HttpResponseError) as stale:
        client.named_value.begin_update(RG, SVC, "backend-key", if_match='"AAAAAAAAAA0="',
                                        parameters=NamedValueUpdateParameters(value="other")).result()
    assert stale.value.status_code == 412
    client.named_value.begin_update(RG, SVC, "backend-key", if_match="*",
                                    parameters=NamedValueUpdateParameters(value="rotated")).result()
    assert client.named_value.list_value(RG, SVC, "backend-key").value == "rotated"
    assert "rotated" not in demo.arm().get(f"{svc_path(demo)}/namedValues?", API).text
    client.named_value.delete(RG, SVC, "backend-key", if_match="*")
    assert error_of(demo.arm().get(f"{svc_path(demo)}/namedValues/backend-key", API)) == (404, "ResourceNotFound")


def test_named_value_put_polls_an_asyncid_location(slow):
    demo = slow
    arm = demo.arm()
    nv = f"{svc_path(demo)}/namedValues/plain"
    legacy = arm.put(nv, {"properties": {"displayName": "plain", "value": "v"}}, "2021-08-01")
    assert legacy.status_code == 202 and legacy.content == b""  # as recorded live with 2021-08-01
    assert "asyncId=" in legacy.headers["location"] and legacy.headers["location"].endswith("asyncCode=201")
    assert "Azure-AsyncOperation" not in legacy.headers
    assert arm.get(legacy.headers["location"]).status_code == 202
    demo.admin.advance(LONG)
    final = finish(arm, legacy)
    assert final.status_code == 201 and final.json()["properties"]["value"] == "v"
    assert final.headers["ETag"].startswith('"')
    head = arm.request("HEAD", nv, API)
    assert head.status_code == 200 and head.headers["ETag"] == final.headers["ETag"]
    current = arm.put(f"{nv}2", {"properties": {"displayName": "plain2", "value": "v", "secret": True}}, API)
    assert current.status_code == 201  # 2024-05-01: the entity comes back at once, still in progress
    assert current.json()["properties"]["provisioningState"] == "InProgress"
    assert "value" not in current.json()["properties"]
    assert "/tenant/operationResults/" in current.headers["Azure-AsyncOperation"]
    assert arm.get(current.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress"
    demo.admin.advance(LONG)
    assert finish(arm, current).status_code == 201
    updated = arm.put(f"{nv}2", {"properties": {"displayName": "plain2", "value": "w", "secret": True}}, API)
    assert updated.status_code == 200 and updated.headers["location"].endswith("asyncCode=200")


@pytest.mark.parametrize("props, target", [
    ({"displayName": "bad name!", "value": "v"}, "displayName"),
    ({"displayName": "novalue"}, "value"),
    ({"displayName": "both", "value": "v", "keyVault": {"secretIdentifier": KV_PLAIN}}, "value"),
])
def test_named_value_validation(demo, props, target):
    resp = demo.arm().put(f"{svc_path(demo)}/namedValues/nv", {"properties": props}, API)
    assert error_of(resp) == (400, "ValidationError")
    assert resp.json()["error"]["details"][0]["target"] == target


def test_keyvault_named_value_waits_for_rbac_propagation(demo, client):
    from azure.mgmt.apimanagement.models import KeyVaultContractCreateProperties, NamedValueCreateContract

    arm = demo.arm()
    principal = enable_system_identity(arm, demo)
    demo.admin.config(rbac_propagation_s=LONG)
    vault = f"{demo.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/kv-contoso-rbac"
    grant = arm.put(f"{vault}/providers/Microsoft.Authorization/roleAssignments/5e0b0f55-0d5a-4c5e-8f3c-2a1b3c4d5e6f",
                    {"properties": {"roleDefinitionId": f"/subscriptions/{demo.subscription_id}/providers/"
                                    f"Microsoft.Authorization/roleDefinitions/{SECRETS_USER}",
                                    "principalId": principal, "principalType": "ServicePrincipal"}}, "2022-04-01")
    assert grant.status_code == 201, grant.text
    nv = client.named_value.begin_create_or_update(RG, SVC, "rbac-key", NamedValueCreateContract(
        display_name="rbac-key", secret=True, key_vault=KeyVaultContractCreateProperties(
            secret_identifier="https://kv-contoso-rbac.vault.azure.net/secrets/backend-api-key"))).result()
    assert nv.key_vault.last_status.code == "ForbiddenByRbac"
    with pytest.raises(HttpResponseError):
        client.named_value.list_value(RG, SVC, "rbac-key")
    demo.admin.advance(LONG + 1)
    refreshed = client.named_value.begin_refresh_secret(RG, SVC, "rbac-key").result()
    assert refreshed.key_vault.last_status.code == "Success"
    assert client.named_value.list_value(RG, SVC, "rbac-key").value == "demo-rbac-backend-key"


def test_keyvault_named_value_with_unknown_identity_fails_at_the_poll(demo, client):
    from azure.mgmt.apimanagement.models import KeyVaultContractCreateProperties, NamedValueCreateContract

    enable_system_identity(demo.arm(), demo)
    poller = client.named_value.begin_create_or_update(RG, SVC, "kv-nv", NamedValueCreateContract(
        display_name="kv-nv", secret=True, key_vault=KeyVaultContractCreateProperties(
            secret_identifier=KV_PLAIN, identity_client_id="7c9e6679-7425-40de-944b-e07fc1f90ae7")))
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert "Can not find Managed Identity with provided IdentityClientId" in str(err.value)
    assert error_of(demo.arm().get(f"{svc_path(demo)}/namedValues/kv-nv", API)) == (404, "ResourceNotFound")


def test_identity_used_by_a_named_value_cannot_be_removed(demo):
    arm = demo.arm()
    grant_get(arm, demo, enable_system_identity(arm, demo))
    resp = arm.put(f"{svc_path(demo)}/namedValues/kv-nv", {"properties": {
        "displayName": "kv-nv", "secret": True, "keyVault": {"secretIdentifier": KV_PLAIN}}}, API)
    final = finish(arm, resp)
    assert final.json()["properties"]["keyVault"]["lastStatus"]["code"] == "Success"
    blocked = arm.request("PATCH", svc_path(demo), API, {"identity": {"type": "None"}})
    assert error_of(blocked) == (400, "InvalidOperation") and "named value 'kv-nv'" in blocked.text


# ======================================================================================================================
# loggers
# ======================================================================================================================

def test_event_hub_logger_with_connection_string_is_masked(demo):
    arm = demo.arm()
    secret = "Endpoint=sb://evhns-contoso-demo.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=abc="
    resp = arm.put(f"{svc_path(demo)}/loggers/eh", {"properties": {"loggerType": "azureEventHub", "credentials": {
        "name": "apim-logs", "connectionString": secret}}}, API)
    assert resp.status_code == 201
    shown = arm.get(f"{svc_path(demo)}/loggers/eh", API).json()["properties"]
    assert shown["credentials"]["connectionString"].startswith("{{Logger-Credentials-")
    assert shown["isBuffered"] is True and secret not in resp.text
    assert arm.put(f"{svc_path(demo)}/loggers/eh", {"properties": {"loggerType": "azureEventHub", "credentials": {
        "name": "apim-logs", "connectionString": secret}}}, API).status_code == 200


def test_event_hub_logger_with_managed_identity(demo):
    arm = demo.arm()
    ua = uami(arm, demo)
    patch(arm, demo, {"identity": {"type": "SystemAssigned, UserAssigned",
                                   "userAssignedIdentities": {ua["id"]: {}}}})
    creds = {"name": "apim-logs", "endpointAddress": "evhns-contoso-demo.servicebus.windows.net"}
    for client_id in ("SystemAssigned", ua["properties"]["clientId"]):
        resp = arm.put(f"{svc_path(demo)}/loggers/eh-{client_id[:6]}", {"properties": {
            "loggerType": "azureEventHub", "credentials": {**creds, "identityClientId": client_id}}}, API)
        assert resp.status_code == 201, resp.text
        assert resp.json()["properties"]["credentials"]["identityClientId"] == client_id
    unknown = arm.put(f"{svc_path(demo)}/loggers/eh-x", {"properties": {"loggerType": "azureEventHub", "credentials": {
        **creds, "identityClientId": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}}}, API)
    assert error_of(unknown) == (400, "ValidationError")
    blocked = arm.request("PATCH", svc_path(demo), API, {"identity": {"type": "SystemAssigned"}})
    assert error_of(blocked) == (400, "InvalidOperation") and "logger" in blocked.text


# ======================================================================================================================
# policies and APIs
# ======================================================================================================================

POLICY = "<policies><inbound><base /></inbound><backend><forward-request /></backend><outbound /></policies>"


def test_policies_at_service_api_and_operation_scope(demo):
    arm = demo.arm()
    base = svc_path(demo)
    assert error_of(arm.put(f"{base}/apis/echo/policies/policy", {"properties": {"value": POLICY}}, API)) == \
        (404, "ResourceNotFound")
    assert arm.put(f"{base}/apis/echo", {"properties": {"displayName": "Echo", "path": "echo"}}, API).status_code == 201
    assert arm.put(f"{base}/apis/echo/operations/get", {"properties": {
        "displayName": "Get", "method": "get", "urlTemplate": "/"}}, API).status_code == 201
    for scope in ("", "/apis/echo", "/apis/echo/operations/get"):
        resp = arm.put(f"{base}{scope}/policies/policy", {"properties": {"format": "xml", "value": POLICY}}, API)
        assert resp.status_code == 201, resp.text
        assert resp.json()["properties"]["value"].startswith("<policies>\r\n  <inbound>\r\n    <base />")
    assert arm.delete(f"{base}/apis/echo/operations/get/policies/policy", API,
                      headers={"If-Match": "*"}).status_code == 200
    assert error_of(arm.get(f"{base}/apis/echo/operations/get/policies/policy", API)) == (404, "ResourceNotFound")


@pytest.mark.parametrize("value", ["<policies><inbound>", "<rules />", "not xml"])
def test_invalid_policy_documents_are_rejected(demo, value):
    resp = demo.arm().put(f"{svc_path(demo)}/policies/policy", {"properties": {"value": value}}, API)
    assert error_of(resp) == (400, "ValidationError")


def test_rawxml_round_trip(demo):
    arm = demo.arm()
    raw = '<policies>\n\t<inbound><set-header name="x"><value>@(a => a && b)</value></set-header></inbound></policies>'
    resp = arm.put(f"{svc_path(demo)}/policies/policy", {"properties": {"format": "rawxml", "value": raw}}, API)
    assert "a =&gt; a &amp;&amp; b" in resp.json()["properties"]["value"]
    got = arm.get(f"{svc_path(demo)}/policies/policy?format=rawxml", API).json()["properties"]
    assert got == {"format": "rawxml", "value": raw}


def test_entities_wait_for_activation(slow):
    demo = slow
    arm = demo.arm()
    body = {"location": "westeurope", "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "a@contoso.com", "publisherName": "Contoso"}}
    created = arm.put(svc_path(demo, "apim-new"), body, API)
    resp = arm.put(f"{svc_path(demo, 'apim-new')}/namedValues/x", {"properties": {"displayName": "x", "value": "v"}},
                   API)
    assert error_of(resp) == (409, "Conflict")
    demo.admin.advance(LONG)
    finish(arm, created)
    assert arm.put(f"{svc_path(demo, 'apim-new')}/namedValues/x", {"properties": {
        "displayName": "x", "value": "v"}}, API).status_code == 201


def test_check_name_availability(demo):
    arm = demo.arm()
    url = f"/subscriptions/{demo.subscription_id}/providers/Microsoft.ApiManagement/checkNameAvailability"
    taken = arm.request("POST", url, API, {"name": SVC}).json()
    assert taken["nameAvailable"] is False and taken["reason"] == "AlreadyExists"
    assert arm.request("POST", url, API, {"name": "apim-free"}).json()["nameAvailable"] is True


# ======================================================================================================================
# secrets never leak; the oldest supported SDK drives the same long-running operations
# ======================================================================================================================

def test_secret_values_never_reach_responses_state_or_request_log(demo):
    arm = demo.arm()
    nv_secret, conn = "nv-s3cr3t-4f1e", "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=k3y-9d2c="
    blob = pfx.make_pfx_b64("inline.contoso.com", password="pfx-pa55")
    finish(arm, arm.put(f"{svc_path(demo)}/namedValues/s", {"properties": {
        "displayName": "s", "value": nv_secret, "secret": True}}, API))
    arm.put(f"{svc_path(demo)}/loggers/eh", {"properties": {"loggerType": "azureEventHub", "credentials": {
        "name": "apim-logs", "connectionString": conn}}}, API)
    patch(arm, demo, {"properties": {"hostnameConfigurations": [{"type": "Proxy", "hostName": "inline.contoso.com",
                                                                 "encodedCertificate": blob,
                                                                 "certificatePassword": "pfx-pa55"}]}})
    seen = [arm.get(svc_path(demo), API).text, arm.get(f"{svc_path(demo)}/namedValues", API).text,
            arm.get(f"{svc_path(demo)}/loggers", API).text, str(demo.admin.state()), str(demo.admin.requests())]
    for text in seen:
        for secret in (nv_secret, "k3y-9d2c", blob[:40], "pfx-pa55"):
            assert secret not in text
    assert arm.request("POST", f"{svc_path(demo)}/namedValues/s/listValue", API).json()["value"] == nv_secret


OLD_SDK = Path(os.environ.get("AZURE_APIM_OLD_SDK_PYTHON")
               or Path(__file__).resolve().parents[2] / ".venv-compat" / "bin" / "python")
OLD_SDK_SCRIPT = r'''
import json, sys
from azure.identity import ClientSecretCredential
from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.apimanagement.models import (ApiManagementServiceResource, ApiManagementServiceSkuProperties,
    ApiManagementServiceIdentity, ApiManagementServiceUpdateParameters, NamedValueCreateContract)
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties
info = json.loads(sys.argv[1]); base, ca = info["base_url"], info["ca_bundle"]
cred = ClientSecretCredential(info["tenant_id"], info["client_id"], info["client_secret"], authority=base,
                              disable_instance_discovery=True, connection_verify=ca)
kw = {"base_url": base, "credential_scopes": [base + "/.default"], "connection_verify": ca, "polling_interval": 0.01}
apim = ApiManagementClient(cred, info["subscription_id"], **kw)
ops, out = apim.api_management_service, {}
out["create"] = ops.begin_create_or_update("rg-apim-demo", "apim-old", ApiManagementServiceResource(
    location="westeurope", publisher_email="a@contoso.com", publisher_name="x",
    sku=ApiManagementServiceSkuProperties(name="Developer", capacity=1),
    identity=ApiManagementServiceIdentity(type="SystemAssigned"))).result().provisioning_state
out["update"] = ops.begin_update("rg-apim-demo", "apim-old", ApiManagementServiceUpdateParameters(
    publisher_name="y")).result().publisher_name
out["named_value"] = apim.named_value.begin_create_or_update("rg-apim-demo", "apim-old", "nv",
    NamedValueCreateContract(display_name="nv", value="v")).result().value
ops.begin_delete("rg-apim-demo", "apim-old").result()
kv = KeyVaultManagementClient(cred, info["subscription_id"], **kw)
vault = kv.vaults.begin_create_or_update("rg-apim-demo", "kv-old", VaultCreateOrUpdateParameters(
    location="westeurope", properties=VaultProperties(tenant_id=info["tenant_id"], sku=Sku(family="A", name="standard"),
    access_policies=[]))).result()
out["vault"] = [vault.properties.provisioning_state, vault.properties.enable_rbac_authorization]
print(json.dumps(out))
'''


@pytest.mark.skipif(not OLD_SDK.exists(),
                    reason="the oldest-SDK virtualenv is missing (make compat-venv, or AZURE_APIM_OLD_SDK_PYTHON)")
def test_oldest_supported_sdk_runs_the_long_running_operations(demo):
    info = {"base_url": demo.base_url, "ca_bundle": demo.ca_bundle, "tenant_id": demo.tenant_id,
            "subscription_id": demo.subscription_id, "client_id": demo.client_id, "client_secret": demo.client_secret}
    run = subprocess.run([str(OLD_SDK), "-c", OLD_SDK_SCRIPT, json.dumps(info)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)
    assert out == {"create": "Succeeded", "update": "y", "named_value": "v", "vault": ["Succeeded", False]}
    assert error_of(demo.arm().get(svc_path(demo, "apim-old"), API)) == (404, "ResourceNotFound")


def test_a_rejected_update_leaves_no_orphan_identity(demo):
    arm = demo.arm()
    before = set(demo.admin.state()["principals"])
    resp = arm.request("PATCH", svc_path(demo), API, {"identity": {"type": "SystemAssigned"}, **hostname()})
    assert error_of(resp) == (400, "InvalidOperation")  # the brand-new identity cannot have Key Vault access yet
    assert set(demo.admin.state()["principals"]) == before
    assert arm.get(svc_path(demo), API).json()["identity"] is None
