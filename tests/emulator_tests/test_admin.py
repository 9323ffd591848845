"""The admin interface: reset, seeding, state, the request log (masked), fault rules, latency and the clock."""

from __future__ import annotations

import time

import pytest
import requests


def _kv(azure, rg="rg-apim-demo", name="kv-contoso-demo"):
    return f"{azure.rg_id(rg)}/providers/Microsoft.KeyVault/vaults/{name}"


def test_reset_empties_but_keeps_automation_signin(local_azure, world):
    world("demo")
    local_azure.admin.reset()
    state = local_azure.admin.state()
    assert {r["type"] for r in state["resources"].values()} == {"Microsoft.Authorization/roleAssignments"}
    # the credentials printed at start still work after a reset
    assert local_azure.arm().get(f"/subscriptions/{local_azure.subscription_id}/resourceGroups",
                                 "2021-04-01").json() == {"value": []}


def test_demo_world_contents(local_azure, world):
    summary = world("demo")
    state = local_azure.admin.state()
    res = state["resources"]
    rg = local_azure.rg_id("rg-apim-demo").lower()
    for suffix in ("/providers/microsoft.managedidentity/userassignedidentities/id-apim-demo",
                   "/providers/microsoft.network/virtualnetworks/vnet-apim/subnets/snet-apim",
                   "/providers/microsoft.network/networksecuritygroups/nsg-apim",
                   "/providers/microsoft.eventhub/namespaces/evhns-contoso-demo/eventhubs/apim-logs",
                   "/providers/microsoft.servicebus/namespaces/sb-contoso-demo",
                   "/providers/microsoft.storage/storageaccounts/stcontosodemo",
                   "/providers/microsoft.keyvault/vaults/kv-contoso-rbac",
                   "/providers/microsoft.apimanagement/service/apim-contoso-demo"):
        assert rg + suffix in res, suffix
    subnet = res[rg + "/providers/microsoft.network/virtualnetworks/vnet-apim/subnets/snet-apim"]["properties"]
    assert [e["service"] for e in subnet["serviceEndpoints"]] == ["Microsoft.Storage"]
    assert subnet["networkSecurityGroup"]["id"].endswith("/nsg-apim") and subnet["routeTable"]["id"].endswith("/rt-apim")
    apim = res[rg + "/providers/microsoft.apimanagement/service/apim-contoso-demo"]
    assert (apim.get("identity") or {}).get("type") in (None, "None")
    assert apim["properties"]["provisioningState"] == "Succeeded"
    assert apim["properties"]["hostnameConfigurations"][0]["hostName"] == "apim-contoso-demo.azure-api.net"
    vault = res[_kv(local_azure).lower()]["properties"]
    ops = summary["principals"]["ops-team"]["object_id"]
    assert [p["objectId"] for p in vault["accessPolicies"]] == [ops]
    cert = res[_kv(local_azure).lower() + "/secrets/api-contoso-com"]
    assert cert["properties"]["contentType"] == "application/x-pkcs12"
    # the state never shows secret values
    assert cert["_value"] == "***"
    plain = res[_kv(local_azure).lower() + "/secrets/backend-api-key"]
    assert plain["_value"] == "***" and "demo-backend-key" not in str(state)


def test_request_log_masks_secrets_and_lists_writes(local_azure, world):
    world("empty")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-empty")
    client.put(rg, {"location": "westeurope", "tags": {"password": "hunter2"}}, "2021-04-01")
    client.get(rg, "2021-04-01")
    log = local_azure.admin.requests()
    assert "hunter2" not in str(log)
    assert local_azure.client_secret not in str(log)
    token_calls = log.matching("POST", "/oauth2/v2.0/token")
    if token_calls:  # the client may reuse a token from an earlier test
        assert token_calls[0]["body"]["client_secret"] == "***"
    writes = log.writes()
    assert [(e["method"], e["status"]) for e in writes] == [("PUT", 200)]
    assert writes[0]["body"]["tags"]["password"] == "***"
    local_azure.admin.clear_requests()
    assert local_azure.admin.requests() == []


def test_fault_rule_n_times_then_passes(local_azure, world):
    world("empty")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-empty")
    local_azure.admin.add_fault(method="GET", path="/resourceGroups/rg-empty$", status=429, times=2,
                                headers={"Retry-After": "3"})
    first = client.get(rg, "2021-04-01")
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert first.json()["error"]["code"] == "TooManyRequests"
    assert client.get(rg, "2021-04-01").status_code == 429
    assert client.get(rg, "2021-04-01").status_code == 200
    assert local_azure.admin.faults()[0]["hits"] == 2


def test_fault_with_custom_body_and_probability_zero(local_azure, world):
    world("empty")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-empty")
    local_azure.admin.add_fault(path="rg-empty", status=503, probability=0.0)
    assert client.get(rg, "2021-04-01").status_code == 200
    local_azure.admin.clear_faults()
    local_azure.admin.add_fault(path="rg-empty", status=409, body={"error": {"code": "Custom", "message": "m"}})
    assert client.get(rg, "2021-04-01").json()["error"]["code"] == "Custom"


def test_apply_then_fail_applies_the_write(local_azure, world):
    world("empty")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-lost")
    local_azure.admin.add_fault(method="PUT", path="rg-lost", status=500, apply_then_fail=True, times=1)
    assert client.put(rg, {"location": "westeurope"}, "2021-04-01").status_code == 500
    assert local_azure.admin.resource(rg) is not None  # the response was lost, the change was not
    assert client.put(rg, {"location": "westeurope"}, "2021-04-01").status_code == 200


def test_drop_connection(local_azure, world):
    world("empty")
    local_azure.admin.add_fault(path="rg-empty", drop_connection=True, times=1)
    token = local_azure.arm().token()
    url = f"{local_azure.base_url}{local_azure.rg_id('rg-empty')}?api-version=2021-04-01"
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=local_azure.ca_bundle, timeout=10)
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=local_azure.ca_bundle,
                        timeout=10).status_code == 200


def test_latency_is_added(local_azure, world):
    world("empty", latency_ms=300)
    client = local_azure.arm()
    client.token()
    started = time.monotonic()
    client.get(local_azure.rg_id("rg-empty"), "2021-04-01")
    # a lower bound only: the injected delay must be there
    assert time.monotonic() - started >= 0.3
    world("empty")


def test_config_rejects_unknown_keys_and_clock_advances(local_azure, world):
    world()
    with pytest.raises(RuntimeError, match="unknown settings"):
        local_azure.admin.config(nonsense=1)
    before = local_azure.admin.state()["now"]
    local_azure.admin.advance(600)
    assert local_azure.admin.state()["now"] >= before + 600


def test_seed_rejects_bad_world(local_azure, world):
    world()
    with pytest.raises(RuntimeError, match="cannot seed"):
        local_azure.admin.seed({"resource_groups": [{"location": "westeurope"}]})


def test_request_log_masks_federated_assertions(local_azure, world):
    world()
    token = local_azure.admin.federated_token("someone")["token"]
    requests.post(f"{local_azure.base_url}/{local_azure.tenant_id}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": local_azure.client_id, "client_assertion": token,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "scope": f"{local_azure.base_url}/.default"}, verify=local_azure.ca_bundle, timeout=10)
    entry = local_azure.admin.requests().matching("POST", "/oauth2/v2.0/token")[-1]
    assert entry["body"]["client_assertion"] == "***" and token not in str(local_azure.admin.requests())
