# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The lines of the plan callback (plugins/callback/plan.py): per object a check run would create (+), change (~)
or remove (-), from the diffs the modules return. Kept apart from the callback so it is testable on its own."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ._plan import UNKNOWN


def _empty(value: Any) -> bool:
    return value in (None, {}, [], "")


def _changed_keys(before: Dict[str, Any], after: Dict[str, Any]) -> List[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def describe(before: Any, after: Any) -> Tuple[str, str]:
    """(sign, what) for one diff: + create, - remove, ~ change (naming the settings that change)."""
    if _empty(before) and not _empty(after):
        return "+", "create"
    if _empty(after) and not _empty(before):
        return "-", "remove"
    if isinstance(before, dict) and isinstance(after, dict):
        keys = _changed_keys(before, after)
        return "~", "change " + ", ".join(keys) if keys else "change"
    return "~", "change"


def _diffs(result: Dict[str, Any]) -> List[Dict[str, Any]]:
    diff = result.get("diff")
    diffs = diff if isinstance(diff, list) else [diff] if diff else []
    return [d for d in diffs if isinstance(d, dict) and ("before" in d or "after" in d)]


def plan_lines(task: str, result: Dict[str, Any]) -> List[str]:
    """The plan lines of one changed task result (a loop's items each count)."""
    if "results" in result:
        lines = []
        for item in result["results"]:
            if item.get("changed"):
                label = item.get("_ansible_item_label", item.get("item"))
                lines.extend(plan_lines("{0} ({1})".format(task, label), item))
        return lines
    lines = []
    for diff in _diffs(result):
        for name, before, after in _objects(diff.get("before"), diff.get("after")):
            sign, what = describe(before, after)
            unknown = " [{0}]".format(UNKNOWN) if UNKNOWN in repr(after) else ""
            lines.append("  {0} {1}{2}: {3}{4}".format(sign, task, " - " + name if name else "", what, unknown))
    return lines or ["  ~ {0}: change".format(task)]


def _objects(before: Any, after: Any) -> List[Tuple[str, Any, Any]]:
    """The objects of one diff: a diff whose changed top-level values are all objects (the list forms of the
    modules key their diff by item; apim_identity by ``identity``) counts each of them, else the diff is one."""
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return [("", before, after)]
    keys = _changed_keys(before, after)
    if keys and all(isinstance(before.get(k), dict) or isinstance(after.get(k), dict) for k in keys):
        return [(k, before.get(k), after.get(k)) for k in keys]
    return [("", before, after)]
