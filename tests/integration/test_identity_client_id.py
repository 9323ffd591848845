"""Identity options given as the client id of an attached user-assigned identity (issue 14, item 3): one test per
module family. The client id is the value the modules return and settings such as identityClientId carry; it must
designate the same identity as its name does, and a client id that is not attached fails naming those that are."""

from __future__ import annotations

from typing import Any

import pytest

from harness.quartet import assert_idempotent, runs_of
from integration import kv_worlds
from integration.kv_quartet import run_quartet
from integration.custom_domain_world import UAI as DOM_UAI, by_host, identity_client_id, secret_id, seed
from integration.nv_support import FAST, UAMI, assert_quartet, resource, service_id, world_spec, writes

pytestmark = pytest.mark.integration

NOT_ATTACHED = "11111111-2222-4333-8444-555555555555"


def _identity(state: dict, name: str) -> dict:
    return next(r for r in state["resources"].values()
                if r.get("type", "").lower() == "microsoft.managedidentity/userassignedidentities"
                and r["name"] == name)["properties"]


def _nv_world(world: Any, local_azure: Any) -> str:
    world(world_spec(), **FAST)
    return _identity(local_azure.admin.state(), UAMI)["clientId"]


def test_named_value_by_client_id_then_by_name_is_the_same(world, playbook, local_azure):
    client_id = _nv_world(world, local_azure)
    extra = {"nv_name": "by-client", "nv_secret_id": "https://kv-nv-policies.vault.azure.net/secrets/backend-key",
             "nv_identity": client_id.upper()}
    runs = assert_quartet(playbook, "nv_named_value", extra, "Named value")
    stored = resource(runs.apply.state, f"{service_id(local_azure)}/namedValues/by-client")["properties"]
    assert stored["keyVault"]["identityClientId"] == client_id
    by_name = playbook("nv_named_value", extra_vars={**extra, "nv_identity": UAMI})
    assert by_name.rc == 0 and by_name.task("Named value")["changed"] is False and writes(by_name) == []


def test_logger_by_client_id(world, playbook, local_azure):
    client_id = _nv_world(world, local_azure)
    extra = {"logger_name": "eh-client", "logger_hub": "apim-logs", "logger_endpoint": "evhns-nv.servicebus.windows.net",
             "logger_identity": client_id}
    runs = assert_quartet(playbook, "nv_logger", extra, "Logger")
    stored = resource(runs.apply.state, f"{service_id(local_azure)}/loggers/eh-client")["properties"]
    assert stored["credentials"]["identityClientId"] == client_id


def test_backend_auth_by_client_id(world, playbook, local_azure):
    client_id = _nv_world(world, local_azure)
    extra = {"auth_resource": "https://storage.azure.com/", "auth_identity": client_id}
    runs = assert_quartet(playbook, "nv_backend_auth", extra, "Backend auth")
    xml = resource(runs.apply.state, f"{service_id(local_azure)}/policies/policy")["_raw"]
    assert f'client-id="{client_id}"' in xml


@pytest.mark.parametrize("playbook_name,extra,task", [
    ("nv_named_value", {"nv_name": "x", "nv_secret_id": "https://kv-nv-policies.vault.azure.net/secrets/backend-key",
                        "nv_identity": NOT_ATTACHED}, "Named value"),
    ("nv_logger", {"logger_name": "x", "logger_hub": "apim-logs",
                   "logger_endpoint": "evhns-nv.servicebus.windows.net", "logger_identity": NOT_ATTACHED}, "Logger"),
    ("nv_backend_auth", {"auth_resource": "https://storage.azure.com/", "auth_identity": NOT_ATTACHED},
     "Backend auth"),
])
def test_unattached_client_id_names_the_attached_identities(world, playbook, local_azure, playbook_name, extra, task):
    client_id = _nv_world(world, local_azure)
    run = playbook(playbook_name, extra_vars=extra)
    assert run.rc != 0 and writes(run) == []
    msg = run.task(task)["msg"]
    assert f"client id '{NOT_ATTACHED}' is not attached" in msg, msg
    assert f"{UAMI} (client id {client_id})" in msg, msg


def test_keyvault_access_by_client_id(world, playbook, local_azure):
    world(kv_worlds.world())
    uami = _identity(local_azure.admin.state(), "id-apim-kv")
    extra = {"kv_vault": "kv-ap", "kv_vault_resource_group": "rg-kv", "kv_service_name": "apim-kv",
             "kv_service_resource_group": "rg-kv", "kv_identity": uami["clientId"]}
    q = run_quartet(playbook, "keyvault_access_one", "Key Vault access", extra)
    vault = q.apply.state["resources"][kv_worlds.vault_id(local_azure, "kv-ap").lower()]
    assert uami["principalId"] in [p["objectId"] for p in vault["properties"]["accessPolicies"]]
    assert q.apply.task("Key Vault access info")["access"][0]["principal_id"] == uami["principalId"]


def test_custom_domain_by_client_id(world, playbook, local_azure):
    seed(world, local_azure)
    client_id = identity_client_id(local_azure.admin.state())
    extra = {"dom_host": "api.contoso.com", "dom_secret_id": secret_id("kv-dom", "api-contoso-com"),
             "dom_identity": client_id}
    runs = [playbook("custom_domain_one", extra_vars=extra, check=check, diff=True) for check in (True, False)]
    assert all(r.rc == 0 for r in runs), runs[-1].explain()
    assert runs[0].requests.writes() == [] and runs[1].task("Ensure the hostname")["changed"] is True
    assert by_host(runs[1].state)["api.contoso.com"]["identityClientId"] == client_id
    by_name = {**extra, "dom_identity": DOM_UAI}
    assert_idempotent(runs_of(playbook, "custom_domain_one", extra_vars=by_name), "Ensure the hostname", diff=False)
