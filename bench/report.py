"""The bench report: report.json (everything), report.md (tables), scale.png (time and requests vs instances) and
peer.png (requests and wall time per side-by-side task, ours vs azure.azcollection)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional


def _fmt(value: Optional[float], unit: str = "", digits: int = 2) -> str:
    return "–" if value is None else "{0:.{1}f}{2}".format(value, digits, unit)


def _methods(requests: dict[str, Any]) -> str:
    return " ".join("{0} {1}".format(m, n) for m, n in requests.get("by_method", {}).items()) or "none"


def scenario_rows(report: dict[str, Any]) -> list[str]:
    """Markdown table of every scenario that ran, then the ones that did not."""
    rows = ["| scenario | runs | wall (median) | ARM requests | by method | writes | token | changed | peak RSS "
            "| module CPU |", "|---|---|---|---|---|---|---|---|---|---|"]
    skipped = []
    for s in report.get("scenarios", []):
        if s["status"] != "ran":
            skipped.append("- `{0}` ({1}): **{2}** — {3}".format(s["name"], s["title"], s["status"], s.get("reason")))
            continue
        req = s["requests"]
        rss = max(s["peak_rss_mib"].values()) if s["peak_rss_mib"] else None
        cpu = max(s.get("module_cpu_s", {}).values(), default=None)
        rows.append("| `{0}` | {1} | {2} | {3} | {4} | {5} | {6} | {7} | {8} | {9} |".format(
            s["name"], s["runs"], _fmt(s["wall_s"], " s"), req["arm"], _methods(req), req["writes"], req["auth"],
            s["changed"], _fmt(rss, " MiB", 0), _fmt(cpu, " s")))
    if skipped:
        rows += ["", "Not run:", ""] + skipped
    return rows


def peer_rows(report: dict[str, Any]) -> list[str]:
    """Markdown table of the side-by-side tasks with their ratios."""
    peer = report.get("peer") or {}
    if peer.get("status") != "ran":
        return ["Side by side with azure.azcollection: **{0}** — {1}".format(
            peer.get("status", "not measured"), peer.get("reason", "run `make bench-peer`"))]
    title = "azure.azcollection {0} (ansible {1}) vs azure_apim.identity; ratio = ours / peer.".format(
        peer.get("peer_version", "?"), peer.get("ansible_version", "?"))
    rows = [title, "",
            "| task | ours wall | peer wall | wall ratio | ours req | peer req | req ratio | ours RSS | peer RSS | RSS ratio "
            "| ours CPU | peer CPU |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for t in peer.get("tasks", []):
        if t["status"] != "ran":
            notes.append("- {0}: **{1}** — {2}".format(t["name"], t["status"], t.get("reason")))
            continue
        o, p, r = t["ours"], t["peer"], t["ratios"]
        rows.append("| {0} | {1} | {2} | {3} | {4} | {5} | {6} | {7} | {8} | {9} | {10} | {11} |".format(
            t["name"], _fmt(o["task_s"], " s"), _fmt(p["task_s"], " s"), _fmt(r["wall"]), o["requests"]["arm"],
            p["requests"]["arm"], _fmt(r["requests"]), _fmt(o["rss_mib"], " MiB", 0), _fmt(p["rss_mib"], " MiB", 0),
            _fmt(r["rss"]), _fmt(o.get("cpu_s"), " s"), _fmt(p.get("cpu_s"), " s")))
    return rows + ([""] + notes if notes else [])


def budget_rows(budgets: list[dict[str, Any]]) -> list[str]:
    """Markdown table of budgets."""
    rows = ["| budget | target | status | measured |", "|---|---|---|---|"]
    for b in budgets:
        rows.append("| {0} | {1} | **{2}** | {3} |".format(b["name"], b["target"], b["status"], b["measured"]))
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The whole markdown report."""
    meta = report["meta"]
    lines = ["# Benchmark report", "",
             "{0} · commit {1} · latency {2:.0f} ms/request · time scale {3} · ansible-core {4} · python {5}".format(
                 meta["started"], meta["commit"], meta["latency_ms"], meta["time_scale"], meta["ansible_core"],
                 meta["python"]), "", "## Budgets", ""]
    lines += budget_rows(report.get("budgets", [])) + [""]
    for b in report.get("budgets", []):
        for detail in b["details"]:
            lines.append("- {0}: {1}".format(b["name"], detail))
    lines += ["", "## Scenarios", ""] + scenario_rows(report)
    lines += ["", "## Side by side", ""] + peer_rows(report)
    if report.get("peer_plot"):
        lines += ["", "![requests and wall time per task, ours vs peer]({0})".format(report["peer_plot"])]
    if report.get("plot"):
        lines += ["", "## Scale", "", "![time and requests vs instances]({0})".format(report["plot"])]
    return "\n".join(lines) + "\n"


