"""bench.execute: repetitions, the measured re-run, failures and summaries (playbook runs faked, figures real)."""

from __future__ import annotations

import pytest

from bench import execute
from bench.runner import RunRecord, Side
from bench.scenarios import Scenario


def _record(wall, writes=0, rc=0, failed=None):
    requests = [{"method": "GET", "path": "/subscriptions/s/x", "write": False, "time": 1.0, "azure_time": 1.0,
                 "status": 200}]
    requests += [{"method": "PUT", "path": "/subscriptions/s/x", "write": True, "time": 1.0, "azure_time": 1.0,
                  "status": 200}] * writes
    task = {"name": "BENCH m", "action": "ns.c.m", "start": 0.0, "end": wall, "wall_s": wall, "hosts_ran": 1,
            "changed": ["inst001"] if writes else [], "failed": failed or {}}
    return RunRecord(rc=rc, wall_s=wall, tasks=[task], requests=requests,
                     rss=[{"module": "m", "rss_mib": 50.0 + wall, "elapsed_s": wall}], operations={},
                     azure_start=0.0, time_scale=0.05)


SIDE = Side("test-side", "/nonexistent/ansible-playbook", "/nonexistent/python")  # never executed: runs are faked


@pytest.fixture
def fake_runs(monkeypatch, tmp_path):
    planned = []
    monkeypatch.setattr(execute, "seed", lambda *args: None)
    monkeypatch.setattr(execute, "run_playbook", lambda *args, **kwargs: planned.pop(0))
    monkeypatch.setattr(Scenario, "missing", lambda self, root=None: None)
    return planned, execute.Settings(workdir=tmp_path)


def test_converge_and_rerun_are_summarised_separately(fake_runs):
    planned, settings = fake_runs
    planned += [_record(3.0, writes=1), _record(1.0), _record(5.0, writes=1), _record(2.0), _record(4.0, writes=1),
                _record(1.5)]
    scenario = Scenario("m.converge", "m", "p.yml", repetitions=3, rerun=True, managed_objects_per_instance=1)
    converge, noop = execute.run_scenario(None, SIDE, scenario, settings)
    assert converge["name"] == "m.converge" and noop["name"] == "m.noop" and noop["kind"] == "noop"
    assert converge["wall_s"] == 4.0 and converge["wall_runs_s"] == [3.0, 5.0, 4.0]
    assert noop["wall_s"] == 1.5
    assert converge["requests"]["writes"] == 1 and noop["requests"]["writes"] == 0
    assert converge["changed"] == 1 and noop["changed"] == 0
    assert converge["peak_rss_mib"] == {"m": 55.0}
    assert planned == []


def test_a_failed_rerun_fails_both_with_the_task_message(fake_runs):
    planned, settings = fake_runs
    planned += [_record(3.0, writes=1), _record(1.0, rc=2, failed={"inst001": "quota exceeded"})]
    scenario = Scenario("m.converge", "m", "p.yml", repetitions=2, rerun=True)
    results = execute.run_scenario(None, SIDE, scenario, settings)
    assert [r["status"] for r in results] == ["failed", "failed"]
    assert "re-run run: BENCH m on inst001: quota exceeded" in results[1]["reason"]


def test_ratios_are_ours_over_peer():
    ours = {"task_s": 1.0, "requests": {"arm": 2}, "rss_mib": 50.0}
    peer = {"task_s": 4.0, "requests": {"arm": 0}, "rss_mib": 200.0}
    assert execute.ratios(ours, peer) == {"wall": 0.25, "requests": None, "rss": 0.25}


class _FakeArm:
    def __init__(self, status):
        self.status, self.calls = status, []

    def request(self, method, path, api_version, body):
        self.calls.append((method, path, api_version))
        return type("Resp", (), {"status_code": self.status, "text": "nope"})()


class _FakeAzure:
    subscription_id = "sub-1"

    def __init__(self, status=201):
        self.client = _FakeArm(status)
        self.admin = type("Admin", (), {"reset": lambda s: None, "clear_faults": lambda s: None,
                                        "config": lambda s, **kw: kw, "seed": lambda s, w: {}})()

    def arm(self):
        return self.client


def test_seed_runs_arm_setup_calls_with_the_subscription_filled_in(tmp_path):
    azure = _FakeAzure()
    setup = (("PUT", "/subscriptions/{subscription_id}/x/apis/echo", "2022-08-01", {}),)
    execute.seed(azure, ("fleet", {"instances": 1}), execute.Settings(workdir=tmp_path), setup)
    assert azure.client.calls == [("PUT", "/subscriptions/sub-1/x/apis/echo", "2022-08-01")]
    with pytest.raises(execute.PrepareFailed, match="setup PUT .* failed: 409 nope"):
        execute.seed(_FakeAzure(409), ("fleet", {"instances": 1}), execute.Settings(workdir=tmp_path), setup)


def test_measured_task_counts_the_peer_lookup_task_too():
    lookup = {"name": "Read the service (lookup)", "action": "azure.azcollection.azure_rm_resource_info",
              "start": 10.0, "end": 12.0, "wall_s": 2.0, "hosts_ran": 1, "changed": [], "failed": {}}
    action = {"name": "BENCH azure_rm_keyvault", "action": "azure.azcollection.azure_rm_keyvault",
              "start": 12.1, "end": 15.0, "wall_s": 2.9, "hosts_ran": 1, "changed": ["h"], "failed": {}}
    requests = [{"method": "GET", "path": "/subscriptions/s/x", "write": False, "time": t, "status": 200}
                for t in (9.0, 11.0, 13.0)]
    rss = [{"module": "azure_rm_resource_info", "rss_mib": 150.0, "cpu_s": 3.0},
           {"module": "azure_rm_keyvault", "rss_mib": 177.0, "cpu_s": 3.5}]
    record = RunRecord(rc=0, wall_s=20.0, tasks=[lookup, action], requests=requests, rss=rss, operations={},
                       azure_start=0.0, time_scale=0.05)
    measured = execute.measured_task(record)
    assert measured["module"] == "azure_rm_keyvault" and measured["tasks"] == 2
    assert measured["task_s"] == pytest.approx(5.0)
    assert measured["requests"]["arm"] == 2
    assert measured["rss_mib"] == 177.0 and measured["cpu_s"] == pytest.approx(6.5)
