"""Long-running operations: Retry-After driven polling, the timeout message, adopting in-flight work."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._lro import (
    OperationStillRunning, is_transitional, provisioning_state, wait_poller, wait_until_settled,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline

from ...conftest import ARM

VNET = r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft\.Network/virtualNetworks/vnet"
OPERATION = r"/operations/op1"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _lro_routes(transport, status_replies):
    resource = {"id": "/x/vnet", "name": "vnet", "properties": {"provisioningState": "Succeeded"}}
    transport.queue("PUT", VNET, [(201, {"Azure-AsyncOperation": ARM + "/operations/op1", "Retry-After": "600"},
                                   dict(resource, properties={"provisioningState": "Updating"}))])
    transport.queue("GET", OPERATION, status_replies)
    transport.queue("GET", VNET, [(200, {}, resource)])


def test_generic_lro_polls_with_capped_retry_after(make_module, transport):
    _lro_routes(transport, [(200, {"Retry-After": "900"}, {"status": "InProgress"}), (200, {}, {"status": "Succeeded"})])
    module = make_module()
    poller = module.arm().begin("PUT", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet",
                                "2024-05-01", {"location": "westeurope"})
    result = module.call(wait_poller, poller, module.deadline, "virtual network vnet")
    assert result["properties"]["provisioningState"] == "Succeeded"
    assert transport.sleeps and max(transport.sleeps) <= module.retry_after_cap
    assert [r.method for r in transport.writes()] == ["PUT"]  # polling never writes


def test_lro_outliving_the_deadline_says_what_to_do(make_module, transport):
    _lro_routes(transport, [(200, {}, {"status": "InProgress"})])
    transport.real_sleep = 0.01
    module = make_module({"timeout": 1})
    module.polling_interval = 0.01
    poller = module.arm().begin("PUT", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet",
                                "2024-05-01", {})
    module.deadline.timeout = module.deadline.elapsed() + 0.2
    try:
        with pytest.raises(OperationStillRunning) as caught:
            wait_poller(poller, module.deadline, "Virtual network vnet")
    finally:
        _lro_routes(transport, [(200, {}, {"status": "Succeeded"})])  # let the polling thread finish
        poller.wait(5)
    message = caught.value.msg
    assert message.startswith("Virtual network vnet is still InProgress after 0 s")
    assert "the operation continues in Azure; re-run the task to wait for it" in message
    assert len(transport.writes()) == 1


def test_wait_until_settled_adopts_a_running_operation():
    clock = Clock()
    states = iter(["Activating"] * 6 + ["Succeeded"])
    reads = []

    def read():
        reads.append(clock.now)
        return {"name": "apim", "provisioning_state": next(states)}

    settled = wait_until_settled(read, Deadline(100, clock=clock), "service apim", interval=10, sleep=clock.sleep)
    assert settled["provisioning_state"] == "Succeeded"
    # Quick first re-reads (short operations), then one read every 10 s.
    assert reads == [0.0, 1.0, 3.0, 7.0, 15.0, 25.0, 35.0]


def test_wait_until_settled_timeout_message():
    clock = Clock()
    with pytest.raises(OperationStillRunning) as caught:
        wait_until_settled(lambda: {"properties": {"provisioningState": "Updating"}}, Deadline(45, clock=clock),
                           "API Management service apim", interval=10, sleep=clock.sleep)
    assert caught.value.msg == ("API Management service apim is still Updating after 45 s; the operation continues "
                                "in Azure; re-run the task to wait for it")
    assert caught.value.to_result()["provisioning_state"] == "Updating"


@pytest.mark.parametrize("resource, state, transitional", [
    (None, None, False),
    ({"provisioning_state": "Succeeded"}, "Succeeded", False),
    ({"provisioningState": "Failed"}, "Failed", False),
    ({"properties": {"provisioningState": "RegisteringDns"}}, "RegisteringDns", True),
    ({"provisioning_state": "Created"}, "Created", True),
    ({"provisioning_state": "Deleting"}, "Deleting", True),
])
def test_states(resource, state, transitional):
    assert provisioning_state(resource) == state
    assert is_transitional(state) is transitional


def test_absent_resource_is_settled():
    assert wait_until_settled(lambda: None, Deadline(1), "x") is None


SERVICE = r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft\.ApiManagement/service/apim"
SERVICE_BODY = {
    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim", "name": "apim",
    "type": "Microsoft.ApiManagement/service", "location": "West Europe", "sku": {"name": "Developer", "capacity": 1},
    "properties": {"publisherEmail": "ops@example.com", "publisherName": "Ops", "provisioningState": "Succeeded"},
}


def test_sdk_lro_uses_its_own_final_state_and_capped_retry_after(make_module, transport):
    """APIM service PATCH: 202 + Azure-AsyncOperation + Location (final-state-via location), long Retry-After."""
    transport.queue("PATCH", SERVICE, [(202, {"Azure-AsyncOperation": ARM + "/operations/op2",
                                              "Location": ARM + "/operationresults/op2", "Retry-After": "600"}, None)])
    transport.queue("GET", r"/operations/op2", [(200, {"Retry-After": "900"}, {"status": "InProgress"}),
                                                (200, {}, {"status": "Succeeded"})])
    transport.queue("GET", r"/operationresults/op2", [(200, {}, SERVICE_BODY)])
    transport.queue("GET", SERVICE, [(200, {}, SERVICE_BODY)])  # final GET for SDKs that read the resource URL
    module = make_module()
    service = module.lro(module.client("apim").api_management_service.begin_update, "rg", "apim",
                         {"properties": {"publisherName": "Ops"}}, what="updating service apim")
    assert service.publisher_name == "Ops"
    assert transport.sleeps and max(transport.sleeps) <= 60
    assert [r.method for r in transport.writes()] == ["PATCH"]


def test_retry_after_cap_policy_rewrites_headers():
    from types import SimpleNamespace

    from ansible_collections.azure_apim.identity.plugins.module_utils._retry import make_retry_after_cap_policy

    clock = Clock()
    policy = make_retry_after_cap_policy(Deadline(30, clock=clock), cap=60)
    headers = {"Retry-After": "600", "retry-after-ms": "5000", "x-ms-retry-after-ms": "90000"}
    policy.on_response(None, SimpleNamespace(http_response=SimpleNamespace(headers=headers)))
    assert headers == {"Retry-After": "30", "retry-after-ms": "5000", "x-ms-retry-after-ms": "30000"}


def test_failed_operation_reports_azure_code_and_message_without_retrying(make_module, transport):
    _lro_routes(transport, [(200, {}, {"status": "Failed", "error": {"code": "InvalidCertificate",
                                                                     "message": "The certificate has expired"}})])
    module = make_module()
    poller = module.call(module.arm().begin, "PUT",
                         "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet",
                         "2024-05-01", {})
    from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

    with pytest.raises(AzureApimError) as caught:
        module.call(wait_poller, poller, module.deadline, "virtual network vnet", what="creating vnet")
    assert caught.value.code == "InvalidCertificate"
    assert "The certificate has expired" in caught.value.msg
    assert len(transport.writes()) == 1
