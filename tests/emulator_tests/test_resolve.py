"""How API Management reads Key Vault secrets through its identities (emulator.resolve), step by step.

These run on a World in memory (no server): each case changes one condition of the chain identity → vault →
permission model → firewall → secret → certificate content, and shows the documented outcome.
"""

from __future__ import annotations

import pytest

from emulator import authorization, pfx, resolve
from emulator.admin import seed_world
from emulator.keyvault import store_secret
from emulator.world import World

VAULT_URI = "https://kv-test.vault.azure.net/secrets/"


def make_world(vault: dict, identity: dict) -> tuple[World, dict, dict]:
    """A world with one vault (spec overrides) and one APIM service with the given identity spec."""
    w = World()
    seed_world(w, {"resource_groups": [{
        "name": "rg", "user_assigned_identities": [{"name": "uami"}, {"name": "other-uami"}],
        "key_vaults": [{"name": "kv-test", "secrets": [
            {"name": "cert", "certificate": {"subject": "CN=api.contoso.com", "days": 30}},
            {"name": "plain", "value": "not-a-certificate", "content_type": "text/plain"},
            {"name": "off", "value": "x", "enabled": False}], **vault}],
        "apim_services": [{"name": "apim", "identity": identity}]}]})
    svc = w.list("Microsoft.ApiManagement/service")[0]
    kv = w.list("Microsoft.KeyVault/vaults")[0]
    return w, svc, kv


def uami(w: World, name: str = "uami") -> dict:
    return next(i for i in w.list("Microsoft.ManagedIdentity/userAssignedIdentities") if i["name"] == name)


def grant_policy(kv: dict, principal_id: str, secrets: list[str]) -> None:
    kv["properties"]["accessPolicies"].append({"tenantId": kv["properties"]["tenantId"], "objectId": principal_id,
                                               "permissions": {"secrets": secrets}})


SYSTEM = {"type": "SystemAssigned"}
BOTH = {"type": "SystemAssigned, UserAssigned", "user_assigned": ["uami"]}


def test_system_identity_with_access_policy_reads_a_certificate():
    w, svc, kv = make_world({}, SYSTEM)
    grant_policy(kv, svc["identity"]["principalId"], ["get", "list"])
    res = resolve.resolve_secret(w, svc, VAULT_URI + "cert", want_certificate=True)
    assert res.ok, res.message
    assert res.identity.kind == "SystemAssigned"
    assert res.certificate.subject == "CN=api.contoso.com"
    secret = w.get(f"{kv['id']}/secrets/cert")
    assert res.certificate.thumbprint == pfx.read_pfx_b64(secret["_value"]).thumbprint


@pytest.mark.parametrize("secrets, ok", [(["get"], True), (["Get"], True), (["all"], True), (["list"], False),
                                         ([], False)])
def test_access_policy_needs_secrets_get(secrets, ok):
    w, svc, kv = make_world({}, SYSTEM)
    grant_policy(kv, svc["identity"]["principalId"], secrets)
    res = resolve.resolve_secret(w, svc, VAULT_URI + "plain")
    assert res.ok is ok
    if not ok:
        assert (res.step, res.code, res.inner_code) == ("access", "Forbidden", "AccessDenied")
        assert "does not have secrets get permission" in res.message


def test_access_policy_for_another_principal_does_not_count():
    w, svc, kv = make_world({}, BOTH)
    grant_policy(kv, uami(w)["properties"]["principalId"], ["get"])
    assert not resolve.resolve_secret(w, svc, VAULT_URI + "plain").ok  # system identity has no policy
    res = resolve.resolve_secret(w, svc, VAULT_URI + "plain", uami(w)["properties"]["clientId"])
    assert res.ok and res.identity.kind == "UserAssigned"


def test_rbac_vault_ignores_access_policies_and_waits_for_propagation():
    w, svc, kv = make_world({"rbac": True}, SYSTEM)
    w.set_config({"rbac_propagation_s": 600})
    pid = svc["identity"]["principalId"]
    grant_policy(kv, pid, ["get"])
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain").inner_code == "ForbiddenByRbac"
    ra = authorization.assign(w, kv["id"], "Key Vault Secrets User", pid)
    ra["_created"] = w.now()  # a fresh grant, not yet propagated
    res = resolve.resolve_secret(w, svc, VAULT_URI + "plain")
    assert (res.ok, res.inner_code) == (False, "ForbiddenByRbac")
    assert "propagation" in res.message
    w.set_config({"advance_s": 601})
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain").ok


@pytest.mark.parametrize("scope, ok", [("secret", True), ("other-secret", False), ("rg", True), ("vault", True)])
def test_rbac_scope_must_cover_the_secret(scope, ok):
    w, svc, kv = make_world({"rbac": True}, SYSTEM)
    target = {"secret": f"{kv['id']}/secrets/plain", "other-secret": f"{kv['id']}/secrets/cert",
              "rg": kv["id"].split("/providers/")[0], "vault": kv["id"]}[scope]
    authorization.assign(w, target, "Key Vault Secrets User", svc["identity"]["principalId"])
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain").ok is ok


