"""Token requests keep the task deadline: bounded attempts, pauses ended at the deadline, no attempt after it."""
from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceResponseTimeoutError

from ansible_collections.azure_apim.identity.plugins.module_utils._auth import build_credential, resolve_settings
from ansible_collections.azure_apim.identity.plugins.module_utils._credentials import (
    DeadlineTransport, RenewableCredential, SignInDeadline,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import (
    READ_TIMEOUT_FLOOR, READ_TIMEOUT_GRACE, Deadline,
)

from ...conftest import AUTHORITY, CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION, TENANT

PARAMS = {"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET, "subscription_id": SUBSCRIPTION,
          "authority_host": AUTHORITY, "resource_manager_url": "https://arm.fake.test"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _settings():
    return resolve_settings(PARAMS, {"AZURE_CONFIG_DIR": "/nonexistent-azure-config"})


@pytest.mark.parametrize("remaining, given, expected", [
    (100.0, None, 100.0 + READ_TIMEOUT_GRACE),  # the transport default (300 s) is cut to what is left
    (100.0, 10.0, 10.0),  # a shorter timeout the caller chose stays
    (0.5, None, max(READ_TIMEOUT_FLOOR, 0.5 + READ_TIMEOUT_GRACE)),  # near the deadline: one short last attempt
])
def test_each_token_attempt_waits_no_longer_than_the_deadline_allows(transport, remaining, given, expected):
    clock = Clock()
    deadline = Deadline(100, clock=clock)
    clock.now = 100 - remaining
    seen = {}
    original = transport.send

    def send(request, **kwargs):
        seen.update(kwargs)
        return original(request, **kwargs)

    transport.send = send
    wrapped = DeadlineTransport(transport, deadline)
    kwargs = {"read_timeout": given, "connection_timeout": given} if given else {}
    wrapped.send(_request(), **kwargs)
    assert seen["read_timeout"] == pytest.approx(expected) and seen["connection_timeout"] == pytest.approx(expected)


def test_retry_pauses_end_at_the_deadline(transport):
    clock = Clock()
    deadline = Deadline(10, clock=clock)
    clock.now = 8
    DeadlineTransport(transport, deadline).sleep(30)
    assert transport.sleeps == [pytest.approx(2)]


def test_no_attempt_starts_after_the_deadline(transport):
    deadline = Deadline(0)
    with pytest.raises(SignInDeadline) as caught:
        DeadlineTransport(transport, deadline).send(_request())
    assert transport.requests == [] and caught.value.code == "SignInTimeout"
    assert "https://login.fake.test/tenant/oauth2/v2.0/token" in caught.value.msg


def test_a_timeout_at_the_deadline_becomes_the_deadline_error(transport):
    clock = Clock()
    deadline = Deadline(10, clock=clock)

    def hang(request, **kwargs):
        clock.now = 12  # the read timed out past the deadline
        raise ServiceResponseTimeoutError("Read timed out")

    transport.send = hang
    with pytest.raises(SignInDeadline) as caught:
        DeadlineTransport(transport, deadline).send(_request())
    assert "timeout of 10 s" in caught.value.msg and "ServiceResponseTimeoutError" in caught.value.msg


def test_a_failure_before_the_deadline_is_left_as_it_is(transport):
    def refused(request, **kwargs):
        raise ServiceResponseTimeoutError("Read timed out")

    transport.send = refused
    with pytest.raises(ServiceResponseTimeoutError):
        DeadlineTransport(transport, Deadline(600)).send(_request())


def test_the_credential_raises_the_deadline_error_whatever_azure_identity_wraps_it_in(transport):
    """ClientSecretCredential (through MSAL) reports transport failures as ClientAuthenticationError; the run's
    credential unwraps the deadline error, so the message names the timeout."""
    deadline = Deadline(0)
    credential = RenewableCredential(lambda: build_credential(_settings(), deadline, transport=transport), deadline)
    with pytest.raises(SignInDeadline):
        credential.get_token(_settings().credential_scope)
    assert transport.requests == []


def test_without_a_timeout_the_credential_keeps_azure_identitys_transport(transport):
    credential = build_credential(_settings(), Deadline(None), transport=transport)
    assert credential.get_token(_settings().credential_scope).token.startswith("tok-")


def _request():
    from azure.core.rest import HttpRequest

    return HttpRequest("POST", "https://login.fake.test/tenant/oauth2/v2.0/token")
