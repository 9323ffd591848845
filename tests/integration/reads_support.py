"""The ARM reads a playbook run spent, in a short form tests can compare exactly (issue 10: read budgets).

A read is every management-plane request the local Azure logged that is not a write (Entra ID token traffic is
not ARM). Each is shown as ``"<METHOD> <path>"`` with the subscription/resource-group prefix cut off and the ARM
provider namespaces shortened, so that an extra read makes a test fail with a readable list.
"""

from __future__ import annotations

import re
from typing import Any

_PREFIX = re.compile(r"^/subscriptions/[^/]+(/resourcegroups/[^/]+)?", re.IGNORECASE)
_PROVIDERS = re.compile(r"/providers/microsoft\.[a-z]+/", re.IGNORECASE)


def short_path(path: str) -> str:
    """``/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/x`` -> ``service/x``."""
    rest = _PREFIX.sub("", path)
    rest = _PROVIDERS.sub("/", rest)
    return rest.strip("/").lower()


def reads(run: Any) -> list[str]:
    """Every ARM read of a run, in order, as ``"GET service/apim-x"``."""
    return [f"{e['method']} {short_path(e['path'])}" for e in run.requests.arm() if not e.get("write")]


def service_reads(run: Any, service: str) -> int:
    """How many times the run read the service resource itself (not its children)."""
    return reads(run).count(f"GET service/{service.lower()}")
