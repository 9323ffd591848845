# Private to the azure_apim.identity test suite.
"""Scenarios 4 (named value), 16, 19, 20: named values, RBAC propagation, masked logger credentials, ETag races."""

from __future__ import annotations

import threading

import pytest

from reliability.conftest import ORACLE, require_modules, wait_for
from reliability.snapshot import foreign_view
from reliability.worlds import FAST, NAMED_VALUE_SECRET, RBAC_VAULT, RG, SERVICE, ids, rel_world

require_modules("apim_named_value", "apim_logger", "keyvault_access")

SAS_KEY = "cmVsLXNhcy1rZXktZm9yLXRoZS1vcmFjbGUtb25seQ=="
ENDPOINT = "evhns-rel.servicebus.windows.net"
CONNECTION_STRING = f"Endpoint=sb://{ENDPOINT}/;SharedAccessKeyName=apim-send;SharedAccessKey={SAS_KEY}"


def _nv_id(rel, name: str) -> str:
    return f"{ids(rel.azure.subscription_id)['service']}/namedValues/{name}"


def _entity(state: dict, rid: str) -> dict | None:
    return state["resources"].get(rid.lower())


def _nv_args(name: str, **extra) -> dict:
    return {"resource_group": RG, "service_name": SERVICE, "name": name, **extra}


def _count(state: dict, type_: str, name: str) -> int:
    return sum(1 for body in state["resources"].values()
               if body.get("type", "").lower() == type_.lower() and body.get("name", "").lower() == name.lower())


@pytest.mark.scenario(4, "write applied, response lost, retried")
def test_named_value_put_applied_then_response_lost(rel, record):
    rel.seed(rel_world(), **FAST)
    ORACLE.add_secret("named-value secret", NAMED_VALUE_SECRET)
    before = foreign_view(rel.state())
    fault = {"method": "PUT", "path": "/namedValues/backend-key$", "apply_then_fail": True, "status": 500,
             "times": 1}
    args = _nv_args("backend-key", value=NAMED_VALUE_SECRET, is_secret=True, tags=["rel"])
    runs = rel.quartet("apim_named_value", args, faults=[fault])
    apply = runs["apply"]
    puts = apply.requests.matching("PUT", "/namedValues/backend-key")
    assert len(puts) == 2 and puts[0].get("fault"), apply.explain()
    state = runs["apply_again"].state
    assert _count(state, "Microsoft.ApiManagement/service/namedValues", "backend-key") == 1
    stored = _entity(state, _nv_id(rel, "backend-key"))
    assert stored["properties"]["tags"] == ["rel"] and apply.result["named_value"]["secret"] is True
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=[_nv_id(rel, "backend-key")]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(16, "RBAC vault: no policy writes, propagation waited out")
def test_rbac_vault_grant_then_named_value_waits_for_propagation(rel, record):
    # RBAC grants take 3000 Azure seconds to reach Key Vault here; once granted, the clock is moved to 250 Azure
    # seconds (5 s) before the grant takes effect, and the named value has to wait that out via lastStatus.
    rel.seed(rel_world(), **{**FAST, "rbac_propagation_s": 3000.0})
    sid = ids(rel.azure.subscription_id)
    vault_before = _entity(rel.state(), sid["rbac_vault"])
    before = foreign_view(rel.state())
    grant = rel.quartet("keyvault_access", {"vault": RBAC_VAULT, "vault_resource_group": RG, "service_name": SERVICE,
                                            "service_resource_group": RG})
    grant_writes = grant["apply"].writes()
    assert [e["method"] for e in grant_writes] == ["PUT"] and "roleAssignments" in grant_writes[0]["path"]
    assert not [e for e in grant_writes if "accessPolicies" in e["path"]], "an RBAC vault gets no policy writes"
    assert _entity(grant["apply"].state, sid["rbac_vault"]) == vault_before

    granted = [r for r in grant["apply"].state["resources"].values()
               if "/roleassignments/" in r["id"].lower() and r["id"].lower().startswith(sid["rbac_vault"].lower())]
    assert len(granted) == 1
    secret_id = f"https://{RBAC_VAULT}.vault.azure.net/secrets/backend-key"
    args = _nv_args("kv-backend-key", key_vault_secret_id=secret_id, wait_for_secret=True, wait_interval=1,
                    timeout=120)
    check = rel.run("apim_named_value", args, check=True)
    assert not check.failed and check.changed and check.writes() == [], check.explain()
    rel.admin.advance(granted[0]["_created"] + 3000.0 - 250.0 - rel.state()["now"])
    apply = rel.run("apim_named_value", args)
    assert not apply.failed and apply.changed, apply.explain()
    runs = {"apply": apply, **rel.idempotent("apim_named_value", args)}
    stored = _entity(runs["apply_again"].state, _nv_id(rel, "kv-backend-key"))
    assert stored["properties"]["keyVault"]["lastStatus"]["code"].lower() == "success", stored
    refreshes = [e for e in apply.writes() if e["path"].endswith("/refreshSecret")]
    assert refreshes, "the module refreshed the secret while the grant propagated"
    assert {e["method"] for e in apply.writes() if e not in refreshes} == {"PUT"}
    ra = [r for r in grant["apply"].state["resources"] if "/roleassignments/" in r and r.startswith(
        sid["rbac_vault"].lower())]
    rel.assert_foreign_unchanged(before, foreign_view(runs["apply_again"].state,
                                                      owned=ra + [_nv_id(rel, "kv-backend-key")]))
    record(writes=len(grant_writes) + len(apply.writes()), reruns=0)


