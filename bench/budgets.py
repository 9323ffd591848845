"""The budgets of issue 10, evaluated over a report: each is `met`, `not met` or `not measured` with the figures.

No budget is ever asserted in a test; `make bench` prints them and the report keeps them.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

MET, NOT_MET, NOT_MEASURED = "met", "not met", "not measured"

LRO_NOTICE_S = 1.0
WALL_RATIO = 1 / 3
MEMORY_RATIO = 0.5
SCALE_FACTOR = 1.3
SITE_NOOP_S = 10.0


def _budget(name: str, target: str, status: str, measured: str, details: Optional[list[str]] = None) -> dict[str, Any]:
    return {"name": name, "target": target, "status": status, "measured": measured, "details": details or []}


def _scenario(report: dict[str, Any], name: str) -> Optional[dict[str, Any]]:
    for scenario in report.get("scenarios", []):
        if scenario["name"] == name:
            return scenario
    return None


def _ran(scenario: Optional[dict[str, Any]]) -> bool:
    return bool(scenario) and scenario.get("status") == "ran"


def _why(scenario: Optional[dict[str, Any]], name: str) -> str:
    if not scenario:
        return "scenario {0} not in this run".format(name)
    return "{0}: {1}".format(name, scenario.get("reason") or scenario.get("status"))


def _site(report: dict[str, Any], names: tuple[str, ...]) -> tuple[Optional[dict[str, Any]], str]:
    """The first of `names` that ran, else (None, why none did)."""
    for name in names:
        if _ran(_scenario(report, name)):
            return _scenario(report, name), ""
    return None, "; ".join(_why(_scenario(report, name), name) for name in names)


def site_noop_requests(report: dict[str, Any]) -> dict[str, Any]:
    """No-op re-runs of the site playbook and of the realistic site (each that ran): 0 writes and reads ≤ managed
    objects + tasks."""
    target = "0 writes; reads <= managed objects + tasks"
    names = ("site.noop", "realistic_site.noop")
    sites = [_scenario(report, name) for name in names if _ran(_scenario(report, name))]
    if not sites:
        why = _site(report, names)[1]
        return _budget("site no-op: requests", target, NOT_MEASURED, why)
    parts, ok = [], True
    for site in sites:
        req = site["requests"]
        limit = site["managed_objects"] + site["task_runs"]
        ok = ok and req["writes"] == 0 and req["reads"] <= limit
        parts.append("{0}: {1} writes, {2} reads (limit {3} = {4} objects + {5} tasks)".format(
            site["name"], req["writes"], req["reads"], limit, site["managed_objects"], site["task_runs"]))
    return _budget("site no-op: requests", target, MET if ok else NOT_MET, "; ".join(parts))


def module_noop_writes(report: dict[str, Any]) -> dict[str, Any]:
    """Every no-op scenario that ran (modules, scale, site): 0 writes."""
    noops = [s for s in report.get("scenarios", []) if s.get("kind") == "noop" and _ran(s)]
    if not noops:
        return _budget("no-op re-runs: writes", "0 writes", NOT_MEASURED, "no no-op scenario ran")
    details = ["{0}: {1} writes, {2} reads".format(s["name"], s["requests"]["writes"], s["requests"]["reads"])
               for s in noops]
    ok = all(s["requests"]["writes"] == 0 for s in noops)
    return _budget("no-op re-runs: writes", "0 writes", MET if ok else NOT_MET,
                   "{0} no-op scenarios, {1} writes in total".format(
                       len(noops), sum(s["requests"]["writes"] for s in noops)), details)


def _peer_ratio_budget(report: dict[str, Any], name: str, target: str, key: str, limit: float,
                       fmt: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    tasks = [t for t in (report.get("peer") or {}).get("tasks", []) if t.get("status") == "ran"]
    measured = [t for t in tasks if t["ratios"].get(key) is not None]
    if not measured:
        return _budget(name, target, NOT_MEASURED, (report.get("peer") or {}).get("reason") or "no side-by-side task ran")
    details = ["{0}: {1} (ratio {2:.2f})".format(t["name"], fmt(t), t["ratios"][key]) for t in measured]
    worst = max(measured, key=lambda t: t["ratios"][key])
    ok = all(t["ratios"][key] <= limit for t in measured)
    return _budget(name, target, MET if ok else NOT_MET,
                   "worst ratio {0:.2f} ({1}) over {2} tasks".format(worst["ratios"][key], worst["name"], len(measured)),
                   details)


def peer_wall(report: dict[str, Any]) -> dict[str, Any]:
    """Per-task wall time ≤ 1/3 of azure.azcollection's equivalent, measured in the same run."""
    return _peer_ratio_budget(
        report, "per-task wall time vs azure.azcollection", "ours <= 1/3 of peer per task", "wall", WALL_RATIO,
        lambda t: "{0:.2f} s vs {1:.2f} s".format(t["ours"]["task_s"], t["peer"]["task_s"]))


