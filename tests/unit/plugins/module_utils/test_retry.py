"""Deadline, Retry-After cap and the named domain-transient retries."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import (
    APIM_OPERATION_IN_PROGRESS, KEYVAULT_CONFLICT, PRINCIPAL_NOT_FOUND, THROTTLED, Deadline, backoff_delays,
    capped_retry_after, classify, retry_transient,
)

IDENTITY = r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/id"
OK_BODY = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
           "name": "id", "location": "westeurope", "tags": {"a": "1"}}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_deadline_counts_down_and_caps():
    clock = Clock()
    deadline = Deadline(100, clock=clock)
    clock.sleep(30)
    assert deadline.elapsed() == 30 and deadline.remaining() == 70
    assert deadline.cap(500) == 70 and deadline.cap(5) == 5
    clock.sleep(80)
    assert deadline.remaining() == 0 and deadline.expired()
    assert Deadline(None).remaining() == float("inf")


@pytest.mark.parametrize("value, cap, remaining, expected", [
    (None, 60, 100, None),
    (5, 60, 100, 5),
    (3600, 60, 100, 60),
    (3600, 60, 12, 12),
    (30, 60, 0, 0),
])
def test_capped_retry_after(value, cap, remaining, expected):
    clock = Clock()
    deadline = Deadline(100, clock=clock)
    clock.sleep(100 - remaining)
    assert capped_retry_after(value, cap, deadline) == expected


@pytest.mark.parametrize("timeout, expected_sleep", [(600, 60.0), (20, 20.0)])
def test_pipeline_honours_capped_retry_after(make_module, transport, timeout, expected_sleep):
    transport.queue("GET", IDENTITY, [(429, {"Retry-After": "3600"}, {"error": {"code": "TooManyRequests", "message": "slow"}}),
                                      (200, {}, OK_BODY)])
    module = make_module({"timeout": timeout})
    assert module.read(module.client("msi").user_assigned_identities.get, "rg", "id").name == "id"
    assert transport.sleeps and transport.sleeps[0] <= expected_sleep
    assert transport.sleeps[0] >= expected_sleep - 1  # the deadline has barely moved


def test_pipeline_stops_retrying_at_the_deadline(make_module, transport):
    transport.queue("GET", IDENTITY, [(429, {"Retry-After": "1"}, {"error": {"code": "TooManyRequests", "message": "slow"}})])
    module = make_module({"timeout": 1})
    module.credential.get_token(module.auth.credential_scope)  # signed in while time was left
    module.deadline.timeout = 0  # now out of time
    with pytest.raises(AzureApimError) as caught:
        module.read(module.client("msi").user_assigned_identities.get, "rg", "id")
    assert caught.value.status == 429
    assert "task's timeout of 0 s" in caught.value.msg and "TooManyRequests" in caught.value.msg
    assert len(transport.arm_requests()) == 1


def test_no_sign_in_starts_after_the_deadline(make_module, transport):
    module = make_module({"timeout": 1})
    module.deadline.timeout = 0  # out of time before the first token request
    with pytest.raises(AzureApimError) as caught:
        module.read(module.client("msi").user_assigned_identities.get, "rg", "id")
    assert caught.value.code == "SignInTimeout" and "timeout of 0 s" in caught.value.msg
    assert transport.arm_requests() == []


def test_patch_429_without_retry_after_is_retried_by_our_layer(make_module, transport):
    transport.queue("PATCH", IDENTITY, [(429, {}, {"error": {"code": "TooManyRequests", "message": "slow"}}),
                                        (200, {}, OK_BODY)])
    module = make_module()
    ops = module.client("msi").user_assigned_identities
    slept = []
    from ansible_collections.azure_apim.identity.plugins.module_utils import _retry

    result = _retry.retry_transient(lambda: ops.update("rg", "id", {"tags": {"a": "1"}}), module.deadline,
                                    (THROTTLED,), sleep=slept.append)
    assert result.name == "id"
    patches = [r for r in transport.arm_requests() if r.method == "PATCH"]
    assert len(patches) == 2 and len(slept) == 1  # azure-core itself did not retry the PATCH


def _err(status, code):
    return AzureApimError("m", status=status, code=code)


@pytest.mark.parametrize("status, code, kind", [
    (409, "PessimisticConcurrencyConflict", APIM_OPERATION_IN_PROGRESS),
    (409, "AnotherOperationInProgress", APIM_OPERATION_IN_PROGRESS),
    (400, "PrincipalNotFound", PRINCIPAL_NOT_FOUND),
    (409, "ConflictError", KEYVAULT_CONFLICT),
    (429, None, THROTTLED),
    (412, "PreconditionFailed", None),
    (409, "ScopeLocked", None),
    (403, "AuthorizationFailed", None),
])
def test_classification(status, code, kind):
    kinds = (APIM_OPERATION_IN_PROGRESS, PRINCIPAL_NOT_FOUND, KEYVAULT_CONFLICT, THROTTLED)
    assert classify(_err(status, code), kinds) is kind


def test_retry_transient_retries_then_succeeds():
    clock = Clock()
    attempts = []

    def flaky():
        attempts.append(clock.now)
        if len(attempts) < 3:
            raise _err(409, "PessimisticConcurrencyConflict")
        return "done"

    assert retry_transient(flaky, Deadline(300, clock=clock), (APIM_OPERATION_IN_PROGRESS,), sleep=clock.sleep) == "done"
    assert len(attempts) == 3 and attempts[2] > attempts[1] > attempts[0]


def test_retry_transient_does_not_retry_other_errors():
    calls = []

    def stale():
        calls.append(1)
        raise _err(412, "PreconditionFailed")

    with pytest.raises(AzureApimError):
        retry_transient(stale, Deadline(300), (APIM_OPERATION_IN_PROGRESS, THROTTLED), sleep=lambda s: None)
    assert len(calls) == 1


def test_retry_transient_gives_up_at_the_deadline():
    clock = Clock()

    def never():
        raise _err(400, "PrincipalNotFound")

    with pytest.raises(AzureApimError) as caught:
        retry_transient(never, Deadline(60, clock=clock), (PRINCIPAL_NOT_FOUND,), what="granting the role",
                        sleep=clock.sleep)
    assert clock.now - 1000.0 <= 60
    assert caught.value.msg.startswith("Granting the role still failed after")
    assert "replicated" in caught.value.msg and caught.value.code == "PrincipalNotFound"


def test_backoff_is_jittered_exponential_and_capped():
    values = iter([1.0] * 10)
    delays = backoff_delays(base=2, cap=30, rng=lambda: next(values))
    assert [next(delays) for attempt in range(6)] == [2, 4, 8, 16, 30, 30]
    low = backoff_delays(base=2, cap=30, rng=lambda: 0.0)
    assert next(low) == 1.0
