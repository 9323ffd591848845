"""Plain-dict conversion of APIM entities and the Key Vault secret wait."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_entities as entities
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline


def _nv(code=None, message=None, client=None, secret=True, value=None):
    status = None if code is None else SimpleNamespace(code=code, message=message, time_stamp_utc=None)
    kv = SimpleNamespace(secret_identifier="https://kv.vault.azure.net/secrets/s", identity_client_id=client,
                         last_status=status)
    return SimpleNamespace(id="/x/namedValues/n", name="n", display_name="n", secret=secret, tags=None, key_vault=kv,
                           provisioning_state=None, value=value)


@pytest.mark.parametrize("client, expected", [(None, "SystemAssigned"), ("c-1", "c-1")])
def test_named_value_identity_is_spelled_out(client, expected):
    assert entities.named_value_to_dict(_nv(client=client))["key_vault"]["identity_client_id"] == expected


@pytest.mark.parametrize("secret, value, has_value", [(True, "s3cret", False), (False, "visible", True)])
def test_secret_values_never_enter_the_dict(secret, value, has_value):
    assert ("value" in entities.named_value_to_dict(_nv(secret=secret, value=value))) is has_value


@pytest.mark.parametrize("credentials, expected", [
    ({"connectionString": "{{Logger-Credentials-abc}}"},
     {"name": None, "endpoint_address": None, "identity_client_id": None, "connection_string_set": True}),
    ({"name": "hub", "endpointAddress": "ns.servicebus.windows.net", "identityClientId": "SystemAssigned"},
     {"name": "hub", "endpoint_address": "ns.servicebus.windows.net", "identity_client_id": "SystemAssigned",
      "connection_string_set": False}),
])
def test_logger_credentials_hide_the_connection_string(credentials, expected):
    model = SimpleNamespace(id="i", name="l", logger_type="azureEventHub", description=None, is_buffered=True,
                            resource_id=None, credentials=credentials)
    assert entities.logger_to_dict(model)["credentials"] == expected


class FakeNamedValues:
    """Statuses returned by successive reads; refresh() moves to the next one."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.refreshes = 0

    def get(self, name):
        code, message = self.statuses[min(self.refreshes, len(self.statuses) - 1)]
        return entities.named_value_to_dict(_nv(code=code, message=message))

    def refresh(self, name):
        self.refreshes += 1


def test_wait_refreshes_until_success_and_sleeps_between_attempts():
    fake = FakeNamedValues([("Forbidden", "no access"), ("Forbidden", "propagating"), ("Success", None)])
    sleeps = []
    found, refreshes = entities.wait_for_secret(fake, "n", Deadline(600), 30, sleep=sleeps.append)
    assert entities.secret_readable(found) and refreshes == 2
    assert sleeps == [30]  # the stale status is refreshed at once, the next attempt waits


def test_wait_fails_with_key_vault_reason_when_time_runs_out():
    fake = FakeNamedValues([("Forbidden", "Caller is not authorized.\r\nAction: getSecret")])
    with pytest.raises(AzureApimError) as err:
        entities.wait_for_secret(fake, "n", Deadline(10), 30, sleep=lambda s: None)
    assert err.value.code == "KeyVaultSecretNotReadable"
    assert "Forbidden: Caller is not authorized. Action: getSecret" in err.value.msg
    assert "10 minutes" in err.value.hint
    assert err.value.extra["last_status"]["code"] == "Forbidden"


def test_a_readable_secret_is_not_refreshed():
    fake = FakeNamedValues([("Success", None)])
    refreshes = entities.wait_for_secret(fake, "n", Deadline(600), 30, sleep=lambda s: None)[1]
    assert refreshes == 0 and fake.refreshes == 0


def test_a_refresh_cut_short_by_the_deadline_reports_the_key_vault_reason():
    from ansible_collections.azure_apim.identity.plugins.module_utils._lro import OperationStillRunning

    class Slow(FakeNamedValues):
        def refresh(self, name):
            raise OperationStillRunning("still running", code="OperationStillRunning")

    with pytest.raises(AzureApimError) as err:
        entities.wait_for_secret(Slow([("Forbidden", "no access")]), "n", Deadline(600), 30, sleep=lambda s: None)
    assert err.value.code == "KeyVaultSecretNotReadable" and "Forbidden: no access" in err.value.msg
