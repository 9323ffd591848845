"""Pure measurements over what a run left behind: the local Azure's request log and operations, the per-task
timings written by the bench_timing callback, and the peak-RSS lines written by the interpreter wrapper.

Nothing here talks to a process or a server, so every figure in the report can be unit-tested.
"""

from __future__ import annotations

import re
import statistics
from typing import Any, Iterable, Optional, Sequence

# Entra ID traffic (token, discovery): counted apart from ARM requests, which are what ARM throttles.
_AUTH_PATH = re.compile(r"/oauth2/|/\.well-known/|/discovery/", re.IGNORECASE)
# AnsiballZ wrapper file names carry the module name: AnsiballZ_user_assigned_identity.py.
_ANSIBALLZ = re.compile(r"AnsiballZ_([A-Za-z0-9_]+)\.py")


def is_auth(entry: dict[str, Any]) -> bool:
    """True for Entra ID requests (token, OpenID discovery, instance discovery)."""
    return bool(_AUTH_PATH.search(entry.get("path", "")))


def request_stats(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """ARM requests by method, writes, reads, Entra ID requests and throttled/failed answers."""
    by_method: dict[str, int] = {}
    stats = {"arm": 0, "reads": 0, "writes": 0, "auth": 0, "errors": 0, "throttled": 0}
    for entry in entries:
        if is_auth(entry):
            stats["auth"] += 1
            continue
        method = entry.get("method", "?")
        by_method[method] = by_method.get(method, 0) + 1
        stats["arm"] += 1
        stats["writes" if entry.get("write") else "reads"] += 1
        status = entry.get("status") or 0
        stats["throttled"] += status == 429
        stats["errors"] += status >= 500
    stats["by_method"] = dict(sorted(by_method.items()))
    return stats


def in_window(entries: Iterable[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    """Entries whose arrival time (`time`, Unix seconds) lies in [start, end]."""
    return [e for e in entries if start <= float(e.get("time", 0)) <= end]


def task_windows(timing: dict[str, Any]) -> list[dict[str, Any]]:
    """Per task: name, action, start, end (last host to finish), wall seconds, hosts that ran/changed/failed."""
    out = []
    for task in timing.get("tasks", []):
        hosts = task.get("hosts", {})
        ends = [h["end"] for h in hosts.values()]
        end = max(ends) if ends else task["start"]
        out.append({
            "name": task["name"], "action": task["action"], "start": task["start"], "end": end,
            "wall_s": end - task["start"],
            "hosts_ran": len([r for r in hosts.values() if r.get("status") != "skipped"]),
            "changed": sorted(h for h, r in hosts.items() if r.get("changed")),
            "failed": {h: r.get("msg", "") for h, r in hosts.items() if r.get("status") in ("failed", "unreachable")},
        })
    return out


def parse_rss_log(text: str) -> list[dict[str, Any]]:
    """Lines `BENCHRSS <max RSS KiB> <elapsed s> <user s> <system s> <command>` written by GNU time →
    module, rss_mib, elapsed_s, cpu_s.

    Processes that are not Ansible modules (no AnsiballZ file on the command line) are reported as `other`.
    """
    out = []
    for line in text.splitlines():
        parts = line.split(" ", 5)
        if len(parts) < 6 or parts[0] != "BENCHRSS":
            continue
        try:
            rss_kib, elapsed, cpu = int(parts[1]), float(parts[2]), float(parts[3]) + float(parts[4])
        except ValueError:
            continue
        match = _ANSIBALLZ.search(parts[5])
        out.append({"module": match.group(1) if match else "other", "rss_mib": rss_kib / 1024.0,
                    "elapsed_s": elapsed, "cpu_s": cpu})
    return out


def cpu_by_module(samples: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Median CPU seconds (user + system) of one module process, per module."""
    per: dict[str, list[float]] = {}
    for sample in samples:
        per.setdefault(sample["module"], []).append(sample.get("cpu_s", 0.0))
    return {module: round(statistics.median(values), 3) for module, values in sorted(per.items())}


def peak_rss_by_module(samples: Iterable[dict[str, Any]]) -> dict[str, float]:
    """The highest peak RSS (MiB) seen per module."""
    peaks: dict[str, float] = {}
    for sample in samples:
        peaks[sample["module"]] = max(peaks.get(sample["module"], 0.0), sample["rss_mib"])
    return dict(sorted(peaks.items()))


def lro_notice_lags(operations: dict[str, dict[str, Any]], entries: Sequence[dict[str, Any]], since_azure: float,
                    time_scale: float) -> list[dict[str, Any]]:
    """For each operation that finished after `since_azure`: how long after the server finished a client noticed.

    The server finishes an operation at its `due` time (Azure clock). It is noticed by the first later request that
    polls the operation (its id in the path) or reads the resource it works on. The lag is converted to wall seconds
    with `time_scale`. Operations nobody looked at after they finished are reported with `lag_s: None`.
    """
    out = []
    for op_id, op in operations.items():
        if op.get("status") not in ("Succeeded", "Failed", "Canceled") or float(op.get("due", 0)) < since_azure:
            continue
        seen = _first_observer(op_id, op, entries)
        lag = None if seen is None else max(0.0, (float(seen["azure_time"]) - float(op["due"])) * time_scale)
        out.append({"operation": op_id, "resource_id": op.get("resource_id"), "status": op["status"],
                    "lag_s": lag, "observed_by": None if seen is None else seen["method"] + " " + seen["path"]})
    return out


def _first_observer(op_id: str, op: dict[str, Any], entries: Sequence[dict[str, Any]]) -> Optional[dict[str, Any]]:
    resource = str(op.get("resource_id", "")).lower().rstrip("/")
    due = float(op["due"])
    for entry in sorted(entries, key=lambda e: float(e.get("azure_time", 0))):
        if float(entry.get("azure_time", 0)) < due:
            continue
        path = entry.get("path", "").lower().rstrip("/")
        if op_id.lower() in path or (entry.get("method") == "GET" and path == resource):
            return entry
    return None


def median(values: Sequence[float]) -> Optional[float]:
    """Median, or None for no values."""
    return statistics.median(values) if values else None