def test_rbac_role_without_secret_read_is_not_enough():
    w, svc, kv = make_world({"rbac": True}, SYSTEM)
    authorization.assign(w, kv["id"], "Reader", svc["identity"]["principalId"])
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain").inner_code == "ForbiddenByRbac"


FIREWALL = {"network_acls": {"default_action": "Deny", "bypass": "AzureServices"}}


@pytest.mark.parametrize("vault, use_uami, ok", [
    (FIREWALL, False, True),  # trusted service: the system-assigned identity with bypass AzureServices
    (FIREWALL, True, False),  # a user-assigned identity is never a trusted service
    ({"network_acls": {"default_action": "Deny", "bypass": "None"}}, False, False),
    ({"network_acls": {"default_action": "Allow", "bypass": "None"}}, True, True),
    ({"public_network_access": "Disabled",
      "network_acls": {"default_action": "Allow", "bypass": "AzureServices"}}, True, False),
])
def test_firewall_admits_only_the_trusted_system_identity(vault, use_uami, ok):
    w, svc, kv = make_world(vault, BOTH)
    for pid in (svc["identity"]["principalId"], uami(w)["properties"]["principalId"]):
        grant_policy(kv, pid, ["get"])
    client = uami(w)["properties"]["clientId"] if use_uami else None
    res = resolve.resolve_secret(w, svc, VAULT_URI + "plain", client)
    assert res.ok is ok
    if not ok:
        assert (res.step, res.inner_code) == ("firewall", "ForbiddenByFirewall")


@pytest.mark.parametrize("identity, client, found", [
    (SYSTEM, None, True),
    ({"type": "UserAssigned", "user_assigned": ["uami"]}, None, False),  # no system identity to default to
    (BOTH, "uami", True),
    (BOTH, "other-uami", False),  # exists in Azure, but is not attached to the service
    (BOTH, "system-client-id", True),  # the system identity's own client id is accepted too
    ({"type": "None"}, None, False),
])
def test_identity_must_be_attached_to_the_service(identity, client, found):
    w, svc, kv = make_world({}, identity)
    client_id = None
    if client == "system-client-id":
        client_id = w.principals[svc["identity"]["principalId"]]["app_id"]
    elif client:
        client_id = uami(w, client)["properties"]["clientId"]
    res = resolve.resolve_secret(w, svc, VAULT_URI + "plain", client_id)
    assert (res.step != "identity") is found
    if not found:
        assert "Can not find Managed Identity with provided IdentityClientId" in res.message


@pytest.mark.parametrize("uri, step, inner", [
    (VAULT_URI + "missing", "secret", "SecretNotFound"),
    (VAULT_URI + "off", "secret", "SecretDisabled"),
    (VAULT_URI + "plain/0123456789abcdef0123456789abcdef", "secret", "SecretNotFound"),
    ("https://kv-elsewhere.vault.azure.net/secrets/plain", "vault", None),
    ("https://kv-test.vault.azure.net/certificates/cert", "uri", None),
    ("http://kv-test.vault.azure.net/secrets/plain", "uri", None),
])
def test_secret_must_exist_and_be_enabled(uri, step, inner):
    w, svc, kv = make_world({}, SYSTEM)
    grant_policy(kv, svc["identity"]["principalId"], ["get"])
    res = resolve.resolve_secret(w, svc, uri)
    assert (res.ok, res.step, res.inner_code) == (False, step, inner)


def test_versioned_uri_reads_that_version():
    w, svc, kv = make_world({}, SYSTEM)
    grant_policy(kv, svc["identity"]["principalId"], ["get"])
    first = w.get(f"{kv['id']}/secrets/plain")["_current"]
    store_secret(w, kv, "plain", "second-value", "text/plain")
    assert resolve.resolve_secret(w, svc, f"{VAULT_URI}plain/{first}").value == "not-a-certificate"
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain").value == "second-value"


def test_certificate_needs_pkcs12_content_type_and_content():
    w, svc, kv = make_world({}, SYSTEM)
    grant_policy(kv, svc["identity"]["principalId"], ["get"])
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain", want_certificate=True).step == "content"
    store_secret(w, kv, "fake-cert", "bm90IGEgcGZ4", pfx.PKCS12_CONTENT_TYPE)
    res = resolve.resolve_secret(w, svc, VAULT_URI + "fake-cert", want_certificate=True)
    assert (res.ok, res.step, res.code) == (False, "content", "InvalidCertificate")
    assert resolve.resolve_secret(w, svc, VAULT_URI + "plain").ok  # fine as a named value


def test_parse_secret_uri():
    parsed = resolve.parse_secret_uri("https://KV-Test.vault.azure.net/secrets/name/abc")
    assert (parsed.vault_host, parsed.kind, parsed.name, parsed.version) == ("kv-test.vault.azure.net", "secrets",
                                                                             "name", "abc")
    assert resolve.parse_secret_uri("https://kv.vault.azure.net/secrets/name/").version is None
    assert resolve.parse_secret_uri("not a uri") is None
