# Private to the azure_apim.identity benchmark (bench/); loaded by both our Ansible and the peer's.
"""Notification callback writing per-task timings to the JSON file named by `$BENCH_TIMING_FILE`.

For every task: its name, action, the wall-clock start (time.time(), the same clock the local Azure stamps its request
log with) and, per host, the end time, status and `changed`. Requests are attributed to tasks by time afterwards.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timing
type: notification
short_description: write per-task timings as JSON to $BENCH_TIMING_FILE
description: Benchmark helper; see the module docstring.
"""


class CallbackModule(CallbackBase):
    """Collects task start/end times and per-host outcomes; dumps them at the end of the playbook."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()
        self.tasks: list[dict[str, Any]] = []

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self.tasks.append({"name": task.get_name(), "action": task.action, "start": time.time(), "hosts": {}})

    def _record(self, result: Any, status: str) -> None:
        if not self.tasks:
            return
        data = result._result
        entry = {"end": time.time(), "status": status, "changed": bool(data.get("changed"))}
        if status in ("failed", "unreachable"):
            entry["msg"] = str(data.get("msg", ""))[:2000]
        self.tasks[-1]["hosts"][result._host.get_name()] = entry

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        path = os.environ.get("BENCH_TIMING_FILE")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"start": self.started, "end": time.time(), "tasks": self.tasks}, handle)
