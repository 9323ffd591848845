"""The local Azure's server: TLS with its own CA, the command line, ARM path rules, api-versions, LRO endpoints."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import requests

from emulator import arm

REPO = Path(__file__).resolve().parents[2]


def test_tls_is_verified_with_the_emulator_ca_only(local_azure):
    ok = requests.get(f"{local_azure.base_url}/_admin/config", verify=local_azure.ca_bundle, timeout=10)
    assert ok.status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{local_azure.base_url}/_admin/config", verify=True, timeout=10)


def test_cli_prints_connection_line_and_stops_on_sigterm(tmp_path):
    state_file = tmp_path / "state.json"
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests")}
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "serve", "--world", str(REPO / "tests/emulator/worlds/empty.yaml"),
                             "--state-file", str(state_file), "--state-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["base_url"].startswith("https://127.0.0.1:")
        assert json.loads(state_file.read_text()) == info
        ctx = ssl.create_default_context(cafile=info["ca_bundle"])
        with urllib.request.urlopen(f"{info['base_url']}/_admin/state", context=ctx, timeout=10) as resp:
            state = json.load(resp)
        assert any(key.endswith("/resourcegroups/rg-empty") for key in state["resources"])
        assert state["subscription_id"] == info["subscription_id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    assert not state_file.exists()


@pytest.mark.parametrize("path, expected", [
    ("/subscriptions/S/resourcegroups/RG/providers/microsoft.network/virtualnetworks/Vnet/SUBNETS/Sub",
     "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/Vnet/subnets/Sub"),
    # a resource named like a keyword keeps its spelling
    ("/subscriptions/S/resourceGroups/Service/providers/Microsoft.ApiManagement/service/VAULTS",
     "/subscriptions/S/resourceGroups/Service/providers/Microsoft.ApiManagement/service/VAULTS"),
    ("/X/providers/MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/abc",
     "/X/providers/Microsoft.Authorization/roleAssignments/abc"),
])
def test_canonical_path_keeps_names_and_fixes_keywords(path, expected):
    assert arm.canonical_path(path) == expected


def test_arm_paths_are_case_insensitive(local_azure, world):
    world("empty")
    client = local_azure.arm()
    resp = client.get(f"/SUBSCRIPTIONS/{local_azure.subscription_id}/RESOURCEGROUPS/rg-empty", "2021-04-01")
    assert resp.status_code == 200
    assert resp.json()["name"] == "rg-empty"


def test_unknown_api_version_is_rejected_like_arm(local_azure, world):
    world("empty")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-empty")
    bad_rg = client.get(rg, "2000-01-01")
    assert bad_rg.status_code == 400
    assert bad_rg.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert "2021-04-01" in bad_rg.json()["error"]["message"]
    bad_msi = client.get(f"{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x", "2000-01-01")
    assert bad_msi.status_code == 400
    error = bad_msi.json()["error"]
    assert error["code"] == "NoRegisteredProviderFound"
    assert "'userAssignedIdentities'" in error["message"] and "2023-01-31" in error["message"]
    missing = client.get(rg)
    assert missing.json()["error"]["code"] == "MissingApiVersionParameter"


def test_unrouted_path_gets_arm_error_envelope(local_azure):
    resp = local_azure.arm().get(f"/subscriptions/{local_azure.subscription_id}/providers/Microsoft.Nope/things/x",
                                 "2024-01-01")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "NotFound"
    assert resp.headers["x-ms-request-id"]


def test_resource_group_delete_is_a_long_running_operation(local_azure, world):
    world("demo")
    client = local_azure.arm()
    rg = local_azure.rg_id("rg-apim-demo")
    resp = client.delete(rg, "2021-04-01")
    assert resp.status_code == 202
    location = resp.headers["Location"]
    assert "operationResults" in location and int(resp.headers["Retry-After"]) >= 1
    assert client.get(location).status_code == 202  # still running
    assert client.get(rg, "2021-04-01").status_code == 200
    local_azure.admin.advance(5)
    assert client.get(location).status_code == 204
    assert client.get(rg, "2021-04-01").status_code == 404
    state = local_azure.admin.state()
    assert not [k for k in state["resources"] if k.startswith(rg.lower())]
    # the group's user-assigned identity left Entra with it
    assert "id-apim-demo" not in {p["display_name"] for p in state["principals"].values()}


def test_head_resource_group(local_azure, world):
    world("empty")
    client = local_azure.arm()
    assert client.request("HEAD", local_azure.rg_id("rg-empty"), "2021-04-01").status_code == 204
    assert client.request("HEAD", local_azure.rg_id("rg-nope"), "2021-04-01").status_code == 404


def test_other_subscription_is_not_found(local_azure):
    resp = local_azure.arm().get("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x", "2021-04-01")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "SubscriptionNotFound"


def test_integration_harness_runs_a_playbook_like_awx(local_azure, world, tmp_path):
    from integration.harness import run_playbook

    world("demo")
    local_azure.admin.clear_requests()
    run = run_playbook(local_azure, "uri_smoke", tmp_path)
    assert run.rc == 0, run.explain()
    assert run.task("List the resource groups")["json"]["value"][0]["name"] == "rg-apim-demo"
    token_task = run.task("Get a token with the client credentials")
    assert "json" not in token_task  # no_log censors the result
    assert run.changed_tasks() == []  # uri reports ok, not changed
    assert run.stats["localhost"]["failures"] == 0
    assert run.state["resources"][local_azure.rg_id("rg-apim-demo").lower()]["tags"] == {"sandbox": "true"}
    assert [(e["method"], e["status"]) for e in run.requests.writes()] == [("PATCH", 200)]
    assert local_azure.client_secret not in run.stdout + run.stderr + str(run.result) + str(run.requests)


def test_integration_harness_check_mode_sends_no_writes(local_azure, world, tmp_path):
    from integration.harness import run_playbook

    world("demo")
    run = run_playbook(local_azure, "uri_smoke", tmp_path, check=True, diff=True)
    assert run.rc == 0, run.explain()
    assert "--check" in run.command and "--diff" in run.command
    assert run.task("Tag the resource group (a write the harness can see)")["_status"] == "skipped"
    assert run.requests.writes() == []
    assert run.state["resources"][local_azure.rg_id("rg-apim-demo").lower()]["tags"] == {"environment": "demo"}


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_world_clock_scales_and_never_jumps_back(scale):
    from emulator.world import World

    w = World()
    w.set_config({"time_scale": scale})
    first = w.now()
    w.set_config({"time_scale": 1.0 if scale != 1.0 else 0.5})
    assert w.now() >= first
    op = w.start_operation("/subscriptions/s/resourceGroups/rg", 10.0)
    assert op.status == "InProgress"
    w.set_config({"advance_s": 10.0})
    assert op.status == "Succeeded" and op.ended == op.due


def test_failed_operation_reports_its_error():
    from emulator.world import World

    w = World()
    op = w.start_operation("/x", 0.0, on_done=lambda world: {"code": "Boom", "message": "no"})
    assert op.status == "Failed" and op.to_status(w)["error"]["code"] == "Boom"


@pytest.mark.parametrize("data, expected", [
    ({"properties": {"value": "s3cret", "displayName": "n"}}, {"properties": {"value": "***", "displayName": "n"}}),
    ({"value": [{"name": "a"}]}, {"value": [{"name": "a"}]}),  # ARM list envelopes are walked, not masked
    ({"connectionString": "Endpoint=sb://x", "ClientSecret": "x"}, {"connectionString": "***", "ClientSecret": "***"}),
    ({"encodedCertificate": "", "certificatePassword": None}, {"encodedCertificate": "", "certificatePassword": None}),
    ({"networkAcls": {"ipRules": [{"value": "1.2.3.4/32"}]}}, {"networkAcls": {"ipRules": [{"value": "1.2.3.4/32"}]}}),
])
def test_mask_secrets(data, expected):
    from emulator.world import mask_secrets

    assert mask_secrets(data) == expected
