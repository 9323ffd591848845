"""Processes of a bench run: the local Azure (`python -m emulator serve`) and `ansible-playbook` runs against it.

The command line, inventory and environment of a playbook run are the test suites' (tests/harness/runner.py); bench
adds its timing callback, GNU time and the peer collection's environment.

Peak memory of module processes: every module runs through a small shell wrapper set as
`ansible_python_interpreter`, which execs GNU time (`/usr/bin/time -f "BENCHRSS %M %e %C"`) around the real Python.
GNU time reports the maximum resident set size of exactly that module process; the AnsiballZ file name on its command
line names the module. Both collections are measured through the same wrapper.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT / "tests") not in sys.path:  # the shared test harness, tests/harness (`make bench` sets PYTHONPATH)
    sys.path.insert(0, str(REPO_ROOT / "tests"))

from bench import metrics  # noqa: E402
from harness import runner as harness  # noqa: E402

BENCH_DIR = REPO_ROOT / "bench"
CALLBACK_DIR = BENCH_DIR / "callback_plugins"
GNU_TIME = "/usr/bin/time"


class LocalAzureProcess:
    """`python -m emulator serve` as a child process; `start()` returns an `emulator.client.LocalAzure`."""

    def __init__(self, python: str, workdir: Path) -> None:
        self.python = python
        self.workdir = workdir
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 60.0) -> Any:
        """Start the server and wait for its JSON line (base URL, CA bundle, credentials)."""
        from emulator.client import LocalAzure

        state_dir = self.workdir / "local-azure"
        state_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tests")}
        self.proc = subprocess.Popen([self.python, "-m", "emulator", "serve", "--state-dir", str(state_dir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError("the local Azure did not start (python -m emulator serve printed nothing)")
        return LocalAzure.from_info(json.loads(line))

    def stop(self) -> None:
        """Terminate the server we started."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


@dataclass
class Side:
    """One collection under test: which ansible-playbook and which Python runs its modules, and its environment."""

    name: str
    ansible_playbook: str
    python: str
    peer_cloud_dir: Optional[str] = None  # set for azure.azcollection: the dir of the LocalAzure sitecustomize.py


def ours(python: str) -> Side:
    """azure_apim.identity from this checkout, with the venv's ansible-core."""
    return Side("azure_apim.identity", str(Path(python).parent / "ansible-playbook"), python)


def side_env(side: Side, azure: Any) -> dict[str, str]:
    """The environment AWX would set for an Azure credential, plus how each collection reaches the local Azure.

    Ours: endpoint, authority and CA variables (the documented connection options). azure.azcollection only knows
    azure-cli-core's named clouds, so it gets the `LocalAzure` cloud registered by ../shared/tools/peer-local-cloud.
    """
    if side.peer_cloud_dir is None:
        env = dict(azure.env())
        env.update({"ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".collections"),
                    "PYTHONPATH": str(REPO_ROOT / "tests")})
        return env
    return {
        "AZURE_SUBSCRIPTION_ID": azure.subscription_id, "AZURE_CLIENT_ID": azure.client_id,
        "AZURE_SECRET": azure.client_secret, "AZURE_TENANT": azure.tenant_id,
        "LOCAL_AZURE_URL": azure.base_url, "AZURE_CLOUD_ENVIRONMENT": "LocalAzure",
        "AZURE_DISABLE_INSTANCE_DISCOVERY": "true", "REQUESTS_CA_BUNDLE": azure.ca_bundle,
        "PYTHONPATH": side.peer_cloud_dir,
    }


@dataclass
class RunRecord:
    """What one measured ansible-playbook run produced."""

    rc: int
    wall_s: float
    tasks: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    rss: list[dict[str, Any]]
    operations: dict[str, dict[str, Any]]
    azure_start: float
    time_scale: float
    output_tail: str = ""
    total_cpu_s: Optional[float] = None  # ansible-playbook and every process it waited for (modules included)

    @property
    def failures(self) -> list[str]:
        """`task on host: message` for every failed task."""
        return ["{0} on {1}: {2}".format(t["name"], h, m) for t in self.tasks for h, m in t["failed"].items()]


