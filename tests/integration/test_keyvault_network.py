"""keyvault_network against the local Azure: the trusted-services switch changes networkAcls.bypass and nothing
else; foreign IP and virtual network rules and the default action survive, in place."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from integration import kv_worlds
from integration.kv_quartet import run_quartet

pytestmark = pytest.mark.integration

TASK = "Trusted services"
PLAYBOOK = "keyvault_network_one"
KV_API = "2023-07-01"
VAULT = "kv-fw-rules"


def _world() -> dict[str, Any]:
    spec = kv_worlds.world()
    subnet = "/subscriptions/{sub}/resourceGroups/rg-kv/providers/Microsoft.Network/virtualNetworks/vnet-apim/" \
             "subnets/snet-apim"
    kv_worlds.rg(spec)["key_vaults"].append(
        {"name": VAULT, "rbac": True, "network_acls": {
            "default_action": "Deny", "bypass": "None", "ip_rules": ["203.0.113.7/32", "198.51.100.0/24"],
            "virtual_network_rules": [subnet]}})
    kv_worlds.rg(spec)["key_vaults"].append({"name": "kv-open", "rbac": True})
    return spec


@pytest.fixture
def seeded(world: Any, local_azure: Any) -> dict[str, Any]:
    spec = _world()
    acls = kv_worlds.rg(spec)["key_vaults"][-2]["network_acls"]
    acls["virtual_network_rules"] = [r.format(sub=local_azure.subscription_id) for r in acls["virtual_network_rules"]]
    return world(spec)


def _acls(local_azure: Any, name: str = VAULT) -> dict:
    resp = local_azure.arm().get(kv_worlds.vault_id(local_azure, name), KV_API)
    assert resp.status_code == 200, resp.text
    return resp.json()["properties"].get("networkAcls")


def _without_bypass(acls: dict) -> dict:
    out = copy.deepcopy(acls)
    out.pop("bypass", None)
    return out


def test_bypass_on_keeps_every_foreign_rule(local_azure: Any, seeded: dict, playbook: Any) -> None:
    before = _acls(local_azure)
    q = run_quartet(playbook, PLAYBOOK, TASK, {"kvn_vault": VAULT, "kvn_vault_resource_group": "rg-kv",
                                               "kvn_trusted_services": True})
    task = q.apply.task(TASK)
    assert task["diff"]["before"]["bypass"] == "None" and task["diff"]["after"]["bypass"] == "AzureServices"
    assert q.check.task(TASK)["diff"]["after"]["bypass"] == "AzureServices"
    assert task["network_acls"]["ip_rules"] == ["203.0.113.7/32", "198.51.100.0/24"]
    after = _acls(local_azure)
    assert after["bypass"] == "AzureServices"
    assert json.dumps(_without_bypass(after), sort_keys=True) == json.dumps(_without_bypass(before), sort_keys=True)
    writes = q.apply.requests.writes()
    assert [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes] == [("PATCH", VAULT)]
    sent = writes[0]["body"]["properties"]
    assert list(sent) == ["networkAcls"]  # nothing but the firewall object, as read, bypass replaced
    assert json.dumps(_without_bypass(sent["networkAcls"]), sort_keys=True) == \
        json.dumps(_without_bypass(before), sort_keys=True)


def test_a_rule_added_by_someone_else_survives_switching_back(local_azure: Any, seeded: dict, playbook: Any) -> None:
    extra = {"kvn_vault": VAULT, "kvn_trusted_services": True}
    assert playbook(PLAYBOOK, extra_vars=extra).rc == 0
    # another team adds an IP rule through the portal (a PATCH of the whole networkAcls, as the portal sends it)
    acls = _acls(local_azure)
    acls["ipRules"].append({"value": "192.0.2.10/32"})
    resp = local_azure.arm().request("PATCH", kv_worlds.vault_id(local_azure, VAULT), KV_API,
                                     {"properties": {"networkAcls": acls}})
    assert resp.status_code == 200, resp.text
    local_azure.admin.clear_requests()
    off = playbook(PLAYBOOK, extra_vars={**extra, "kvn_trusted_services": False}, diff=True)
    assert off.rc == 0 and off.task(TASK)["changed"] is True, off.explain()
    after = _acls(local_azure)
    assert after["bypass"] == "None" and after["defaultAction"] == "Deny"
    assert [r["value"] for r in after["ipRules"]] == ["203.0.113.7/32", "198.51.100.0/24", "192.0.2.10/32"]
    assert len(after["virtualNetworkRules"]) == 1


def test_vault_without_firewall_settings_already_lets_trusted_services_in(
        local_azure: Any, seeded: dict, playbook: Any) -> None:
    # no networkAcls stored: Key Vault's default bypass is AzureServices, so nothing is written
    run = playbook(PLAYBOOK, extra_vars={"kvn_vault": "kv-open", "kvn_trusted_services": True})
    assert run.rc == 0 and run.task(TASK)["changed"] is False and run.requests.writes() == []
    assert run.task(TASK)["network_acls"]["bypass"] == "AzureServices"


def test_a_conflict_reruns_from_a_fresh_read(local_azure: Any, seeded: dict, playbook: Any) -> None:
    local_azure.admin.add_fault(method="PATCH", path=f"/vaults/{VAULT}$", status=409, times=1, body={
        "error": {"code": "ConflictError", "message": "A conflict occurred; the vault changed."}})
    run = playbook(PLAYBOOK, extra_vars={"kvn_vault": VAULT, "kvn_trusted_services": True})
    assert run.rc == 0, run.explain()
    patches = [w for w in run.requests if w["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [409, 200]
    assert _acls(local_azure)["bypass"] == "AzureServices"


def test_missing_vault_is_named(local_azure: Any, seeded: dict, playbook: Any) -> None:
    run = playbook(PLAYBOOK, extra_vars={"kvn_vault": "kv-nope", "kvn_vault_resource_group": "rg-kv",
                                         "kvn_trusted_services": True})
    assert run.rc != 0 and "'kv-nope' was not found" in run.task(TASK)["msg"]
