"""site_user_assigned.yml against a Key Vault in Azure RBAC mode with the local Azure's default (realistic) RBAC
propagation delay: the Key Vault Secrets User assignment is created by the run itself, so API Management refuses
the hostname write until the grant has propagated; the run waits it out and converges, and the re-runs write
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.world import DEFAULT_CONFIG
from integration.harness import REPO_ROOT
from integration.site_support import (
    HOST, RG, SECRET_VALUE, UAMI, VAULT, assignments, children, find, hostnames, quartet, service_path, site_vars,
    world_spec,
)

pytestmark = pytest.mark.integration

PLAYBOOKS = REPO_ROOT / "playbooks"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
# Only the clock is scaled; the propagation delay keeps its default (600 Azure s = 30 s of wall clock here, the
# other durations under 3 s), so the grant the run makes is not effective yet when the hostname write is first
# sent, as with real Azure. A faster clock would let the playbook's own task start-up outlast the propagation.
SCALE = {"time_scale": 0.05}


def _rbac_world() -> dict[str, Any]:
    spec = world_spec()
    vault = spec["resource_groups"][0]["key_vaults"][0]
    vault["rbac"] = True
    return spec


def test_default_propagation_is_realistic():
    assert DEFAULT_CONFIG["rbac_propagation_s"] >= 300


def test_user_assigned_site_converges_against_an_rbac_vault(world, playbook, local_azure):
    world(_rbac_world(), **SCALE)
    before = local_azure.admin.state()
    foreign = assignments(before)
    extra = site_vars(local_azure, "site_user_assigned")
    _check, apply = quartet(playbook, PLAYBOOKS / "site_user_assigned.yml", extra, secrets=(SECRET_VALUE,))
    state = apply.state
    service = find(state, service_path(local_azure))
    entry = next(v for k, v in service["identity"]["userAssignedIdentities"].items() if k.lower().endswith("/" + UAMI))
    vault_id = f"{local_azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/{VAULT}".lower()
    ours = [a for a in assignments(state) if a[2] == entry["principalId"]]
    assert any(scope.startswith(vault_id) and role == SECRETS_USER for scope, role, _p in ours), ours
    host = hostnames(state, local_azure)[HOST]
    assert host["keyVaultId"].endswith("/secrets/api-contoso-com") and host["certificate"]["expiry"]
    named = children(state, service_path(local_azure), "namedValues")["backend-api-key"]["properties"]
    assert named["keyVault"]["lastStatus"]["code"] == "Success"
    assert all(a in assignments(state) for a in foreign), "a foreign role assignment disappeared"
    refused = [r for r in apply.requests if r.get("method") == "PATCH" and r.get("status") == 400
               and "/service/" in r.get("path", "")]
    assert refused, "the hostname write was never refused: the test did not exercise RBAC propagation"
