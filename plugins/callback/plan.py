# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan summary at the end of a check run: per object, what the apply would create, change or remove."""
from __future__ import annotations

DOCUMENTATION = r"""
name: plan
type: aggregate
short_description: summary of what a check run plans to create, change or remove
description:
  - At the end of a run with C(--check), prints one line per object a task would create (V(+)), change (V(~)) or
    remove (V(-)), with the top-level settings that change, taken from the diffs the modules return; values Azure
    only assigns when the object is created read C((known after apply)).
  - Says nothing on a real run. Works beside the default stdout callback; enable it in C(ansible.cfg)
    (C(callbacks_enabled = azure_apim.identity.plan)) or with E(ANSIBLE_CALLBACKS_ENABLED).
  - It lists only tasks that report C(changed) and return a diff, so the tasks of the collection's modules and roles;
    secrets are already redacted in those diffs.
requirements:
  - enable the callback (see the description)
"""

from typing import Any, Dict, List, Optional, Tuple

from ansible import context
from ansible.plugins.callback import CallbackBase

UNKNOWN = "(known after apply)"


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


class CallbackModule(CallbackBase):
    """Collects the changed results of a check run and prints the plan with the stats."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "azure_apim.identity.plan"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.lines: List[str] = []

    def v2_runner_on_ok(self, result: Any) -> None:
        data: Dict[str, Any] = result._result
        if data.get("changed") and self._checking(result):
            self.lines.extend(plan_lines(result._task.get_name(), data))

    @staticmethod
    def _checking(result: Any) -> bool:
        check: Optional[bool] = result._task.check_mode
        return bool(context.CLIARGS.get("check")) if check is None else bool(check)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if not context.CLIARGS.get("check"):
            return
        self._display.banner("PLAN (check mode: nothing was written)")
        if not self.lines:
            self._display.display("  no change planned")
            return
        for line in self.lines:
            self._display.display(line)
        counts = {sign: sum(1 for line in self.lines if line.startswith("  " + sign)) for sign in "+~-"}
        self._display.display("  {0} to create, {1} to change, {2} to remove".format(counts["+"], counts["~"],
                                                                                     counts["-"]))
