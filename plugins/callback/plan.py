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
  - Every task that reports C(changed) is listed; a task that returns a diff (the collection's modules) gives one line
    per object of its diff. Secrets are already redacted in those diffs.
requirements:
  - enable the callback (see the description)
"""

from typing import Any, Dict, List, Optional

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.azure_apim.identity.plugins.module_utils._plan_summary import plan_lines


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
