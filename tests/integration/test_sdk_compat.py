"""The modules run with whichever Azure SDK the module interpreter has, including the oldest supported ones.

`make test-compat` runs the integration tests with `AZURE_APIM_MODULE_PYTHON` pointing at `.venv-compat`, which holds
exactly the azure.azcollection 3.x pins (tests/requirements-compat.txt). This test proves the switch is real: the
modules ran with that interpreter (the api-versions in the request log are the ones its SDK sends by default) and,
in the compat run, that interpreter holds exactly the pinned versions.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from integration.harness import REPO_ROOT, module_python

pytestmark = pytest.mark.integration

COMPAT_PINS = REPO_ROOT / "tests" / "requirements-compat.txt"

# Asks an interpreter which SDK versions it has and which api-version its azure-mgmt-msi sends by default.
PROBE = """
import json
from importlib.metadata import version
from azure.mgmt.msi import ManagedServiceIdentityClient
names = ["azure-core", "azure-identity", "azure-mgmt-core", "azure-mgmt-apimanagement", "azure-mgmt-keyvault",
         "azure-mgmt-authorization", "azure-mgmt-msi"]
print(json.dumps({"versions": {n: version(n) for n in names},
                  "msi_api_version": ManagedServiceIdentityClient.DEFAULT_API_VERSION}))
"""


def _probe(python: str) -> dict[str, Any]:
    proc = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, f"{python} cannot import the Azure SDK:\n{proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def _pins() -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in COMPAT_PINS.read_text(encoding="utf-8").splitlines()]
    return dict(line.split("==") for line in lines if line)


def test_modules_run_with_the_module_interpreter_sdk(world, playbook, local_azure) -> None:
    """Create → re-run with the module interpreter; the request log carries that SDK's default api-version."""
    world("demo", time_scale=0.01)
    python = module_python()
    probe = _probe(python)

    first = playbook("awx_identity", extra_vars={"awx_identity_name": "id-compat"}, diff=True)
    assert first.rc == 0, first.explain()
    created = first.task("Create the identity")
    assert created["changed"] and created["diff"]["before"] == {}
    assert created["identity"]["principal_id"] in first.state["principals"]
    identity_calls = first.requests.arm().matching(path_contains="Microsoft.ManagedIdentity/userAssignedIdentities")
    assert identity_calls
    assert {e["query"].get("api-version") for e in identity_calls} == {probe["msi_api_version"]}

    again = playbook("awx_identity", extra_vars={"awx_identity_name": "id-compat"})
    assert again.rc == 0, again.explain()
    assert again.changed_tasks() == [] and again.requests.writes() == []


@pytest.mark.skipif(not os.environ.get("AZURE_APIM_MODULE_PYTHON"),
                    reason="runs in `make test-compat` (AZURE_APIM_MODULE_PYTHON names the compat interpreter)")
def test_compat_interpreter_holds_exactly_the_azcollection_pins() -> None:
    """In the compat run the modules' interpreter has the oldest supported SDKs, not something newer."""
    probe = _probe(module_python())
    assert probe["versions"] == _pins()
    # azure-mgmt-msi 7.0.0 talks 2023-01-31; a newer SDK would send a newer api-version.
    assert probe["msi_api_version"] == "2023-01-31"
