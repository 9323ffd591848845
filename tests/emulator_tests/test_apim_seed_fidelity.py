"""Seeded API Management services read like ARM's: keys the real service always returns are present, even as null.

azure.azcollection's azure_rm_apimanagementservice_info indexes `identity` directly and failed with KeyError on a
seeded service without identity (found by `make bench-peer`).
"""

from __future__ import annotations

API = "2022-08-01"


def _service_path(azure, name, rg="rg-apim-demo"):
    return f"{azure.rg_id(rg)}/providers/Microsoft.ApiManagement/service/{name}"


def test_seeded_service_without_identity_has_null_identity_and_zones(local_azure, world):
    world("demo")
    body = local_azure.arm().get(_service_path(local_azure, "apim-contoso-demo"), API).json()
    assert "identity" in body and body["identity"] is None
    assert "zones" in body and body["zones"] is None
    assert "privateEndpointConnections" in body["properties"]


def test_seeded_service_with_identity_keeps_it(local_azure, world):
    world({"resource_groups": [{"name": "rg-x", "apim_services": [
        {"name": "apim-x", "identity": {"type": "SystemAssigned"}}]}]})
    body = local_azure.arm().get(_service_path(local_azure, "apim-x", rg="rg-x"), API).json()
    assert body["identity"]["type"] == "SystemAssigned" and body["identity"]["principalId"]
    assert "zones" in body


def test_seeded_and_created_services_have_the_same_top_level_keys(local_azure, world):
    world("demo")
    arm = local_azure.arm()
    seeded = arm.get(_service_path(local_azure, "apim-contoso-demo"), API).json()
    created = arm.put(_service_path(local_azure, "apim-new"), {
        "location": "westeurope", "sku": {"name": "Developer", "capacity": 1},
        "properties": {"publisherEmail": "a@contoso.com", "publisherName": "Contoso"}}, API).json()
    assert set(created) - {"etag"} <= set(seeded)
