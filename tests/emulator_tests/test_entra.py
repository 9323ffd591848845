"""Local Entra ID: discovery, client-credentials tokens, Entra's error shapes, and ARM's bearer-token checks."""

from __future__ import annotations

import jwt
import pytest
import requests

from emulator.client import ArmClient


def _token_request(azure, tenant=None, client_id=None, secret=None, scope=None):
    return requests.post(f"{azure.base_url}/{tenant or azure.tenant_id}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": client_id or azure.client_id,
        "client_secret": secret if secret is not None else azure.client_secret,
        "scope": scope or f"{azure.base_url}/.default"}, verify=azure.ca_bundle, timeout=10)


def test_discovery_document_points_at_the_local_token_endpoint(local_azure):
    doc = requests.get(f"{local_azure.base_url}/{local_azure.tenant_id}/v2.0/.well-known/openid-configuration",
                       verify=local_azure.ca_bundle, timeout=10).json()
    assert doc["token_endpoint"] == f"{local_azure.base_url}/{local_azure.tenant_id}/oauth2/v2.0/token"
    assert doc["issuer"].startswith(local_azure.base_url)


def test_token_carries_tenant_object_and_app_ids_and_verifies_with_jwks(local_azure):
    resp = _token_request(local_azure)
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 3000
    keys = requests.get(f"{local_azure.base_url}/{local_azure.tenant_id}/discovery/v2.0/keys",
                        verify=local_azure.ca_bundle, timeout=10).json()["keys"]
    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience=local_azure.base_url)
    assert claims["tid"] == local_azure.tenant_id
    assert claims["appid"] == local_azure.client_id
    principals = local_azure.admin.state()["principals"]
    assert principals[claims["oid"]]["app_id"] == local_azure.client_id
    assert claims["exp"] > claims["iat"]


@pytest.mark.parametrize("kwargs, status, error, aadsts", [
    ({"secret": "wrong"}, 401, "invalid_client", "AADSTS7000215"),
    ({"client_id": "11111111-2222-3333-4444-555555555555"}, 400, "unauthorized_client", "AADSTS700016"),
    ({"tenant": "99999999-2222-3333-4444-555555555555"}, 400, "invalid_tenant", "AADSTS90002"),
    ({"scope": "https://example.invalid/user.read"}, 400, "invalid_scope", "AADSTS1002012"),
])
def test_token_errors_have_entra_shape(local_azure, kwargs, status, error, aadsts):
    resp = _token_request(local_azure, **kwargs)
    assert resp.status_code == status
    body = resp.json()
    assert body["error"] == error
    assert body["error_description"].startswith(f"{aadsts}:")
    assert body["error_codes"] == [int(aadsts[6:])]
    assert local_azure.client_secret not in resp.text


def test_azure_identity_reports_wrong_secret(local_azure):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    cred = ClientSecretCredential(local_azure.tenant_id, local_azure.client_id, "not-the-secret",
                                  authority=local_azure.base_url, disable_instance_discovery=True,
                                  connection_verify=local_azure.ca_bundle)
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        cred.get_token(f"{local_azure.base_url}/.default")


def _arm_get(azure, headers):
    return requests.get(f"{azure.base_url}/subscriptions/{azure.subscription_id}/resourceGroups?api-version=2021-04-01",
                        headers=headers, verify=azure.ca_bundle, timeout=10)


def test_arm_rejects_missing_token(local_azure):
    resp = _arm_get(local_azure, {})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "AuthenticationFailed"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header", ["Bearer not.a.jwt", "Bearer " + jwt.encode({"oid": "x", "exp": 9999999999}, "k" * 32, algorithm="HS256")])
