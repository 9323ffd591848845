"""AWX readiness: jobs run through ansible-runner (the engine AWX and Automation Platform use) with the Azure
connection supplied only as the environment variables AWX's "Microsoft Azure Resource Manager" credential injects
(AZURE_SUBSCRIPTION_ID, AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT) plus the local Azure's endpoint and CA.

Each job is laid out as AWX lays it out: a private data directory with `project/` (the playbook), `inventory/`
and `env/envvars` (the credential). A job is the playbook a user would put in an AWX project: today the identity
job below; the site playbooks join the table as soon as they exist in `playbooks/`, imported by their FQCN.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

from integration.harness import COLLECTIONS_DIR, PLAYBOOKS_DIR, REPO_ROOT, write_inventory

pytestmark = pytest.mark.integration

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner is in requirements-dev.txt")


@dataclass(frozen=True)
class AwxJob:
    """One AWX job template: the project's playbook, its extra variables and the world it runs against."""

    name: str
    playbook_text: str
    extravars: dict[str, Any] = field(default_factory=dict)
    world: str = "demo"


def _identity_job() -> AwxJob:
    return AwxJob(name="user_assigned_identity",
                  playbook_text=(PLAYBOOKS_DIR / "awx_identity.yml").read_text(encoding="utf-8"),
                  extravars={"awx_identity_name": "id-apim-awx-job"})


def _site_job(name: str) -> Optional[AwxJob]:
    """A collection playbook imported by FQCN from a one-line project playbook, as AWX users do."""
    if not (REPO_ROOT / "playbooks" / f"{name}.yml").exists():
        return None
    vars_file = REPO_ROOT / "playbooks" / "vars" / f"{name}.yml"
    extravars = yaml.safe_load(vars_file.read_text(encoding="utf-8")) if vars_file.exists() else {}
    text = f"- name: Run the {name} site playbook\n  ansible.builtin.import_playbook: azure_apim.identity.{name}\n"
    return AwxJob(name=name, playbook_text=text, extravars=extravars or {})


# The collection's playbooks run as AWX jobs, each with its example variables. Test what exists: a playbook joins
# the table when it lands in playbooks/ (no skipped placeholders).
COLLECTION_PLAYBOOKS = ("site_system_assigned", "site_user_assigned", "identity_system_assigned",
                        "identity_user_assigned")
JOBS = [job for job in (_identity_job(), *(_site_job(name) for name in COLLECTION_PLAYBOOKS)) if job]


@dataclass
class AwxRun:
    """What one ansible-runner job produced."""

    status: str
    rc: int
    events: list[dict[str, Any]]
    stdout: str
    artifacts: Path
    writes: list[dict[str, Any]]

    def of_type(self, event: str) -> list[dict[str, Any]]:
        """Events of one type (runner_on_ok, runner_on_failed, playbook_on_stats, ...)."""
        return [e for e in self.events if e.get("event") == event]

    @property
    def stats(self) -> dict[str, Any]:
        """The playbook_on_stats event data (ok/changed/failures per host)."""
        found = self.of_type("playbook_on_stats")
        assert found, f"no playbook_on_stats event; status={self.status}\n{self.stdout[-4000:]}"
        return found[-1]["event_data"]

    def explain(self) -> str:
        """Context for assertion messages."""
        return f"status={self.status} rc={self.rc}\n{self.stdout[-6000:]}"