def peer_memory(report: dict[str, Any]) -> dict[str, Any]:
    """Peak memory of a module process ≤ 1/2 of the peer's equivalent."""
    return _peer_ratio_budget(
        report, "module peak memory vs azure.azcollection", "ours <= 1/2 of peer per module", "rss", MEMORY_RATIO,
        lambda t: "{0:.0f} MiB vs {1:.0f} MiB".format(t["ours"]["rss_mib"], t["peer"]["rss_mib"]))


def lro_notice(report: dict[str, Any]) -> dict[str, Any]:
    """Long-running operation completion noticed within 1 s of the server finishing."""
    target = "<= {0:.0f} s after the server finished".format(LRO_NOTICE_S)
    lags = [(s["name"], lag) for s in report.get("scenarios", []) if _ran(s) for lag in s.get("lro_lags_s", [])]
    if not lags:
        return _budget("long-running operation noticed", target, NOT_MEASURED,
                       "no scenario that ran waited for a long-running operation")
    worst = max(lags, key=lambda item: item[1])
    ok = worst[1] <= LRO_NOTICE_S
    return _budget("long-running operation noticed", target, MET if ok else NOT_MET,
                   "worst {0:.2f} s ({1}) over {2} operations".format(worst[1], worst[0], len(lags)))


def scale(report: dict[str, Any]) -> dict[str, Any]:
    """50 instances with forks 10 take ≤ 1.3 × (50/10) × one instance (converge and no-op)."""
    target = "T(50) <= 1.3 x 5 x T(1)"
    details, statuses = [], []
    for kind in ("converge", "noop"):
        one, fifty = _scenario(report, "scale.1." + kind), _scenario(report, "scale.50." + kind)
        if not (_ran(one) and _ran(fifty)):
            missing = ("scale.50." if _ran(one) else "scale.1.") + kind
            details.append(_why(_scenario(report, missing), missing))
            continue
        limit = SCALE_FACTOR * 5 * one["wall_s"]
        statuses.append(fifty["wall_s"] <= limit)
        details.append("{0}: T(50) {1:.1f} s vs limit {2:.1f} s (T(1) {3:.1f} s){4}".format(
            kind, fifty["wall_s"], limit, one["wall_s"], _cpu_floor(report, fifty)))
    if not statuses:
        return _budget("scale: 50 instances, forks 10", target, NOT_MEASURED, "; ".join(details))
    return _budget("scale: 50 instances, forks 10", target, MET if all(statuses) else NOT_MET, "; ".join(details))


def _cpu_floor(report: dict[str, Any], scenario: dict[str, Any]) -> str:
    """Where the CPU went (module processes vs Ansible itself) and what that costs on the bench's CPUs."""
    cpus = (report.get("meta") or {}).get("cpus")
    cpu = scenario.get("cpu") or {}
    if not (cpus and cpu.get("total_s")):
        return ""
    return "; CPU {0:.0f} s = modules {1:.0f} s + Ansible {2:.0f} s, on {3} CPUs >= {4:.1f} s wall".format(
        cpu["total_s"], cpu["modules_s"], cpu["ansible_s"], cpus, cpu["total_s"] / cpus)


def site_noop_wall(report: dict[str, Any]) -> dict[str, Any]:
    """Realistic site no-op re-run ≤ 10 s wall with 30 ms injected latency."""
    target = "<= {0:.0f} s wall".format(SITE_NOOP_S)
    site, why = _site(report, ("realistic_site.noop", "site.noop"))
    if site is None:
        return _budget("realistic site no-op: wall", target, NOT_MEASURED, why)
    ok = site["wall_s"] <= SITE_NOOP_S
    return _budget("realistic site no-op: wall", target, MET if ok else NOT_MET,
                   "{0}: {1:.1f} s at {2:.0f} ms latency".format(site["name"], site["wall_s"],
                                                                 report["meta"]["latency_ms"]))


BUDGETS = (site_noop_requests, module_noop_writes, peer_wall, lro_notice, scale, peer_memory, site_noop_wall)


def evaluate(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every budget over the report, in the order of the issue."""
    return [budget(report) for budget in BUDGETS]
