"""apim_identity through the real azure-mgmt-apimanagement SDK and a fake transport: behaviours the local Azure
does not show (a service that ignores the identity change)."""
from __future__ import annotations

import copy

from ansible_collections.azure_apim.identity.plugins.modules import apim_identity

from ...conftest import SUBSCRIPTION, body_of

SERVICE_PATH = "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim".format(SUBSCRIPTION)
ARGS = {"resource_group": "rg", "service_name": "apim"}


def service_body(identity=None, state="Succeeded"):
    body = {"id": SERVICE_PATH, "name": "apim", "type": "Microsoft.ApiManagement/service", "location": "West Europe",
            "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "a@b.c", "publisherName": "C", "provisioningState": state,
                           "hostnameConfigurations": []}}
    if identity:
        body["identity"] = identity
    return body


class FakeService:
    """One APIM service; ``ignore_identity`` makes PATCH succeed without changing anything, as seen in Azure."""

    def __init__(self, transport, identity=None, ignore_identity=False, states=()):
        self.body = service_body(identity)
        self.ignore_identity = ignore_identity
        self.states = list(states)  # provisioning states returned by the next GETs (a running operation)
        transport.add("GET", SERVICE_PATH, self._get)
        transport.add("PATCH", SERVICE_PATH, self._patch)
        for kind in ("namedValues", "loggers", "certificates"):
            transport.add("GET", SERVICE_PATH + "/" + kind, lambda request, match: (200, {}, {"value": []}))

    def _get(self, request, match):
        body = copy.deepcopy(self.body)
        if self.states:
            body["properties"]["provisioningState"] = self.states.pop(0)
        return 200, {}, body

    def _patch(self, request, match):
        if not self.ignore_identity:
            self.body["identity"] = {"type": body_of(request)["identity"]["type"], "principalId": "new-principal",
                                     "tenantId": "tenant"}
        return 200, {}, self.body


def test_verification_fails_when_the_service_ignores_the_type_change(run_module, transport):
    FakeService(transport, ignore_identity=True)
    result = run_module(apim_identity, dict(ARGS, system_assigned=True))
    assert result.failed and result.result["error_code"] == "VerificationFailed", result.result
    assert "identity.type" in result.result["msg"]
    [patch] = transport.writes()
    assert body_of(patch) == {"identity": {"type": "SystemAssigned"}}


def test_enable_system_identity_then_idempotent(run_module, transport):
    FakeService(transport)
    result = run_module(apim_identity, dict(ARGS, system_assigned=True), diff=True)
    assert not result.failed, result.result
    assert result.result["changed"] and result.result["identity"]["principal_id"] == "new-principal"
    assert result.result["diff"]["before"]["identity"]["type"] == "None"
    transport.requests.clear()
    again = run_module(apim_identity, dict(ARGS, system_assigned=True))
    assert again.result["changed"] is False and transport.writes() == []


def test_waits_while_updating_before_writing(run_module, transport, monkeypatch):
    from ansible_collections.azure_apim.identity.plugins.module_utils import _lro

    slept = []
    # wait_until_settled's sleep is a keyword default bound at import time
    monkeypatch.setitem(_lro.wait_until_settled.__kwdefaults__, "sleep", slept.append)
    FakeService(transport, states=["Updating", "Updating"])
    result = run_module(apim_identity, dict(ARGS, system_assigned=True))
    assert not result.failed, result.result
    assert len(slept) == 2, "two reads showed Updating: two waits before the PATCH"
    methods = [r.method for r in transport.arm_requests()]
    assert methods.index("PATCH") > 2


def test_too_many_identities_refused_before_any_call(run_module, transport):
    refs = ["id-{0}".format(i) for i in range(11)]
    result = run_module(apim_identity, dict(ARGS, user_assigned_identities=refs))
    assert result.failed and result.result["error_code"] == "TooManyUserAssignedIdentities"
    assert transport.arm_requests() == []
