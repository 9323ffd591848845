"""Credential selection, precedence and clouds."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._auth import (
    AuthSettings, build_credential, resolve_settings,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._credentials import FirstAvailable
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

from ...conftest import AUTHORITY, CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION, TENANT

NO_FILE = {"AZURE_CONFIG_DIR": "/nonexistent-azure-config"}
AWX = {"AZURE_SUBSCRIPTION_ID": "sub-awx", "AZURE_CLIENT_ID": "cid-awx", "AZURE_SECRET": "sec-awx", "AZURE_TENANT": "ten-awx"}
IDENTITY_LIB = {"AZURE_SUBSCRIPTION_ID": "sub-id", "AZURE_CLIENT_ID": "cid-id", "AZURE_CLIENT_SECRET": "sec-id",
                "AZURE_TENANT_ID": "ten-id"}


def resolve(params=None, **env) -> AuthSettings:
    return resolve_settings(params or {}, dict(NO_FILE, **env))


@pytest.fixture
def profile_dir(tmp_path):
    (tmp_path / "credentials").write_text(
        "[default]\nsubscription_id=sub-default\nclient_id=cid-default\nsecret=sec-default\ntenant=ten-default\n\n"
        "[china]\nsubscription_id=sub-cn\nclient_id=cid-cn\nsecret=sec-cn\ntenant=ten-cn\ncloud_environment=AzureChinaCloud\n"
    )
    return str(tmp_path)


@pytest.mark.parametrize("env, expected", [
    (AWX, ("client_secret", "env", "sub-awx", "cid-awx", "sec-awx", "ten-awx")),
    (IDENTITY_LIB, ("client_secret", "env", "sub-id", "cid-id", "sec-id", "ten-id")),
    # AWX names win over azure-identity names when both are present.
    (dict(IDENTITY_LIB, **AWX), ("client_secret", "env", "sub-awx", "cid-awx", "sec-awx", "ten-awx")),
])
def test_environment_names(env, expected):
    s = resolve(**env)
    assert (s.kind, s.source, s.subscription_id, s.client_id, s.secret, s.tenant) == expected


def test_parameters_win_over_environment():
    s = resolve({"client_id": "cid-param", "subscription_id": "sub-param", "cloud_environment": "AzureUSGovernment"},
                AZURE_CLOUD_ENVIRONMENT="AzureChinaCloud", **AWX)
    assert (s.client_id, s.subscription_id, s.secret) == ("cid-param", "sub-param", "sec-awx")
    assert s.cloud.name == "AzureUSGovernment"


def test_all_parameters_source():
    s = resolve({"client_id": "c", "secret": "x", "tenant": "t", "subscription_id": "s"}, **AWX)
    assert (s.kind, s.source) == ("client_secret", "parameters")


def test_default_profile_used_when_nothing_else(profile_dir):
    s = resolve_settings({}, {"AZURE_CONFIG_DIR": profile_dir})
    assert (s.kind, s.source, s.client_id, s.subscription_id) == ("client_secret", "credential_file", "cid-default", "sub-default")


def test_named_profile_beats_environment_but_not_parameters(profile_dir):
    env = dict(AWX, AZURE_CONFIG_DIR=profile_dir, AZURE_PROFILE="china")
    s = resolve_settings({"subscription_id": "sub-param"}, env)
    assert (s.client_id, s.secret, s.tenant) == ("cid-cn", "sec-cn", "ten-cn")
    assert s.subscription_id == "sub-param"
    assert s.cloud.name == "AzureChinaCloud"
    assert s.resource_manager_url == "https://management.chinacloudapi.cn/"


def test_environment_service_principal_beats_default_profile(profile_dir):
    s = resolve_settings({}, dict(AWX, AZURE_CONFIG_DIR=profile_dir))
    assert s.client_id == "cid-awx"


def test_missing_named_profile_is_an_error(profile_dir):
    with pytest.raises(AzureApimError, match=r"Profile 'nope' was requested.*no \[nope\] section"):
        resolve_settings({"profile": "nope"}, {"AZURE_CONFIG_DIR": profile_dir})


@pytest.mark.parametrize("env, missing", [
    ({"AZURE_CLIENT_ID": "c", "AZURE_SECRET": "x"}, "tenant"),
    ({"AZURE_SECRET": "x", "AZURE_TENANT": "t"}, "client_id"),
    ({"AZURE_TENANT": "t"}, "client_id"),
    ({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"}, "secret"),
    ({"AZURE_FEDERATED_TOKEN_FILE": "/tmp/token", "AZURE_CLIENT_ID": "c"}, "tenant"),
])
def test_incomplete_identity_never_falls_back(env, missing):
    with pytest.raises(AzureApimError) as caught:
        resolve(**dict(env, AZURE_SUBSCRIPTION_ID="s"))
    assert caught.value.code == "IncompleteCredentials"
    assert missing in caught.value.msg and "No other identity is tried" in caught.value.msg


@pytest.mark.parametrize("params, env, kind, credential", [
    ({}, {"AZURE_CLIENT_ID": "c"}, "msi", "ManagedIdentityCredential"),
    ({}, {}, "msi_or_cli", "FirstAvailable"),
    ({"auth_source": "cli"}, AWX, "cli", "AzureCliCredential"),
    ({"auth_source": "msi"}, {}, "msi", "ManagedIdentityCredential"),
    ({}, {"AZURE_FEDERATED_TOKEN_FILE": "/tmp/t", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}, "workload_identity",
     "WorkloadIdentityCredential"),
    ({}, AWX, "client_secret", "ClientSecretCredential"),
])
def test_credential_classes(params, env, kind, credential):
    s = resolve(params, **dict({"AZURE_SUBSCRIPTION_ID": "s"}, **env))
    assert s.kind == kind
    assert type(build_credential(s)).__name__ == credential


def test_user_password_credential_is_refused_not_replaced():
    with pytest.raises(AzureApimError) as caught:
        resolve(AZURE_AD_USER="ops@example.com", AZURE_PASSWORD="pw", AZURE_SUBSCRIPTION_ID="s")
    assert caught.value.code == "UnsupportedCredential"


def test_auth_source_from_environment():
    assert resolve(ANSIBLE_AZURE_AUTH_SOURCE="msi", **AWX).kind == "msi"


@pytest.mark.parametrize("cloud, arm, authority, scope", [
    ("AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com", "https://management.azure.com/.default"),
    ("AzureChinaCloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn",
     "https://management.chinacloudapi.cn/.default"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us",
     "https://management.core.usgovcloudapi.net/.default"),
    ("azureusgovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us",
     "https://management.core.usgovcloudapi.net/.default"),
])
def test_sovereign_clouds(cloud, arm, authority, scope):
    s = resolve({"cloud_environment": cloud}, **AWX)
    assert (s.resource_manager_url, s.authority_host, s.credential_scope) == (arm, authority, scope)
    assert s.disable_instance_discovery is False


def test_endpoint_overrides_derive_scope_and_turn_discovery_off():
    s = resolve(AZURE_RESOURCE_MANAGER_URL="https://127.0.0.1:8443", AZURE_AUTHORITY_HOST="https://127.0.0.1:8443", **AWX)
    assert s.resource_manager_url == "https://127.0.0.1:8443/"
    assert s.credential_scope == "https://127.0.0.1:8443/.default"
    assert s.disable_instance_discovery is True
    explicit = resolve({"credential_scope": "https://x/.default"}, AZURE_RESOURCE_MANAGER_URL="https://a.test", **AWX)
    assert explicit.credential_scope == "https://x/.default"


def test_plain_http_endpoint_is_refused():
    with pytest.raises(AzureApimError, match="must be an https URL"):
        resolve({"resource_manager_url": "http://arm.test"}, **AWX)


def test_unknown_cloud_lists_valid_names():
    with pytest.raises(AzureApimError) as caught:
        resolve({"cloud_environment": "AzureGermanCloud"}, **AWX)
    assert "AzureGermanCloud" in caught.value.msg
    for name in ("AzureCloud", "AzureChinaCloud", "AzureUSGovernment"):
        assert name in caught.value.msg


def test_missing_subscription_names_option_and_variable():
    env = {k: v for k, v in AWX.items() if k != "AZURE_SUBSCRIPTION_ID"}
    with pytest.raises(AzureApimError) as caught:
        resolve(**env)
    assert "subscription_id" in caught.value.msg and "AZURE_SUBSCRIPTION_ID" in caught.value.msg


def test_ca_bundle_fallbacks():
    assert resolve(REQUESTS_CA_BUNDLE="/r.pem", **AWX).ca_bundle == "/r.pem"
    assert resolve(REQUESTS_CA_BUNDLE="/r.pem", AZURE_CA_BUNDLE="/a.pem", **AWX).ca_bundle == "/a.pem"
    assert resolve({"ca_bundle": "/p.pem"}, AZURE_CA_BUNDLE="/a.pem", **AWX).ca_bundle == "/p.pem"


def test_describe_never_contains_the_secret():
    s = resolve(**AWX)
    info = s.describe()
    assert info["credential"] == "ClientSecretCredential" and info["source"] == "env"
    assert "sec-awx" not in repr(info) and "sec-awx" not in repr(s)


def test_client_secret_token_through_custom_authority(transport):
    """The real ClientSecretCredential signs in at the overridden authority, with discovery off."""
    s = resolve({"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET, "subscription_id": SUBSCRIPTION,
                 "authority_host": AUTHORITY, "resource_manager_url": "https://arm.fake.test"})
    token = build_credential(s, transport=transport).get_token(s.credential_scope)
    assert token.token.startswith("tok-")
    hosts = {r.url.split("/")[2] for r in transport.requests}
    assert hosts == {"login.fake.test"}
    assert any(r.url.endswith("/oauth2/v2.0/token") for r in transport.requests)


def test_first_available_remembers_which_worked():
    from azure.identity import CredentialUnavailableError

    class Unavailable:
        def get_token(self, *scopes, **kwargs):
            raise CredentialUnavailableError("no IMDS here")

    class Works:
        def get_token(self, *scopes, **kwargs):
            return "token"

    chain = FirstAvailable([Unavailable(), Works()])
    assert chain.get_token("scope") == "token"
    assert type(chain.used).__name__ == "Works"
    with pytest.raises(CredentialUnavailableError, match="no IMDS here"):
        FirstAvailable([Unavailable()]).get_token("scope")
