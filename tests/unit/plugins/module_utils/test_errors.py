"""Translation of SDK errors: 404 is absence, everything else is an error with status, code and request id."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import (
    AzureApimError, not_found_to_none, translate,
)

from ...conftest import CLIENT_SECRET

IDENTITY = r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/id"


@pytest.mark.parametrize("status, code, absent", [
    (404, "ResourceNotFound", True),
    (403, "AuthorizationFailed", False),
    (401, "InvalidAuthenticationToken", False),
    (500, "InternalServerError", False),
    (409, "Conflict", False),
])
def test_only_404_means_absent(make_module, transport, status, code, absent):
    transport.queue("GET", IDENTITY, [(status, {"x-ms-request-id": "rid-1"}, {"error": {"code": code, "message": "m-" + code}})])
    module = make_module({"timeout": 30})
    ops = module.client("msi").user_assigned_identities
    if absent:
        assert module.read(ops.get, "rg", "id", what="reading id") is None
        return
    with pytest.raises(AzureApimError) as caught:
        module.read(ops.get, "rg", "id", what="reading id")
    err = caught.value
    assert (err.status, err.code, err.request_id) == (status, code, "rid-1")
    assert err.msg.startswith("reading id: Azure answered {0} ({1}): m-{1}".format(status, code))
    result = err.to_result()
    assert result["error_code"] == code and result["status"] == status and result["request_id"] == "rid-1"


def test_server_errors_are_retried_by_the_pipeline_before_failing(make_module, transport):
    transport.queue("GET", IDENTITY, [(503, {}, {"error": {"code": "ServerBusy", "message": "busy"}}),
                                      (200, {}, {"id": "/x", "name": "id", "location": "westeurope"})])
    module = make_module()
    model = module.read(module.client("msi").user_assigned_identities.get, "rg", "id")
    assert model.name == "id"
    assert len(transport.arm_requests()) == 2


def test_not_found_to_none_passes_other_errors():
    def forbidden():
        raise AzureApimError("nope", status=403)

    with pytest.raises(AzureApimError):
        not_found_to_none(forbidden)

    def gone():
        raise AzureApimError("gone", status=404)

    assert not_found_to_none(gone) is None
    assert not_found_to_none(lambda x: x * 2, 21) == 42


def test_entra_error_becomes_plain_words_without_secret():
    from azure.core.exceptions import ClientAuthenticationError

    err = ClientAuthenticationError(
        "Authentication failed: AADSTS7000215: Invalid client secret provided ({0}). Trace ID: 1 Correlation ID: 2".format(
            CLIENT_SECRET))
    translated = translate(err, "signing in", secrets=[CLIENT_SECRET])
    assert translated.code == "AADSTS7000215"
    assert "client secret is wrong" in translated.hint
    assert CLIENT_SECRET not in translated.full_message()
    assert "Trace ID" not in translated.msg


def test_connection_error_hint():
    from azure.core.exceptions import ServiceRequestError

    translated = translate(ServiceRequestError("Name or service not known"), "reading")
    assert translated.code == "ServiceRequestError" and "ca_bundle" in translated.hint


def test_wrong_secret_end_to_end(make_module, transport, azure_env):
    azure_env["AZURE_SECRET"] = "not-the-secret"
    module = make_module()
    with pytest.raises(AzureApimError) as caught:
        module.read(module.client("msi").user_assigned_identities.get, "rg", "id", what="reading id")
    assert caught.value.code == "AADSTS7000215"
    assert "not-the-secret" not in caught.value.full_message()
    assert transport.arm_requests() == []  # the token is asked for before any ARM request


def test_unreachable_sign_in_is_not_blamed_on_the_credential():
    from azure.core.exceptions import ClientAuthenticationError

    err = ClientAuthenticationError("Authentication failed: HTTPSConnection(host='login.example', port=443): "
                                    "Failed to establish a new connection: [Errno 111] Connection refused")
    translated = translate(err, "listing identities")
    assert translated.code == "ServiceRequestError"
    assert translated.msg.startswith("listing identities: Could not reach the Entra ID sign-in endpoint")
    assert "ca_bundle" in translated.hint


def test_wrong_secret_causes_no_retry_storm(make_module, transport, azure_env):
    azure_env["AZURE_SECRET"] = "not-the-secret"
    module = make_module()
    with pytest.raises(AzureApimError):
        module.read(module.client("msi").user_assigned_identities.get, "rg", "id")
    token_posts = [r for r in transport.requests if r.url.endswith("/oauth2/v2.0/token")]
    assert len(token_posts) == 1
