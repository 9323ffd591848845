"""Microsoft.Network: VNets/subnets (PUT replaces as sent), NSGs and rules, the RP's async-operation semantics."""

from __future__ import annotations

import pytest

API = "2024-05-01"


@pytest.fixture
def net(local_azure, world):
    world("demo")
    base = f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.Network"
    return {"vnet": f"{base}/virtualNetworks/vnet-apim", "subnet": f"{base}/virtualNetworks/vnet-apim/subnets/snet-apim",
            "nsg": f"{base}/networkSecurityGroups/nsg-apim", "base": base}


def test_vnet_embeds_subnets_and_nsg_lists_users(local_azure, net):
    client = local_azure.arm()
    vnet = client.get(net["vnet"], API).json()
    assert [s["name"] for s in vnet["properties"]["subnets"]] == ["snet-apim"]
    nsg = client.get(net["nsg"], API).json()["properties"]
    assert [r["name"] for r in nsg["securityRules"]] == ["AllowHttpsInbound"]
    assert len(nsg["defaultSecurityRules"]) == 6
    assert [s["id"] for s in nsg["subnets"]] == [net["subnet"]]


def test_subnet_put_replaces_as_sent_and_completes_async(local_azure, net):
    client = local_azure.arm()
    current = client.get(net["subnet"], API).json()
    # send back only the address prefix: the RP drops the service endpoint and the links
    resp = client.put(net["subnet"], {"properties": {"addressPrefix": current["properties"]["addressPrefix"]}}, API)
    assert resp.status_code == 200
    assert resp.json()["properties"]["provisioningState"] == "Updating"
    status_url = resp.headers["Azure-AsyncOperation"]
    assert client.get(status_url).json()["status"] == "InProgress"
    local_azure.admin.advance(5)
    assert client.get(status_url).json()["status"] == "Succeeded"
    after = client.get(net["subnet"], API).json()["properties"]
    assert after["provisioningState"] == "Succeeded"
    assert after["serviceEndpoints"] == [] and "networkSecurityGroup" not in after and "routeTable" not in after


def test_subnet_put_preserving_existing_adds_endpoint(local_azure, net):
    client = local_azure.arm()
    props = client.get(net["subnet"], API).json()["properties"]
    props["serviceEndpoints"].append({"service": "Microsoft.KeyVault"})
    resp = client.put(net["subnet"], {"properties": props}, API)
    assert resp.status_code == 200
    after = client.get(net["subnet"], API).json()["properties"]
    assert [e["service"] for e in after["serviceEndpoints"]] == ["Microsoft.Storage", "Microsoft.KeyVault"]
    assert after["networkSecurityGroup"]["id"] == net["nsg"]


def test_subnet_link_to_missing_nsg_is_invalid_reference(local_azure, net):
    client = local_azure.arm()
    resp = client.put(net["subnet"], {"properties": {"addressPrefix": "10.10.1.0/24",
                                                     "networkSecurityGroup": {"id": net["nsg"] + "-nope"}}}, API)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidResourceReference"


def test_security_rule_child_put_get_delete_and_conflict(local_azure, net):
    client = local_azure.arm()
    rule = {"properties": {"priority": 210, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                           "sourceAddressPrefix": "ApiManagement", "destinationAddressPrefix": "VirtualNetwork",
                           "destinationPortRange": "3443"}}
    created = client.put(f"{net['nsg']}/securityRules/AllowApimManagement", rule, API)
    assert created.status_code == 201 and "Azure-AsyncOperation" in created.headers
    names = [r["name"] for r in client.get(net["nsg"], API).json()["properties"]["securityRules"]]
    assert names == ["AllowHttpsInbound", "AllowApimManagement"]  # the existing rule survives
    clash = dict(rule["properties"], priority=200)
    conflict = client.put(f"{net['nsg']}/securityRules/Clash", {"properties": clash}, API)
    assert conflict.status_code == 400 and conflict.json()["error"]["code"] == "SecurityRuleConflict"
    bad = client.put(f"{net['nsg']}/securityRules/Bad", {"properties": dict(clash, priority=5000)}, API)
    assert bad.json()["error"]["code"] == "SecurityRuleInvalidPriority"
    deleted = client.delete(f"{net['nsg']}/securityRules/AllowApimManagement", API)
    assert deleted.status_code == 202
    local_azure.admin.advance(5)
    assert client.get(f"{net['nsg']}/securityRules/AllowApimManagement", API).status_code == 404


def test_nsg_in_use_cannot_be_deleted(local_azure, net):
    resp = local_azure.arm().delete(net["nsg"], API)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InUseNetworkSecurityGroupCannotBeDeleted"


def test_vnet_put_replaces_subnets(local_azure, net):
    client = local_azure.arm()
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]},
                                                     "subnets": [{"name": "a", "properties": {"addressPrefix": "10.20.1.0/24"}}]}}
    created = client.put(f"{net['base']}/virtualNetworks/vnet-new", body, API)
    assert created.status_code == 201
    local_azure.admin.advance(5)
    vnet = client.get(f"{net['base']}/virtualNetworks/vnet-new", API).json()
    assert vnet["properties"]["provisioningState"] == "Succeeded"
    assert [s["name"] for s in vnet["properties"]["subnets"]] == ["a"]


def test_subnet_links_a_nat_gateway(local_azure, world):
    world({"resource_groups": [{"name": "rg-n", "nat_gateways": [{"name": "ng"}], "virtual_networks": [
        {"name": "v", "subnets": [{"name": "s", "address_prefix": "10.0.1.0/24", "nat_gateway": "ng"}]}]}]})
    client = local_azure.arm()
    base = f"{local_azure.rg_id('rg-n')}/providers/Microsoft.Network"
    subnet = client.get(f"{base}/virtualNetworks/v/subnets/s", API).json()["properties"]
    assert subnet["natGateway"]["id"] == f"{base}/natGateways/ng"
    gateway = client.get(f"{base}/natGateways/ng", API).json()
    assert [s["id"] for s in gateway["properties"]["subnets"]] == [f"{base}/virtualNetworks/v/subnets/s"]
