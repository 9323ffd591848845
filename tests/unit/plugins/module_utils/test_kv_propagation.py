"""Waiting for Azure RBAC propagation before API Management reads Key Vault: which grants are young, which errors
are APIM's Key Vault refusals, and the retry loop bounded by the deadline."""
from __future__ import annotations

import datetime as dt

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._kv_propagation import (
    is_keyvault_refusal, until_accepted, young_rbac_grants,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline

NOW = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.timezone.utc)
REFUSAL = AzureApimError("Failed to access KeyVault Secret https://kv.vault.azure.net/secrets/c using Managed Service "
                         "Identity ... (Key Vault answered Forbidden/ForbiddenByRbac.)", status=400,
                         code="InvalidOperation")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize("grant, young", [
    ({"kind": "role_assignment", "name": "a", "created_on": "2026-12-04T11:58:00.1234567Z"}, True),
    ({"kind": "role_assignment", "name": "a", "created_on": "2026-12-04T11:49:59Z"}, False),
    ({"kind": "role_assignment", "name": "a", "created_on": "2026-12-04T12:05:00Z"}, True),  # clock skew
    ({"kind": "role_assignment", "name": "a", "created_on": None}, False),
    ({"kind": "role_assignment", "name": "a", "created_on": "yesterday"}, False),
    ({"kind": "access_policy", "object_id": "o"}, False),  # effective at once
])
def test_young_rbac_grants(grant, young):
    found = young_rbac_grants([grant], now=NOW)
    assert bool(found) is young
    if young:
        assert found[0]["granted_at"].endswith("Z")


@pytest.mark.parametrize("err, refusal", [
    (REFUSAL, True),
    (AzureApimError("Caller is not authorized ... ForbiddenByRbac", status=403), True),
    (AzureApimError("Invalid certificate for hostname", status=400, code="InvalidParameters"), False),
    (AzureApimError("Failed to access KeyVault Secret", status=409), False),
    (AzureApimError("busy", status=409, code="Conflict"), False),
])
def test_is_keyvault_refusal(err, refusal):
    assert is_keyvault_refusal(err) is refusal


def _attempts(answers):
    calls = []

    def attempt():
        calls.append(1)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return True, answer

    return attempt, calls


def test_retries_a_refusal_while_a_young_grant_propagates():
    clock = Clock()
    attempt, calls = _attempts([REFUSAL, REFUSAL, "written"])
    young = young_rbac_grants([{"kind": "role_assignment", "name": "a", "created_on": NOW.isoformat()}], now=NOW)
    assert until_accepted(attempt, young, Deadline(600, clock=clock), "x", sleep=clock.sleep) == "written"
    assert len(calls) == 3 and clock.now > 0


def test_without_a_young_grant_the_refusal_is_final():
    attempt, calls = _attempts([REFUSAL, "written"])
    with pytest.raises(AzureApimError) as caught:
        until_accepted(attempt, [], Deadline(600), "x", sleep=lambda s: None)
    assert caught.value is REFUSAL and len(calls) == 1


def test_other_errors_are_never_retried():
    other = AzureApimError("boom", status=500)
    attempt, calls = _attempts([other])
    young = [{"kind": "role_assignment", "name": "a", "granted_at": "2026-12-04T12:00:00Z"}]
    with pytest.raises(AzureApimError) as caught:
        until_accepted(attempt, young, Deadline(600), "x", sleep=lambda s: None)
    assert caught.value is other and len(calls) == 1


def test_deadline_names_the_grant_time_and_the_ten_minutes():
    clock = Clock()
    attempt, calls = _attempts([REFUSAL])
    young = [{"kind": "role_assignment", "name": "ra1", "granted_at": "2026-12-04T12:00:00Z"}]
    with pytest.raises(AzureApimError) as caught:
        until_accepted(attempt, young, Deadline(120, clock=clock), "updating the hostnames", sleep=clock.sleep)
    err = caught.value
    assert err.code == "RbacPropagationPending"
    assert "granted at 2026-12-04T12:00:00Z" in err.msg and "up to 10 minutes" in err.msg and "re-run" in err.msg
    assert clock.now <= 120 and len(calls) > 1
    assert err.extra["role_assignments"] == ["ra1"]


def test_a_value_not_yet_accepted_without_grants_is_returned_to_the_caller():
    assert until_accepted(lambda: (False, "pending"), [], Deadline(10), "x") == "pending"
