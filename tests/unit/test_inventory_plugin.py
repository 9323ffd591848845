"""The apim_services inventory plugin: filters, hostvars, constructed groups and the cache, with the Azure list
replaced by a fake (the integration tests run it against the local Azure).

This file sits in tests/unit/ rather than tests/unit/plugins/ on purpose: it imports ansible's controller code
(ansible.constants), after which, in the same process, warnings of modules run in-process are no longer collected by
ansible.module_utils; the module tests under plugins/ assert on those warnings, so they must run first.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.azure_apim.identity.plugins.doc_fragments.azure import ModuleDocFragment

PLUGIN_MODULE = "ansible_collections.azure_apim.identity.plugins.inventory.apim_services"


def plugin_module() -> Any:
    """The plugin's Python module, imported when a test runs, never at collection time (see the docstring)."""
    return importlib.import_module(PLUGIN_MODULE)


SUB1, SUB2 = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
UAI = "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-b".format(SUB1)


def service(name: str, group: str = "rg-a", tags: Dict[str, str] = None, identity: Dict[str, Any] = None) -> Dict:
    resource_id = "/subscriptions/{0}/resourceGroups/{1}/providers/Microsoft.ApiManagement/service/{2}".format(
        SUB1, group, name)
    return {"id": resource_id,
            "name": name, "resource_group": group, "location": "West Europe", "tags": tags or {},
            "sku": {"name": "Developer", "capacity": 1}, "provisioning_state": "Succeeded",
            "gateway_url": "https://{0}.azure-api.net".format(name),
            "identity": identity or {"type": "None", "principal_id": None, "tenant_id": None,
                                     "user_assigned_identities": {}},
            "hostname_configurations": [{"type": "Proxy", "host_name": name + ".azure-api.net",
                                         "certificate_source": "BuiltIn", "certificate": None}]}


@pytest.mark.parametrize("groups, tags, expected", [
    (None, None, True),
    (["RG-A"], None, True),
    (["rg-b"], None, False),
    (None, {"env": "prod"}, True),
    (None, {"env": "test"}, False),
    (None, {"env": ""}, True),
    (None, {"env": None}, True),
    (None, {"owner": ""}, False),
    (["rg-a"], {"env": "prod", "team": "x"}, False),
])
def test_filters(groups, tags, expected):
    assert plugin_module().wanted(service("s", tags={"env": "prod"}), groups, tags) is expected


def test_identity_summary_lists_user_assigned_by_name():
    summary = plugin_module().identity_summary({
        "type": "SystemAssigned, UserAssigned", "principal_id": "p", "tenant_id": "t",
        "user_assigned_identities": {UAI: {"client_id": "c", "principal_id": "up"}}})
    assert summary == {"type": "SystemAssigned, UserAssigned", "principal_id": "p", "tenant_id": "t",
                       "user_assigned": [{"id": UAI, "name": "id-b", "client_id": "c", "principal_id": "up"}]}


def test_hostname_summary_keeps_expiry_only():
    entry = plugin_module().hostname_summary({
        "type": "Proxy", "host_name": "api.contoso.com", "certificate_source": "KeyVault",
        "key_vault_id": "https://kv/secrets/c", "identity_client_id": None,
        "certificate": {"expiry": "2027-01-01T00:00:00", "thumbprint": "AB", "subject": "CN=x"}})
    assert entry["certificate_expiry"] == "2027-01-01T00:00:00"
    assert "certificate" not in entry and "thumbprint" not in entry


def test_service_hostvars_names_the_subscription():
    assert plugin_module().service_hostvars(service("s"), SUB2)["subscription_id"] == SUB2


class FakeServices:
    """ApimServices stand-in: services per subscription, and a count of list calls."""

    by_subscription: Dict[str, List[Dict]] = {}
    calls: List[str] = []

    def __init__(self, connection: Any) -> None:
        self.subscription_id = connection.subscription_id

    def list_subscription(self) -> List[Dict]:
        FakeServices.calls.append(self.subscription_id)
        return FakeServices.by_subscription.get(self.subscription_id, [])


