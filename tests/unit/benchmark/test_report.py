"""bench.report: markdown tables name every scenario (ran or not, and why) and the plot is a real PNG."""

from __future__ import annotations

import json

import pytest

from bench import budgets, report


def _ran(name, instances, wall, arm, kind="converge", group="scale"):
    return {"name": name, "title": name, "status": "ran", "group": group, "kind": kind, "instances": instances,
            "runs": 3, "wall_s": wall, "changed": instances, "managed_objects": instances, "task_runs": instances,
            "requests": {"arm": arm, "reads": arm - 1, "writes": 1, "auth": 2, "by_method": {"GET": arm - 1, "PUT": 1}},
            "peak_rss_mib": {"user_assigned_identity": 53.2}, "lro_lags_s": [],
            "module_cpu_s": {"user_assigned_identity": 0.8}}


def _report():
    data = {
        "meta": {"started": "now", "commit": "abc", "latency_ms": 30.0, "time_scale": 0.05, "ansible_core": "2.19",
                 "python": "3.11"},
        "scenarios": [_ran("scale.1.converge", 1, 3.0, 4), _ran("scale.10.converge", 10, 7.0, 40),
                      _ran("scale.1.noop", 1, 2.5, 1, kind="noop"),
                      {"name": "site.noop", "title": "site", "status": "unavailable", "group": "site", "kind": "noop",
                       "reason": "not available yet: playbook playbooks/site.yml not written"}],
        "peer": {"status": "not measured", "reason": "peer virtualenv .venv-peer is missing: run `make bench-peer`"},
    }
    data["budgets"] = budgets.evaluate(data)
    return data


def test_markdown_lists_budgets_scenarios_and_what_did_not_run():
    text = report.markdown(_report())
    assert "| site no-op: requests | 0 writes; reads <= managed objects + tasks | **not measured** |" in text
    assert "| `scale.10.converge` | 3 | 7.00 s | 40 | GET 39 PUT 1 | 1 | 2 | 10 | 53 MiB | 0.80 s |" in text
    assert "`site.noop` (site): **unavailable** — not available yet: playbook playbooks/site.yml not written" in text
    assert "run `make bench-peer`" in text


def test_scale_series_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    data = _report()
    assert report.scale_series(data) == {"converge": [(1, 3.0, 4), (10, 7.0, 40)], "noop": [(1, 2.5, 1)]}
    paths = report.write(data, tmp_path)
    assert (tmp_path / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(paths["json"].read_text())["plot"] == "scale.png"
    assert "![time and requests vs instances](scale.png)" in paths["md"].read_text()


def _side(req, secs):
    return {"requests": {"arm": req}, "task_s": secs, "rss_mib": 50.0}


def _peer_task(name, ours_req, peer_req, ours_s, peer_s):
    side = _side
    return {"name": name, "status": "ran", "ours": side(ours_req, ours_s), "peer": side(peer_req, peer_s),
            "ratios": {"wall": ours_s / peer_s, "requests": ours_req / peer_req, "rss": 0.3}}


def test_peer_plot_is_a_png_named_in_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    data = _report()
    data["peer"] = {"status": "ran", "tasks": [_peer_task("role assignment", 3, 3, 1.7, 7.1),
                                               _peer_task("Key Vault info", 1, 1, 1.4, 3.1),
                                               {"name": "skipped", "status": "failed", "reason": "x"}]}
    assert report.peer_series(data) == [("role assignment", 3, 3, 1.7, 7.1), ("Key Vault info", 1, 1, 1.4, 3.1)]
    paths = report.write(data, tmp_path)
    assert (tmp_path / "peer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](peer.png)" in paths["md"].read_text()


def test_no_peer_plot_without_side_by_side(tmp_path):
    assert report.peer_plot(_report(), tmp_path / "peer.png") is None
    assert not (tmp_path / "peer.png").exists()


def test_no_plot_without_scale_results(tmp_path):
    data = _report()
    data["scenarios"] = [s for s in data["scenarios"] if s["group"] != "scale"]
    assert report.plot(data, tmp_path / "scale.png") is None
    assert not (tmp_path / "scale.png").exists()


def test_update_readme_replaces_only_the_marked_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n" + report.FIGURES_START + "\nold figures\n" + report.FIGURES_END + "\noutro\n")
    assert report.update_readme(_report(), readme) is True
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith(report.FIGURES_END + "\noutro\n")
    assert "old figures" not in text and "| `scale.10.converge` | 3 | 7.00 s |" in text
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n")
    assert report.update_readme(_report(), plain) is False and plain.read_text() == "no markers\n"


def test_comparison_rows_give_new_over_old_for_scenarios_in_both_reports():
    old, new = _report(), _report()
    new["meta"]["commit"] = "def"
    new["scenarios"][0] = dict(new["scenarios"][0], wall_s=1.5, requests=dict(new["scenarios"][0]["requests"], auth=1),
                               cpu={"total_s": 2.0})
    rows = report.comparison_rows(old, new)
    assert rows[0] == "| scenario | figure | old (abc) | new (def) | new/old |"
    assert "| `scale.1.converge` | wall (median) | 3.00 s | 1.50 s | 0.50 |" in rows
    assert "| `scale.1.converge` | module processes | 1 | 0 | 0.50 |" in rows
    assert "| `scale.1.converge` | CPU (playbook, all processes) | – | 2.00 s | – |" in rows
    assert not [r for r in rows if "site.noop" in r]  # did not run in either
