"""Throttle awareness: read 200 API Management services one by one with ARM's throttling enforced, with and without
the collection's pacing (plugins/module_utils/_throttle.py).

``python -m bench.throttle`` (`make bench-throttle`) starts the local Azure as a child process, seeds 200 services
(fleet world, two subscriptions), turns on the emulator's token buckets with Azure's refill rates (25 reads per
second) and a bucket of 50 reads (Azure's is 250; smaller so that 200 reads can empty it), then reads every service
with a GET through the collection's own client stack (ControllerConnection: the modules' credential, retry and
pacing policies), once with pacing off (floor 0) and once with it on. It prints wall time, 429 answers and pauses.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.runner import LocalAzureProcess

REPO_ROOT = Path(__file__).resolve().parents[1]
WORK = REPO_ROOT / "build" / "bench" / "throttle"
CONFIG = {"throttle_enforce": 1.0, "throttle_reads_bucket": 50.0, "throttle_reads_refill_per_s": 25.0,
          "latency_ms": 0.0}


def read_all(azure: Any, names: list[tuple[str, str, str]], paced: bool) -> dict[str, Any]:
    """GET every (subscription, group, name) with a fresh connection per subscription; returns the figures."""
    from ansible_collections.azure_apim.identity.plugins.module_utils import _throttle
    from ansible_collections.azure_apim.identity.plugins.module_utils._apim import ApimServices
    from ansible_collections.azure_apim.identity.plugins.module_utils._controller import ControllerConnection

    _throttle.forget()
    floors = dict(_throttle.FLOOR)
    if not paced:
        _throttle.FLOOR.update({k: 0 for k in floors})
    azure.admin.reset()  # full buckets
    azure.admin.config(**CONFIG)
    azure.admin.seed(WORLD)
    azure.admin.clear_requests()
    os.environ.update(azure.env())
    connections: dict[str, Any] = {}
    start = time.monotonic()
    try:
        for subscription, group, name in names:
            if subscription not in connections:
                connections[subscription] = ControllerConnection({"subscription_id": subscription})
            assert ApimServices(connections[subscription]).get(group, name) is not None
    finally:
        _throttle.FLOOR.update(floors)
        for connection in connections.values():
            connection.close()
    wall = time.monotonic() - start
    log = list(azure.admin.requests().arm())
    return {"paced": paced, "services": len(names), "wall_s": round(wall, 1),
            "requests": len(log), "throttled_429": sum(1 for r in log if r["status"] == 429)}


WORLD: dict[str, Any] = {}


def main() -> None:
    """Command line."""
    global WORLD
    from integration.fleet_support import GROUP_A, GROUP_A2, GROUP_B, fleet_world, service_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    args = parser.parse_args()
    first = args.services * 6 // 10
    WORLD = fleet_world(first, args.services - first)
    WORK.mkdir(parents=True, exist_ok=True)
    server = LocalAzureProcess(sys.executable, WORK)
    azure = server.start()
    half = (first + 1) // 2
    names = [(azure.subscription_id, GROUP_A if i <= half else GROUP_A2, service_name(i)) for i in range(1, first + 1)]
    names += [(azure.second_subscription_id, GROUP_B, service_name(i)) for i in range(first + 1, args.services + 1)]
    try:
        rows = [read_all(azure, names, paced=False), read_all(azure, names, paced=True)]
    finally:
        server.stop()
    print("| pacing | services | wall s | ARM requests | 429 answers |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| {0} | {services} | {wall_s} | {requests} | {throttled_429} |".format(
            "on" if r["paced"] else "off", **r))


if __name__ == "__main__":
    main()