@pytest.fixture
def fake_azure(monkeypatch):
    monkeypatch.setattr(plugin_module(), "ApimServices", FakeServices)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUB1)
    for name in ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT", "AZURE_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    FakeServices.by_subscription = {
        SUB1: [service("apim-a"), service("apim-b", tags={"env": "prod"}, identity={
            "type": "SystemAssigned", "principal_id": "p", "tenant_id": "t", "user_assigned_identities": {}})],
        SUB2: [service("apim-c", group="rg-c", tags={"env": "prod"})],
    }
    FakeServices.calls = []
    return FakeServices


def _options() -> Dict[str, Any]:
    """The plugin's documented options with its fragments (what ansible's loader registers for it)."""
    from ansible.plugins.loader import fragment_loader

    options = dict(yaml.safe_load(plugin_module().DOCUMENTATION)["options"])
    for name in ("constructed", "inventory_cache"):
        options.update(yaml.safe_load(fragment_loader.get(name).DOCUMENTATION)["options"])
    options.update(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
    return options


def load_plugin() -> Any:
    """The plugin as ansible's loader would hand it out (this process has no collection loader installed)."""
    from ansible import constants as C

    module = plugin_module()
    C.config.initialize_plugin_configuration_definitions("inventory", module.InventoryModule.NAME, _options())
    plugin = module.InventoryModule()
    plugin._load_name = module.InventoryModule.NAME
    return plugin


def parse(tmp_path: Path, options: Dict[str, Any], cache: bool = True) -> Any:
    source = tmp_path / "fleet.apim_services.yml"
    source.write_text(yaml.safe_dump({"plugin": "azure_apim.identity.apim_services", **options}), encoding="utf-8")
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader

    plugin = load_plugin()
    assert plugin.verify_file(str(source))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(source), cache=cache)
    if options.get("cache"):
        plugin.update_cache_if_changed()  # what InventoryManager does after a source was parsed
    return inventory


def test_default_subscription_and_connection_vars(fake_azure, tmp_path):
    inventory = parse(tmp_path, {})
    assert sorted(inventory.hosts) == ["apim-a", "apim-b"]
    assert fake_azure.calls == [SUB1]
    variables = inventory.get_host("apim-b").vars
    assert variables["ansible_connection"] == "local"
    assert variables["apim_identity"]["principal_id"] == "p"
    assert variables["apim_subscription_id"] == SUB1


def test_two_subscriptions_one_list_each_with_groups(fake_azure, tmp_path):
    inventory = parse(tmp_path, {"subscriptions": [SUB1, SUB2], "tags": {"env": "prod"}, "connection": "",
                                 "hostvar_prefix": "svc_",
                                 "keyed_groups": [{"key": "svc_resource_group", "prefix": "rg"}],
                                 "groups": {"system_identity": "svc_identity.principal_id is not none"}})
    assert fake_azure.calls == [SUB1, SUB2]
    assert sorted(inventory.hosts) == ["apim-b", "apim-c"]
    assert sorted(h.name for h in inventory.groups["rg_rg_c"].get_hosts()) == ["apim-c"]
    assert [h.name for h in inventory.groups["system_identity"].get_hosts()] == ["apim-b"]
    assert "ansible_connection" not in inventory.get_host("apim-c").vars


def test_cache_is_used_when_allowed(fake_azure, tmp_path):
    options = {"cache": True, "cache_plugin": "jsonfile", "cache_connection": str(tmp_path / "c")}
    parse(tmp_path, options, cache=False)  # refresh: lists and fills the cache
    parse(tmp_path, options, cache=True)
    assert fake_azure.calls == [SUB1]


@pytest.mark.parametrize("name, ok", [("x.apim_services.yml", True), ("apim_services.yaml", True),
                                      ("hosts.yml", False), ("x.apim_services.json", False)])
def test_verify_file_names(tmp_path, name, ok):
    path = tmp_path / name
    path.write_text("plugin: azure_apim.identity.apim_services\n", encoding="utf-8")
    assert load_plugin().verify_file(str(path)) is ok
