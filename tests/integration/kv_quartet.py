"""check → apply → idempotent check → idempotent apply of one playbook task (tests/harness/quartet.py), by the
signature the Key Vault, network, role-assignment and certificate tests call it with."""

from __future__ import annotations

from typing import Any, Callable

from harness.quartet import Quartet, run_quartet as _quartet, runs_of

__all__ = ["Quartet", "run_quartet"]


def run_quartet(playbook: Callable[..., Any], name: str, task: str, extra_vars: dict[str, Any],
                tags: tuple = ()) -> Quartet:
    """The quartet of `task` in playbook `name`, every run with --diff; the check's diffs must be the apply's."""
    return _quartet(runs_of(playbook, name, extra_vars=extra_vars, tags=tags), task, compare=True)
