"""apim_logger input checks and desired state (no Azure calls needed)."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.modules import apim_logger
from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_loggers as logger_capability

BASE = {"resource_group": "rg-apim", "service_name": "apim-nv", "name": "eh", "event_hub_name": "hub"}
SAS = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=abcdEFGH1234="


@pytest.mark.parametrize("endpoint, message", [
    (SAS, "looks like an Event Hubs connection string"),
    ("sb://ns.servicebus.windows.net/", "not the host name"),
    ("https://ns.servicebus.windows.net", "not the host name"),
    ("ns", "not the host name"),
    ("ns.servicebus.windows.net/path", "not the host name"),
])
def test_bad_endpoints_are_refused_before_azure(run_module, transport, endpoint, message):
    result = run_module(apim_logger, dict(BASE, endpoint_address=endpoint))
    assert result.failed and message in result.result["msg"]
    assert "abcdEFGH1234" not in str(result.result)
    assert transport.arm_requests() == []


@pytest.mark.parametrize("params, message", [
    ({"endpoint_address": "ns.servicebus.windows.net", "connection_string": SAS}, "both"),
    ({}, "no credentials"),
])
def test_credentials_are_one_or_the_other(run_module, transport, params, message):
    result = run_module(apim_logger, dict(BASE, **params))
    assert result.failed and message in result.result["msg"]
    assert transport.arm_requests() == []


@pytest.mark.parametrize("endpoint, client, expected", [
    ("ns.servicebus.windows.net", None,
     {"name": "hub", "endpoint_address": "ns.servicebus.windows.net", "identity_client_id": "SystemAssigned",
      "connection_string_set": False}),
    ("ns.servicebus.windows.net", "c-1",
     {"name": "hub", "endpoint_address": "ns.servicebus.windows.net", "identity_client_id": "c-1",
      "connection_string_set": False}),
    (None, None, {"name": "hub", "connection_string_set": True}),
])
def test_desired_credentials(endpoint, client, expected):
    params = dict(BASE, description=None, is_buffered=None, resource_id=None)
    assert logger_capability.desired_state(params, endpoint, client)["credentials"] == expected


def test_put_body_keeps_settings_the_user_left_unset():
    params = dict(BASE, connection_string=None, description=None, is_buffered=None, resource_id=None)
    wanted = {"credentials": {"endpoint_address": "ns.servicebus.windows.net", "identity_client_id": "SystemAssigned"}}
    body = logger_capability.request_body(params, wanted, {"description": "kept", "is_buffered": False, "resource_id": "r"})
    assert body["description"] == "kept" and body["is_buffered"] is False and body["resource_id"] == "r"
    assert body["credentials"] == {"name": "hub", "endpointAddress": "ns.servicebus.windows.net",
                                   "identityClientId": "SystemAssigned"}
