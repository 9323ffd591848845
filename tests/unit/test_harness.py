"""The shared test harness (tests/harness): the quartet helper fails on every broken promise it checks, and the
runner builds the command line and inventory the suites and bench rely on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pytest

from harness.quartet import Quartet, assert_idempotent, run_quartet, runs_of
from harness.runner import PlaybookResult, playbook_command, write_inventory

TASK = "Ensure the thing"
PUT = {"method": "PUT", "path": "/subscriptions/s/resourceGroups/rg/providers/X/things/t"}
DIFF = {"before": {"tags": {}}, "after": {"tags": {"a": "b"}}}


class Log(list):
    """Stands in for the emulator's RequestLog: a list of entries with `writes()`."""

    def writes(self) -> "Log":
        return Log(entry for entry in self if entry["method"] != "GET")


def playbook_run(changed: bool, writes: int = 0, diff: Optional[dict] = None, rc: int = 0,
                 stdout: str = "") -> PlaybookResult:
    host = {"changed": changed, **({"diff": diff} if diff else {})}
    result = {"plays": [{"tasks": [{"task": {"name": TASK}, "hosts": {"localhost": host}}]}]}
    return PlaybookResult(rc=rc, stdout=stdout, stderr="", result=result, state={}, requests=Log([PUT] * writes))


def scripted(*runs: PlaybookResult) -> tuple[Callable[[bool, bool], PlaybookResult], list]:
    """A runner that hands out `runs` in order and records the (check, diff) flags it was called with."""
    queue, calls = list(runs), []

    def run(check: bool, diff: bool) -> PlaybookResult:
        calls.append((check, diff))
        return queue.pop(0)

    return run, calls


def good() -> list[PlaybookResult]:
    return [playbook_run(True, diff=DIFF), playbook_run(True, writes=1, diff=DIFF), playbook_run(False),
            playbook_run(False)]


def test_a_good_quartet_passes_with_the_modes_in_order():
    run, calls = scripted(*good())
    q = run_quartet(run, TASK, compare=True)
    assert isinstance(q, Quartet) and q.apply.writes() == [PUT]
    assert calls == [(True, True), (False, True), (True, True), (False, True)]
    assert (q.check2, q.apply2) == (q.recheck, q.reapply)
    assert list(q.runs()) == ["check", "apply", "check_again", "apply_again"]


def test_rerun_diff_off_runs_the_idempotent_pair_without_diff():
    run, calls = scripted(*good())
    run_quartet(run, TASK, rerun_diff=False)
    assert calls[2:] == [(True, False), (False, False)]


# Each case breaks one promise of the quartet; the helper must fail on it.
BROKEN = {
    "a write on the idempotent apply": (3, playbook_run(False, writes=1)),
    "a write on the idempotent check": (2, playbook_run(False, writes=1)),
    "a change reported by the idempotent apply": (3, playbook_run(True)),
    "a write in check mode": (0, playbook_run(True, writes=1, diff=DIFF)),
    "check mode predicting nothing": (0, playbook_run(False)),
    "an apply without a write": (1, playbook_run(True, diff=DIFF)),
    "an apply reporting no change": (1, playbook_run(False, writes=1)),
    "a failed apply": (1, playbook_run(True, writes=1, diff=DIFF, rc=2)),
    "an apply diff the check did not predict": (1, playbook_run(True, writes=1, diff={"before": {}, "after": {}})),
    "a secret in the output": (2, playbook_run(False, stdout="value=hunter2-secret")),
}


@pytest.mark.parametrize("index, run", BROKEN.values(), ids=list(BROKEN))
def test_a_broken_promise_fails_the_quartet(index: int, run: PlaybookResult):
    runs = good()
    runs[index] = run
    with pytest.raises(AssertionError):
        run_quartet(scripted(*runs)[0], TASK, compare=True, secrets=("hunter2-secret",))


def test_a_task_without_a_boolean_changed_fails():
    odd = playbook_run(False)
    odd.result["plays"][0]["tasks"][0]["hosts"]["localhost"]["changed"] = None
    with pytest.raises(AssertionError):
        assert_idempotent(scripted(odd, playbook_run(False))[0], TASK)


@dataclass
class FakeModuleRun:
    """What the reliability suite's module runs look like to the helper."""

    changed: bool
    arm_writes: list = field(default_factory=list)
    ok: bool = True
    stdout: str = ""
    stderr: str = ""
    result: dict = field(default_factory=dict)

    def reports_change(self, task: Any = None) -> bool:
        return self.changed

    def writes(self) -> list:
        return self.arm_writes

    def explain(self) -> str:
        return json.dumps(self.result)


def test_hooks_wrap_only_the_apply_and_module_runs_are_checked_too():
    events: list[str] = []
    runs = [FakeModuleRun(True), FakeModuleRun(True), FakeModuleRun(False), FakeModuleRun(False, [PUT])]

    def run(check: bool, diff: bool) -> FakeModuleRun:
        events.append("check" if check else "apply")
        return runs.pop(0)

    with pytest.raises(AssertionError, match="idempotent apply sent writes"):
        run_quartet(run, apply_writes=False, before_apply=lambda: events.append("arm"),
                    after_apply=lambda: events.append("clear"))
    assert events == ["check", "arm", "apply", "clear", "check", "apply"]


def test_runs_of_passes_the_flags_through():
    calls = []
    run = runs_of(lambda *args, **kwargs: calls.append((args, kwargs)), "uai_list", extra_vars={"a": 1})
    run(True, False)
    assert calls == [(("uai_list",), {"check": True, "diff": False, "extra_vars": {"a": 1}})]


def test_inventory_and_command_line(tmp_path):
    inventory = write_inventory(tmp_path / "inv.ini", "/venv/bin/python")
    assert inventory.read_text() == ("[local]\nlocalhost ansible_connection=local\n\n[local:vars]\n"
                                     "ansible_python_interpreter=/venv/bin/python\n")
    cmd = playbook_command(tmp_path / "pb.yml", inventory, tmp_path, ansible_playbook="ap", extra_vars={"a": 1},
                           check=True, diff=True, tags=("x", "y"), verbosity=2, forks=5)
    assert cmd == ["ap", "-i", str(inventory), str(tmp_path / "pb.yml"), "-f", "5", "-e",
                   f"@{tmp_path / 'extra_vars.json'}", "--check", "--diff", "--tags", "x,y", "-vv"]
    assert json.loads((tmp_path / "extra_vars.json").read_text()) == {"a": 1}
