"""apim_identity refuses to remove an identity still in use (Key Vault hostname, named value, logger, certificate),
naming each dependent, with zero writes; unused identities are removed normally; apim_identity_info lists the
dependents."""

from __future__ import annotations

import time
from typing import Any

import pytest

from integration.test_identity import FAST, RG, args_for, identity_world, quartet, service_path, stored_identity

APIM_API = "2022-08-01"
SERVICE = "apim-used"
HOSTNAME = "api.contoso.com"


def _wait_settled(azure: Any, path: str, timeout: float = 30.0) -> dict:
    arm = azure.arm()
    deadline = time.monotonic() + timeout
    while True:
        body = arm.get(path, APIM_API).json()
        props = body.get("properties") or {}
        if props.get("provisioningState") in ("Succeeded", None) and not props.get("targetProvisioningState"):
            return body
        assert time.monotonic() < deadline, f"{path} did not settle: {props.get('provisioningState')}"
        time.sleep(0.1)


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response


@pytest.fixture
def used_service(local_azure: Any, world: Any) -> dict[str, str]:
    """A service with system + id-a + id-b; a Key Vault hostname and a logger use the system identity, a Key Vault
    named value and a Key Vault certificate use id-a; id-b is unused."""
    spec = identity_world({SERVICE: {"type": "SystemAssigned, UserAssigned", "user_assigned": ["id-a", "id-b"]}})
    spec["resource_groups"].append({
        "name": "rg-kv", "location": "westeurope",
        "key_vaults": [{"name": "kv-ident", "access_policies": [
            {"principal": SERVICE, "permissions": {"secrets": ["get"]}},
            {"principal": "id-a", "permissions": {"secrets": ["get"]}}],
            "secrets": [{"name": "api-cert", "certificate": {"subject": f"CN={HOSTNAME}"}},
                        {"name": "backend-key", "value": "not-a-real-secret"}]}],
    })
    world(spec, **FAST)
    arm, svc = local_azure.arm(), service_path(local_azure, SERVICE)
    identity = arm.get(svc, APIM_API).json()["identity"]
    client_a = next(v["clientId"] for k, v in identity["userAssignedIdentities"].items() if k.endswith("/id-a"))
    _ok(arm.request("PATCH", svc, APIM_API, {"properties": {"hostnameConfigurations": [
        {"type": "Proxy", "hostName": HOSTNAME, "keyVaultId": "https://kv-ident.vault.azure.net/secrets/api-cert"}]}}))
    _wait_settled(local_azure, svc)
    _ok(arm.put(f"{svc}/namedValues/backend-key", {"properties": {"displayName": "backend-key", "keyVault": {
        "secretIdentifier": "https://kv-ident.vault.azure.net/secrets/backend-key", "identityClientId": client_a}}},
        APIM_API))
    _ok(arm.put(f"{svc}/certificates/backend-cert", {"properties": {"keyVault": {
        "secretIdentifier": "https://kv-ident.vault.azure.net/secrets/api-cert", "identityClientId": client_a}}},
        APIM_API))
    _ok(arm.put(f"{svc}/loggers/eh-logger", {"properties": {"loggerType": "azureEventHub", "credentials": {
        "name": "apim-logs", "endpointAddress": "evhns-ident.servicebus.windows.net",
        "identityClientId": "SystemAssigned"}}}, APIM_API))
    deadline = time.monotonic() + 30
    while arm.get(f"{svc}/namedValues/backend-key", APIM_API).status_code != 200:
        assert time.monotonic() < deadline, "named value never appeared"
        time.sleep(0.1)
    local_azure.admin.clear_requests()
    return {"client_a": client_a}


def _refused(playbook: Any, args: dict, expected: set) -> dict:
    for mode in ({"check": True}, {}):
        run = playbook("identity_module", extra_vars={"identity_args": args}, **mode)
        failed = run.task("Apply apim_identity")
        assert failed["_status"] == "failed" and failed["error_code"] == "IdentityInUse", run.explain()
        assert run.requests.writes() == [], f"a refused removal wrote ({mode})"
        assert {(d["kind"], d["name"]) for d in failed["dependents"]} == expected
        for kind, name in expected:
            assert repr(name) in failed["msg"], failed["msg"]
        assert "nothing was changed" in failed["msg"]
    return failed


def test_system_identity_removal_refused_while_hostname_and_logger_use_it(local_azure, used_service, playbook):
    failed = _refused(playbook, args_for(SERVICE, system_assigned=False),
                      {("hostname", HOSTNAME), ("logger", "eh-logger")})
    assert "inline certificate" in failed["hint"]  # the article's way to unblock a Key Vault hostname
    state = playbook("identity_info", extra_vars={"info_rg": RG, "info_service": SERVICE}).state
    assert stored_identity(local_azure, state, SERVICE) == ("SystemAssigned, UserAssigned", ["id-a", "id-b"])


def test_user_identity_removal_refused_while_named_value_uses_it(local_azure, used_service, playbook):
    failed = _refused(playbook, args_for(SERVICE, user_assigned_identities=["id-a"], user_assigned_mode="remove"),
                      {("named_value", "backend-key"), ("certificate", "backend-cert")})
    assert {d["identity_client_id"] for d in failed["dependents"]} == {used_service["client_a"]}
    # exact mode without id-a is the same removal
    _refused(playbook, args_for(SERVICE, user_assigned_identities=["id-b"], user_assigned_mode="exact"),
             {("named_value", "backend-key"), ("certificate", "backend-cert")})


def test_removing_every_identity_lists_every_dependent(local_azure, used_service, playbook):
    _refused(playbook, args_for(SERVICE, state="absent"),
             {("hostname", HOSTNAME), ("logger", "eh-logger"), ("named_value", "backend-key"),
              ("certificate", "backend-cert")})


def test_unused_identity_is_removed_and_the_used_ones_stay(local_azure, used_service, playbook):
    args = args_for(SERVICE, user_assigned_identities=["id-b"], user_assigned_mode="remove")
    check, apply = quartet(playbook, {"identity_args": args}, "Apply apim_identity")
    assert stored_identity(local_azure, apply.state, SERVICE) == ("SystemAssigned, UserAssigned", ["id-a"])
    body = apply.state["resources"][service_path(local_azure, SERVICE).lower()]
    hosts = {h["hostName"]: h for h in body["properties"]["hostnameConfigurations"]}
    assert hosts[HOSTNAME]["keyVaultId"], "the Key Vault hostname must survive an identity change"
    diff = check.task("Apply apim_identity")["diff"]
    assert [u["name"] for u in diff["before"]["identity"]["user_assigned"]] == ["id-a", "id-b"]
    assert [u["name"] for u in diff["after"]["identity"]["user_assigned"]] == ["id-a"]


def test_info_lists_dependents_per_identity(local_azure, used_service, playbook):
    run = playbook("identity_info", extra_vars={"info_rg": RG, "info_service": SERVICE})
    assert run.rc == 0, run.explain()
    [entry] = run.task("Read identities")["identities"]
    found = {(d["kind"], d["name"], d["identity"]) for d in entry["dependents"]}
    assert found == {("hostname", HOSTNAME, "the system-assigned identity"),
                     ("logger", "eh-logger", "the system-assigned identity"),
                     ("named_value", "backend-key", "user-assigned identity 'id-a'"),
                     ("certificate", "backend-cert", "user-assigned identity 'id-a'")}
    assert run.requests.writes() == []
    [service] = run.task("Read services")["services"]
    assert service["identity"]["type"] == "SystemAssigned, UserAssigned"
