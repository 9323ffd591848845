"""Seeding an API Management service deployed in a virtual network (used by the Key Vault network prerequisites)."""

from __future__ import annotations


def test_apim_service_seeded_in_a_subnet(local_azure, world):
    world({"resource_groups": [{"name": "rg-net", "virtual_networks": [
        {"name": "vnet-a", "subnets": [{"name": "snet-a", "address_prefix": "10.0.1.0/24"}]}],
        "apim_services": [{"name": "apim-vnet", "virtual_network": {"type": "Internal", "subnet": "vnet-a/snet-a"}},
                          {"name": "apim-plain"}]}]})
    base = local_azure.rg_id("rg-net") + "/providers/Microsoft.ApiManagement/service/"
    props = local_azure.arm().get(base + "apim-vnet", "2024-05-01").json()["properties"]
    assert props["virtualNetworkType"] == "Internal"
    assert props["virtualNetworkConfiguration"]["subnetResourceId"] == (
        local_azure.rg_id("rg-net") + "/providers/Microsoft.Network/virtualNetworks/vnet-a/subnets/snet-a")
    plain = local_azure.arm().get(base + "apim-plain", "2024-05-01").json()["properties"]
    assert plain["virtualNetworkType"] == "None" and plain["virtualNetworkConfiguration"] is None
