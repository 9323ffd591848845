"""A token ARM calls expired (clock skew) is replaced by a new sign-in once; other 401s are not retried."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

GROUP = r"/subscriptions/[^/]+/resourcegroups/rg"
PATH = "/subscriptions/s/resourcegroups/rg"
EXPIRED = {"error": {"code": "ExpiredAuthenticationToken",
                     "message": "The access token expiry UTC time is earlier than current UTC time."}}
AUDIENCE = {"error": {"code": "InvalidAuthenticationTokenAudience", "message": "wrong audience"}}
CHALLENGE = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.fake.test/t", error="invalid_token", '
                                 'error_description="The access token expiry UTC time is earlier than current UTC time."'}
AUDIENCE_CHALLENGE = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.fake.test/t", error="invalid_token", '
                                          'error_description="The access token has been obtained from wrong audience."'}


def _tokens(transport):
    return [r for r in transport.requests if r.url.endswith("/oauth2/v2.0/token")]


@pytest.mark.parametrize("client", ["arm", "sdk"])
def test_expired_token_is_renewed_and_the_request_sent_again(make_module, transport, client):
    transport.queue("GET", GROUP, [(401, CHALLENGE, EXPIRED), (200, {}, {"name": "rg", "location": "westeurope"})])
    module = make_module()
    if client == "arm":
        body = module.call(module.arm().get, PATH, "2022-09-01")
        assert body["name"] == "rg"
    else:
        transport.queue("GET", r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                               r"userAssignedIdentities/x",
                        [(401, CHALLENGE, EXPIRED), (200, {}, {"name": "x", "location": "westeurope"})])
        model = module.call(module.client("msi").user_assigned_identities.get, "rg", "x")
        assert model.name == "x"
    assert len(_tokens(transport)) == 2, "a second sign-in must replace the token ARM called expired"
    assert len(transport.arm_requests()) == 2
    assert module.credential.renewals == 1


def test_expired_again_after_renewal_fails_with_a_clock_hint(make_module, transport):
    transport.queue("GET", GROUP, [(401, CHALLENGE, EXPIRED)])
    module = make_module()
    with pytest.raises(AzureApimError) as caught:
        module.call(module.arm().get, PATH, "2022-09-01")
    assert caught.value.status == 401 and caught.value.code == "ExpiredAuthenticationToken"
    assert "clock" in caught.value.hint
    assert len(transport.arm_requests()) == 2 and len(_tokens(transport)) == 2


def test_other_401s_are_not_retried(make_module, transport):
    transport.queue("GET", GROUP, [(401, AUDIENCE_CHALLENGE, AUDIENCE)])
    module = make_module()
    with pytest.raises(AzureApimError) as caught:
        module.call(module.arm().get, PATH, "2022-09-01")
    assert caught.value.code == "InvalidAuthenticationTokenAudience"
    assert len(transport.arm_requests()) == 1 and len(_tokens(transport)) == 1
    assert module.credential.renewals == 0
