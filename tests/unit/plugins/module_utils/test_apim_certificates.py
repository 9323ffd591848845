"""Pure helpers of apim_certificate: which backends use a certificate, Key Vault reference equality, the wait's
retry classification."""
import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_certificates as certs
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._kv_propagation import is_keyvault_refusal

URI = "https://kv.vault.azure.net/secrets/backend"
BACKENDS = [
    {"name": "orders", "certificate_ids": ["/certificates/Backend-MTLS"], "thumbprints": []},
    {"name": "legacy", "certificate_ids": [], "thumbprints": ["abc123"]},
    {"name": "other", "certificate_ids": ["/certificates/else"], "thumbprints": []},
]


@pytest.mark.parametrize("name,thumbprint,expected", [
    ("backend-mtls", None, ["orders"]), ("backend-mtls", "ABC123", ["legacy", "orders"]), ("none", None, []),
])
def test_users_of_by_id_or_thumbprint(name, thumbprint, expected):
    assert certs.users_of(BACKENDS, name, thumbprint) == expected


@pytest.mark.parametrize("wanted,current,equal", [
    ({"secret_identifier": URI, "identity_client_id": "SystemAssigned"},
     {"secret_identifier": URI.upper() + "/", "identity_client_id": None}, True),
    ({"secret_identifier": URI, "identity_client_id": "c1"}, {"secret_identifier": URI, "identity_client_id": "C1"},
     True),
    ({"secret_identifier": URI, "identity_client_id": "c1"}, {"secret_identifier": URI, "identity_client_id": None},
     False),
    ({"secret_identifier": URI + "/v1", "identity_client_id": None}, {"secret_identifier": URI}, False),
    ({"secret_identifier": URI}, None, False),
])
def test_key_vault_reference_equality(wanted, current, equal):
    assert certs.key_vault_equal(wanted, current) is equal


@pytest.mark.parametrize("status,code,message,retried", [
    (400, "InvalidOperation", "Failed to access KeyVault Secret https://x using Managed Service Identity", True),
    (403, "Forbidden", "ForbiddenByRbac: caller is not authorized", True),
    (400, "InvalidOperation", "something else", False),
    (409, "InvalidOperation", "Failed to access KeyVault Secret", False),
])
def test_only_a_refused_fetch_is_waited_for(status, code, message, retried):
    """The certificate PUT uses the shared propagation wait: only APIM's Key Vault refusal is sent again."""
    err = AzureApimError(message, status=status, code=code)
    assert is_keyvault_refusal(err) is retried
