"""The tenant's second subscription and paged API Management service lists (fleets)."""

from __future__ import annotations

APIM = "2022-08-01"
LIST = "/providers/Microsoft.ApiManagement/service"


def _world(count: int) -> dict:
    services = [{"name": "apim-p-{0:02d}".format(i)} for i in range(count)]
    return {"resource_groups": [{"name": "rg-one", "apim_services": services[:count // 2]}],
            "second_subscription": {"resource_groups": [{"name": "rg-two", "apim_services": services[count // 2:],
                                                         "user_assigned_identities": [{"name": "id-two"}]}]}}


def test_list_by_subscription_is_paged_with_next_links(local_azure, world):
    world(_world(10), list_page_size=2)
    client = local_azure.arm()
    names, pages = [], 0
    url = "/subscriptions/{0}{1}".format(local_azure.subscription_id, LIST)
    page = client.get(url, APIM).json()
    while True:
        pages += 1
        names += [s["name"] for s in page["value"]]
        assert len(page["value"]) <= 2
        if not page.get("nextLink"):
            break
        assert "$skiptoken=" in page["nextLink"]
        page = client.get(page["nextLink"]).json()  # the link carries api-version and $skiptoken
    assert names == ["apim-p-{0:02d}".format(i) for i in range(5)] and pages == 3


def test_second_subscription_holds_its_own_resources(local_azure, world):
    world(_world(4))
    client = local_azure.arm()
    second = local_azure.second_subscription_id
    listed = client.get("/subscriptions/{0}{1}".format(second, LIST), APIM).json()["value"]
    assert [s["name"] for s in listed] == ["apim-p-02", "apim-p-03"]
    assert all(s["id"].startswith("/subscriptions/" + second + "/resourceGroups/rg-two/") for s in listed)
    # A write addressed to the second subscription lands there, with ids in it.
    path = "/subscriptions/{0}/resourceGroups/rg-two/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-new"
    created = client.put(path.format(second), {"location": "westeurope"}, "2023-01-31")
    assert created.status_code == 201 and created.json()["id"].startswith("/subscriptions/" + second)
    assert client.get("/subscriptions/{0}/resourceGroups/rg-two".format(local_azure.subscription_id),
                      "2022-09-01").status_code == 404
    unknown = client.get("/subscriptions/00000000-0000-0000-0000-0000000000aa" + LIST, APIM)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "SubscriptionNotFound"
