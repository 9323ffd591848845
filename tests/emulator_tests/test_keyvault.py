"""Microsoft.KeyVault in the local Azure: the behaviours the collection relies on, through the real SDK and raw ARM."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
from azure.core.exceptions import HttpResponseError

from emulator import pfx

API = "2026-02-01"
RG = "rg-apim-demo"


@pytest.fixture
def demo(local_azure: Any, world: Callable) -> Any:
    world("demo", time_scale=0.01)
    return local_azure


@pytest.fixture
def kv_client(demo: Any) -> Any:
    from azure.mgmt.keyvault import KeyVaultManagementClient

    return KeyVaultManagementClient(demo.credential(), demo.subscription_id, base_url=demo.base_url,
                                    credential_scopes=[f"{demo.base_url}/.default"],
                                    connection_verify=demo.ca_bundle, polling_interval=0.01)


def vault_path(azure: Any, name: str, rg: str = RG) -> str:
    return f"{azure.rg_id(rg)}/providers/Microsoft.KeyVault/vaults/{name}"


def new_vault(azure: Any, **props: Any) -> dict:
    return {"location": "westeurope", "properties": {"tenantId": azure.tenant_id,
                                                     "sku": {"family": "A", "name": "standard"}, **props}}


def policy(azure: Any, object_id: str, **perms: list) -> dict:
    return {"tenantId": azure.tenant_id, "objectId": object_id, "permissions": perms}


def test_create_registers_dns_then_succeeds_through_the_sdk_poller(demo, kv_client):
    from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties

    params = VaultCreateOrUpdateParameters(location="westeurope", properties=VaultProperties(
        tenant_id=demo.tenant_id, sku=Sku(family="A", name="standard"), access_policies=[]))
    first = demo.arm().put(vault_path(demo, "kv-raw"), new_vault(demo), API)
    assert first.status_code == 200
    assert first.json()["properties"]["provisioningState"] == "RegisteringDns"
    assert "Azure-AsyncOperation" not in first.headers and "Location" not in first.headers
    vault = kv_client.vaults.begin_create_or_update(RG, "KV-Sdk", params).result()
    assert vault.properties.provisioning_state == "Succeeded"
    assert vault.properties.vault_uri == "https://kv-sdk.vault.azure.net/"


@pytest.mark.parametrize("api_version, rbac", [("2026-02-01", True), ("2026-05-15", True), ("2025-05-01", False),
                                               ("2023-07-01", False)])
def test_permission_model_default_depends_on_api_version(demo, api_version, rbac):
    arm = demo.arm()
    created = arm.put(vault_path(demo, "kv-default"), new_vault(demo), api_version)
    assert created.json()["properties"]["enableRbacAuthorization"] is rbac
    # an update never flips the model implicitly, whatever api-version it uses
    updated = arm.put(vault_path(demo, "kv-default"), new_vault(demo), "2026-05-15")
    assert updated.json()["properties"]["enableRbacAuthorization"] is rbac


def test_network_acls_are_normalised(demo):
    acls = {"bypass": "AzureServices", "defaultAction": "Deny",
            "ipRules": [{"value": "203.0.113.7"}, {"value": "198.51.100.0/24"}],
            "virtualNetworkRules": [{"id": f"{demo.rg_id(RG)}/providers/Microsoft.Network/virtualNetworks/"
                                           "vnet-apim/subnets/snet-apim"}]}
    body = demo.arm().put(vault_path(demo, "kv-acl"), new_vault(demo, networkAcls=acls), API).json()
    out = body["properties"]["networkAcls"]
    assert [r["value"] for r in out["ipRules"]] == ["203.0.113.7/32", "198.51.100.0/24"]
    assert out["virtualNetworkRules"][0]["id"] == acls["virtualNetworkRules"][0]["id"].lower()


def test_put_replaces_access_policies_patch_keeps_them(demo):
    arm = demo.arm()
    path = vault_path(demo, "kv-contoso-demo")
    current = arm.get(path, API).json()
    assert len(current["properties"]["accessPolicies"]) == 1  # the ops-team policy of the demo world
    patched = arm.request("PATCH", path, API, {"properties": {"enabledForDeployment": True}}).json()
    assert len(patched["properties"]["accessPolicies"]) == 1
    replaced = arm.put(path, new_vault(demo, enableRbacAuthorization=False), API).json()
    assert replaced["properties"]["accessPolicies"] == []  # the template-redeploy pitfall


def test_access_policy_add_merges_remove_trims_replace_swaps(demo):
    arm = demo.arm()
    path = vault_path(demo, "kv-contoso-demo")
    oid = "3c0d6f2e-5b1a-4f57-9d58-6a7f1b2c3d4e"

    def op(kind: str, **perms: list) -> list[dict]:
        resp = arm.put(f"{path}/accessPolicies/{kind}", {"properties": {"accessPolicies": [policy(demo, oid,
                                                                                                  **perms)]}}, API)
        assert resp.status_code == 200, resp.text
        assert resp.json()["type"] == "Microsoft.KeyVault/vaults/accessPolicies"
        return [p for p in arm.get(path, API).json()["properties"]["accessPolicies"] if p["objectId"] == oid]

    assert op("add", secrets=["get"])[0]["permissions"]["secrets"] == ["get"]
    merged = op("add", secrets=["list", "Get"], certificates=["get"])[0]["permissions"]
    assert merged["secrets"] == ["get", "list"] and merged["certificates"] == ["get"]
    trimmed = op("remove", secrets=["list"])[0]["permissions"]
    assert trimmed["secrets"] == ["get"] and trimmed["certificates"] == ["get"]
    assert op("replace", secrets=["set"])[0]["permissions"] == {"secrets": ["set"]}
    assert op("remove", secrets=["set"]) == []  # nothing left: the entry goes
    others = arm.get(path, API).json()["properties"]["accessPolicies"]
    assert len(others) == 1  # the foreign ops-team policy survived every operation


@pytest.mark.parametrize("kind, perms, code", [
    ("add", {"secrets": ["read"]}, 400),
    ("add", {"widgets": ["get"]}, 400),
    ("merge", {"secrets": ["get"]}, 400),
])
def test_access_policy_input_is_validated(demo, kind, perms, code):
    resp = demo.arm().put(f"{vault_path(demo, 'kv-contoso-demo')}/accessPolicies/{kind}",
                          {"properties": {"accessPolicies": [policy(demo, "3c0d6f2e-5b1a-4f57-9d58-6a7f1b2c3d4e",
                                                                    **perms)]}}, API)
    assert resp.status_code == code
    assert resp.json()["error"]["code"] == "BadRequest"


def test_access_policy_limit_is_1024(demo):
    arm = demo.arm()
    path = vault_path(demo, "kv-contoso-demo")
    many = [policy(demo, f"00000000-0000-0000-0000-{i:012d}", secrets=["get"]) for i in range(1023)]
    assert arm.put(f"{path}/accessPolicies/add", {"properties": {"accessPolicies": many}}, API).status_code == 200
    one_more = [policy(demo, "10000000-0000-0000-0000-000000000000", secrets=["get"])]
    resp = arm.put(f"{path}/accessPolicies/add", {"properties": {"accessPolicies": one_more}}, API)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "AccessPolicyLimitExceeded"


def test_parallel_writes_to_one_vault_conflict(demo, monkeypatch):
    # a wider commit window than the default keeps the overlap certain on a busy machine
    monkeypatch.setitem(demo.server.world.config, "keyvault_write_lock_ms", 250.0)
    path = vault_path(demo, "kv-contoso-demo")
    barrier = threading.Barrier(6, timeout=60)
    statuses: list[int] = []
    bodies: list[dict] = []

    def add(i: int) -> None:
        arm = demo.arm()
        arm.token()
        barrier.wait()
        resp = arm.put(f"{path}/accessPolicies/add", {"properties": {"accessPolicies": [
            policy(demo, f"20000000-0000-0000-0000-{i:012d}", secrets=["get"])]}}, API)
        statuses.append(resp.status_code)
        bodies.append(resp.json())

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 409 in statuses and 200 in statuses, statuses
    conflict = next(b for b, s in zip(bodies, statuses) if s == 409)
    assert conflict["error"]["code"] == "ConflictError"
    stored = demo.arm().get(path, API).json()["properties"]["accessPolicies"]
    assert len(stored) == 1 + statuses.count(200)  # the rejected writes changed nothing


def test_conflict_can_be_forced_by_a_fault_rule_and_the_sdk_sees_it(demo, kv_client):
    from azure.mgmt.keyvault.models import (AccessPolicyEntry, Permissions, VaultAccessPolicyParameters,
                                            VaultAccessPolicyProperties)

    demo.admin.add_fault(method="PUT", path="accessPolicies/add", status=409, times=1, body={"error": {
        "code": "ConflictError", "message": "A conflict occurred that prevented the operation from completing."}})
    params = VaultAccessPolicyParameters(properties=VaultAccessPolicyProperties(access_policies=[
        AccessPolicyEntry(tenant_id=demo.tenant_id, object_id="3c0d6f2e-5b1a-4f57-9d58-6a7f1b2c3d4e",
                          permissions=Permissions(secrets=["get"]))]))
    with pytest.raises(HttpResponseError) as err:
        kv_client.vaults.update_access_policy(RG, "kv-contoso-demo", "add", params)
    assert err.value.status_code == 409 and err.value.error.code == "ConflictError"
    assert kv_client.vaults.update_access_policy(RG, "kv-contoso-demo", "add", params).properties.access_policies


def test_management_plane_secrets_never_return_the_value_and_version_on_write(demo, kv_client):
    arm = demo.arm()
    path = f"{vault_path(demo, 'kv-contoso-demo')}/secrets/new-cert"
    blob = pfx.make_pfx_b64("new.contoso.com")
    first = arm.put(path, {"properties": {"value": blob, "contentType": pfx.PKCS12_CONTENT_TYPE}}, API)
    assert first.status_code == 201
    second = arm.put(path, {"properties": {"value": blob, "contentType": pfx.PKCS12_CONTENT_TYPE}}, API)
    assert second.status_code == 200
    for body in (first.json(), second.json(), arm.get(path, API).json()):
        assert "value" not in body["properties"] and blob not in str(body)
        assert body["properties"]["contentType"] == pfx.PKCS12_CONTENT_TYPE
        assert body["properties"]["secretUri"] == "https://kv-contoso-demo.vault.azure.net/secrets/new-cert"
    v1 = first.json()["properties"]["secretUriWithVersion"]
    v2 = second.json()["properties"]["secretUriWithVersion"]
    assert v1 != v2 and v2.startswith(second.json()["properties"]["secretUri"] + "/")
    listed = {s.name: s for s in kv_client.secrets.list(RG, "kv-contoso-demo")}
    assert {"api-contoso-com", "backend-api-key", "new-cert"} <= set(listed)
    assert listed["api-contoso-com"].properties.value is None
    missing = arm.put(f"{vault_path(demo, 'kv-contoso-demo')}/secrets/no-value", {"properties": {}}, API)
    assert missing.status_code == 400


def test_unknown_vault_and_resource_group_answer_like_arm(demo):
    arm = demo.arm()
    assert arm.get(vault_path(demo, "kv-nope"), API).json()["error"]["code"] == "ResourceNotFound"
    assert arm.get(vault_path(demo, "kv-x", rg="rg-nope"), API).json()["error"]["code"] == "ResourceGroupNotFound"
    bad = arm.get(vault_path(demo, "kv-contoso-demo"), "2099-01-01")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "NoRegisteredProviderFound"


def test_resources_list_filters_on_type_and_name(demo):
    """Resources_List with `resourceType eq ... and name eq ...` (how the collection finds a vault by name alone)."""
    path = f"/subscriptions/{demo.subscription_id}/resources"

    def listed(flt: str) -> Any:
        return demo.arm().get(path, "2022-09-01", params={"$filter": flt})

    found = listed("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'KV-CONTOSO-DEMO'").json()["value"]
    assert [v["id"].lower() for v in found] == [vault_path(demo, "kv-contoso-demo").lower()]
    assert set(found[0]) <= {"id", "name", "type", "location", "tags"}
    assert listed("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'kv-gone'").json()["value"] == []
    bad = listed("substringof('kv', name)")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidFilterInQueryString"
