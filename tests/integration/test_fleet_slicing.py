"""A sliced AWX job over the fleet: the inventory (synced once through the apim_services plugin, as an AWX inventory
source is) is split into slices the way AWX job slicing splits it (host i goes to slice i mod N), and each slice runs
as its own ansible-runner job, concurrently, with only the AWX Azure credential's variables. The fleet converges
(playbooks/site_fleet.yml with the group_vars of docs/examples/fleet), no service is written by two slices, and a
second sliced run writes nothing."""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration.fleet_support import ansible_inventory, fleet_world, inventory_json, service_name, write_source
from integration.harness import COLLECTIONS_DIR, REPO_ROOT

pytestmark = pytest.mark.integration

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner is in requirements-dev.txt")

SLICES = 2
EXAMPLE = REPO_ROOT / "docs" / "examples" / "fleet"
JOB = "- name: Fleet converge\n  ansible.builtin.import_playbook: azure_apim.identity.site_fleet\n"


def synced_inventory(azure: Any, workdir: Path) -> dict[str, Any]:
    """What AWX stores after syncing the inventory source: hosts, their variables, groups."""
    source = yaml.safe_load((EXAMPLE / "fleet.apim_services.yml").read_text(encoding="utf-8"))
    source["subscriptions"] = [azure.subscription_id, azure.second_subscription_id]
    path = write_source(workdir / "source", {k: v for k, v in source.items() if k != "plugin"})
    return inventory_json(ansible_inventory(azure, path, workdir / "sync"))


def slice_inventory(synced: dict[str, Any], number: int, count: int) -> dict[str, Any]:
    """Slice ``number`` (1-based) of ``count``, as AWX builds it: every count-th host, with its vars and groups."""
    hosts = sorted(synced["_meta"]["hostvars"])[number - 1::count]
    groups = {name: sorted(set(body.get("hosts", [])) & set(hosts)) for name, body in synced.items()
              if name not in ("_meta", "all") and body.get("hosts")}
    children = {name: {"hosts": {h: {} for h in members}} for name, members in groups.items() if members}
    return {"all": {"hosts": {h: synced["_meta"]["hostvars"][h] for h in hosts}, "children": children}}


def run_slices(azure: Any, synced: dict[str, Any], workdir: Path) -> list[Any]:
    """Every slice as a separate runner job, started together; returns the finished runners."""
    started = []
    for number in range(1, SLICES + 1):
        data = workdir / "slice{0}".format(number)
        (data / "project").mkdir(parents=True)
        (data / "inventory").mkdir()
        (data / "project" / "job.yml").write_text(JOB, encoding="utf-8")
        inventory = yaml.safe_dump(slice_inventory(synced, number, SLICES))
        (data / "inventory" / "hosts.yml").write_text(inventory, encoding="utf-8")
        shutil.copytree(EXAMPLE / "group_vars", data / "inventory" / "group_vars")
        env = {**azure.env(), "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_DIR),
               "ANSIBLE_HOME": str(data / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(data / "tmp"),
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
        _thread, runner = ansible_runner.run_async(private_data_dir=str(data), playbook="job.yml", envvars=env,
                                                   quiet=True)
        started.append((_thread, runner))
    for thread, _runner in started:
        thread.join(timeout=900)
    return [runner for _thread, runner in started]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The jobs see only what AWX would give them."""
    for key in list(os.environ):
        if key.startswith(("AZURE_", "ANSIBLE_", "REQUESTS_CA_BUNDLE")):
            monkeypatch.delenv(key)


def _service_writes(log: Any) -> Counter:
    """Writes per API Management service (by the service's path)."""
    found: Counter = Counter()
    for request in log.writes():
        path = request["path"].lower()
        if "/microsoft.apimanagement/service/" in path:
            found[path.split("/microsoft.apimanagement/service/")[1].split("/")[0]] += 1
    return found


def test_sliced_awx_job_converges_the_fleet_once(world: Any, local_azure: Any, tmp_path: Path, clean_env: None) -> None:
    world(fleet_world(4, 2), time_scale=0.01)
    synced = synced_inventory(local_azure, tmp_path)
    assert len(synced["_meta"]["hostvars"]) == 6
    local_azure.admin.clear_requests()

    runners = run_slices(local_azure, synced, tmp_path / "first")
    for runner in runners:
        assert runner.status == "successful", runner.stdout.read()[-4000:]
    log = local_azure.admin.requests().arm()
    per_service = _service_writes(log)
    # Services 1, 3 and 5 are prod (a user-assigned identity to attach), 3 and 6 have no identity yet; 2 and 4 already
    # have what their group asks for. Each service that lacked something got exactly one update, from one slice.
    assert set(per_service) == {service_name(i) for i in (1, 3, 5, 6)}, per_service
    assert all(count == 1 for count in per_service.values()), per_service
    state = local_azure.admin.state()["resources"]
    services = {b["name"]: b for b in state.values() if b.get("type") == "Microsoft.ApiManagement/service"}
    for index in range(1, 7):
        identity = services[service_name(index)].get("identity") or {}
        assert "SystemAssigned" in identity.get("type", ""), (index, identity)
        names = [key.rsplit("/", 1)[-1] for key in identity.get("userAssignedIdentities") or {}]
        if index % 2:  # env: prod
            assert "id-{0}-kv".format(service_name(index)) in names, (index, names)
        else:
            assert not any(n.endswith("-kv") for n in names), (index, names)

    local_azure.admin.clear_requests()
    again = run_slices(local_azure, synced, tmp_path / "second")
    for runner in again:
        assert runner.status == "successful", runner.stdout.read()[-4000:]
    assert not local_azure.admin.requests().arm().writes()
