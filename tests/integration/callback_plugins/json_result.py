# Private to the azure_apim.identity test suite.
"""Notification callback that writes the play's results as JSON to the file named by `$JSON_RESULT_FILE`.

ansible-core ships no JSON stdout callback (ansible.posix has one); this keeps the default human-readable stdout and
records, per play and task, each host's result (already censored by Ansible for `no_log` tasks) plus the stats.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: json_result
type: notification
short_description: write play results as JSON to $JSON_RESULT_FILE
description: Test-suite helper; see the module docstring.
"""


class CallbackModule(CallbackBase):
    """Collects plays → tasks → host results; dumps them with the stats at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "json_result"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.plays: list[dict[str, Any]] = []

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.plays.append({"play": {"name": play.get_name(), "id": str(play._uuid)}, "tasks": []})

    def _task_entry(self, task: Any) -> dict[str, Any]:
        tasks = self.plays[-1]["tasks"]
        if not tasks or tasks[-1]["task"]["id"] != str(task._uuid):
            tasks.append({"task": {"name": task.get_name(), "id": str(task._uuid), "action": task.action},
                          "hosts": {}})
        return tasks[-1]

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._task_entry(task)

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._task_entry(task)

    def _record(self, result: Any, status: str) -> None:
        data = dict(result._result)
        data["_status"] = status
        self._task_entry(result._task)["hosts"][result._host.get_name()] = data

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        path = os.environ.get("JSON_RESULT_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"plays": self.plays, "stats": summary}, handle, default=str)
