"""Run `ansible-playbook` against the local Azure the way AWX would, and collect what happened.

`run_playbook()` writes an inventory, sets the environment of an AWX Azure credential (AZURE_SUBSCRIPTION_ID,
AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT) plus the local Azure's endpoint and CA settings, runs the playbook and
returns its exit code, the per-task JSON results, the emulator's state and the request log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_DIR = REPO_ROOT / ".collections"
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
PLAYBOOKS_DIR = Path(__file__).resolve().parent / "playbooks"


@dataclass
class PlaybookResult:
    """What one `ansible-playbook` run produced."""

    rc: int
    stdout: str
    stderr: str
    result: dict[str, Any]
    state: dict[str, Any]
    requests: Any  # emulator.client.RequestLog
    command: list[str] = field(default_factory=list)

    def tasks(self) -> list[dict[str, Any]]:
        """Every task entry of every play, in order."""
        return [task for play in self.result.get("plays", []) for task in play["tasks"]]

    def task(self, name: str, host: str = "localhost") -> dict[str, Any]:
        """The result of the last task with this name on `host` (KeyError when it did not run there)."""
        for task in reversed(self.tasks()):
            if task["task"]["name"] == name and host in task["hosts"]:
                return task["hosts"][host]
        raise KeyError(f"no result for task {name!r} on {host!r}; tasks: {[t['task']['name'] for t in self.tasks()]}")

    def changed_tasks(self, host: str = "localhost") -> list[str]:
        """Names of the tasks that reported `changed` on `host`."""
        return [t["task"]["name"] for t in self.tasks() if t["hosts"].get(host, {}).get("changed")]

    @property
    def stats(self) -> dict[str, Any]:
        """Ansible's per-host stats (ok, changed, failures, ...)."""
        return self.result.get("stats", {})

    def explain(self) -> str:
        """A failure message for assertions: the command and the tail of its output."""
        return f"$ {' '.join(self.command)}\nrc={self.rc}\n{self.stdout[-6000:]}\n{self.stderr[-3000:]}"


def ensure_collection_link() -> Path:
    """`.collections/ansible_collections/azure_apim/identity -> <repo>` so Ansible finds the collection."""
    link = COLLECTIONS_DIR / "ansible_collections" / "azure_apim" / "identity"
    if not (link.is_symlink() or link.exists()):
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            link.symlink_to(REPO_ROOT, target_is_directory=True)
        except FileExistsError:
            pass  # made concurrently by another worker
    return link


def module_python() -> str:
    """The interpreter that runs the modules: `$AZURE_APIM_MODULE_PYTHON` (e.g. the `make test-compat` virtualenv
    holding the oldest supported Azure SDKs), else this virtualenv's Python (it has the Azure SDKs)."""
    return os.environ.get("AZURE_APIM_MODULE_PYTHON") or sys.executable


def write_inventory(path: Path, python: Optional[str] = None) -> Path:
    """A local-connection inventory whose modules run with `python` (default: `module_python()`)."""
    python = python or module_python()
    path.write_text(f"[local]\nlocalhost ansible_connection=local ansible_python_interpreter={python}\n",
                    encoding="utf-8")
    return path


def playbook_env(azure: Any, workdir: Path, result_file: Path, extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The process environment for `ansible-playbook`: AWX's Azure credential variables plus local settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_"))}
    env.update(azure.env())
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "json_result",
        "JSON_RESULT_FILE": str(result_file),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(workdir / "tmp"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "PYTHONPATH": str(REPO_ROOT / "tests"),
    })
    env.update(extra or {})
    return env


def run_playbook(azure: Any, playbook: str | Path, workdir: Path, extra_vars: Optional[dict[str, Any]] = None,
                 check: bool = False, diff: bool = False, tags: Sequence[str] = (), verbosity: int = 0,
                 env: Optional[dict[str, str]] = None, timeout: float = 900) -> PlaybookResult:
    """Run a playbook (a path, or a name under tests/integration/playbooks) against the local Azure."""
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_collection_link()
    path = Path(playbook)
    if not path.exists():
        path = PLAYBOOKS_DIR / (str(playbook) if str(playbook).endswith(".yml") else f"{playbook}.yml")
    inventory = write_inventory(workdir / "inventory.ini")
    result_file = workdir / "result.json"
    result_file.unlink(missing_ok=True)
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(path)]
    if extra_vars:
        vars_file = workdir / "extra_vars.json"
        vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
        cmd += ["-e", f"@{vars_file}"]
    cmd += ["--check"] if check else []
    cmd += ["--diff"] if diff else []
    cmd += ["--tags", ",".join(tags)] if tags else []
    cmd += ["-" + "v" * verbosity] if verbosity else []
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(workdir),
                          env=playbook_env(azure, workdir, result_file, env), check=False)
    result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    return PlaybookResult(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, result=result,
                          state=azure.admin.state(), requests=azure.admin.requests(), command=cmd)
