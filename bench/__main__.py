"""`python -m bench`: run the benchmark against a local Azure it starts, print the budgets, write the report.

    python -m bench                     # everything available but the slow part (side by side too with .venv-peer)
    python -m bench --full              # plus 50 instances and the realistic site in check mode
    python -m bench --peer-only         # only the side-by-side tasks, merged into the last report
    python -m bench --only 'scale.*'    # scenarios whose name matches (fnmatch), repeatable
    python -m bench --runs 5 --scale-sizes 1,10,50,100 --latency-ms 30 --time-scale 0.05
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench import budgets, execute, peer, report, scenarios  # noqa: E402  (needs the paths above)
from bench.runner import LocalAzureProcess, ours  # noqa: E402

RESULTS = REPO_ROOT / "bench" / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, help="repetitions per scenario (default: each scenario's own, 1-3)")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="injected latency per request (default 30)")
    parser.add_argument("--time-scale", type=float, default=0.05,
                        help="wall seconds per Azure second for long-running operations (default 0.05)")
    parser.add_argument("--scale-sizes", help="APIM instance counts (default 1,10; with --full 1,10,50)")
    parser.add_argument("--full", action="store_true",
                        help="the full run: 1, 10 and 50 instances and the slow scenarios (about half an hour)")
    parser.add_argument("--only", action="append", default=[], help="run only scenarios matching this pattern")
    parser.add_argument("--no-peer", action="store_true", help="skip the side-by-side tasks")
    parser.add_argument("--peer-only", action="store_true", help="only the side-by-side tasks (keeps other results)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the last report's results for what this run does not measure (with --only)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="report directory (default bench/results)")
    parser.add_argument("--update-readme", action="store_true",
                        help="only copy the figures of the last report into bench/README.md")
    return parser


def _selected(items: list[Any], patterns: Sequence[str]) -> list[Any]:
    return [i for i in items if not patterns or any(fnmatch.fnmatch(i.name, p) for p in patterns)]


def _commit() -> str:
    proc = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() or "unknown"


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    from ansible.release import __version__ as ansible_core

    return {"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(), "latency_ms": args.latency_ms, "time_scale": args.time_scale,
            "ansible_core": ansible_core, "python": platform.python_version(), "cpus": _cpus(),
            "memory_measured_with": "GNU time %M around each module process (bench/runner.py)"}


def _cpus() -> Optional[int]:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _progress(kind: str, result: dict[str, Any], started: float) -> None:
    took = time.monotonic() - started
    if result["status"] == "ran":
        figure = result.get("wall_s")
        if figure is None:
            figure = result["ours"]["task_s"]
        print("  {0:<46} {1:>7.2f} s   ({2:.0f} s)".format(result["name"], figure, took), flush=True)
    else:
        print("  {0:<46} {1}: {2}".format(result["name"], result["status"], result.get("reason", ""))[:400],
              flush=True)


def run_scenarios(azure: Any, args: argparse.Namespace, settings: execute.Settings) -> list[dict[str, Any]]:
    """Every selected scenario on our collection."""
    sizes = scenarios.SCALE_SIZES if args.full else scenarios.DEFAULT_SCALE_SIZES
    if args.scale_sizes:
        sizes = tuple(int(s) for s in args.scale_sizes.split(",") if s.strip())
    candidates = [s for s in scenarios.SCENARIOS if args.full or not s.full_only]
    items = _selected(candidates + scenarios.scale_scenarios(sizes=sizes), args.only)
    side = ours(sys.executable)
    out = []
    print("scenarios ({0}):".format(len(items)), flush=True)
    for scenario in items:
        started = time.monotonic()
        for result in execute.run_scenario(azure, side, scenario, settings):
            out.append(result)
            _progress("scenario", result, started)
    return out


def run_peer(azure: Any, args: argparse.Namespace, settings: execute.Settings) -> dict[str, Any]:
    """The side-by-side tasks, or why they could not run."""
    if args.no_peer:
        return {"status": "not measured", "reason": "skipped with --no-peer"}
    side, reason = peer.peer_side()
    if side is None:
        return {"status": "not measured", "reason": reason}
    mine = ours(sys.executable)
    tasks = []
    print("side by side with azure.azcollection:", flush=True)
    for task in _selected(scenarios.PEER_TASKS, args.only):
        started = time.monotonic()
        tasks.append(execute.run_peer_task(azure, mine, side, task, settings))
        _progress("peer", tasks[-1], started)
    return {"status": "ran", "tasks": tasks, **peer.versions()}


def merge_results(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`old` with every entry of the same name replaced by the one in `new` (new names appended), order kept."""
    fresh = {item["name"]: item for item in new}
    out = [fresh.pop(item["name"], item) for item in old]
    return out + [item for item in new if item["name"] in fresh]


def refresh_unavailable(results: list[dict[str, Any]], known: list[Any]) -> list[dict[str, Any]]:
    """Kept entries of a merged report that were unavailable then: say why now, or that they were not re-run."""
    by_name: dict[str, Any] = {}
    for item in known:
        by_name[item.name] = item
        if getattr(item, "rerun", False):
            by_name[item.rerun_name] = item
    out = []
    for result in results:
        item = by_name.get(result["name"])
        if result["status"] == "unavailable" and item is not None:
            reason = item.missing()
            result = dict(result, status="unavailable" if reason else "not run",
                          reason=reason or "available now, not measured in this run (merged report)")
        out.append(result)
    return out


def _previous(out: Path) -> dict[str, Any]:
    path = out / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run, report, print the budgets. Exit 0 unless the bench itself could not run (budgets never fail it)."""
    args = _parser().parse_args(argv)
    if args.update_readme:
        # The budgets are derived from the figures: evaluate them again with this checkout's rules.
        last = _previous(args.out)
        if last.get("scenarios") is not None:
            last["budgets"] = budgets.evaluate(last)
            report.write(last, args.out)
        done = report.update_readme(last, REPO_ROOT / "bench" / "README.md")
        print("bench/README.md updated" if done else "bench/README.md has no figure markers")
        return 0 if done else 1
    settings = execute.Settings(latency_ms=args.latency_ms, time_scale=args.time_scale, runs=args.runs)
    previous = _previous(args.out) if (args.peer_only or args.merge) else {}
    data: dict[str, Any] = dict(previous, meta=_meta(args))
    server = LocalAzureProcess(sys.executable, settings.workdir)
    azure = server.start()
    try:
        if not args.peer_only:
            merged = merge_results(previous.get("scenarios", []), run_scenarios(azure, args, settings))
            data["scenarios"] = refresh_unavailable(merged, scenarios.SCENARIOS + scenarios.scale_scenarios())
        peer_result = run_peer(azure, args, settings)
        if args.merge and peer_result.get("status") == "ran" and (previous.get("peer") or {}).get("status") == "ran":
            peer_result["tasks"] = refresh_unavailable(merge_results(previous["peer"]["tasks"], peer_result["tasks"]),
                                                       scenarios.PEER_TASKS)
        if not (args.merge and args.no_peer):
            data["peer"] = peer_result
    finally:
        server.stop()
    data["budgets"] = budgets.evaluate(data)
    paths = report.write(data, args.out)
    print("\nbudgets:")
    for item in data["budgets"]:
        line = "  [{0:^12}] {1}: {2} (target: {3})"
        print(line.format(item["status"], item["name"], item["measured"], item["target"]))
    print("\nreport: {0}, {1}".format(paths["md"], paths["json"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
