"""Microsoft.ManagedIdentity: user-assigned identities and their Entra principals."""

from __future__ import annotations

import pytest


def _path(azure, name, rg="rg-empty"):
    return f"{azure.rg_id(rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


@pytest.mark.parametrize("api, isolation", [("2023-01-31", False), ("2024-11-30", True)])
def test_create_update_get_delete(local_azure, world, api, isolation):
    world("empty")
    client = local_azure.arm()
    created = client.put(_path(local_azure, "id-a"), {"location": "westeurope", "tags": {"a": "1"}}, api)
    assert created.status_code == 201
    props = created.json()["properties"]
    assert props["tenantId"] == local_azure.tenant_id
    assert ("isolationScope" in props) is isolation
    principal = local_azure.admin.state()["principals"][props["principalId"]]
    assert principal["kind"] == "ManagedIdentity" and principal["app_id"] == props["clientId"]
    updated = client.put(_path(local_azure, "id-a"), {"location": "westeurope", "tags": {"b": "2"}}, api)
    assert updated.status_code == 200
    assert updated.json()["properties"]["principalId"] == props["principalId"]  # ids never change
    assert updated.json()["tags"] == {"b": "2"}
    patched = client.request("PATCH", _path(local_azure, "id-a"), api, {"tags": {"c": "3"}}).json()
    assert patched["tags"] == {"c": "3"}
    listed = client.get(f"{local_azure.rg_id('rg-empty')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
                        api).json()["value"]
    assert [i["name"] for i in listed] == ["id-a"]
    assert client.delete(_path(local_azure, "id-a"), api).status_code == 200
    assert client.delete(_path(local_azure, "id-a"), api).status_code == 204
    assert props["principalId"] not in local_azure.admin.state()["principals"]
    missing = client.get(_path(local_azure, "id-a"), api)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ResourceNotFound"


def test_missing_group_and_location(local_azure, world):
    world("empty")
    client = local_azure.arm()
    no_rg = client.put(_path(local_azure, "id-a", rg="rg-nope"), {"location": "westeurope"}, "2023-01-31")
    assert no_rg.status_code == 404 and no_rg.json()["error"]["code"] == "ResourceGroupNotFound"
    no_loc = client.put(_path(local_azure, "id-a"), {}, "2023-01-31")
    assert no_loc.status_code == 400 and no_loc.json()["error"]["code"] == "LocationRequired"
