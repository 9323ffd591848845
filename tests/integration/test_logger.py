"""apim_logger against the local Azure: Event Hub loggers with the system or a user-assigned identity, or a
connection string whose masked read-back never causes a change."""

from __future__ import annotations

import pytest

from harness.quartet import assert_idempotent, runs_of
from integration.nv_support import (
    EVENTHUB_NS, FAST, UAMI, assert_no_secret, assert_quartet, resource, service_id, world_spec, writes,
)
from integration.reads_support import reads

pytestmark = pytest.mark.integration

TASK = "Logger"
PLAYBOOK = "nv_logger"
ENDPOINT = f"{EVENTHUB_NS}.servicebus.windows.net"
SAS_KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="
CONNECTION_STRING = f"Endpoint=sb://{ENDPOINT}/;SharedAccessKeyName=apim;SharedAccessKey={SAS_KEY}"


def _stored(run, azure, name):
    return resource(run.state, f"{service_id(azure)}/loggers/{name}")


def _client_id(run, name=UAMI):
    return next(r for r in run.state["resources"].values()
                if r.get("type", "").lower() == "microsoft.managedidentity/userassignedidentities"
                and r["name"] == name)["properties"]["clientId"]


@pytest.mark.parametrize("identity", ["system", UAMI])
def test_managed_identity_logger_quartet(world, playbook, local_azure, identity):
    world(world_spec(), **FAST)
    extra = {"logger_name": "eh-logger", "logger_hub": "apim-logs", "logger_endpoint": ENDPOINT,
             "logger_identity": identity, "logger_description": "requests to Event Hubs"}
    runs = assert_quartet(playbook, PLAYBOOK, extra, TASK)
    check = runs.check
    apply = runs.apply
    expected_client = "SystemAssigned" if identity == "system" else _client_id(apply)
    assert check.task(TASK)["diff"]["after"]["credentials"]["identity_client_id"] == expected_client
    stored = _stored(apply, local_azure, "eh-logger")
    assert stored["properties"]["loggerType"] == "azureEventHub"
    expected = {"name": "apim-logs", "endpointAddress": ENDPOINT, "identityClientId": expected_client}
    assert stored["properties"]["credentials"] == expected
    assert stored["properties"]["description"] == "requests to Event Hubs"
    assert [w["method"] for w in writes(apply)] == ["PUT"]
    info = apply.task("Loggers of the service")["loggers"]
    assert [(i["name"], i["credentials"]["identity_client_id"]) for i in info] == [("eh-logger", expected_client)]


LOGGER_READ = "GET service/apim-nv/loggers/eh-logger"


@pytest.mark.parametrize("extra,noop_reads", [
    # the system identity's client id is known ("SystemAssigned"): an unchanged logger needs no service read
    ({"logger_endpoint": ENDPOINT}, [LOGGER_READ]),
    # a user-assigned identity's client id comes from the service: one read of it to compare
    ({"logger_endpoint": ENDPOINT, "logger_identity": UAMI}, [LOGGER_READ, "GET service/apim-nv"]),
    ({"logger_connection_string": CONNECTION_STRING}, [LOGGER_READ]),
])
def test_reads_of_a_create_and_of_a_no_op(world, playbook, local_azure, extra, noop_reads):
    world(world_spec(), **FAST)
    extra = {"logger_name": "eh-logger", "logger_hub": "apim-logs", **extra}
    apply = playbook(PLAYBOOK, extra_vars=extra, tags=["logger"])
    assert apply.rc == 0 and apply.task(TASK)["changed"] is True, apply.explain()
    # the service is read before the write (exists, identity enabled); the PUT's answer is not read again
    assert reads(apply) == [LOGGER_READ, "GET service/apim-nv"], reads(apply)
    assert apply.task(TASK)["logger"]["id"].endswith("/loggers/eh-logger")
    for again in assert_idempotent(runs_of(playbook, PLAYBOOK, extra_vars=extra, tags=["logger"]), TASK, diff=False):
        assert reads(again) == noop_reads, reads(again)
    gone = {**extra, "logger_state": "absent", "logger_name": "never-there"}
    absent = playbook(PLAYBOOK, extra_vars=gone, tags=["logger"])
    assert absent.rc == 0 and absent.task(TASK)["changed"] is False, absent.explain()
    assert reads(absent) == ["GET service/apim-nv/loggers/never-there"], reads(absent)


