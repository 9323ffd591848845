"""The identity playbooks (thin wrappers over the apim_identity role) with their example vars files, against the
demo world of the local Azure: check → apply → idempotent check → idempotent apply, diff, state and request log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.quartet import run_quartet, runs_of

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO_ROOT / "playbooks"
DEMO_WORLD = REPO_ROOT / "tests" / "emulator" / "worlds" / "demo.yaml"
DEMO_RG, DEMO_SERVICE = "rg-apim-demo", "apim-contoso-demo"
ENABLE_TASK = "azure_apim.identity.apim_identity : Enable the identities on the service"
FACTS_TASK = "azure_apim.identity.apim_identity : Set the identity facts for later roles"


def demo_world(identity: Any = None, extra_identities: tuple = ()) -> dict:
    """The demo world, optionally with a seeded service identity and more user-assigned identities."""
    spec = yaml.safe_load(DEMO_WORLD.read_text(encoding="utf-8"))
    rg = spec["resource_groups"][0]
    rg["user_assigned_identities"] += [{"name": n} for n in extra_identities]
    if identity:
        rg["apim_services"][0]["identity"] = identity
    return spec


def example_vars(name: str) -> dict:
    """The example vars file shipped with a playbook."""
    return yaml.safe_load((PLAYBOOKS / "vars" / f"{name}.yml").read_text(encoding="utf-8"))


def stored(azure: Any, state: dict) -> tuple[str, list[str], Any]:
    """(type, user-assigned names, system principal id) of the demo service in the local Azure."""
    sid = f"{azure.rg_id(DEMO_RG)}/providers/Microsoft.ApiManagement/service/{DEMO_SERVICE}".lower()
    identity = state["resources"][sid].get("identity") or {}
    users = sorted(k.rsplit("/", 1)[-1] for k in identity.get("userAssignedIdentities") or {})
    return identity.get("type") or "None", users, identity.get("principalId")


def quartet(playbook: Any, name: str) -> tuple[Any, Any]:
    """check → apply → idempotent check → idempotent apply of playbooks/<name>.yml with its example vars."""
    path, extra = PLAYBOOKS / f"{name}.yml", example_vars(name)
    runs = run_quartet(runs_of(playbook, path, extra_vars=extra),
                       predict=False, apply_changes=False)
    return runs.check, runs.apply


def test_system_assigned_playbook(local_azure, world, playbook):
    world(demo_world(), time_scale=0.01)
    check, apply = quartet(playbook, "identity_system_assigned")
    kind, users, principal = stored(local_azure, apply.state)
    assert (kind, users) == ("SystemAssigned", []) and principal
    assert apply.task(FACTS_TASK)["ansible_facts"]["apim_identity_principal_id"] == principal
    diff = apply.task(ENABLE_TASK)["diff"]
    assert diff["before"]["identity"]["type"] == "None" and diff["after"]["identity"]["type"] == "SystemAssigned"


def test_user_assigned_playbook_creates_then_attaches(local_azure, world, playbook):
    world(demo_world(), time_scale=0.01)
    check, apply = quartet(playbook, "identity_user_assigned")
    assert any("check mode assumes user-assigned identity" in w for w in check.task(ENABLE_TASK).get("warnings", []))
    assert stored(local_azure, apply.state)[:2] == ("UserAssigned", ["id-apim-demo", "id-apim-keyvault"])
    methods = [(w["method"], w["path"].rsplit("/", 2)[-2]) for w in apply.requests.writes()]
    assert methods == [("PUT", "userAssignedIdentities"), ("PATCH", "service")]
    facts = apply.task(FACTS_TASK)["ansible_facts"]
    uami = apply.state["resources"][
        f"{local_azure.rg_id(DEMO_RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-keyvault".lower()]
    by_name = {u["name"]: u for u in facts["apim_identity_user_assigned"]}
    assert by_name["id-apim-keyvault"]["client_id"] == uami["properties"]["clientId"]
    assert facts["apim_identity_principal_id"] is None


def test_both_playbook(local_azure, world, playbook):
    world(demo_world(), time_scale=0.01)
    check, apply = quartet(playbook, "identity_both")
    assert stored(local_azure, apply.state)[:2] == ("SystemAssigned, UserAssigned", ["id-apim-demo"])
    [patch] = apply.requests.writes()
    assert set(patch["body"]) == {"identity"}


def test_remove_playbook_keeps_the_others(local_azure, world, playbook):
    world(demo_world({"type": "SystemAssigned, UserAssigned", "user_assigned": ["id-apim-demo", "id-apim-keyvault"]},
                     ("id-apim-keyvault",)), time_scale=0.01)
    before = stored(local_azure, local_azure.admin.state())
    check, apply = quartet(playbook, "identity_remove")
    kind, users, principal = stored(local_azure, apply.state)
    assert (kind, users) == ("SystemAssigned, UserAssigned", ["id-apim-demo"]) and principal == before[2]
    report = apply.task("azure_apim.identity.apim_identity : Report what uses the identities (removing an identity in use is refused)")
    assert report["msg"] == []


@pytest.mark.parametrize("name", ["identity_system_assigned", "identity_user_assigned", "identity_both",
                                  "identity_remove"])
def test_playbooks_are_documented(name):
    text = (PLAYBOOKS / f"{name}.yml").read_text(encoding="utf-8")
    assert text.startswith("---\n#") and f"playbooks/vars/{name}.yml" in text
    assert (PLAYBOOKS / "vars" / f"{name}.yml").exists()
