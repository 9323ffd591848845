"""check → apply → idempotent check → idempotent apply, as every integration test of these modules runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from integration.diff_compare import compare_runs


@dataclass
class Quartet:
    """The four runs of one behaviour."""

    check: Any
    apply: Any
    recheck: Any
    reapply: Any


def run_quartet(playbook: Callable[..., Any], name: str, task: str, extra_vars: dict[str, Any],
                tags: tuple = ()) -> Quartet:
    """Run the quartet with --diff and assert what every behaviour must show: predicted change with zero writes,
    the change, then no change and zero writes twice."""
    runs = []
    for check in (True, False, True, False):
        result = playbook(name, extra_vars=extra_vars, check=check, diff=True, tags=tags)
        assert result.rc == 0, result.explain()
        runs.append(result)
    q = Quartet(*runs)
    assert q.check.task(task)["changed"] is True, q.check.explain()
    assert q.check.requests.writes() == [], [e["path"] for e in q.check.requests.writes()]
    assert q.apply.task(task)["changed"] is True
    assert q.apply.requests.writes(), "apply sent no write"
    # The check predicted the apply's diffs, except for values only the apply knows ("(known after apply)").
    assert compare_runs(q.check, q.apply) == {}, compare_runs(q.check, q.apply)
    for rerun in (q.recheck, q.reapply):
        assert rerun.task(task)["changed"] is False, rerun.explain()
        assert rerun.requests.writes() == [], [e["path"] for e in rerun.requests.writes()]
    return q
