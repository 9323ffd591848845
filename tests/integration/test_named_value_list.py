"""apim_named_value's `named_values` list against the local Azure: one module run for many named values, the
service read once, every entry checked before the first write, entries inheriting the task's options, and a
failing entry that names itself and reports what the entries before it did."""

from __future__ import annotations

import pytest

from integration.nv_support import (
    FAST, KV_POLICY, KV_RBAC, PLAIN_SECRET, UAMI, assert_no_secret, assert_quartet, service_id, world_spec, writes,
)

pytestmark = pytest.mark.integration

TASK = "Named values"
PLAYBOOK = "nv_named_value_list"


def _kv(name: str, vault: str = KV_POLICY, **extra) -> dict:
    return {"name": name, "key_vault_secret_id": f"https://{vault}.vault.azure.net/secrets/backend-key", **extra}


def _stored(azure, name: str):
    resp = azure.arm().get(f"{service_id(azure)}/namedValues/{name}", "2024-05-01")
    return None if resp.status_code == 404 else resp.json()


def _arm_reads(run, azure) -> list[str]:
    """Paths of the ARM GETs a run sent, relative to the service ('' = the service itself)."""
    base = service_id(azure).lower()
    out = []
    for entry in run.requests.arm().matching("GET"):
        path = entry["path"].lower()
        out.append(path[len(base):] if path.startswith(base) else path)
    return out


def test_list_quartet_reads_the_service_once(world, playbook, local_azure):
    world(world_spec(), **FAST)
    items = [_kv("nv-a"), _kv("nv-b", KV_RBAC), {"name": "nv-plain", "value": PLAIN_SECRET, "is_secret": True}]
    runs = assert_quartet(playbook, PLAYBOOK, {"nv_items": items}, TASK, secrets=(PLAIN_SECRET,))
    # check mode predicts three creations, keyed by name in the diff
    check = runs.check.task(TASK)
    assert sorted(check["diff"]["after"]) == ["nv-a", "nv-b", "nv-plain"]
    assert [entry["changed"] for entry in check["named_values"]] == [True, True, True]
    # the apply creates exactly the three, in order, with one read of the service
    assert [(w["method"], w["path"].rsplit("/", 1)[-1]) for w in writes(runs.apply)] == [
        ("PUT", "nv-a"), ("PUT", "nv-b"), ("PUT", "nv-plain")]
    for name, vault in (("nv-a", KV_POLICY), ("nv-b", KV_RBAC)):
        stored = _stored(local_azure, name)["properties"]
        assert stored["keyVault"]["secretIdentifier"] == f"https://{vault}.vault.azure.net/secrets/backend-key"
        assert stored["keyVault"].get("identityClientId") in (None, "SystemAssigned")
    assert _stored(local_azure, "nv-plain")["properties"]["secret"] is True
    # the creations checked the service's identity once for the three entries
    assert _arm_reads(runs.apply, local_azure).count("") == 1, _arm_reads(runs.apply, local_azure)
    # the no-op re-run reads each named value once and nothing else (an unchanged entry needs no service read)
    assert _arm_reads(runs.apply2, local_azure) == ["/namedvalues/nv-a", "/namedvalues/nv-b", "/namedvalues/nv-plain"]
    assert [entry["changed"] for entry in runs.apply2.task(TASK)["named_values"]] == [False, False, False]


def test_entries_inherit_the_task_options_and_may_override_them(world, playbook, local_azure):
    world(world_spec(), **FAST)
    items = [_kv("nv-uami"), _kv("nv-system", identity="system")]
    run = playbook(PLAYBOOK, extra_vars={"nv_identity": UAMI, "nv_items": items})
    assert run.rc == 0, run.explain()
    uami = next(r for r in run.state["resources"].values()
                if r.get("type", "").lower() == "microsoft.managedidentity/userassignedidentities" and r["name"] == UAMI)
    assert _stored(local_azure, "nv-uami")["properties"]["keyVault"]["identityClientId"] == \
        uami["properties"]["clientId"]
    assert _stored(local_azure, "nv-system")["properties"]["keyVault"].get("identityClientId") in (
        None, "SystemAssigned")
    # removal through the list: the task's state applies to every entry
    gone = playbook(PLAYBOOK, extra_vars={"nv_state": "absent", "nv_items": [{"name": "nv-uami"},
                                                                             {"name": "nv-system"}]})
    assert gone.rc == 0, gone.explain()
    assert [w["method"] for w in writes(gone)] == ["DELETE", "DELETE"]
    assert _stored(local_azure, "nv-uami") is None and _stored(local_azure, "nv-system") is None


@pytest.mark.parametrize("items, expected", [
    ([_kv("nv-ok"), {"name": "nv-bad", "value": "x", "key_vault_secret_id":
                     "https://kv-nv-policies.vault.azure.net/secrets/backend-key"}],
     "named value nv-bad (item 2 of 2 in named_values): Named value nv-bad: both 'value' and 'key_vault_secret_id'"),
    ([_kv("nv-twice"), _kv("nv-twice")], "named value 'nv-twice' is listed twice in named_values"),
], ids=["contradictory-entry", "duplicate-name"])
def test_a_bad_entry_refuses_the_whole_list_before_any_request(world, playbook, local_azure, items, expected):
    world(world_spec(), **FAST)
    run = playbook(PLAYBOOK, extra_vars={"nv_items": items})
    assert run.rc != 0
    result = run.task(TASK)
    assert expected in result["msg"], result["msg"]
    assert list(run.requests.arm()) == [], "the list was checked before any ARM request"
    assert _stored(local_azure, "nv-ok") is None


def test_a_failing_entry_names_itself_and_reports_the_entries_before_it(world, playbook, local_azure):
    world(world_spec(), **FAST)
    # the second entry's identity is not attached to the service: found out only when that entry runs
    items = [_kv("nv-first"), _kv("nv-second", identity="id-unattached"), _kv("nv-third")]
    run = playbook(PLAYBOOK, extra_vars={"nv_items": items})
    assert run.rc != 0
    result = run.task(TASK)
    assert result["msg"].startswith("named value nv-second (item 2 of 3 in named_values): "), result["msg"]
    assert "id-unattached" in result["msg"]
    assert [(entry["named_value"]["name"], entry["changed"]) for entry in result["named_values"]] == [
        ("nv-first", True)]
    assert _stored(local_azure, "nv-first") is not None
    assert _stored(local_azure, "nv-second") is None and _stored(local_azure, "nv-third") is None
    assert_no_secret(run, (PLAIN_SECRET,))
