"""Named values, loggers and backend auth with the oldest supported SDKs (azure.azcollection 3.x pins: APIM SDK 4.0.1,
api-version 2022-08-01, where named-value writes answer 202 without a body). The modules run in the old-SDK virtualenv
(`make compat-venv`, or AZURE_APIM_OLD_SDK_PYTHON); AnsiballZ carries Ansible's module_utils there."""

from __future__ import annotations

import pytest

from harness.runner import OLD_SDK_MISSING, old_sdk_python
from integration.nv_support import EVENTHUB_NS, FAST, KV_POLICY, UAMI, assert_quartet, world_spec

pytestmark = pytest.mark.integration


def _old_python() -> str:
    return old_sdk_python() or pytest.skip(OLD_SDK_MISSING)


@pytest.mark.parametrize("playbook_name, task, extra", [
    ("nv_named_value", "Named value", {"nv_name": "old-kv", "nv_identity": UAMI, "nv_tags": ["old"],
                                       "nv_secret_id": f"https://{KV_POLICY}.vault.azure.net/secrets/backend-key"}),
    ("nv_logger", "Logger", {"logger_name": "old-eh", "logger_hub": "apim-logs",
                             "logger_endpoint": f"{EVENTHUB_NS}.servicebus.windows.net"}),
    ("nv_backend_auth", "Backend auth", {"auth_resource": "https://vault.azure.net"}),
])
def test_quartet_with_the_oldest_sdks(world, playbook, playbook_name, task, extra):
    python = _old_python()
    world(world_spec(), **FAST)
    runs = assert_quartet(playbook, playbook_name, {**extra, "ansible_python_interpreter": python}, task)
    apply = runs.apply
    versions = {e["query"].get("api-version") for e in apply.requests if "/Microsoft.ApiManagement/" in e["path"]}
    assert versions == {"2022-08-01"}, versions
