"""bench.metrics: request counting, task windows, GNU time lines and long-running operation notice lags."""

from __future__ import annotations

import pytest

from bench import metrics


def _req(method, path, t=0.0, azure_time=0.0, write=False, status=200):
    return {"method": method, "path": path, "time": t, "azure_time": azure_time, "write": write, "status": status}


def test_request_stats_separates_entra_traffic_and_counts_writes():
    entries = [
        _req("GET", "/tenant/v2.0/.well-known/openid-configuration"),
        _req("POST", "/tenant/oauth2/v2.0/token"),
        _req("GET", "/subscriptions/s/resourceGroups/rg"),
        _req("PUT", "/subscriptions/s/resourceGroups/rg/providers/X/y/z", write=True, status=201),
        _req("POST", "/subscriptions/s/resourceGroups/rg/providers/X/y/z/listSecrets"),
        _req("GET", "/subscriptions/s/resourceGroups/rg", status=429),
        _req("DELETE", "/subscriptions/s/resourceGroups/rg/providers/X/y/z", write=True, status=503),
    ]
    stats = metrics.request_stats(entries)
    assert stats["auth"] == 2
    assert stats["arm"] == 5
    assert stats["writes"] == 2 and stats["reads"] == 3
    assert stats["by_method"] == {"DELETE": 1, "GET": 2, "POST": 1, "PUT": 1}
    assert stats["throttled"] == 1 and stats["errors"] == 1


def test_in_window_is_inclusive():
    entries = [_req("GET", "/a", t=1.0), _req("GET", "/b", t=2.0), _req("GET", "/c", t=3.5)]
    assert [e["path"] for e in metrics.in_window(entries, 1.0, 2.0)] == ["/a", "/b"]


def test_task_windows_use_the_last_host_and_count_skips_apart():
    timing = {"tasks": [{"name": "t", "action": "ns.coll.mod", "start": 10.0, "hosts": {
        "h1": {"end": 11.0, "status": "ok", "changed": True},
        "h2": {"end": 12.5, "status": "failed", "changed": False, "msg": "boom"},
        "h3": {"end": 10.1, "status": "skipped", "changed": False}}}]}
    (task,) = metrics.task_windows(timing)
    assert task["wall_s"] == pytest.approx(2.5)
    assert task["hosts_ran"] == 2
    assert task["changed"] == ["h1"]
    assert task["failed"] == {"h2": "boom"}


def test_parse_rss_log_names_modules_and_ignores_other_lines():
    text = "\n".join([
        "BENCHRSS 54272 1.25 0.90 0.10 /venv/bin/python /tmp/ansible-tmp-1/AnsiballZ_user_assigned_identity.py",
        "Command exited with non-zero status 1",
        "BENCHRSS 176128 3.50 2.50 0.25 /peer/bin/python /tmp/x/AnsiballZ_azure_rm_keyvault_info.py",
        "BENCHRSS 9000 0.01 0.00 0.00 /bin/python -c pass",
        "BENCHRSS notanumber 1 0 0 x",
        "BENCHRSS 9000 0.01 /bin/python -c pass",
    ])
    samples = metrics.parse_rss_log(text)
    assert [s["module"] for s in samples] == ["user_assigned_identity", "azure_rm_keyvault_info", "other"]
    assert samples[0]["rss_mib"] == pytest.approx(53.0)
    assert samples[1]["cpu_s"] == pytest.approx(2.75)
    assert metrics.cpu_by_module(samples + [dict(samples[0], cpu_s=3.0), dict(samples[0], cpu_s=0.2)]) == {
        "azure_rm_keyvault_info": 2.75, "other": 0.0, "user_assigned_identity": 1.0}
    assert metrics.peak_rss_by_module(samples + [{"module": "other", "rss_mib": 1.0}])["other"] == pytest.approx(
        9000 / 1024)


def test_lro_notice_lag_is_the_first_poll_after_the_server_finished_in_wall_seconds():
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim1"
    operations = {
        "op-a": {"resource_id": rid, "status": "Succeeded", "due": 100.0},
        "op-old": {"resource_id": rid, "status": "Succeeded", "due": 10.0},
        "op-running": {"resource_id": rid, "status": "InProgress", "due": 500.0},
        "op-lost": {"resource_id": rid + "x", "status": "Failed", "due": 200.0},
    }
    entries = [
        _req("GET", rid + "/operationresults/op-a", azure_time=95.0),
        _req("GET", "/subscriptions/s/other", azure_time=101.0),
        _req("GET", rid + "/operationresults/op-a", azure_time=104.0),
        _req("GET", rid, azure_time=130.0),
    ]
    lags = {item["operation"]: item for item in metrics.lro_notice_lags(operations, entries, 50.0, 0.05)}
    assert set(lags) == {"op-a", "op-lost"}
    assert lags["op-a"]["lag_s"] == pytest.approx(0.2)
    assert lags["op-lost"]["lag_s"] is None


def test_lro_notice_counts_a_read_of_the_resource_as_noticing():
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim1"
    operations = {"op": {"resource_id": rid, "status": "Succeeded", "due": 10.0}}
    entries = [_req("PATCH", rid, azure_time=12.0, write=True), _req("GET", rid + "/", azure_time=30.0)]
    (lag,) = metrics.lro_notice_lags(operations, entries, 0.0, 1.0)
    assert lag["lag_s"] == pytest.approx(20.0)
    assert lag["observed_by"].startswith("GET ")


def test_median():
    assert metrics.median([3.0, 1.0, 2.0]) == 2.0
    assert metrics.median([]) is None
