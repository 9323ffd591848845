"""The apim_eventhub_logger role through playbooks/eventhub_logging.yml, with the example vars adapted to the world."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from integration.harness import REPO_ROOT
from integration.reads_support import reads
from integration.nv_support import EVENTHUB_NS, FAST, RG, SERVICE, UAMI, assert_quartet, resource, service_id, world_spec

pytestmark = pytest.mark.integration

PLAYBOOK = REPO_ROOT / "playbooks" / "eventhub_logging.yml"
TASK = "azure_apim.identity.apim_eventhub_logger : Ensure the Event Hub logger with the managed identity"
FACT_TASK = "azure_apim.identity.apim_eventhub_logger : Keep it as a fact"


def test_role_quartet_from_the_example_vars(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = yaml.safe_load(Path(REPO_ROOT / "playbooks" / "vars" / "eventhub_logging.yml").read_text())
    extra.update(apim_eventhub_logger_service_name=SERVICE, apim_eventhub_logger_resource_group=RG,
                 apim_eventhub_logger_namespace_host=f"{EVENTHUB_NS}.servicebus.windows.net",
                 apim_eventhub_logger_identity=UAMI)
    runs = assert_quartet(playbook, PLAYBOOK, extra, TASK)
    apply = runs.apply
    logger = resource(apply.state, f"{service_id(local_azure)}/loggers/{extra['apim_eventhub_logger_name']}")
    uami = next(r for r in apply.state["resources"].values() if r.get("name") == UAMI)
    assert logger["properties"]["credentials"]["identityClientId"] == uami["properties"]["clientId"]
    assert logger["properties"]["description"] == extra["apim_eventhub_logger_description"]
    fact = apply.task(FACT_TASK)["ansible_facts"]["apim_eventhub_logger_result"]
    assert fact["credentials"]["endpoint_address"] == f"{EVENTHUB_NS}.servicebus.windows.net"
    assert fact == apply.task(TASK)["logger"]
    # No read-back (issue 17): the no-op re-run is one module run that reads the logger, and the service for the
    # user-assigned identity's client id.
    tokens = [e for e in runs.apply2.requests if "/oauth2/" in e["path"] and e["path"].rstrip("/").endswith("/token")]
    assert len(tokens) == 1
    name = extra["apim_eventhub_logger_name"].lower()
    assert reads(runs.apply2) == [f"GET service/{SERVICE}/loggers/{name}", f"GET service/{SERVICE}"], reads(runs.apply2)