@pytest.mark.scenario(19, "logger credentials masked on read")
@pytest.mark.parametrize("kind", ["identity", "connection-string"])
def test_masked_logger_credentials_cause_no_perpetual_change(rel, record, kind):
    rel.seed(rel_world(), **FAST)
    ORACLE.add_secret("Event Hub connection string", CONNECTION_STRING)
    ORACLE.add_secret("SharedAccessKey", SAS_KEY)
    before = foreign_view(rel.state())
    args = {"resource_group": RG, "service_name": SERVICE, "name": f"eh-{kind}", "event_hub_name": "apim-logs",
            "description": "reliability"}
    args.update({"endpoint_address": ENDPOINT, "identity": "system"} if kind == "identity"
                else {"connection_string": CONNECTION_STRING})
    runs = rel.quartet("apim_logger", args)
    logger_id = f"{ids(rel.azure.subscription_id)['service']}/loggers/eh-{kind}"
    stored = _entity(runs["apply_again"].state, logger_id)
    assert stored["properties"]["loggerType"] == "azureEventHub"
    if kind == "connection-string":
        # Azure hands back a placeholder instead of the credentials; that must never read as a difference.
        assert SAS_KEY not in str(stored)
    rel.assert_foreign_unchanged(before, foreign_view(runs["apply_again"].state, owned=[logger_id]))
    record(writes=len(runs["apply"].writes()), reruns=0)


@pytest.mark.scenario(20, "named value 412 stale ETag, other writer's tags kept")
def test_stale_etag_is_reread_and_the_other_writers_tags_kept(rel, record):
    rel.seed(rel_world(), **FAST)
    created = rel.run("apim_named_value", _nv_args("shared-setting", value="blue", tags=["ours-1"]))
    assert not created.failed, created.explain()
    nv_path = _nv_id(rel, "shared-setting")
    before = foreign_view(rel.state(), owned=[nv_path])
    client = rel.azure.arm()
    rel.fault(method="PATCH", path="/namedValues/shared-setting$", status=412, times=1)

    def other_writer() -> None:
        wait_for(lambda: rel.fault_hits()[0] >= 1, timeout=120, interval=0.05)
        body = {"properties": {"tags": ["ours-1", "theirs"]}}
        response = client.request("PATCH", nv_path, "2024-05-01", body, headers={"If-Match": "*"})
        assert response.status_code in (200, 202), response.text
        wait_for(lambda: "theirs" in (_entity(rel.state(), nv_path)["properties"].get("tags") or []), timeout=30)

    writer = threading.Thread(target=other_writer, daemon=True)
    writer.start()
    run = rel.run("apim_named_value", _nv_args("shared-setting", value="blue", tags=["ours-2"]))
    writer.join(timeout=60)
    rel.clear_faults()
    assert not run.failed and run.changed, run.explain()
    ours = [e for e in run.requests.matching("PATCH", "/namedValues/shared-setting") if "ours-2" in str(e["body"])]
    assert [e["status"] for e in ours] == [412, 202], run.explain()
    assert "theirs" in str(ours[1]["body"]), "the second write was merged from a fresh read"
    tags = set(_entity(run.state, nv_path)["properties"]["tags"])
    assert tags == {"ours-1", "theirs", "ours-2"}
    rel.idempotent("apim_named_value", _nv_args("shared-setting", value="blue", tags=["ours-2"]))
    rel.assert_foreign_unchanged(before, foreign_view(rel.state(), owned=[nv_path]))
    record(writes=len(ours), reruns=0)
