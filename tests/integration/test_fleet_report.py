"""playbooks/fleet_report.yml over the apim_services inventory: one report for a fleet in two subscriptions, read
only (the request log holds no write), and its HTML page opened in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from integration.fleet_support import EXPIRING_DAYS, GONE_PRINCIPAL, fleet_world, service_name, write_source
from integration.harness import REPO_ROOT, playbook_env

pytestmark = pytest.mark.integration

BUILD = REPO_ROOT / "build"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")


def run_report(azure: Any, workdir: Path, extra: list[str] = ()) -> subprocess.CompletedProcess:
    """ansible-playbook azure_apim.identity.fleet_report over both subscriptions of the local Azure."""
    source = write_source(workdir / "inv", {"subscriptions": [azure.subscription_id, azure.second_subscription_id]})
    env = playbook_env(azure, workdir, workdir / "result.json")
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(source),
           "azure_apim.identity.fleet_report", "-e", "apim_fleet_report_dir={0}".format(workdir / "report"),
           "-e", "apim_fleet_report_expiry_days=30", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=str(workdir), env=env, check=False)


@pytest.fixture(scope="module")
def report(local_azure: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ten services (six in the first subscription, four in the second), reported once for every test here."""
    from emulator.world import DEFAULT_CONFIG

    local_azure.admin.reset()
    local_azure.admin.clear_faults()
    local_azure.admin.config(**DEFAULT_CONFIG)
    local_azure.admin.seed(fleet_world(6, 4, orphans=True))
    local_azure.admin.clear_requests()
    workdir = tmp_path_factory.mktemp("fleet-report")
    proc = run_report(local_azure, workdir)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return {"dir": workdir / "report", "proc": proc, "requests": local_azure.admin.requests(), "azure": local_azure}


def test_report_never_writes_to_azure(report: dict[str, Any]) -> None:
    log = report["requests"].arm()
    assert len(log) > 0
    assert not log.writes(), [(r["method"], r["path"]) for r in log.writes()]


def test_json_holds_every_service_with_its_findings(report: dict[str, Any]) -> None:
    data = json.loads((report["dir"] / "fleet-report.json").read_text(encoding="utf-8"))
    services = {s["name"]: s for s in data["services"]}
    assert sorted(services) == [service_name(i) for i in range(1, 11)]
    assert services[service_name(9)]["subscription_id"] == report["azure"].second_subscription_id
    expiring = services[service_name(4)]["hostnames"]
    assert [(h["host_name"], h["certificate_source"]) for h in expiring] == [("api4.contoso.com", "KeyVault")]
    assert expiring[0]["expires_in_days"] in (EXPIRING_DAYS - 1, EXPIRING_DAYS)
    failing = [nv["name"] for nv in services[service_name(5)]["named_values"]
               if nv["key_vault"]["last_status"]["code"] != "Success"]
    assert failing == ["backend-key"]
    # The hostname and the named value read Key Vault with the system identity: both are its dependents.
    assert {d["kind"] for d in services[service_name(2)]["identity"]["dependents"]} == {"hostname", "named_value"}
    grants = services[service_name(1)]["grants"]
    assert [(g["role_name"], g["scope"].rsplit("/", 1)[-1]) for g in grants] == [("Reader", "rg-fleet-a")]
    assert services[service_name(3)]["identity"]["type"] == "None" and not services[service_name(3)]["grants"]


def test_markdown_flags_expiring_certificates_and_failing_named_values(report: dict[str, Any]) -> None:
    text = (report["dir"] / "fleet-report.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| apim-fleet-") and line.count("|") == 10}
    assert len(rows) == 10
    assert {name for name, line in rows.items() if "EXPIRING" in line} == {service_name(4), service_name(8)}
    assert "1 failing" in rows[service_name(5)] and "failing" not in rows[service_name(1)]
    assert {name for name, line in rows.items() if "ORPHANED" in line} == {service_name(2)}
    orphan_rows = [line for line in text.split("## Orphaned grants", 1)[1].splitlines() if line.startswith("| apim-")]
    assert sorted(line.split("|")[2].strip() for line in orphan_rows) == ["access policy", "role assignment"]
    assert all(GONE_PRINCIPAL in line for line in orphan_rows)


def test_json_lists_orphaned_grants_and_access_policies(report: dict[str, Any]) -> None:
    data = json.loads((report["dir"] / "fleet-report.json").read_text(encoding="utf-8"))
    services = {s["name"]: s for s in data["services"]}
    orphans = services[service_name(2)]["orphaned_grants"]
    assert [(p["principal_id"], p["kind"]) for p in orphans["principals"]] == [(GONE_PRINCIPAL, "system")]
    # the marked assignment only; the gone principal's unmarked Reader assignment is not attributed to the service
    assert [g["role_name"] for g in orphans["role_assignments"]] == ["Key Vault Secrets User"]
    assert [(p["vault"], p["object_id"]) for p in orphans["access_policies"]] == [("kv-fleet", GONE_PRINCIPAL)]
    current = services[service_name(2)]["identity"]["principal_id"]
    assert [(p["vault"], p["object_id"]) for p in services[service_name(2)]["access_policies"]] == [
        ("kv-fleet", current)]
    others = [s for name, s in services.items() if name != service_name(2)]
    assert not any(s["orphaned_grants"]["role_assignments"] or s["orphaned_grants"]["access_policies"] for s in others)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); the HTML report is checked in "
                    "a real headless browser only where one exists")
    return found


def _browser(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [_chromium(), *CHROMIUM_FLAGS, "--user-data-dir={0}".format(profile), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_html_in_headless_chromium_highlights_and_sorts(report: dict[str, Any], tmp_path: Path) -> None:
    page = report["dir"] / "fleet-report.html"
    # Column 6 is "Earliest expiry (days)": sorted ascending, the two expiring services come first.
    dom = _browser(["--virtual-time-budget=3000", "--dump-dom", page.as_uri() + "#sort=6"], tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="true"' in dom.stdout, "the page's script did not run"
    order = re.findall(r'<tr(?: class="(\w+)")? data-service="([\w-]+)"', dom.stdout)
    assert [name for _cls, name in order][:2] == [service_name(4), service_name(8)]
    assert {name for cls, name in order if cls == "expiring"} == {service_name(4), service_name(8)}
    BUILD.mkdir(exist_ok=True)
    shot = BUILD / "fleet-report.png"
    shot.unlink(missing_ok=True)
    taken = _browser(["--window-size=1400,900", "--screenshot={0}".format(shot), page.as_uri()], tmp_path / "p2")
    assert taken.returncode == 0 and shot.stat().st_size > 10000, taken.stderr[-2000:]
