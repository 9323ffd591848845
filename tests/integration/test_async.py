"""Long operations under `async` + `poll: 0` + `async_status`: the module runs detached from the task (as a job
template does while API Management spends many minutes on a change) and its full result — changed, diff, the
resource — comes back through async_status, in check mode and on re-runs too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.quartet import run_quartet, runs_of

pytestmark = pytest.mark.integration

IDENTITY = "id-apim-async"
# Every request to the local Azure takes this long, so the module is still running when async_status first looks.
LATENCY_MS = 250


def _identity_id(local_azure: Any) -> str:
    return f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{IDENTITY}"


def _async_files(async_dir: Path) -> list[Path]:
    return [p for p in async_dir.rglob("*") if p.is_file()] if async_dir.exists() else []


def test_background_task_is_collected_by_async_status(world, local_azure, playbook, tmp_path: Path) -> None:
    """check → apply → check → apply, each with the module in the background: the launch returns at once, the
    result (changed, diff, identity) arrives through async_status, and the re-runs are no-ops with zero writes."""
    world("demo", time_scale=0.01, latency_ms=LATENCY_MS)
    q = run_quartet(runs_of(playbook, "async_identity"), "Wait for the identity")
    check, apply, again_check, again = q.check, q.apply, q.recheck, q.reapply
    for run in (check, apply, again_check, again):
        launched = run.task("Start creating the identity")
        assert launched["started"] == 1 and launched["finished"] == 0 and launched["ansible_job_id"]

    predicted = check.task("Wait for the identity")
    assert predicted["finished"] == 1
    assert predicted["diff"]["before"] == {} and predicted["diff"]["after"]["name"] == IDENTITY
    assert predicted["identity"]["principal_id"] == "(known after apply)", "check mode cannot know the ids Azure assigns"

    done = apply.task("Wait for the identity")
    assert done["finished"] == 1
    # The module was still running when async_status first asked: the wait really happened in the background.
    assert done["attempts"] > 1
    stored = local_azure.admin.resource(_identity_id(local_azure))
    assert stored is not None and stored["tags"] == {"mode": "async"}
    assert done["identity"]["principal_id"] == stored["properties"]["principalId"]
    assert done["diff"]["after"]["tags"] == {"mode": "async"}
    assert len(apply.requests.writes()) == 1

    for run in (again_check, again):
        assert run.task("Wait for the identity")["finished"] == 1


def test_async_result_files_hold_no_secret(world, local_azure, playbook, tmp_path: Path) -> None:
    """The job file async_status reads (on the controller or an execution node) carries the module result, which
    never contains the client secret; the playbook's cleanup task removes it."""
    world("demo", time_scale=0.01, latency_ms=LATENCY_MS)
    async_dir = tmp_path / "async"
    kept = playbook("async_identity", extra_vars={"async_cleanup": False},
                    env={"ANSIBLE_ASYNC_DIR": str(async_dir)})
    assert kept.rc == 0, kept.explain()
    files = _async_files(async_dir)
    assert files, "async_status read no job file"
    job = json.loads(files[0].read_text(encoding="utf-8"))
    assert job["changed"] and job["identity"]["name"] == IDENTITY
    for path in files:
        assert local_azure.client_secret not in path.read_text(encoding="utf-8", errors="replace")

    async_dir_clean = tmp_path / "async-clean"
    cleaned = playbook("async_identity", env={"ANSIBLE_ASYNC_DIR": str(async_dir_clean)})
    assert cleaned.rc == 0, cleaned.explain()
    assert _async_files(async_dir_clean) == []


APIM_IDENTITY_MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "apim_identity.py"
APIM_SERVICE = "apim-contoso-demo"


# Runs once the apim_identity module exists (test what exists; no skipped placeholder before that).
if APIM_IDENTITY_MODULE.exists():
    def test_long_apim_operation_in_the_background(world, local_azure, playbook) -> None:
        """Turning on the system-assigned identity keeps the service Updating for a while; under async the module
        waits for it in the background and async_status returns the identity, then re-runs change nothing."""
        # 15 Azure seconds of "Updating" last a few real seconds: long enough to poll, short enough for CI.
        world("demo", time_scale=0.2)
        service_id = f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.ApiManagement/service/{APIM_SERVICE}"
        q = run_quartet(runs_of(playbook, "async_apim_identity"), "Wait for API Management")
        check, apply, again_check, again = q.check, q.apply, q.recheck, q.reapply
        for run in (check, apply, again_check, again):
            assert run.task("Start enabling the system-assigned identity")["finished"] == 0

        predicted = check.task("Wait for API Management")
        assert predicted["diff"]["before"] != predicted["diff"]["after"]

        done = apply.task("Wait for API Management")
        assert done["finished"] == 1 and done["attempts"] > 1
        service = local_azure.admin.resource(service_id)
        assert service["identity"]["type"] == "SystemAssigned"
        assert service["properties"]["provisioningState"] == "Succeeded"
        assert done["identity"]["principal_id"] == service["identity"]["principalId"]
        assert [w["method"] for w in apply.requests.writes()] == ["PATCH"]

        for run in (again_check, again):
            assert run.task("Wait for API Management")["finished"] == 1
