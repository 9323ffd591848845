"""Running scenarios and side-by-side tasks: seed → prepare (unmeasured) → measured run, repeated; then summaries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from bench import metrics, worlds
from bench.runner import REPO_ROOT, RunRecord, Side, run_playbook
from bench.scenarios import PeerTask, Scenario


@dataclass
class Settings:
    """Knobs of one bench run."""

    latency_ms: float = 30.0
    time_scale: float = 0.05
    runs: Optional[int] = None  # overrides each scenario's repetitions
    workdir: Path = REPO_ROOT / "build" / "bench"


class PrepareFailed(RuntimeError):
    """Seeding or an unmeasured preparation run failed; the scenario cannot be measured."""


def hosts_for(instances: int) -> list[dict[str, Any]]:
    """Inventory hosts inst001.. with `bench_instance` naming their APIM service."""
    return [{"name": "inst{0:03d}".format(i), "vars": {"bench_instance": worlds.instance_name(i)}}
            for i in range(1, instances + 1)]


def seed(azure: Any, world: tuple[str, dict], settings: Settings,
         arm_setup: tuple[tuple[str, str, str, dict], ...] = ()) -> None:
    """Fresh local Azure state: reset, no faults, bench timing config, the world, then raw ARM setup calls."""
    azure.admin.reset()
    azure.admin.clear_faults()
    azure.admin.config(**worlds.timing_config(settings.latency_ms, settings.time_scale))
    azure.admin.seed(worlds.build(world[0], world[1]))
    if arm_setup:
        client = azure.arm()
        for method, path, api_version, body in arm_setup:
            resp = client.request(method, path.format(subscription_id=azure.subscription_id), api_version, body)
            if resp.status_code >= 400:
                raise PrepareFailed("setup {0} {1} failed: {2} {3}".format(method, path, resp.status_code, resp.text))


def _one_run(azure: Any, side: Side, scenario: Scenario, settings: Settings, workdir: Path,
             prepare: tuple[str, ...]) -> list[RunRecord]:
    """Seed, prepare, measure; with `scenario.rerun` also measure the immediate re-run. Failed runs end the list."""
    seed(azure, scenario.world, settings, scenario.arm_setup)
    hosts = hosts_for(scenario.instances)
    for index, path in enumerate(prepare):
        prep = run_playbook(azure, side, REPO_ROOT / path, workdir / "prepare{0}".format(index), hosts,
                            scenario.extra_vars, forks=scenario.forks)
        if prep.rc != 0:
            raise PrepareFailed("preparing with {0} failed: {1}".format(path, prep.failures or prep.output_tail))
    records = []
    for label in ("measured", "rerun") if scenario.rerun else ("measured",):
        records.append(run_playbook(azure, side, REPO_ROOT / scenario.playbook, workdir / label, hosts,
                                    scenario.extra_vars, check=scenario.check, diff=scenario.diff,
                                    forks=scenario.forks))
        if records[-1].rc != 0:
            break
    return records


def _failure(record: RunRecord) -> str:
    return "; ".join(record.failures) or record.output_tail[-1500:]


def run_scenario(azure: Any, side: Side, scenario: Scenario, settings: Settings) -> list[dict[str, Any]]:
    """Run a scenario `repetitions` times and summarise it (status `ran`, `failed` or `unavailable`); with
    `rerun`, the no-op re-run scenario is summarised too."""
    bases = [_base(scenario, scenario.name, scenario.title, scenario.kind)]
    if scenario.rerun:
        bases.append(_base(scenario, scenario.rerun_name, scenario.title + ": no-op re-run", "noop"))
    reason = scenario.missing()
    if reason:
        return [{**base, "status": "unavailable", "reason": reason} for base in bases]
    runs: list[list[RunRecord]] = [[] for base in bases]
    for rep in range(settings.runs or scenario.repetitions):
        workdir = settings.workdir / _slug(side.name) / scenario.name / "run{0}".format(rep + 1)
        try:
            records = _one_run(azure, side, scenario, settings, workdir, scenario.prepare)
        except PrepareFailed as err:
            return [{**base, "status": "failed", "reason": str(err)} for base in bases]
        for index, record in enumerate(records):
            if record.rc != 0:
                return [{**base, "status": "failed", "reason": "{0} run: {1}".format(
                    "re-run" if index else "measured", _failure(record))} for base in bases]
            runs[index].append(record)
    managed = scenario.managed_objects_per_instance * scenario.instances
    return [{**base, **summarize(records, managed)} for base, records in zip(bases, runs)]


def _base(scenario: Scenario, name: str, title: str, kind: str) -> dict[str, Any]:
    return {"name": name, "title": title, "group": scenario.group, "kind": kind, "instances": scenario.instances,
            "forks": scenario.forks, "playbook": scenario.playbook}


def summarize(records: list[RunRecord], managed_objects: int = 0) -> dict[str, Any]:
    """Median wall time over runs; requests, task runs and changes of the median run; memory and LRO lags of all."""
    ordered = sorted(records, key=lambda r: r.wall_s)
    middle = ordered[(len(ordered) - 1) // 2]
    lags = [lag for r in records
            for lag in metrics.lro_notice_lags(r.operations, r.requests, r.azure_start, r.time_scale)]
    arm_counts = [metrics.request_stats(r.requests)["arm"] for r in records]
    return {
        "status": "ran",
        "runs": len(records),
        "wall_s": metrics.median([r.wall_s for r in records]),
        "wall_runs_s": [round(r.wall_s, 3) for r in records],
        "tasks_s": metrics.median([_tasks_span(r) for r in records]),
        "requests": metrics.request_stats(middle.requests),
        "arm_requests_range": [min(arm_counts), max(arm_counts)],
        "task_runs": sum(t["hosts_ran"] for t in middle.tasks),
        "changed": sum(len(t["changed"]) for t in middle.tasks),
        "managed_objects": managed_objects,
        "peak_rss_mib": metrics.peak_rss_by_module(s for r in records for s in r.rss),
        "module_cpu_s": metrics.cpu_by_module(s for r in records for s in r.rss),
        "cpu": _cpu_split(middle),
        "lro_lags_s": [round(item["lag_s"], 3) for item in lags if item["lag_s"] is not None],
        "lro_unobserved": len([item for item in lags if item["lag_s"] is None]),
        "request_lines": _request_lines(middle.requests),
        "per_task": [{"name": t["name"], "wall_s": round(t["wall_s"], 3)} for t in middle.tasks],
    }


def _cpu_split(record: RunRecord) -> dict[str, Optional[float]]:
    """CPU seconds of the run: all of it, the module processes, and the rest (Ansible's controller and forks)."""
    modules = sum(s.get("cpu_s", 0.0) for s in record.rss)
    if record.total_cpu_s is None:
        return {"total_s": None, "modules_s": round(modules, 3), "ansible_s": None}
    return {"total_s": round(record.total_cpu_s, 3), "modules_s": round(modules, 3),
            "ansible_s": round(record.total_cpu_s - modules, 3)}


def _request_lines(entries: list[dict[str, Any]], limit: int = 60) -> list[str]:
    """`METHOD path -> status` of the first requests of a run (token requests included), for reading the report."""
    return ["{0} {1} -> {2}".format(e["method"], e["path"], e.get("status")) for e in entries[:limit]]


def _tasks_span(record: RunRecord) -> float:
    if not record.tasks:
        return 0.0
    return max(t["end"] for t in record.tasks) - min(t["start"] for t in record.tasks)


def measured_task(record: RunRecord) -> dict[str, Any]:
    """The outcome of a side-by-side playbook, all its tasks together: where the peer needs a lookup task first
    (the identity's principal id, a vault id) that task is part of its cost, as ours does the lookup inside the
    module. Wall = first task start to last task end; requests in that window; peak RSS and CPU of the module
    named by the `BENCH ...` task (CPU summed over the playbook's module processes)."""
    task = next(t for t in record.tasks if t["name"].startswith("BENCH"))
    module = task["action"].rsplit(".", 1)[-1]
    start, end = min(t["start"] for t in record.tasks), max(t["end"] for t in record.tasks)
    samples = [s for s in record.rss if s["module"] == module]
    window = metrics.in_window(record.requests, start, end)
    reqs = metrics.request_stats(window)
    return {"module": module, "task_s": end - start, "tasks": len(record.tasks), "requests": reqs,
            "request_lines": _request_lines(window),
            "rss_mib": max(s["rss_mib"] for s in samples) if samples else None,
            "cpu_s": sum(s.get("cpu_s", 0.0) for s in record.rss) if record.rss else None}


def run_peer_task(azure: Any, ours: Side, peer: Side, task: PeerTask, settings: Settings) -> dict[str, Any]:
    """Our task and the peer's on identical fresh worlds, alternating, `repetitions` times; medians and ratios."""
    base = {"name": task.name, "note": task.note}
    reason = task.missing()
    if reason:
        return {**base, "status": "unavailable", "reason": reason}
    sides: dict[str, list[dict[str, Any]]] = {"ours": [], "peer": []}
    for rep in range(settings.runs or task.repetitions):
        for key, side, playbook, prepare in (("ours", ours, task.ours, task.prepare_ours),
                                             ("peer", peer, task.peer, task.prepare_peer)):
            scenario = Scenario(task.name, task.name, playbook, world=task.world)
            workdir = settings.workdir / "peer" / _slug(task.name) / key / "run{0}".format(rep + 1)
            try:
                (record,) = _one_run(azure, side, scenario, settings, workdir, prepare)
            except PrepareFailed as err:
                return {**base, "status": "failed", "reason": "{0}: {1}".format(side.name, err)}
            if record.rc != 0:
                return {**base, "status": "failed", "reason": "{0}: {1}".format(side.name, _failure(record))}
            sides[key].append(measured_task(record))
    ours_sum, peer_sum = _median_task(sides["ours"]), _median_task(sides["peer"])
    return {**base, "status": "ran", "ours": ours_sum, "peer": peer_sum, "ratios": ratios(ours_sum, peer_sum)}


def _median_task(samples: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(samples, key=lambda s: s["task_s"])
    middle = ordered[(len(ordered) - 1) // 2]
    rss = [s["rss_mib"] for s in samples if s["rss_mib"] is not None]
    cpu = [s["cpu_s"] for s in samples if s.get("cpu_s") is not None]
    return {"module": middle["module"], "task_s": metrics.median([s["task_s"] for s in samples]),
            "requests": middle["requests"], "request_lines": middle.get("request_lines", []),
            "rss_mib": max(rss) if rss else None, "cpu_s": metrics.median(cpu)}


def ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, Optional[float]]:
    """ours / peer for wall time, ARM requests and peak memory (None where the peer's figure is 0 or missing)."""
    def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
        return None if a is None or not b else round(a / b, 3)
    return {"wall": ratio(ours["task_s"], peer["task_s"]),
            "requests": ratio(ours["requests"]["arm"], peer["requests"]["arm"]),
            "rss": ratio(ours["rss_mib"], peer["rss_mib"])}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
