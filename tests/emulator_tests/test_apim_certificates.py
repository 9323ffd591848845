"""Microsoft.ApiManagement certificate entities in the local Azure: Key Vault references read with a managed identity
(system or user-assigned) and inline PFX data; listed through the real SDK."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from emulator import pfx

API = "2024-05-01"
RG = "rg-apim-demo"
SVC = "apim-contoso-demo"
KV_CERT = "https://kv-ident-certs.vault.azure.net/secrets/backend-cert"


@pytest.fixture
def service(local_azure: Any, world: Callable) -> str:
    """The demo service with a system-assigned identity that may read a vault holding a certificate."""
    world({"resource_groups": [
        {"name": RG, "user_assigned_identities": [{"name": "id-certs"}],
         "apim_services": [{"name": SVC, "identity": {"type": "SystemAssigned, UserAssigned",
                                                      "user_assigned": ["id-certs"]}}]},
        {"name": "rg-certs", "key_vaults": [{"name": "kv-ident-certs", "access_policies": [
            {"principal": SVC, "permissions": {"secrets": ["get"]}}],
            "secrets": [{"name": "backend-cert", "certificate": {"subject": "CN=backend.contoso.com"}}]}]},
    ]}, time_scale=0.01)
    return f"{local_azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{SVC}"


def test_key_vault_certificate_with_system_identity(local_azure, service):
    arm = local_azure.arm()
    created = arm.put(f"{service}/certificates/backend", {"properties": {"keyVault": {"secretIdentifier": KV_CERT}}},
                      API)
    assert created.status_code == 201, created.text
    props = created.json()["properties"]
    assert props["subject"] == "CN=backend.contoso.com" and props["thumbprint"]
    assert props["keyVault"]["secretIdentifier"] == KV_CERT and props["keyVault"]["lastStatus"]["code"] == "Success"
    assert arm.put(f"{service}/certificates/backend", {"properties": {"keyVault": {"secretIdentifier": KV_CERT}}},
                   API).status_code == 200

    from azure.mgmt.apimanagement import ApiManagementClient

    client = ApiManagementClient(local_azure.credential(), local_azure.subscription_id, base_url=local_azure.base_url,
                                 credential_scopes=[f"{local_azure.base_url}/.default"],
                                 connection_verify=local_azure.ca_bundle)
    [listed] = list(client.certificate.list_by_service(RG, SVC))
    assert listed.name == "backend" and listed.key_vault.secret_identifier == KV_CERT
    assert listed.key_vault.identity_client_id is None
    assert arm.delete(f"{service}/certificates/backend", API, headers={"If-Match": "*"}).status_code == 200
    assert arm.get(f"{service}/certificates/backend", API).status_code == 404


def test_key_vault_certificate_without_access_or_identity_is_refused(local_azure, service):
    arm = local_azure.arm()
    uami = arm.get(service, API).json()["identity"]["userAssignedIdentities"]
    client_id = next(iter(uami.values()))["clientId"]
    no_access = arm.put(f"{service}/certificates/c1", {"properties": {"keyVault": {
        "secretIdentifier": KV_CERT, "identityClientId": client_id}}}, API)
    assert no_access.status_code == 400 and no_access.json()["error"]["code"] == "InvalidOperation"
    unknown = arm.put(f"{service}/certificates/c2", {"properties": {"keyVault": {
        "secretIdentifier": KV_CERT, "identityClientId": "00000000-0000-0000-0000-000000000000"}}}, API)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "ValidationError"
    assert arm.get(f"{service}/certificates", API).json()["value"] == []


def test_inline_certificate(local_azure, service):
    arm = local_azure.arm()
    data = pfx.make_pfx_b64("inline.contoso.com", password="pw")
    created = arm.put(f"{service}/certificates/inline", {"properties": {"data": data, "password": "pw"}}, API)
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["keyVault"] is None
    assert "inline.contoso.com" in created.json()["properties"]["subject"]
    wrong = arm.put(f"{service}/certificates/bad", {"properties": {"data": data, "password": "nope"}}, API)
    assert wrong.status_code == 400
