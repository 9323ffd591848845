# Private to the azure_apim.identity test suite.
"""check → apply → idempotent check → idempotent apply: the contract every behaviour of the collection is tested on.

`run_quartet(run, task)` calls `run(check, diff)` four times; `run` returns a `PlaybookResult` or a `ModuleRun`
(tests/harness/runner.py), or anything with `ok`, `reports_change(task)`, `writes()`, `stdout`, `stderr`, `result`
and `explain()`. It asserts, right after each run:

- the check: succeeded, predicted a change (`predict`), sent zero writes;
- the apply: succeeded, reported the change (`apply_changes`), sent writes (`apply_writes`), and its diffs are the ones
  the check predicted except for "(known after apply)" values (`compare`);
- the idempotent check and apply: succeeded, no change, zero writes;
- no run's output holds any of `secrets`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from harness.diffs import compare_runs

# run(check, diff) -> the run's result
Runner = Callable[[bool, bool], Any]


@dataclass
class Quartet:
    """The four runs of one behaviour."""

    check: Any
    apply: Any
    recheck: Any
    reapply: Any

    @property
    def check2(self) -> Any:
        """The idempotent check (the named value suite's name)."""
        return self.recheck

    @property
    def apply2(self) -> Any:
        """The idempotent apply (the named value suite's name)."""
        return self.reapply

    def runs(self) -> dict[str, Any]:
        """The runs by the reliability suite's names."""
        return {"check": self.check, "apply": self.apply, "check_again": self.recheck, "apply_again": self.reapply}


def runs_of(run: Callable[..., Any], *args: Any, **kwargs: Any) -> Runner:
    """`run(*args, check=..., diff=..., **kwargs)` as a `Runner`, e.g. `runs_of(playbook, "uai_list", extra_vars=extra)`
    for the integration fixture or `runs_of(rel.run, module, args)` for a module process."""
    return lambda check, diff: run(*args, check=check, diff=diff, **kwargs)


def run_quartet(run: Runner, task: Optional[str] = None, *, predict: bool = True, apply_changes: bool = True,
                apply_writes: bool = True, compare: bool = False, rerun_diff: bool = True, secrets: tuple = (),
                before_apply: Optional[Callable[[], None]] = None,
                after_apply: Optional[Callable[[], None]] = None) -> Quartet:
    """Run and assert the quartet (see the module docstring); `task` None means any task of the run.

    `before_apply`/`after_apply` run around the apply only (the reliability suite arms and clears faults there).
    """
    check = assert_ran(run(True, True), "check", secrets)
    if predict:
        assert check.reports_change(task), "check mode must predict the change\n" + check.explain()
    assert check.writes() == [], "check mode must not write: " + _paths(check)
    if before_apply:
        before_apply()
    apply = run(False, True)
    if after_apply:
        after_apply()
    assert_ran(apply, "apply", secrets)
    if apply_changes:
        assert apply.reports_change(task), "the apply reported no change\n" + apply.explain()
    if apply_writes:
        assert apply.writes(), "the apply sent no write\n" + apply.explain()
    if compare:
        # The check predicted the apply's diffs, except for values only the apply knows ("(known after apply)").
        assert compare_runs(check, apply) == {}, compare_runs(check, apply)
    return Quartet(check, apply, *assert_idempotent(run, task, diff=rerun_diff, secrets=secrets))


def assert_idempotent(run: Runner, task: Optional[str] = None, *, diff: bool = True,
                      secrets: tuple = ()) -> tuple[Any, Any]:
    """A check run and a real run that both succeed, report no change and send zero writes."""
    again = []
    for label, check in (("idempotent check", True), ("idempotent apply", False)):
        rerun = assert_ran(run(check, diff), label, secrets)
        assert not rerun.reports_change(task), f"the {label} reported a change\n" + rerun.explain()
        assert rerun.writes() == [], f"the {label} sent writes: " + _paths(rerun)
        again.append(rerun)
    return again[0], again[1]


def assert_ran(run: Any, label: str, secrets: tuple = ()) -> Any:
    """The run succeeded and its output holds none of `secrets`; returns it."""
    assert run.ok, f"{label} failed\n" + run.explain()
    assert_no_secret(run, secrets)
    return run


def assert_no_secret(run: Any, secrets: tuple) -> None:
    """None of the secret strings appear in stdout, stderr or the JSON results."""
    blob = run.stdout + run.stderr + json.dumps(run.result)
    for secret in secrets:
        assert secret not in blob, "a secret value appears in the output"


def _paths(run: Any) -> str:
    return str([(entry["method"], entry["path"]) for entry in run.writes()])
