"""Fleet figures: the apim_services inventory and the fleet report on N services in two subscriptions.

``python -m bench.fleet --services 50`` (PYTHONPATH=tests, ANSIBLE_COLLECTIONS_PATH=.collections; `make bench-fleet`
sets both) starts the local Azure as a child process with 30 ms latency per request, seeds the fleet world of
tests/integration/fleet_support.py (60 % of the services in the first subscription), then measures, once each:
`ansible-inventory --list` and `ansible-playbook fleet_report.yml` (forks 10). It prints wall times and the ARM
requests of each run (reads, writes, list pages). Nothing is asserted; the figures go into bench/README.md by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.runner import LocalAzureProcess

REPO_ROOT = Path(__file__).resolve().parents[1]
WORK = REPO_ROOT / "build" / "bench" / "fleet"


def _requests(azure: Any) -> dict[str, int]:
    log = azure.admin.requests().arm()
    return {"arm_requests": len(log), "writes": len(log.writes()),
            "list_pages": len([r for r in log if r["method"] == "GET"
                               and r["path"].endswith("/providers/Microsoft.ApiManagement/service")])}


def measure(azure: Any, services: int, forks: int, page_size: int) -> list[dict[str, Any]]:
    """Seed, then time the inventory listing and the report."""
    import subprocess

    from harness.runner import playbook_env
    from integration.fleet_support import ansible_inventory, fleet_world, write_source

    first = services * 6 // 10
    azure.admin.reset()
    azure.admin.config(latency_ms=30.0, list_page_size=float(page_size))
    azure.admin.seed(fleet_world(first, services - first))
    source = write_source(WORK / "inv", {"subscriptions": [azure.subscription_id, azure.second_subscription_id]})
    rows = []
    azure.admin.clear_requests()
    start = time.monotonic()
    listed = ansible_inventory(azure, source, WORK / "run")
    rows.append(dict(step="ansible-inventory --list", services=services, rc=listed.returncode,
                     wall_s=round(time.monotonic() - start, 1), **_requests(azure)))
    azure.admin.clear_requests()
    env = playbook_env(azure, WORK, WORK / "result.json", {"ANSIBLE_FORKS": str(forks)})
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(source), "azure_apim.identity.fleet_report",
           "-e", "apim_fleet_report_dir={0}".format(WORK / "report")]
    start = time.monotonic()
    report = subprocess.run(cmd, capture_output=True, text=True, cwd=str(WORK), env=env, check=False)
    rows.append(dict(step="fleet_report.yml (forks {0})".format(forks), services=services, rc=report.returncode,
                     wall_s=round(time.monotonic() - start, 1), **_requests(azure)))
    return rows


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, nargs="+", default=[50])
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--page-size", type=int, default=100, help="services per list page (Azure's is 100)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    server = LocalAzureProcess(sys.executable, WORK)
    azure = server.start()
    try:
        rows = [row for n in args.services for row in measure(azure, n, args.forks, args.page_size)]
    finally:
        server.stop()
    print("| step | services | rc | wall s | ARM requests | writes | list pages |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| {step} | {services} | {rc} | {wall_s} | {arm_requests} | {writes} | {list_pages} |".format(**r))
    (WORK / "fleet.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