def test_identity_not_attached_is_refused_before_any_write(world, playbook):
    world(world_spec(), **FAST)
    run = playbook(PLAYBOOK, extra_vars={"logger_name": "eh-logger", "logger_hub": "apim-logs",
                                         "logger_endpoint": ENDPOINT, "logger_identity": "id-unattached"},
                   tags=["logger"])
    failed = run.task(TASK)
    assert failed["_status"] == "failed" and failed["error_code"] == "IdentityNotEnabled", run.explain()
    assert "id-unattached" in failed["msg"] and writes(run) == []


def test_switching_identity_keeps_unset_settings(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = {"logger_name": "eh-logger", "logger_hub": "apim-logs", "logger_endpoint": ENDPOINT,
             "logger_description": "kept", "logger_is_buffered": False}
    assert playbook(PLAYBOOK, extra_vars=extra).rc == 0
    moved = playbook(PLAYBOOK, extra_vars={"logger_name": "eh-logger", "logger_hub": "apim-logs",
                                           "logger_endpoint": ENDPOINT, "logger_identity": UAMI}, diff=True)
    assert moved.rc == 0, moved.explain()
    result = moved.task(TASK)
    assert result["changed"] is True
    assert result["diff"]["before"]["credentials"]["identity_client_id"] == "SystemAssigned"
    props = _stored(moved, local_azure, "eh-logger")["properties"]
    assert props["credentials"]["identityClientId"] == _client_id(moved)
    assert props["description"] == "kept" and props["isBuffered"] is False


def test_connection_string_logger_is_idempotent_despite_masked_credentials(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = {"logger_name": "cs-logger", "logger_hub": "apim-logs", "logger_connection_string": CONNECTION_STRING}
    runs = assert_quartet(playbook, PLAYBOOK, extra, TASK, secrets=(SAS_KEY,))
    apply = runs.apply
    apply2 = runs.apply2
    stored = _stored(apply, local_azure, "cs-logger")
    assert set(stored["properties"]["credentials"]) == {"connectionString"}  # masked on read, no hub name
    assert stored["_credentials"]["name"] == "apim-logs"
    assert apply2.task(TASK)["logger"]["credentials"]["connection_string_set"] is True
    # rotation is explicit
    rotated = playbook(PLAYBOOK, extra_vars={**extra, "logger_update_credentials": "always"})
    assert rotated.rc == 0 and rotated.task(TASK)["changed"] is True
    assert [w["method"] for w in writes(rotated)] == ["PUT"]
    assert_no_secret(rotated, (SAS_KEY,))


def test_endpoint_given_as_connection_string_is_refused_and_masked(world, playbook):
    world(world_spec(), **FAST)
    run = playbook(PLAYBOOK, extra_vars={"logger_name": "bad", "logger_hub": "apim-logs",
                                         "logger_endpoint": CONNECTION_STRING}, verbosity=3)
    assert run.rc != 0
    msg = run.task(TASK)["msg"]
    assert "looks like an Event Hubs connection string" in msg and "connection_string" in msg
    assert writes(run) == []
    assert_no_secret(run, (SAS_KEY,))


@pytest.mark.parametrize("endpoint, expected", [
    (f"sb://{ENDPOINT}/", "not the host name"),
    ("not a host", "not the host name"),
])
def test_bad_endpoint_is_refused_before_any_write(world, playbook, endpoint, expected):
    world(world_spec(), **FAST)
    run = playbook(PLAYBOOK, extra_vars={"logger_name": "bad", "logger_hub": "apim-logs", "logger_endpoint": endpoint})
    assert run.rc != 0 and expected in run.task(TASK)["msg"]
    assert writes(run) == []


def test_absent_quartet_leaves_other_loggers(world, playbook, local_azure):
    world(world_spec(), **FAST)
    for name in ("keep-me", "drop-me"):
        assert playbook(PLAYBOOK, extra_vars={"logger_name": name, "logger_hub": "apim-logs",
                                              "logger_endpoint": ENDPOINT}).rc == 0
    runs = assert_quartet(playbook, PLAYBOOK, {"logger_name": "drop-me", "logger_state": "absent"}, TASK)
    apply = runs.apply
    assert _stored(apply, local_azure, "drop-me") is None
    assert _stored(apply, local_azure, "keep-me") is not None