def write_inventory(path: Path, hosts: list[dict[str, Any]], interpreter: str) -> Path:
    """An inventory of local-connection hosts (one per APIM instance) in group `bench`."""
    return harness.write_inventory(path, interpreter, hosts, group="bench")


def interpreter_wrapper(workdir: Path, python: str) -> tuple[str, bool]:
    """(interpreter, measures memory): a GNU time wrapper around `python`, or `python` itself without GNU time."""
    if not (os.path.exists(GNU_TIME) and os.access(GNU_TIME, os.X_OK)):
        return python, False
    wrapper = workdir / "python-with-rss.sh"
    wrapper.write_text('#!/bin/sh\nexec {0} -a -o "$BENCH_RSS_LOG" -f "BENCHRSS %M %e %U %S %C" {1} "$@"\n'.format(
        GNU_TIME, python), encoding="utf-8")
    wrapper.chmod(0o755)
    return str(wrapper), True


def run_playbook(azure: Any, side: Side, playbook: Path, workdir: Path, hosts: list[dict[str, Any]],
                 extra_vars: Optional[dict[str, Any]] = None, check: bool = False, diff: bool = False,
                 forks: int = 10, timeout: float = 1800) -> RunRecord:
    """Run one playbook against the local Azure with a cleared request log; collect timings, requests and memory."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    interpreter, measures = interpreter_wrapper(workdir, side.python)
    # GNU time around ansible-playbook too: its children's CPU includes the forks and the module processes.
    timed = [GNU_TIME, "-o", str(workdir / "playbook.time"), "-f", "%U %S"] if measures else []
    inventory = write_inventory(workdir / "inventory.ini", hosts, interpreter)
    cmd = timed + harness.playbook_command(playbook, inventory, workdir, ansible_playbook=side.ansible_playbook,
                                           extra_vars=extra_vars, check=check, diff=diff, forks=forks)
    env = _process_env(side, azure, workdir)
    state = azure.admin.state()
    azure.admin.clear_requests()
    proc = harness.run_process(cmd, workdir, env, timeout)
    return _collect(azure, proc, workdir, state)


def _process_env(side: Side, azure: Any, workdir: Path) -> dict[str, str]:
    return harness.ansible_env(workdir, CALLBACK_DIR, "bench_timing", {
        "BENCH_TIMING_FILE": str(workdir / "timing.json"),
        "BENCH_RSS_LOG": str(workdir / "rss.log"),
        "ANSIBLE_PIPELINING": "False",
        "ANSIBLE_SYSTEM_WARNINGS": "False",
        **side_env(side, azure),
    }, strip=("AZURE_", "ANSIBLE_", "PYTHON", "REQUESTS_"))


def _total_cpu(path: Path) -> Optional[float]:
    """User + system seconds from GNU time's `%U %S` line (the last line; earlier ones may report an exit status)."""
    if not path.exists():
        return None
    try:
        user, system = path.read_text(encoding="utf-8").strip().splitlines()[-1].split()
        return float(user) + float(system)
    except (ValueError, IndexError):
        return None


def _collect(azure: Any, proc: harness.Process, workdir: Path, before: dict[str, Any]) -> RunRecord:
    timing_file = workdir / "timing.json"
    timing = json.loads(timing_file.read_text(encoding="utf-8")) if timing_file.exists() else {}
    rss_file = workdir / "rss.log"
    rss = metrics.parse_rss_log(rss_file.read_text(encoding="utf-8")) if rss_file.exists() else []
    after = azure.admin.state()
    return RunRecord(rc=proc.rc, wall_s=proc.elapsed, tasks=metrics.task_windows(timing),
                     total_cpu_s=_total_cpu(workdir / "playbook.time"),
                     requests=list(azure.admin.requests()), rss=rss, operations=after.get("operations", {}),
                     azure_start=float(before.get("now", 0.0)),
                     time_scale=float(after.get("config", {}).get("time_scale", 1.0)),
                     output_tail=(proc.stdout[-4000:] + "\n" + proc.stderr[-2000:]).strip())
