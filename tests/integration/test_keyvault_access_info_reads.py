"""keyvault_access_info reads the vault first and the API Management service only when its identity must filter
access (issue 17): one read for a whole vault, a missing vault or an empty one; two for "what can this service read"."""

from __future__ import annotations

from typing import Any

import pytest

from integration import kv_worlds
from integration.reads_support import reads

TASK = "Key Vault access info"


@pytest.fixture
def seeded(world: Any) -> dict[str, Any]:
    return world(kv_worlds.world())


def _vars(**extra: Any) -> dict[str, Any]:
    return {"kv_vault": "kv-ap", "kv_vault_resource_group": "rg-kv", **extra}


SERVICE = {"kv_service_name": "apim-kv", "kv_service_resource_group": "rg-kv"}


@pytest.mark.parametrize("extra,expected,count", [
    ({}, ["GET vaults/kv-ap"], 2),                                                   # every entry, one read
    (SERVICE, ["GET service/apim-kv", "GET vaults/kv-ap"], 0),                       # the service's own entries
    (dict(SERVICE, kv_vault="kv-gone"), ["GET vaults/kv-gone"], 0),                  # no vault: no service read
    (dict(SERVICE, kv_vault="kv-fw"), ["GET vaults/kv-fw"], 0),                      # no entries: no service read
    (dict(kv_service_name="apim-gone", kv_service_resource_group="rg-kv"),
     ["GET service/apim-gone", "GET vaults/kv-ap"], 0),                              # no service: nothing to list
])
def test_reads(local_azure: Any, seeded: dict, playbook: Any, extra: dict, expected: list, count: int) -> None:
    result = playbook("keyvault_access_one", extra_vars=_vars(**extra), tags=["info"])
    info = result.task(TASK)
    assert info["_status"] == "ok" and len(info["access"]) == count, info
    assert sorted(reads(result)) == sorted(expected), reads(result)
    assert len(result.requests.arm()) == len(expected) and result.requests.writes() == []


def test_principal_given_by_id_needs_only_the_vault(local_azure: Any, seeded: dict, playbook: Any) -> None:
    ops = seeded["principals"]["ops-team"]["object_id"]
    result = playbook("keyvault_access_one", extra_vars=_vars(kv_principal_id=ops), tags=["info"])
    info = result.task(TASK)
    assert [a["principal_id"] for a in info["access"]] == [ops], info
    assert reads(result) == ["GET vaults/kv-ap"]
