# Private to the azure_apim.identity test suite.
"""Compare the diffs a check run predicted with those its apply returned, task by task: equal except where the
check shows a value Azure assigns on creation as "(known after apply)"."""

from __future__ import annotations

import re
from typing import Any

UNKNOWN = "(known after apply)"


def mismatches(predicted: Any, applied: Any, path: str = "") -> list[str]:
    """Where ``predicted`` differs from ``applied``; an UNKNOWN prediction matches any value."""
    if predicted == UNKNOWN:
        return []
    if isinstance(predicted, str) and UNKNOWN in predicted and isinstance(applied, str):
        # a text with an unknown inside (a policy's client-id attribute): the rest must match
        pattern = ".+?".join(re.escape(part) for part in predicted.split(UNKNOWN))
        return [] if re.fullmatch(pattern, applied, re.S) else [f"{path}: check {predicted!r} != apply {applied!r}"]
    if isinstance(predicted, dict) and isinstance(applied, dict):
        found = []
        for key in sorted(set(predicted) | set(applied), key=str):
            found += mismatches(predicted.get(key), applied.get(key), f"{path}.{key}")
        return found
    if isinstance(predicted, list) and isinstance(applied, list) and len(predicted) == len(applied):
        found = []
        for index, (one, two) in enumerate(zip(predicted, applied)):
            found += mismatches(one, two, f"{path}[{index}]")
        return found
    return [] if predicted == applied else [f"{path}: check {predicted!r} != apply {applied!r}"]


def _diffs(host: dict[str, Any]) -> list[Any]:
    if "results" in host:
        return [d for item in host["results"] if item.get("changed") for d in _diffs(item)]
    diff = host.get("diff")
    return diff if isinstance(diff, list) else [diff] if diff else []


def task_diffs(run: Any) -> dict[str, list[Any]]:
    """Changed task name -> its diffs (a loop's changed items in order)."""
    found: dict[str, list[Any]] = {}
    for task in run.tasks():
        host = task["hosts"].get("localhost") or {}
        if host.get("changed"):
            found.setdefault(task["task"]["name"], []).extend(_diffs(host))
    return found


def compare_runs(check: Any, apply: Any) -> dict[str, list[str]]:
    """Per task, the mismatches between the check's and the apply's diffs (empty: the prediction held)."""
    predicted, applied = task_diffs(check), task_diffs(apply)
    report = {}
    for name in sorted(set(predicted) | set(applied)):
        one, two = predicted.get(name, []), applied.get(name, [])
        if len(one) != len(two):
            report[name] = [f"{len(one)} diffs in check, {len(two)} in apply"]
            continue
        found = [m for a, b in zip(one, two) for m in mismatches(a, b)]
        if found:
            report[name] = found
    return report