@pytest.fixture
def awx(local_azure: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`awx(job, envvars=None, check=False)` runs the job through ansible-runner with AWX's credential variables."""
    # Nothing Azure- or Ansible-related may leak from the test process: the job sees only what AWX would give it.
    for key in list(os.environ):
        if key.startswith(("AZURE_", "ANSIBLE_", "REQUESTS_CA_BUNDLE")):
            monkeypatch.delenv(key)
    runs = iter(range(1, 100))

    def run(job: AwxJob, envvars: Optional[dict[str, str]] = None, check: bool = False) -> AwxRun:
        local_azure.admin.clear_requests()
        data_dir = tmp_path / f"job{next(runs)}"
        (data_dir / "project").mkdir(parents=True)
        (data_dir / "inventory").mkdir()
        (data_dir / "project" / "job.yml").write_text(job.playbook_text, encoding="utf-8")
        write_inventory(data_dir / "inventory" / "hosts")
        env = {**local_azure.env(), **(envvars or {}), **_ansible_env(data_dir)}
        runner = ansible_runner.run(
            private_data_dir=str(data_dir), playbook="job.yml", envvars=env, extravars=job.extravars,
            cmdline="--check --diff" if check else "--diff", quiet=True)
        events = list(runner.events)
        stdout = runner.stdout.read()
        return AwxRun(status=runner.status, rc=runner.rc, events=events, stdout=stdout,
                      artifacts=Path(runner.config.artifact_dir),
                      writes=list(local_azure.admin.requests().writes()))

    return run


def _ansible_env(data_dir: Path) -> dict[str, str]:
    """Where the job finds the collection (AWX installs it from the project's collections/requirements.yml)."""
    return {"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR), "ANSIBLE_HOME": str(data_dir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(data_dir / "tmp"), "ANSIBLE_DEPRECATION_WARNINGS": "False",
            # ansible-playbook of this virtualenv, as an execution environment has it on PATH.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def _assert_no_secret(run: AwxRun, secret: str) -> None:
    """The secret is in env/envvars and in the runner's `command` record of the process environment (AWX keeps
    both private) and nowhere the job's output goes: stdout, events, event files."""
    assert secret not in run.stdout
    for event in run.events:
        assert secret not in json.dumps(event), f"secret leaked in a {event.get('event')} event"
    for path in run.artifacts.rglob("*"):
        if path.is_file() and path.name != "command":
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), f"secret in artifact {path}"


def _module_results(run: AwxRun) -> list[dict[str, Any]]:
    """The results of this collection's module tasks, from runner_on_ok events."""
    return [e["event_data"]["res"] for e in run.of_type("runner_on_ok")
            if e["event_data"].get("task_action", "").startswith("azure_apim.identity.")]


def _changed_tasks(run: AwxRun) -> list[str]:
    """The names of the tasks that reported a change (a loop's items count once)."""
    return sorted({e["event_data"]["task"] for e in run.of_type("runner_on_ok") if e["event_data"]["res"].get("changed")})


@pytest.mark.parametrize("job", JOBS, ids=[job.name for job in JOBS])
def test_awx_job_check_apply_converge(awx, world, local_azure, job: AwxJob) -> None:
    """Check job → run → check again → run again, as an operator would in AWX: the first check predicts changes
    with zero writes, the run makes them, and from then on the job is a no-op (changed=0, zero writes)."""
    world(job.world, time_scale=0.01)
    secret = local_azure.client_secret

    check = awx(job, check=True)
    assert check.status == "successful", check.explain()
    assert check.writes == []
    assert check.stats["changed"].get("localhost", 0) > 0, "check mode predicted no change on a fresh world"
    diffs = [r["diff"] for r in _module_results(check) if r.get("changed") and r.get("diff")]
    assert diffs and all(d["before"] != d["after"] for d in diffs), "check + diff mode must show the plan"

    apply = awx(job)
    assert apply.status == "successful" and apply.rc == 0, apply.explain()
    # The check planned the whole job (a site playbook on a service without its identity included): the apply
    # changes exactly the tasks it announced.
    assert _changed_tasks(check) == _changed_tasks(apply), (_changed_tasks(check), _changed_tasks(apply))
    if job.name.startswith("site_"):
        assert any("secret access" in task for task in _changed_tasks(check)), _changed_tasks(check)
    kinds = {e["event"] for e in apply.events}
    assert {"playbook_on_start", "playbook_on_play_start", "playbook_on_task_start", "runner_on_ok",
            "playbook_on_stats"} <= kinds
    assert not apply.of_type("runner_on_failed") and not apply.of_type("runner_on_unreachable")
    assert apply.writes, "the job changed nothing in Azure"
    results = _module_results(apply)
    assert results and any(r.get("changed") for r in results)
    signed_in = [r["auth"] for r in results if "auth" in r]  # `auth` is returned when Azure was called
    assert signed_in
    for auth in signed_in:
        assert auth["credential"] == "ClientSecretCredential"
        assert auth["source"] == "env", "the connection must come from AWX's credential variables"

    again_check = awx(job, check=True)
    again = awx(job)
    for run in (again_check, again):
        assert run.status == "successful", run.explain()
        assert run.stats["changed"].get("localhost", 0) == 0, run.explain()
        assert run.writes == [], [f"{w['method']} {w['path']}" for w in run.writes]
    for run in (check, apply, again_check, again):
        _assert_no_secret(run, secret)


def test_awx_identity_job_leaves_the_identity_in_azure(awx, world, local_azure) -> None:
    """The job's effect is visible in Azure: the identity with its tags and a service principal."""
    world("demo", time_scale=0.01)
    job = _identity_job()
    run = awx(job)
    assert run.status == "successful", run.explain()
    created = local_azure.admin.resource(
        f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
        f"{job.extravars['awx_identity_name']}")
    assert created is not None
    assert created["tags"] == {"owner": "awx"}
    principal_id = created["properties"]["principalId"]
    assert principal_id in local_azure.admin.state()["principals"]
    identity = _module_results(run)[0]["identity"]
    assert identity["principal_id"] == principal_id


def test_awx_job_with_a_wrong_secret_fails_plainly_without_leaking_it(awx, world, local_azure) -> None:
    """A mistyped credential in AWX: the job fails with a message naming the sign-in problem, before any write,
    and the wrong secret appears in no event either."""
    world("demo", time_scale=0.01)
    wrong = "not-the-secret-" + local_azure.client_secret[::-1]
    run = awx(_identity_job(), envvars={"AZURE_SECRET": wrong})
    assert run.status == "failed" and run.rc != 0
    failed = run.of_type("runner_on_failed")
    assert failed, run.explain()
    res = failed[0]["event_data"]["res"]
    assert failed[0]["event_data"]["task_action"] == "azure_apim.identity.user_assigned_identity"
    # Says what failed (signing in) and what to check (the credential's secret variable).
    assert "sign in" in res["msg"] and "AZURE_SECRET" in res["msg"], res["msg"]
    assert run.writes == []
    _assert_no_secret(run, wrong)
    _assert_no_secret(run, local_azure.client_secret)


def test_awx_site_check_plans_the_grant_when_the_identity_already_exists(awx, world, local_azure) -> None:
    """Identity present, Key Vault grant missing (a service whose identity job ran before): the site job's check
    run predicts the grant and everything that needs it with zero writes, the run changes exactly those tasks."""
    world("demo", time_scale=0.01)
    identity_job, site_job = _site_job("identity_system_assigned"), _site_job("site_system_assigned")
    assert identity_job is not None and site_job is not None
    first = awx(identity_job)
    assert first.status == "successful" and first.writes, first.explain()

    check = awx(site_job, check=True)
    assert check.status == "successful", check.explain()
    assert check.writes == []
    planned = _changed_tasks(check)
    assert any("secret access" in task for task in planned), planned
    assert not any("Enable the identities" in task for task in planned), "the identity exists: nothing to plan"
    apply = awx(site_job)
    assert apply.status == "successful", apply.explain()
    assert _changed_tasks(apply) == planned
    again = awx(site_job, check=True)
    assert again.stats["changed"].get("localhost", 0) == 0 and again.writes == [], again.explain()