def test_arm_rejects_malformed_or_foreign_token(local_azure, header):
    resp = _arm_get(local_azure, {"Authorization": header})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_arm_rejects_expired_token(local_azure, world):
    world(token_lifetime_s=-120)
    client = ArmClient(local_azure.base_url, local_azure.ca_bundle, local_azure.tenant_id, local_azure.client_id,
                       local_azure.client_secret)
    token = client.token()
    resp = _arm_get(local_azure, {"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["code"] == "ExpiredAuthenticationToken"
    assert "earlier than current UTC time" in error["message"]
    world()  # restore the default lifetime


def test_arm_rejects_token_for_another_audience(local_azure):
    token = _token_request(local_azure, scope="https://management.azure.com/.default").json()["access_token"]
    resp = _arm_get(local_azure, {"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_valid_token_is_accepted_and_caller_logged(local_azure, world):
    world()
    token = _token_request(local_azure).json()["access_token"]
    assert _arm_get(local_azure, {"Authorization": f"Bearer {token}"}).status_code == 200
    entry = local_azure.admin.requests().arm()[-1]
    assert entry["caller"] == jwt.decode(token, options={"verify_signature": False})["oid"]


def test_managed_identity_endpoint_with_azure_identity(local_azure, world, monkeypatch):
    """auth_source msi: azure-identity's ManagedIdentityCredential (App Service protocol) gets ARM tokens."""
    from azure.identity import ManagedIdentityCredential

    summary = world("demo")
    for key, value in local_azure.msi_env().items():
        monkeypatch.setenv(key, value)
    scope = f"{local_azure.base_url}/.default"
    host = ManagedIdentityCredential(connection_verify=local_azure.ca_bundle).get_token(scope)
    claims = jwt.decode(host.token, options={"verify_signature": False})
    assert local_azure.admin.state()["principals"][claims["oid"]]["display_name"] == "controller-host"
    assert _arm_get(local_azure, {"Authorization": f"Bearer {host.token}"}).status_code == 200
    uami = summary["principals"]["id-apim-demo"]
    user = ManagedIdentityCredential(client_id=uami["client_id"], connection_verify=local_azure.ca_bundle)
    user_claims = jwt.decode(user.get_token(scope).token, options={"verify_signature": False})
    assert user_claims["oid"] == uami["object_id"]
    # the user-assigned identity holds no role: ARM says so in plain words
    denied = _arm_get(local_azure, {"Authorization": f"Bearer {user.get_token(scope).token}"})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"


def test_managed_identity_endpoint_rejects_a_wrong_header(local_azure):
    resp = requests.get(local_azure.identity_endpoint, params={"api-version": "2019-08-01",
                                                               "resource": local_azure.base_url},
                        headers={"X-IDENTITY-HEADER": "nope"}, verify=local_azure.ca_bundle, timeout=10)
    assert resp.status_code == 401


def test_workload_identity_federation_with_azure_identity(local_azure, world, tmp_path):
    """auth_source workload_identity: a federated token file is exchanged for an ARM token of the identity."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import WorkloadIdentityCredential

    summary = world({"resource_groups": [{"name": "rg-wi", "user_assigned_identities": [
        {"name": "id-awx", "federated_credentials": [{"name": "awx-runner", "subject": "system:serviceaccount:awx:runner"}]}]}],
        "role_assignments": [{"scope": "/subscriptions/{subscription_id}/resourceGroups/rg-wi", "role": "Reader",
                              "principal": "id-awx"}]})
    identity = summary["principals"]["id-awx"]
    token_file = tmp_path / "token"

    def credential():
        return WorkloadIdentityCredential(tenant_id=local_azure.tenant_id, client_id=identity["client_id"],
                                          token_file_path=str(token_file), authority=local_azure.base_url,
                                          disable_instance_discovery=True, connection_verify=local_azure.ca_bundle)

    scope = f"{local_azure.base_url}/.default"
    token_file.write_text(local_azure.admin.federated_token("system:serviceaccount:awx:runner")["token"])
    access = credential().get_token(scope).token
    assert jwt.decode(access, options={"verify_signature": False})["oid"] == identity["object_id"]
    resp = requests.get(f"{local_azure.base_url}{local_azure.rg_id('rg-wi')}?api-version=2021-04-01",
                        headers={"Authorization": f"Bearer {access}"}, verify=local_azure.ca_bundle, timeout=10)
    assert resp.status_code == 200
    token_file.write_text(local_azure.admin.federated_token("system:serviceaccount:awx:other")["token"])
    with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        credential().get_token(scope)
    token_file.write_text(local_azure.admin.federated_token("system:serviceaccount:awx:runner", lifetime_s=-60)["token"])
    with pytest.raises(ClientAuthenticationError, match="AADSTS700024"):
        credential().get_token(scope)


def test_federated_credentials_through_arm(local_azure, world):
    world("demo")
    client = local_azure.arm()
    base = f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-demo"
    fic = {"properties": {"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/ops:ref:main",
                          "audiences": ["api://AzureADTokenExchange"]}}
    assert client.put(f"{base}/federatedIdentityCredentials/gh", fic, "2023-01-31").status_code == 201
    assert client.put(f"{base}/federatedIdentityCredentials/gh", fic, "2023-01-31").status_code == 200
    listed = client.get(f"{base}/federatedIdentityCredentials", "2023-01-31").json()["value"]
    assert [f["properties"]["subject"] for f in listed] == ["repo:contoso/ops:ref:main"]
    bad = client.put(f"{base}/federatedIdentityCredentials/x", {"properties": {"issuer": "http://x", "subject": "s"}},
                     "2023-01-31")
    assert bad.status_code == 400
    assert client.delete(f"{base}/federatedIdentityCredentials/gh", "2023-01-31").status_code == 200
    assert client.get(f"{base}/federatedIdentityCredentials/gh", "2023-01-31").status_code == 404
