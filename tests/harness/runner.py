# Private to the azure_apim.identity test suite.
"""Run the collection against the local Azure: `ansible-playbook` the way AWX runs it, or one module as its own
process the way Ansible's local connection runs it, and collect what happened (output, results, request log, state).

Used by the integration tests, the reliability scenarios and the benchmarks; each adds only what it measures on top
(bench: GNU time and its timing callback; reliability: the secrets oracle).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO_ROOT / "tests"
COLLECTIONS_DIR = REPO_ROOT / ".collections"
CALLBACK_DIR = TESTS_DIR / "integration" / "callback_plugins"
PLAYBOOKS_DIR = TESTS_DIR / "integration" / "playbooks"
# Loaded by every module process: the Azure SDK, MSAL and urllib3 loggers at DEBUG into $AZURE_APIM_TEST_SDK_LOG.
SITE_DIR = TESTS_DIR / "reliability" / "sitecustomize"
MODULE_PACKAGE = "ansible_collections.azure_apim.identity.plugins.modules"
# Settings of every ansible-playbook run: no host-key prompt, no retry files, no colour, no deprecation noise.
ANSIBLE_QUIET = dict(ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_NOCOLOR="1",
                     ANSIBLE_DEPRECATION_WARNINGS="False")


@dataclass
class Process:
    """One finished child process."""

    rc: int
    stdout: str
    stderr: str
    elapsed: float
    command: list[str]


def run_process(cmd: list[str], workdir: Path, env: dict[str, str], timeout: float) -> Process:
    """Run `cmd` in `workdir` with exactly `env`; capture its output and wall time."""
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(workdir), env=env,
                          check=False)
    return Process(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, cmd)


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


# What a test that needs the oldest supported Azure SDKs says when there is no interpreter holding them.
OLD_SDK_MISSING = "no old-SDK interpreter: run `make compat-venv` or set AZURE_APIM_OLD_SDK_PYTHON"


def old_sdk_python() -> Optional[str]:
    """The interpreter holding the oldest supported Azure SDKs (`$AZURE_APIM_OLD_SDK_PYTHON`, else .venv-compat's),
    or None when it does not exist."""
    configured = os.environ.get("AZURE_APIM_OLD_SDK_PYTHON")
    path = Path(configured) if configured else REPO_ROOT / ".venv-compat" / "bin" / "python"
    return str(path) if path.exists() else None


def clean_environ(strip: Iterable[str]) -> dict[str, str]:
    """This process's environment without the variables whose names start with any of `strip`."""
    prefixes = tuple(strip)
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def write_inventory(path: Path, python: Optional[str] = None, hosts: Optional[list[dict[str, Any]]] = None,
                    group: str = "local") -> Path:
    """Local-connection hosts (default: `localhost`) in `group`, their modules run by `python`
    (default: `module_python()`); each host is {"name", "vars"}."""
    lines = [f"[{group}]"]
    for host in hosts or [{"name": "localhost", "vars": {}}]:
        hostvars = " ".join(f"{key}={value}" for key, value in host["vars"].items())
        lines.append(f"{host['name']} ansible_connection=local {hostvars}".strip())
    lines += ["", f"[{group}:vars]", f"ansible_python_interpreter={python or module_python()}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ansible_env(workdir: Path, callback_dir: Path, callbacks: str, extra: Optional[dict[str, str]] = None,
                strip: Sequence[str] = ("AZURE_", "ANSIBLE_")) -> dict[str, str]:
    """The environment of an `ansible-playbook` run: this one without `strip`, the quiet settings, temporary files
    under `workdir`, the callbacks `callbacks` from `callback_dir`, then `extra`."""
    env = clean_environ(strip)
    env.update(ANSIBLE_QUIET)
    env.update({
        "ANSIBLE_CALLBACK_PLUGINS": str(callback_dir),
        "ANSIBLE_CALLBACKS_ENABLED": callbacks,
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(workdir / "tmp"),
        "ANSIBLE_HOME": str(workdir / "ansible-home"),
    })
    env.update(extra or {})
    return env


def playbook_command(playbook: Path, inventory: Path, workdir: Path, *, ansible_playbook: Optional[str] = None,
                     extra_vars: Optional[dict[str, Any]] = None, check: bool = False, diff: bool = False,
                     tags: Sequence[str] = (), verbosity: int = 0, forks: Optional[int] = None) -> list[str]:
    """The `ansible-playbook` command line; extra vars go through a JSON file in `workdir`."""
    program = ansible_playbook or str(Path(sys.executable).parent / "ansible-playbook")
    cmd = [program, "-i", str(inventory), str(playbook)]
    cmd += ["-f", str(forks)] if forks else []
    if extra_vars:
        vars_file = workdir / "extra_vars.json"
        vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
        cmd += ["-e", f"@{vars_file}"]
    cmd += ["--check"] if check else []
    cmd += ["--diff"] if diff else []
    cmd += ["--tags", ",".join(tags)] if tags else []
    cmd += ["-" + "v" * verbosity] if verbosity else []
    return cmd


# --- ansible-playbook -----------------------------------------------------------------------------------------------


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

    @property
    def ok(self) -> bool:
        """The playbook ended with exit code 0."""
        return self.rc == 0

    def reports_change(self, task: Optional[str] = None) -> bool:
        """Whether `task` reported changed (any task when None); a task result without a boolean `changed` fails."""
        if task is None:
            return bool(self.changed_tasks())
        changed = self.task(task)["changed"]
        assert isinstance(changed, bool), f"task {task!r} reported changed={changed!r}"
        return changed

    def writes(self) -> list[dict[str, Any]]:
        """The writes this run sent (the request log is cleared before each run)."""
        return list(self.requests.writes())

    def explain(self) -> str:
        """A failure message for assertions: the command and the tail of its output."""
        return f"$ {' '.join(self.command)}\nrc={self.rc}\n{self.stdout[-6000:]}\n{self.stderr[-3000:]}"


def playbook_env(azure: Any, workdir: Path, result_file: Path,
                 extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The process environment for `ansible-playbook`: AWX's Azure credential variables plus local settings, and
    the `json_result` callback writing every task's result to `result_file`."""
    return ansible_env(workdir, CALLBACK_DIR, "json_result", {
        **azure.env(),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR),
        "JSON_RESULT_FILE": str(result_file),
        "PYTHONPATH": str(TESTS_DIR),
        **(extra or {}),
    })


def run_playbook(azure: Any, playbook: str | Path, workdir: Path, extra_vars: Optional[dict[str, Any]] = None,
                 check: bool = False, diff: bool = False, tags: Sequence[str] = (), verbosity: int = 0,
                 env: Optional[dict[str, str]] = None, timeout: float = 900) -> PlaybookResult:
    """Run a playbook (a path, or a name under tests/integration/playbooks) against the local Azure."""
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_collection_link()
    path = Path(playbook)
    if not path.exists():
        path = PLAYBOOKS_DIR / (str(playbook) if str(playbook).endswith(".yml") else f"{playbook}.yml")
    result_file = workdir / "result.json"
    result_file.unlink(missing_ok=True)
    cmd = playbook_command(path, write_inventory(workdir / "inventory.ini"), workdir, extra_vars=extra_vars,
                           check=check, diff=diff, tags=tags, verbosity=verbosity)
    proc = run_process(cmd, workdir, playbook_env(azure, workdir, result_file, env), timeout)
    result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    return PlaybookResult(rc=proc.rc, stdout=proc.stdout, stderr=proc.stderr, result=result,
                          state=azure.admin.state(), requests=azure.admin.requests(), command=cmd)


# --- one module as its own process ----------------------------------------------------------------------------------


@dataclass
class ModuleRun:
    """One module process: its exit code, parsed result, raw output, SDK log, and what the local Azure saw."""

    module: str
    args: dict[str, Any]
    check: bool
    rc: int
    result: dict[str, Any]
    stdout: str
    stderr: str
    sdk_log: str
    requests: Any  # emulator.client.RequestLog (only this run's requests)
    state: dict[str, Any]
    elapsed: float
    command: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """What the module reported."""
        return bool(self.result.get("changed"))

    @property
    def failed(self) -> bool:
        """True when the module failed (or produced no JSON)."""
        return bool(self.result.get("failed")) or not self.result

    @property
    def ok(self) -> bool:
        """The module succeeded."""
        return not self.failed

    @property
    def msg(self) -> str:
        """The failure message (empty on success)."""
        return str(self.result.get("msg", ""))

    def reports_change(self, task: Optional[str] = None) -> bool:
        """What the module reported (a module run is one task)."""
        return self.changed

    def writes(self) -> Any:
        """Management-plane writes this run sent (PUT/PATCH/DELETE and non-read POSTs), faulted ones included."""
        return self.requests.writes().arm()

    def explain(self) -> str:
        """For assertion messages: the command, the result and the tail of stderr."""
        return (f"$ {' '.join(self.command)}\nargs={json.dumps(self.args)}\nrc={self.rc}\n"
                f"result={json.dumps(self.result, indent=1)[-4000:]}\nstderr tail:\n{self.stderr[-2500:]}\n"
                f"requests: {[(e['method'], e['path'][-70:], e['status']) for e in self.requests]}")


def module_env(azure: Any, sdk_log: Path, extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment of an AWX job with an Azure credential, the local Azure's endpoints, SDK debug logging."""
    env = clean_environ(("AZURE_", "ANSIBLE_", "PYTHON"))
    env.update(azure.env())
    env.update({
        "PYTHONPATH": os.pathsep.join([str(SITE_DIR), str(COLLECTIONS_DIR)]),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR),
        "AZURE_APIM_TEST_SDK_LOG": str(sdk_log),
        "AZURE_LOG_LEVEL": "debug",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(extra or {})
    return env


def run_module(azure: Any, workdir: Path, module: str, args: dict[str, Any], *, check: bool = False,
               diff: bool = True, env: Optional[dict[str, str]] = None, timeout: float = 600,
               clear_log: bool = True) -> ModuleRun:
    """Run `module` with `args` (connection settings come from the environment, as with AWX): `python -m <module>
    args.json`, the same `AnsibleModule` argument handling as Ansible's local connection.

    `clear_log=False` keeps the request log as it is (runs in parallel share it; `requests` is then everything).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.time_ns()}"
    args_file = workdir / f"{module}-{stamp}.json"
    sdk_log = workdir / f"{module}-{stamp}.sdk.log"
    internal = {"_ansible_check_mode": check, "_ansible_diff": diff, "_ansible_verbosity": 4,
                "_ansible_tmpdir": str(workdir), "_ansible_remote_tmp": str(workdir)}
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args, **internal}}), encoding="utf-8")
    cmd = [sys.executable, "-m", f"{MODULE_PACKAGE}.{module}", str(args_file)]
    if clear_log:
        azure.admin.clear_requests()
    proc = run_process(cmd, workdir, module_env(azure, sdk_log, env), timeout)
    return ModuleRun(module=module, args=args, check=check, rc=proc.rc, result=last_json(proc.stdout),
                     stdout=proc.stdout, stderr=proc.stderr,
                     sdk_log=sdk_log.read_text(encoding="utf-8", errors="replace") if sdk_log.exists() else "",
                     requests=azure.admin.requests(), state=azure.admin.state(), elapsed=proc.elapsed, command=cmd)


def last_json(stdout: str) -> dict[str, Any]:
    """The module's JSON result (the last line that parses as a JSON object)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {}
