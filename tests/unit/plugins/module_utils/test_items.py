"""ItemList / AzureApimModule.run_items: list options run item by item in one module process, and the APIM service
memo that lets the items share one read of the service."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._apim import ApimServices
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._items import ItemList
from ansible_collections.azure_apim.identity.plugins.modules import apim_named_value as nv

from ...conftest import SUBSCRIPTION, body_of

SERVICE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-nv"
KV_URI = "https://kv-nv.vault.azure.net/secrets/{0}"


def _service_body():
    return {"id": SERVICE, "name": "apim-nv", "type": "Microsoft.ApiManagement/service", "location": "westeurope",
            "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "a@contoso.com", "publisherName": "Contoso",
                           "provisioningState": "Succeeded"},
            "identity": {"type": "SystemAssigned", "principalId": "pid-1", "tenantId": "tid-1"}}


def test_expand_merges_the_task_options_under_each_item():
    items = ItemList("things", ("name", "colour"), key=lambda p: p["name"])
    merged = items.expand({"things": [{"name": "a", "colour": None}, {"name": "b", "colour": "red"}],
                           "colour": "blue", "group": "g"})
    assert merged == [{"name": "a", "colour": "blue", "group": "g"}, {"name": "b", "colour": "red", "group": "g"}]


def test_expand_refuses_a_key_listed_twice():
    items = ItemList("things", ("name",), key=lambda p: p["name"], noun="thing")
    with pytest.raises(AzureApimError, match="thing 'a' is listed twice in things"):
        items.expand({"things": [{"name": "a"}, {"name": "a"}]})


def test_sub_spec_keeps_types_choices_and_no_log_but_no_defaults():
    spec = {"name": {"type": "str"}, "value": {"type": "str", "no_log": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"}}
    sub = ItemList("things", ("name", "value", "state"), key=lambda p: p["name"]).sub_spec(spec, required=("name",))
    assert sub["type"] == "list" and sub["elements"] == "dict"
    assert sub["options"] == {"name": {"type": "str", "required": True}, "value": {"type": "str", "no_log": True},
                              "state": {"type": "str", "choices": ["present", "absent"]}}


@pytest.fixture
def named_values(transport):
    """A service with no named values; PUT creates them (synchronously), GET reads them."""
    store = {}
    transport.add("GET", r".*/service/apim-nv", lambda req, m: (200, {}, _service_body()))

    def get(req, m):
        name = m.group(1)
        if name not in store:
            return 404, {}, {"error": {"code": "ResourceNotFound", "message": "not found"}}
        return 200, {"ETag": '"E1"'}, store[name]

    def put(req, m):
        name = m.group(1)
        store[name] = {"id": SERVICE + "/namedValues/" + name, "name": name,
                       "type": "Microsoft.ApiManagement/service/namedValues", "properties": body_of(req)["properties"]}
        return 201, {"ETag": '"E1"'}, store[name]

    transport.add("GET", r".*/service/apim-nv/namedValues/([^/]+)", get)
    transport.add("PUT", r".*/service/apim-nv/namedValues/([^/]+)", put)
    return store


def _service_gets(transport):
    return [r for r in transport.requests if r.method == "GET" and r.url.split("?")[0].lower().endswith("/service/apim-nv")]


def test_run_items_creates_each_entry_and_reads_the_service_once(run_module, transport, named_values):
    args = {"resource_group": "rg-apim", "service_name": "apim-nv",
            "named_values": [{"name": n, "key_vault_secret_id": KV_URI.format(n)} for n in ("a", "b", "c")]}
    out = run_module(nv, args)
    assert not out.failed, out.result
    assert out.result["changed"] is True
    assert [e["named_value"]["name"] for e in out.result["named_values"]] == ["a", "b", "c"]
    assert sorted(named_values) == ["a", "b", "c"]
    assert len(_service_gets(transport)) == 1
    assert sorted(out.result["diff"]["after"]) == ["a", "b", "c"]


def test_run_items_in_check_mode_writes_nothing(run_module, transport, named_values):
    args = {"resource_group": "rg-apim", "service_name": "apim-nv",
            "named_values": [{"name": "a", "key_vault_secret_id": KV_URI.format("a")}]}
    out = run_module(nv, args, check_mode=True)
    assert out.result["changed"] is True and named_values == {}
    assert [r.method for r in transport.requests if r.method != "GET" and "oauth2" not in r.url] == []


def test_run_items_stops_at_the_first_failure_and_reports_the_items_before(run_module, transport, named_values):
    args = {"resource_group": "rg-apim", "service_name": "apim-nv",
            "named_values": [{"name": "a", "key_vault_secret_id": KV_URI.format("a")},
                             {"name": "b", "key_vault_secret_id": KV_URI.format("b"), "identity": "id-missing"},
                             {"name": "c", "key_vault_secret_id": KV_URI.format("c")}]}
    out = run_module(nv, args)
    assert out.failed
    assert out.result["msg"].startswith("named value b (item 2 of 3 in named_values): ")
    assert [e["named_value"]["name"] for e in out.result["named_values"]] == ["a"]
    assert sorted(named_values) == ["a"]


def test_name_and_list_are_mutually_exclusive(run_module, named_values):
    out = run_module(nv, {"resource_group": "rg-apim", "service_name": "apim-nv", "name": "x",
                          "named_values": [{"name": "a", "value": "v"}]})
    assert out.failed and "mutually exclusive" in out.result["msg"]


def test_service_memo_is_opt_in_and_cleared_by_writes(make_module, transport):
    transport.add("GET", r".*/service/apim-nv", lambda req, m: (200, {}, _service_body()))
    module = make_module()
    services = ApimServices(module)
    services.get("rg-apim", "apim-nv")
    services.get("rg-apim", "apim-nv", memo=True)
    assert len(_service_gets(transport)) == 1, "the memo served the second read"
    services.get("rg-apim", "apim-nv")
    assert len(_service_gets(transport)) == 2, "a read without memo always goes to Azure"
    services.forget("rg-apim", "apim-nv")
    services.get("rg-apim", "APIM-NV", memo=True)
    assert len(_service_gets(transport)) == 3, "after a write the memo is gone"
