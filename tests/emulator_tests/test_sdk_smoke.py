"""The real Azure SDK clients, unmodified, sign in with azure-identity and do a round trip over TLS.

Only configuration differs from real Azure: authority host, resource manager URL, credential scope, CA bundle and
instance discovery off.
"""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.sdk


def _client(local_azure, cls, **kwargs):
    return cls(local_azure.credential(), local_azure.subscription_id, base_url=local_azure.base_url,
               credential_scopes=[f"{local_azure.base_url}/.default"], connection_verify=local_azure.ca_bundle,
               polling_interval=0, **kwargs)


@pytest.fixture
def demo(local_azure, world):
    return world("demo", time_scale=0.01)


def test_apim_client_reads_the_service(local_azure, demo):
    from azure.mgmt.apimanagement import ApiManagementClient

    client = _client(local_azure, ApiManagementClient)
    service = client.api_management_service.get("rg-apim-demo", "apim-contoso-demo")
    assert service.provisioning_state == "Succeeded"
    assert service.hostname_configurations[0].host_name == "apim-contoso-demo.azure-api.net"
    names = [s.name for s in client.api_management_service.list_by_resource_group("rg-apim-demo")]
    assert names == ["apim-contoso-demo"]


def test_keyvault_client_reads_vault_and_secret_metadata(local_azure, demo):
    from azure.mgmt.keyvault import KeyVaultManagementClient

    client = _client(local_azure, KeyVaultManagementClient)
    vault = client.vaults.get("rg-apim-demo", "kv-contoso-demo")
    assert vault.properties.vault_uri == "https://kv-contoso-demo.vault.azure.net/"
    assert vault.properties.enable_rbac_authorization is False
    secret = client.secrets.get("rg-apim-demo", "kv-contoso-demo", "api-contoso-com")
    assert secret.properties.content_type == "application/x-pkcs12"
    assert secret.properties.value is None  # the management plane never returns values


def test_authorization_client_assigns_a_role(local_azure, demo):
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    client = _client(local_azure, AuthorizationManagementClient)
    scope = f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.KeyVault/vaults/kv-contoso-rbac"
    role = next(iter(client.role_definitions.list(scope, filter="roleName eq 'Key Vault Secrets User'")))
    principal = demo["principals"]["id-apim-demo"]["object_id"]
    name = str(uuid.uuid4())
    created = client.role_assignments.create(scope, name, RoleAssignmentCreateParameters(
        role_definition_id=role.id, principal_id=principal, principal_type="ServicePrincipal"))
    assert created.scope == scope and created.principal_id == principal
    listed = list(client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal}'"))
    assert [ra.name for ra in listed] == [name]
    client.role_assignments.delete(scope, name)
    assert list(client.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal}'")) == []


def test_msi_client_creates_identity(local_azure, demo):
    from azure.mgmt.msi import ManagedServiceIdentityClient

    client = _client(local_azure, ManagedServiceIdentityClient)
    created = client.user_assigned_identities.create_or_update("rg-apim-demo", "id-smoke", {"location": "westeurope"})
    assert created.client_id and created.principal_id and created.tenant_id == local_azure.tenant_id
    got = client.user_assigned_identities.get("rg-apim-demo", "id-smoke")
    assert got.principal_id == created.principal_id


def test_network_client_updates_subnet_through_lro(local_azure, demo):
    network = pytest.importorskip("azure.mgmt.network")

    client = _client(local_azure, network.NetworkManagementClient)
    subnet = client.subnets.get("rg-apim-demo", "vnet-apim", "snet-apim")
    subnet.service_endpoints.append(network.models.ServiceEndpointPropertiesFormat(service="Microsoft.KeyVault"))
    poller = client.subnets.begin_create_or_update("rg-apim-demo", "vnet-apim", "snet-apim", subnet)
    result = poller.result(timeout=30)
    assert result.provisioning_state == "Succeeded"
    assert {e.service for e in result.service_endpoints} == {"Microsoft.Storage", "Microsoft.KeyVault"}
    assert result.network_security_group.id.endswith("/nsg-apim")


def test_resource_client_creates_and_deletes_group(local_azure, demo):
    resources = pytest.importorskip("azure.mgmt.resource.resources")

    client = _client(local_azure, resources.ResourceManagementClient)
    client.resource_groups.create_or_update("rg-smoke", {"location": "westeurope"})
    assert client.resource_groups.check_existence("rg-smoke") is True
    client.resource_groups.begin_delete("rg-smoke").result(timeout=30)
    assert client.resource_groups.check_existence("rg-smoke") is False


def test_raw_arm_pipeline_client(local_azure, demo):
    from azure.core.configuration import Configuration
    from azure.core.rest import HttpRequest
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    config = Configuration()
    config.authentication_policy = ARMChallengeAuthenticationPolicy(local_azure.credential(),
                                                                    f"{local_azure.base_url}/.default")
    client = ARMPipelineClient(base_url=local_azure.base_url, config=config, connection_verify=local_azure.ca_bundle)
    request = HttpRequest("GET", f"{local_azure.base_url}/subscriptions/{local_azure.subscription_id}/resourcegroups",
                          params={"api-version": "2021-04-01"})
    response = client.send_request(request)
    assert response.status_code == 200
    assert [g["name"] for g in response.json()["value"]] == ["rg-apim-demo"]


def _old_sdk_python():
    import os
    from pathlib import Path

    configured = os.environ.get("AZURE_APIM_OLD_SDK_PYTHON")
    default = Path(__file__).resolve().parents[2] / ".venv-compat" / "bin" / "python"
    path = Path(configured) if configured else default
    return str(path) if path.exists() else None


def test_oldest_supported_sdk_versions_round_trip(local_azure, demo):
    """The azure.azcollection 3.x pins (see requirements.txt floors) talk to the local Azure too."""
    local_azure.admin.clear_requests()
    import json
    import subprocess
    from pathlib import Path

    python = _old_sdk_python()
    if python is None:
        pytest.skip("no old-SDK interpreter: run `make compat-venv` or set AZURE_APIM_OLD_SDK_PYTHON")
    info = {k: getattr(local_azure, k) for k in ("base_url", "ca_bundle", "tenant_id", "subscription_id", "client_id",
                                                 "client_secret")}
    script = Path(__file__).with_name("_old_sdk_roundtrip.py")
    proc = subprocess.run([python, str(script), json.dumps(info)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["apim_state"] == "Succeeded"
    assert out["vault_uri"] == "https://kv-contoso-demo.vault.azure.net/"
    assert out["secret_content_type"] == "application/x-pkcs12"
    assert out["assignment_scope"].endswith("/vaults/kv-contoso-rbac")
    assert out["identity_principal"] in local_azure.admin.state()["principals"]
    sent = {(e["path"].split("/providers/")[-1].split("/")[0], e["query"].get("api-version"))
            for e in local_azure.admin.requests().arm()}
    # the old defaults were really exercised
    assert {("Microsoft.ApiManagement", "2022-08-01"), ("Microsoft.ManagedIdentity", "2023-01-31"),
            ("Microsoft.Authorization", "2022-04-01")} <= sent
    assert any(ns == "Microsoft.KeyVault" and version < "2024" for ns, version in sent)
