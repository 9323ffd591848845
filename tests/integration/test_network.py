"""apim_subnet_service_endpoint and apim_nsg_outbound_rules: add what Key Vault access needs, keep everything else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integration import kv_worlds
from integration.kv_quartet import run_quartet

SERVICE = {"net_service_name": "apim-kv", "net_service_resource_group": "rg-kv"}


@pytest.fixture
def seeded(world: Any) -> dict[str, Any]:
    return world(kv_worlds.world())


def _subnet(state: dict, local_azure: Any) -> dict:
    sid = local_azure.rg_id("rg-kv") + "/providers/Microsoft.Network/virtualNetworks/vnet-apim/subnets/snet-apim"
    return state["resources"][sid.lower()]["properties"]


def _rules(state: dict, local_azure: Any) -> dict[str, dict]:
    nsg = (local_azure.rg_id("rg-kv") + "/providers/Microsoft.Network/networkSecurityGroups/nsg-apim").lower()
    return {r["name"]: r for key, r in state["resources"].items()
            if key.startswith(nsg + "/securityrules/")}


def test_service_endpoint_added_keeping_links_and_endpoints(local_azure: Any, seeded: dict, playbook: Any) -> None:
    before = _subnet(local_azure.admin.state(), local_azure)
    q = run_quartet(playbook, "network_prereqs", "Service endpoint", SERVICE, tags=("endpoint",))
    after = _subnet(q.reapply.state, local_azure)
    assert [e["service"] for e in after["serviceEndpoints"]] == ["Microsoft.Storage", "Microsoft.KeyVault"]
    for link in ("routeTable", "networkSecurityGroup"):
        assert after[link] == before[link]
    assert after["addressPrefix"] == before["addressPrefix"]
    diff = q.check.task("Service endpoint")["diff"]
    assert [e["service"] for e in diff["before"]["service_endpoints"]] == ["Microsoft.Storage"]
    assert [e["service"] for e in diff["after"]["service_endpoints"]] == ["Microsoft.Storage", "Microsoft.KeyVault"]
    assert "raw" not in q.apply.task("Service endpoint")["subnet"]
    puts = q.apply.requests.matching("PUT", "/subnets/")
    assert len(puts) == 1 and puts[0]["body"]["properties"]["routeTable"]["id"].endswith("/routeTables/rt-apim")

    gone = playbook("network_prereqs", extra_vars={**SERVICE, "net_state": "absent"}, tags=["endpoint"])
    assert gone.rc == 0 and gone.task("Service endpoint")["changed"] is True, gone.explain()
    left = _subnet(gone.state, local_azure)
    assert [e["service"] for e in left["serviceEndpoints"]] == ["Microsoft.Storage"]
    assert left["routeTable"] == before["routeTable"]


def test_nsg_rules_added_keeping_other_rules(local_azure: Any, seeded: dict, playbook: Any) -> None:
    before = _rules(local_azure.admin.state(), local_azure)
    q = run_quartet(playbook, "network_prereqs", "NSG rules", SERVICE, tags=("nsg",))
    after = _rules(q.reapply.state, local_azure)
    for name, rule in before.items():
        assert json.dumps(after[name]["properties"], sort_keys=True) == json.dumps(rule["properties"], sort_keys=True)
    kv = after["AllowApimToAzureKeyVaultOutbound"]["properties"]
    aad = after["AllowApimToAzureActiveDirectoryOutbound"]["properties"]
    assert (kv["destinationAddressPrefix"], kv["destinationPortRange"], kv["direction"]) == (
        "AzureKeyVault", "443", "Outbound")
    assert aad["destinationAddressPrefix"] == "AzureActiveDirectory"
    # 100 is taken by AllowSqlOutbound: the lowest free outbound priorities are chosen
    assert (kv["priority"], aad["priority"]) == (101, 102)
    writes = q.apply.requests.writes()
    assert sorted(e["path"].rsplit("/", 1)[-1] for e in writes) == ["AllowApimToAzureActiveDirectoryOutbound",
                                                                    "AllowApimToAzureKeyVaultOutbound"]
    assert q.check.task("NSG rules")["diff"]["before"] == {"rules": []}
    assert len(q.check.task("NSG rules")["diff"]["after"]["rules"]) == 2

    gone = playbook("network_prereqs", extra_vars={**SERVICE, "net_state": "absent"}, tags=["nsg"])
    assert gone.rc == 0, gone.explain()
    assert set(_rules(gone.state, local_azure)) == set(before)


def test_equivalent_rule_is_adopted_and_explicit_priority_conflict(local_azure: Any, world: Any,
                                                                   playbook: Any) -> None:
    spec = kv_worlds.world()
    kv_worlds.rg(spec)["network_security_groups"][0]["rules"].append(
        {"name": "corp-kv-out", "priority": 150, "direction": "Outbound", "access": "Allow", "protocol": "*",
         "source_address_prefix": "*", "destination_address_prefix": "AzureKeyVault", "destination_port_range": "*"})
    world(spec)
    busy = playbook("network_prereqs", extra_vars={**SERVICE, "net_priority": 150}, tags=["nsg"])
    assert busy.rc != 0 and busy.task("NSG rules")["error_code"] == "PriorityInUse"
    assert busy.requests.writes() == []
    result = playbook("network_prereqs", extra_vars={**SERVICE, "net_priority": 300}, tags=["nsg"])
    assert result.rc == 0, result.explain()
    rules = _rules(result.state, local_azure)
    assert "AllowApimToAzureKeyVaultOutbound" not in rules  # corp-kv-out already lets the traffic out
    assert rules["AllowApimToAzureActiveDirectoryOutbound"]["properties"]["priority"] == 300
    removed = playbook("network_prereqs", extra_vars={**SERVICE, "net_state": "absent"}, tags=["nsg"])
    assert "corp-kv-out" in _rules(removed.state, local_azure)  # never removes rules it does not own


def test_service_outside_a_vnet_is_a_clear_error(local_azure: Any, world: Any, playbook: Any) -> None:
    spec = kv_worlds.world()
    del kv_worlds.rg(spec)["apim_services"][0]["virtual_network"]
    world(spec)
    result = playbook("network_prereqs", extra_vars=SERVICE, tags=["endpoint"])
    assert result.rc != 0 and result.task("Service endpoint")["error_code"] == "NotInVirtualNetwork"
    assert result.requests.writes() == []
