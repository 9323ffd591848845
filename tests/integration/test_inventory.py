"""The apim_services inventory plugin against a fleet in the local Azure's two subscriptions: real ansible-inventory
and ansible-playbook processes, signed in with only the AWX credential's environment variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from integration.fleet_support import (
    GROUP_A2, ansible_inventory, fleet_world, inventory_json, service_name, write_source,
)
from integration.harness import playbook_env

pytestmark = pytest.mark.integration

LIST_PATH = "/providers/Microsoft.ApiManagement/service"


@pytest.fixture
def fleet(world: Any, local_azure: Any) -> Any:
    """Six services in the first subscription, four in the second; lists paged three services at a time, so
    every subscription's list takes several pages."""
    world(fleet_world(6, 4), list_page_size=3)
    return local_azure


def _both(azure: Any) -> dict[str, Any]:
    return {"subscriptions": [azure.subscription_id, azure.second_subscription_id]}


def test_lists_every_service_of_both_subscriptions_with_one_paged_list_each(fleet: Any, tmp_path: Path) -> None:
    source = write_source(tmp_path / "inv", _both(fleet))
    inventory = inventory_json(ansible_inventory(fleet, source, tmp_path / "run"))
    hostvars = inventory["_meta"]["hostvars"]
    assert sorted(hostvars) == [service_name(i) for i in range(1, 11)]
    log = fleet.admin.requests().arm()
    assert not log.writes()
    reads = [r for r in log if r["method"] == "GET" and r["path"].endswith(LIST_PATH)]
    # 6 services at 3 a page = 2 pages (+0), 4 at 3 a page = 2 pages: nothing but the lists was read.
    assert len(reads) == 4, [r["path"] for r in log]
    assert len([r for r in log if r["method"] == "GET"]) == 4


def test_hostvars_describe_service_identity_and_connection(fleet: Any, tmp_path: Path) -> None:
    source = write_source(tmp_path / "inv", _both(fleet))
    hostvars = inventory_json(ansible_inventory(fleet, source, tmp_path / "run"))["_meta"]["hostvars"]
    both = hostvars[service_name(4)]  # system + user-assigned, first subscription, second group
    assert both["ansible_connection"] == "local"
    assert both["apim_subscription_id"] == fleet.subscription_id
    assert both["apim_resource_group"] == GROUP_A2
    assert both["apim_location"] == "North Europe"
    assert both["apim_sku"] == {"name": "Developer", "capacity": 1}
    assert both["apim_identity"]["type"] == "SystemAssigned, UserAssigned"
    assert both["apim_identity"]["principal_id"]
    [user] = both["apim_identity"]["user_assigned"]
    state = fleet.admin.state()
    stored = state["resources"][both["apim_id"].lower()]
    assert user["client_id"] == stored["identity"]["userAssignedIdentities"][user["id"]]["clientId"]
    assert user["name"] == "id-" + service_name(4)
    assert [(h["host_name"], h["certificate_source"]) for h in both["apim_hostnames"]] == [
        (service_name(4) + ".azure-api.net", "BuiltIn"), ("api4.contoso.com", "KeyVault")]
    assert both["apim_hostnames"][1]["certificate_expiry"]
    second = hostvars[service_name(9)]
    assert second["apim_subscription_id"] == fleet.second_subscription_id
    assert hostvars[service_name(3)]["apim_identity"] == {"type": "None", "principal_id": None, "tenant_id": None,
                                                          "user_assigned": []}


def test_filters_and_constructed_groups(fleet: Any, tmp_path: Path) -> None:
    options = dict(_both(fleet), resource_groups=[GROUP_A2.upper(), "rg-fleet-b"], tags={"env": "prod"},
                   keyed_groups=[{"key": "apim_location", "prefix": "region"},
                                 {"key": "apim_sku.name", "prefix": "sku"}],
                   groups={"no_identity": "apim_identity.type == 'None'"},
                   compose={"principal": "apim_identity.principal_id"})
    inventory = inventory_json(ansible_inventory(fleet, write_source(tmp_path / "inv", options), tmp_path / "run"))
    # rg-fleet-a-edge holds 4..6, rg-fleet-b 7..10; prod = odd.
    assert sorted(inventory["_meta"]["hostvars"]) == [service_name(i) for i in (5, 7, 9)]
    assert sorted(inventory["region_North_Europe"]["hosts"]) == [service_name(5)]
    assert sorted(inventory["sku_Premium"]["hosts"]) == [service_name(5)]
    assert inventory["no_identity"]["hosts"] == [service_name(9)]
    assert inventory["_meta"]["hostvars"][service_name(7)]["principal"]


def test_cache_serves_the_second_run_without_a_request(fleet: Any, tmp_path: Path) -> None:
    options = dict(_both(fleet), cache=True, cache_plugin="ansible.builtin.jsonfile",
                   cache_connection=str(tmp_path / "cache"), cache_timeout=600)
    source = write_source(tmp_path / "inv", options)
    first = inventory_json(ansible_inventory(fleet, source, tmp_path / "run"))
    fleet.admin.clear_requests()
    second = inventory_json(ansible_inventory(fleet, source, tmp_path / "run"))
    assert second["_meta"]["hostvars"] == first["_meta"]["hostvars"]
    assert not fleet.admin.requests().arm()


def test_unknown_subscription_fails_in_plain_words(fleet: Any, tmp_path: Path) -> None:
    options = {"subscriptions": ["00000000-0000-0000-0000-00000000dead"], "strict": True}
    proc = ansible_inventory(fleet, write_source(tmp_path / "inv", options), tmp_path / "run",
                             {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"})
    assert proc.returncode != 0
    assert "SubscriptionNotFound" in proc.stderr or "could not be found" in proc.stderr
    assert fleet.client_secret not in proc.stderr + proc.stdout


def test_playbook_runs_modules_per_service_from_the_inventory(fleet: Any, tmp_path: Path) -> None:
    """Each host's module call reaches its own subscription and service (identity info, read-only)."""
    source = write_source(tmp_path / "inv", _both(fleet))
    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - azure_apim.identity.apim_identity_info:\n"
        "        subscription_id: '{{ apim_subscription_id }}'\n"
        "        resource_group: '{{ apim_resource_group }}'\n"
        "        service_name: '{{ apim_name }}'\n"
        "      register: info\n"
        "    - ansible.builtin.assert:\n"
        "        that:\n"
        "          - info.identities | length == 1\n"
        "          - info.identities[0].type == apim_identity.type\n"
        "          - info.identities[0].principal_id == apim_identity.principal_id\n", encoding="utf-8")
    workdir = tmp_path / "run"
    workdir.mkdir()
    env = playbook_env(fleet, workdir, workdir / "result.json")
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(source), str(play)]
    fleet.admin.clear_requests()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=str(workdir), env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "ok=2" in proc.stdout and "failed=0" in proc.stdout
    log = fleet.admin.requests().arm()
    assert not log.writes()
    assert any(fleet.second_subscription_id in r["path"] and "/service/" in r["path"] for r in log)
