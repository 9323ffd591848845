"""Shared world and assertions for the named value, policy, logger and trusted access integration tests."""

from __future__ import annotations

from typing import Any, Callable, Optional

# assert_no_secret: imported from here by the named value and logger tests
from harness.quartet import Quartet, assert_no_secret, run_quartet, runs_of  # noqa: F401  # pylint: disable=unused-import

RG = "rg-nv"
SERVICE = "apim-nv"
UAMI = "id-apim-nv"
KV_POLICY = "kv-nv-policies"   # access-policy vault, nobody granted
KV_RBAC = "kv-nv-rbac"         # RBAC vault, nobody granted
SECRET_VALUE = "nv-secret-value-7f3a9c"
PLAIN_SECRET = "plain-secret-value-51be0d"
EVENTHUB_NS = "evhns-nv"
# Azure seconds -> wall clock: RBAC propagation (600 s) takes 3 s, named value operations 10 ms.
FAST = {"time_scale": 0.005}


def world_spec(**extra: Any) -> dict[str, Any]:
    """A resource group with a user-assigned identity, two vaults holding a secret, an Event Hub namespace, a
    storage account, a Service Bus namespace and a service with both identities enabled."""
    spec: dict[str, Any] = {
        "location": "westeurope",
        "resource_groups": [{
            "name": RG, "location": "westeurope",
            "user_assigned_identities": [{"name": UAMI}, {"name": "id-unattached"}],
            "key_vaults": [
                {"name": KV_POLICY, "rbac": False, "secrets": [{"name": "backend-key", "value": SECRET_VALUE}]},
                {"name": KV_RBAC, "rbac": True, "secrets": [{"name": "backend-key", "value": SECRET_VALUE}]},
            ],
            "eventhub_namespaces": [{"name": EVENTHUB_NS, "hubs": ["apim-logs"]}],
            "servicebus_namespaces": [{"name": "sb-nv", "queues": ["orders"]}],
            "storage_accounts": [{"name": "stnvdemo"}],
            "apim_services": [{"name": SERVICE, "sku": "Developer", "identity": {
                "type": "SystemAssigned, UserAssigned", "user_assigned": [UAMI]}}],
        }],
    }
    spec.update(extra)
    return spec


def service_id(azure: Any) -> str:
    """ARM id of the test service."""
    return f"/subscriptions/{azure.subscription_id}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/{SERVICE}"


def resource(state: dict[str, Any], resource_id: str) -> Optional[dict]:
    """A resource of the emulator's state snapshot by id (case-insensitive)."""
    resources = state.get("resources", state)
    for key, value in resources.items():
        if key.lower() == resource_id.lower():
            return value
    return None


def writes(result: Any) -> list:
    """The ARM writes a run sent."""
    return list(result.requests.writes())


def assert_quartet(playbook: Callable[..., Any], name: str, extra_vars: dict[str, Any], task: str,
                   secrets: tuple = ()) -> Quartet:
    """check -> apply -> idempotent check -> idempotent apply of `task`, with --diff (tests/harness/quartet.py);
    the check's diffs must be the apply's and no run's output may contain any of ``secrets``."""
    return run_quartet(runs_of(playbook, name, extra_vars=extra_vars), task,
                       compare=True, secrets=secrets)
