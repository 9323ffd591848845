"""bench.budgets: each budget is met / not met / not measured from the report's figures."""

from __future__ import annotations

import pytest

from bench import budgets


def _scenario(name, wall=1.0, reads=5, writes=0, kind="converge", lags=(), status="ran", managed=4, task_runs=3):
    return {"name": name, "status": status, "kind": kind, "wall_s": wall, "managed_objects": managed,
            "task_runs": task_runs, "requests": {"reads": reads, "writes": writes}, "lro_lags_s": list(lags),
            "reason": "not available yet: module(s) x not on this branch"}


def _report(*scenarios, peer=None):
    return {"meta": {"latency_ms": 30.0}, "scenarios": list(scenarios), "peer": peer or {}}


def _by_name(report):
    return {b["name"]: b for b in budgets.evaluate(report)}


@pytest.mark.parametrize("reads,writes,status", [(7, 0, budgets.MET), (8, 0, budgets.NOT_MET),
                                                 (2, 1, budgets.NOT_MET)])
def test_site_noop_requests(reads, writes, status):
    result = budgets.site_noop_requests(_report(_scenario("site.noop", reads=reads, writes=writes, kind="noop")))
    assert result["status"] == status
    assert "limit 7" in result["measured"]


def test_unavailable_scenarios_are_not_measured_and_say_why():
    result = budgets.site_noop_requests(_report(_scenario("site.noop", status="unavailable")))
    assert result["status"] == budgets.NOT_MEASURED
    assert "not on this branch" in result["measured"]


def test_noop_writes_covers_every_noop_scenario():
    report = _report(_scenario("a.noop", kind="noop"), _scenario("b.noop", kind="noop", writes=2),
                     _scenario("c.converge", writes=9))
    result = budgets.module_noop_writes(report)
    assert result["status"] == budgets.NOT_MET
    assert "2 writes in total" in result["measured"]


@pytest.mark.parametrize("fifty,status", [(6.5, budgets.MET), (6.6, budgets.NOT_MET)])
def test_scale(fifty, status):
    report = _report(_scenario("scale.1.converge", wall=1.0), _scenario("scale.50.converge", wall=fifty),
                     _scenario("scale.1.noop", wall=1.0, kind="noop"), _scenario("scale.50.noop", wall=2.0, kind="noop"))
    assert budgets.scale(report)["status"] == status


def test_scale_not_measured_without_both_sizes():
    assert budgets.scale(_report(_scenario("scale.1.converge")))["status"] == budgets.NOT_MEASURED


def test_lro_notice_takes_the_worst_lag():
    report = _report(_scenario("x", lags=[0.1, 0.4]), _scenario("y", lags=[1.2]))
    result = budgets.lro_notice(report)
    assert result["status"] == budgets.NOT_MET and "1.20 s (y)" in result["measured"]
    assert budgets.lro_notice(_report(_scenario("x")))["status"] == budgets.NOT_MEASURED


def _peer_task(name, ours_s, peer_s, ours_rss=50.0, peer_rss=170.0):
    return {"name": name, "status": "ran", "ours": {"task_s": ours_s, "rss_mib": ours_rss},
            "peer": {"task_s": peer_s, "rss_mib": peer_rss},
            "ratios": {"wall": ours_s / peer_s, "rss": ours_rss / peer_rss, "requests": 1.0}}


def test_peer_wall_and_memory_ratios():
    peer = {"status": "ran", "tasks": [_peer_task("a", 1.0, 4.0), _peer_task("b", 1.0, 2.0, peer_rss=90.0)]}
    found = _by_name(_report(peer=peer))
    wall = found["per-task wall time vs azure.azcollection"]
    assert wall["status"] == budgets.NOT_MET and "(b)" in wall["measured"]
    memory = found["module peak memory vs azure.azcollection"]
    assert memory["status"] == budgets.NOT_MET and len(memory["details"]) == 2


def test_peer_not_measured_carries_the_reason():
    result = budgets.peer_wall(_report(peer={"status": "not measured", "reason": "run `make bench-peer`"}))
    assert result == {**result, "status": budgets.NOT_MEASURED, "measured": "run `make bench-peer`"}


def test_site_noop_wall():
    assert budgets.site_noop_wall(_report(_scenario("site.noop", wall=9.9, kind="noop")))["status"] == budgets.MET
    assert budgets.site_noop_wall(_report(_scenario("site.noop", wall=10.1, kind="noop")))["status"] == budgets.NOT_MET


def test_scale_details_show_the_cpu_floor():
    fifty = _scenario("scale.50.converge", wall=80.0, task_runs=100)
    fifty["cpu"] = {"total_s": 150.0, "modules_s": 90.0, "ansible_s": 60.0}
    report = _report(_scenario("scale.1.converge", wall=7.0), fifty)
    report["meta"]["cpus"] = 2
    result = budgets.scale(report)
    assert result["status"] == budgets.NOT_MET
    assert "CPU 150 s = modules 90 s + Ansible 60 s, on 2 CPUs >= 75.0 s wall" in result["measured"]


def test_site_budgets_fall_back_between_the_site_playbook_and_the_realistic_site():
    realistic = _scenario("realistic_site.noop", wall=12.0, reads=40, kind="noop", managed=22, task_runs=9)
    report = _report(_scenario("site.noop", status="unavailable"), realistic)
    requests = budgets.site_noop_requests(report)
    assert requests["status"] == budgets.NOT_MET
    assert requests["measured"].startswith("realistic_site.noop: 0 writes, 40 reads (limit 31")
    wall = budgets.site_noop_wall(report)
    assert wall["status"] == budgets.NOT_MET and wall["measured"].startswith("realistic_site.noop: 12.0 s")
    neither = budgets.site_noop_wall(_report(_scenario("site.noop", status="unavailable")))
    assert neither["status"] == budgets.NOT_MEASURED
    assert neither["measured"].startswith("scenario realistic_site.noop not in this run; site.noop: not available")


def test_site_requests_budget_needs_every_site_that_ran():
    good = _scenario("site.noop", reads=20, kind="noop", managed=21, task_runs=39)
    bad = _scenario("realistic_site.noop", reads=35, kind="noop", managed=22, task_runs=8)
    result = budgets.site_noop_requests(_report(good, bad))
    assert result["status"] == budgets.NOT_MET
    assert result["measured"] == ("site.noop: 0 writes, 20 reads (limit 60 = 21 objects + 39 tasks); "
                                  "realistic_site.noop: 0 writes, 35 reads (limit 30 = 22 objects + 8 tasks)")
    both_good = budgets.site_noop_requests(_report(good, dict(bad, requests={"reads": 25, "writes": 0})))
    assert both_good["status"] == budgets.MET