FIGURES_START = "<!-- figures:start (python -m bench --update-readme) -->"
FIGURES_END = "<!-- figures:end -->"


def figures(report: dict[str, Any]) -> str:
    """The README's "latest figures": run line, budgets, side by side, scenarios (no per-budget details)."""
    meta = report["meta"]
    lines = ["Run {0}, commit {1}, {2} CPUs, {3:.0f} ms latency per request, time scale {4}.".format(
        meta["started"], meta["commit"], meta.get("cpus", "?"), meta["latency_ms"], meta["time_scale"]), ""]
    lines += budget_rows(report.get("budgets", [])) + ["", "Side by side:", ""] + peer_rows(report)
    lines += ["", "Scenarios:", ""] + scenario_rows(report)
    return "\n".join(lines)


def update_readme(report: dict[str, Any], readme: Path) -> bool:
    """Replace the text between the figure markers of `readme`; False when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    if FIGURES_START not in text or FIGURES_END not in text:
        return False
    head, rest = text.split(FIGURES_START, 1)
    tail = rest.split(FIGURES_END, 1)[1]
    readme.write_text(head + FIGURES_START + "\n" + figures(report) + "\n" + FIGURES_END + tail, encoding="utf-8")
    return True


def scale_series(report: dict[str, Any]) -> dict[str, list[tuple[int, float, int]]]:
    """kind → [(instances, median wall s, ARM requests)] for the scale scenarios that ran."""
    series: dict[str, list[tuple[int, float, int]]] = {}
    for s in report.get("scenarios", []):
        if s.get("group") == "scale" and s["status"] == "ran":
            series.setdefault(s["kind"], []).append((s["instances"], s["wall_s"], s["requests"]["arm"]))
    return {k: sorted(v) for k, v in series.items()}


def plot(report: dict[str, Any], path: Path) -> Optional[str]:
    """time and requests vs number of instances; returns the file name, or None when no scale scenario ran."""
    series = scale_series(report)
    if not series:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    fig, (ax_time, ax_req) = pyplot.subplots(1, 2, figsize=(10, 4))
    for kind, points in series.items():
        xs = [p[0] for p in points]
        ax_time.plot(xs, [p[1] for p in points], marker="o", label=kind)
        ax_req.plot(xs, [p[2] for p in points], marker="o", label=kind)
    one = dict((p[0], p[1]) for p in series.get("converge", [])).get(1)
    if one:
        xs = sorted({p[0] for points in series.values() for p in points})
        ax_time.plot(xs, [one * max(1.0, 1.3 * x / 10) for x in xs], linestyle="--", color="grey",
                     label="budget (1.3 x n/10 x T(1))")
    ax_time.set(xlabel="APIM instances (forks 10)", ylabel="wall time, median (s)", title="Wall time")
    ax_req.set(xlabel="APIM instances (forks 10)", ylabel="ARM requests", title="ARM requests")
    for axis in (ax_time, ax_req):
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.suptitle("azure_apim.identity at {0:.0f} ms latency per request".format(report["meta"]["latency_ms"]))
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    pyplot.close(fig)
    return path.name


def peer_series(report: dict[str, Any]) -> list[tuple[str, int, int, float, float]]:
    """[(task, ours ARM requests, peer ARM requests, ours wall s, peer wall s)] for the side-by-side tasks that ran."""
    peer = report.get("peer") or {}
    if peer.get("status") != "ran":
        return []
    return [(t["name"], t["ours"]["requests"]["arm"], t["peer"]["requests"]["arm"], t["ours"]["task_s"],
             t["peer"]["task_s"]) for t in peer.get("tasks", []) if t["status"] == "ran"]


def peer_plot(report: dict[str, Any], path: Path) -> Optional[str]:
    """Requests and wall time per side-by-side task, ours vs peer, as grouped bars; None when nothing ran."""
    rows = peer_series(report)
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = [r[0] for r in rows]
    ys = list(range(len(rows)))
    fig, (ax_req, ax_time) = pyplot.subplots(1, 2, figsize=(12, 1.2 + 0.45 * len(rows)), sharey=True)
    for axis, (ours, theirs), title in ((ax_req, (1, 2), "ARM requests"), (ax_time, (3, 4), "wall time per task (s)")):
        axis.barh([y - 0.2 for y in ys], [r[ours] or 0 for r in rows], height=0.4, label="azure_apim.identity")
        axis.barh([y + 0.2 for y in ys], [r[theirs] or 0 for r in rows], height=0.4, label="azure.azcollection")
        axis.set(title=title)
        axis.grid(True, axis="x", alpha=0.3)
    ax_req.set_yticks(ys)
    ax_req.set_yticklabels(names)
    ax_req.invert_yaxis()
    fig.suptitle("Side by side at {0:.0f} ms latency per request".format(report["meta"]["latency_ms"]), x=0.3)
    fig.legend(*ax_req.get_legend_handles_labels(), loc="upper right", ncol=2)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(str(path), dpi=100)
    pyplot.close(fig)
    return path.name


def write(report: dict[str, Any], outdir: Path) -> dict[str, Path]:
    """Write report.json, report.md, scale.png and peer.png into `outdir`."""
    outdir.mkdir(parents=True, exist_ok=True)
    report["plot"] = plot(report, outdir / "scale.png")
    report["peer_plot"] = peer_plot(report, outdir / "peer.png")
    paths = {"json": outdir / "report.json", "md": outdir / "report.md"}
    paths["json"].write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    paths["md"].write_text(markdown(report), encoding="utf-8")
    return paths


# --- old vs new: two reports of the same scenarios (python -m bench.report OLD/report.json NEW/report.json) --------

COMPARED = (("wall (median)", "wall_s", " s"), ("CPU (playbook, all processes)", "cpu_total_s", " s"),
            ("module processes", "module_processes", ""), ("task runs", "task_runs", ""),
            ("ARM requests", "arm", ""), ("ARM reads", "reads", ""), ("ARM writes", "writes", ""),
            ("Entra ID requests", "auth", ""))


def comparable(scenario: dict[str, Any]) -> dict[str, Optional[float]]:
    """The figures of one scenario that two runs are compared on. Every module process that calls Azure signs in
    with two Entra ID requests (OpenID configuration, token), so module processes = Entra ID requests / 2."""
    req = scenario.get("requests") or {}
    return {"wall_s": scenario.get("wall_s"), "cpu_total_s": (scenario.get("cpu") or {}).get("total_s"),
            "module_processes": req["auth"] / 2 if req.get("auth") is not None else None,
            "task_runs": scenario.get("task_runs"), "arm": req.get("arm"), "reads": req.get("reads"),
            "writes": req.get("writes"), "auth": req.get("auth")}


def comparison_rows(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Markdown: for every scenario that ran in both reports, old, new and new/old per figure."""
    before = {s["name"]: s for s in old.get("scenarios", []) if s.get("status") == "ran"}
    rows = ["| scenario | figure | old ({0}) | new ({1}) | new/old |".format(
        old.get("meta", {}).get("commit", "?"), new.get("meta", {}).get("commit", "?")), "|---|---|---|---|---|"]
    for scenario in new.get("scenarios", []):
        if scenario.get("status") != "ran" or scenario["name"] not in before:
            continue
        was, now = comparable(before[scenario["name"]]), comparable(scenario)
        for label, key, unit in COMPARED:
            ratio = now[key] / was[key] if was[key] and now[key] is not None else None
            rows.append("| `{0}` | {1} | {2} | {3} | {4} |".format(
                scenario["name"], label, _fmt(was[key], unit, 2 if unit else 0), _fmt(now[key], unit, 2 if unit else 0),
                _fmt(ratio)))
    return rows


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m bench.report OLD/report.json NEW/report.json")
    print("\n".join(comparison_rows(*(json.loads(Path(p).read_text(encoding="utf-8")) for p in sys.argv[1:]))))
