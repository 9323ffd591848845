"""ARM ids and Key Vault secret URIs."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._ids import (
    build_resource_id, normalize_resource_id, parse_resource_id, parse_secret_uri, resolve_resource_id,
    same_resource_id, same_secret_uri, split_secret_ref, vault_dns_suffix,
)

UAI = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a"
UAI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


@pytest.mark.parametrize("value, sub, group, rtype, name", [
    (UAI, "sub", "rg", UAI_TYPE, "id-a"),
    (UAI + "/", "sub", "rg", UAI_TYPE, "id-a"),
    ("/subscriptions/sub/resourcegroups/rg/providers/Microsoft.ApiManagement/service/apim/namedValues/nv",
     "sub", "rg", "Microsoft.ApiManagement/service/namedValues", "nv"),
    ("/subscriptions/sub/resourceGroups/rg", "sub", "rg", None, "rg"),
    ("/subscriptions/sub", "sub", None, None, "sub"),
    ("/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/4633458b",
     "sub", None, "Microsoft.Authorization/roleDefinitions", "4633458b"),
    ("/providers/Microsoft.Authorization/roleDefinitions/4633458b", None, None, "Microsoft.Authorization/roleDefinitions",
     "4633458b"),
])
def test_parse(value, sub, group, rtype, name):
    rid = parse_resource_id(value)
    assert (rid.subscription, rid.resource_group, rid.resource_type, rid.name) == (sub, group, rtype, name)


def test_extension_resource_keeps_its_scope():
    value = ("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
             "/providers/Microsoft.Authorization/roleAssignments/guid")
    rid = parse_resource_id(value)
    assert rid.resource_type == "Microsoft.Authorization/roleAssignments" and rid.name == "guid"
    assert rid.parent_scope == "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
    assert str(rid) == value


def test_round_trip():
    assert str(parse_resource_id(UAI + "/")) == UAI
    assert build_resource_id("sub", "rg", "Microsoft.ManagedIdentity", "userAssignedIdentities", "id-a") == UAI


@pytest.mark.parametrize("value, fragment", [
    ("subscriptions/sub/resourceGroups/rg", "starts with '/subscriptions/'"),
    ("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities", "has no name"),
    ("/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ManagedIdentity", "has no resource type"),
    ("/subscriptions/sub//resourceGroups/rg", "empty path segment"),
    ("/tenants/x", "must start with"),
    ("/subscriptions/sub/resourceGroups/rg/widgets/x", "expected 'providers/<Namespace>'"),
])
def test_malformed_ids_explain_the_shape(value, fragment):
    with pytest.raises(AzureApimError) as caught:
        parse_resource_id(value)
    assert fragment in caught.value.msg
    assert "expected /subscriptions/<subscription>/resourceGroups/<group>/providers/" in caught.value.msg


def test_wrong_type_names_the_expected_shape():
    with pytest.raises(AzureApimError) as caught:
        parse_resource_id("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv", UAI_TYPE)
    assert "userAssignedIdentities/<name>" in caught.value.msg and "Microsoft.KeyVault/vaults" in caught.value.msg


@pytest.mark.parametrize("a, b, same", [
    (UAI, UAI.upper(), True),
    (UAI, UAI + "/", True),
    (UAI, UAI.replace("resourceGroups", "resourcegroups"), True),
    (UAI, UAI.replace("id-a", "id-b"), False),
    (None, None, True),
    (UAI, None, False),
])
def test_same_resource_id(a, b, same):
    assert same_resource_id(a, b) is same


def test_normalize():
    assert normalize_resource_id("//Subscriptions/S//x/") == "/subscriptions/s/x"


def test_resolve_names_and_ids():
    assert resolve_resource_id("id-a", "sub", "rg", UAI_TYPE) == UAI
    # a full id is kept (names as given, keywords canonical, no trailing slash), never re-homed
    assert resolve_resource_id(UAI.lower() + "/", "other", "other", UAI_TYPE) == (
        "/subscriptions/sub/resourceGroups/rg/providers/microsoft.managedidentity/userassignedidentities/id-a")
    with pytest.raises(AzureApimError, match="give a bare name or a full id"):
        resolve_resource_id("rg/id-a", "sub", "rg", UAI_TYPE)


@pytest.mark.parametrize("uri, vault, vault_url, name, version", [
    ("https://kv-demo.vault.azure.net/secrets/tls-cert", "kv-demo", "https://kv-demo.vault.azure.net", "tls-cert", None),
    ("https://KV-Demo.Vault.Azure.Net/secrets/tls-cert/", "kv-demo", "https://kv-demo.vault.azure.net", "tls-cert", None),
    ("https://kv.vault.azure.cn/secrets/s/0123abcd", "kv", "https://kv.vault.azure.cn", "s", "0123abcd"),
    ("https://kv.vault.usgovcloudapi.net/secrets/s", "kv", "https://kv.vault.usgovcloudapi.net", "s", None),
    ("https://kv.localhost:8443/secrets/s", "kv", "https://kv.localhost:8443", "s", None),
])
def test_secret_uri(uri, vault, vault_url, name, version):
    parsed = parse_secret_uri(uri)
    assert (parsed.vault_name, parsed.vault_url, parsed.name, parsed.version) == (vault, vault_url, name, version)
    assert parsed.versionless == vault_url + "/secrets/" + name


def test_certificate_url_is_refused_with_the_secret_form():
    with pytest.raises(AzureApimError) as caught:
        parse_secret_uri("https://kv.vault.azure.net/certificates/tls/abc")
    assert caught.value.code == "CertificateUrlNotSecret"
    assert "https://kv.vault.azure.net/secrets/tls/abc" in caught.value.msg


@pytest.mark.parametrize("uri", ["http://kv.vault.azure.net/secrets/s", "https://kv.vault.azure.net/keys/k",
                                 "https://kv.vault.azure.net/secrets", "https://10.0.0.1/secrets/s", "not a url"])
def test_malformed_secret_uri(uri):
    with pytest.raises(AzureApimError, match="secret URI"):
        parse_secret_uri(uri)


def test_same_secret_uri_ignores_case_and_slash():
    assert same_secret_uri("https://kv.vault.azure.net/secrets/S/", "https://KV.vault.azure.net/secrets/s")
    assert not same_secret_uri("https://kv.vault.azure.net/secrets/s/v1", "https://kv.vault.azure.net/secrets/s")


@pytest.mark.parametrize("url, suffix", [
    ("https://kv.vault.azure.net", "vault.azure.net"),
    ("https://kv.vault.azure.cn/", "vault.azure.cn"),
    ("https://kv.vault.usgovcloudapi.net", "vault.usgovcloudapi.net"),
    ("https://kv.localhost:8443", None),
])
def test_vault_dns_suffix(url, suffix):
    assert vault_dns_suffix(url) == suffix


@pytest.mark.parametrize("ref, expected", [
    ("api-cert", ("api-cert", None)),
    ("https://kv.vault.azure.net/secrets/api-cert", ("api-cert", None)),
    ("HTTPS://kv.vault.azure.net/secrets/api-cert/abc123", ("api-cert", "abc123")),
])
def test_split_secret_ref(ref, expected):
    assert split_secret_ref(ref) == expected
