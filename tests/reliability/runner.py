# Private to the azure_apim.identity test suite.
"""Run one module of the collection as its own process against the local Azure, and collect what it produced.

A module file is run the way Ansible's local connection runs it (`python <module> <args.json>`, the same
`AnsibleModule` argument handling, check mode and diff flags, the AWX credential environment), without the
playbook machinery around it: a reliability scenario needs many short runs and the module is what is under test.
The secrets oracle also runs playbooks at -vvvv (see `test_secrets_oracle.py`).

Every run is started with the Azure SDK loggers at DEBUG (see `sitecustomize/`) and hands stdout, stderr and the SDK
log to the session's `Oracle`, which searches them for the seeded secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_DIR = REPO_ROOT / ".collections"
SITE_DIR = Path(__file__).resolve().parent / "sitecustomize"
MODULE_PACKAGE = "ansible_collections.azure_apim.identity.plugins.modules"


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
    def msg(self) -> str:
        """The failure message (empty on success)."""
        return str(self.result.get("msg", ""))

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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "ANSIBLE_", "PYTHON"))}
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
    """Run `module` with `args` (connection settings come from the environment, as with AWX).

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
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(workdir), check=False,
                          env=module_env(azure, sdk_log, env))
    elapsed = time.monotonic() - started
    return ModuleRun(module=module, args=args, check=check, rc=proc.returncode, result=_last_json(proc.stdout),
                     stdout=proc.stdout, stderr=proc.stderr,
                     sdk_log=sdk_log.read_text(encoding="utf-8", errors="replace") if sdk_log.exists() else "",
                     requests=azure.admin.requests(), state=azure.admin.state(), elapsed=elapsed, command=cmd)


def _last_json(stdout: str) -> dict[str, Any]:
    """The module's JSON result (the last line that parses as a JSON object)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {}
