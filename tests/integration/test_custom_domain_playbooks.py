"""The shipped playbooks (article scenario: system-assigned identity; and its user-assigned variant) end to end on the
demo world: apply, then an idempotent check and apply that change and write nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.quartet import assert_idempotent, runs_of
from integration.custom_domain_world import by_host, identity_client_id

REPO = Path(__file__).resolve().parents[2]
NEEDED = ("apim_identity", "keyvault_access")
pytestmark = pytest.mark.skipif(
    not all((REPO / "plugins" / "modules" / f"{m}.py").exists() for m in NEEDED),
    reason="the playbooks chain apim_identity and keyvault_access, which are not in this tree yet")


@pytest.mark.parametrize("scenario", ["system_assigned", "user_assigned"])
def test_playbook_binds_the_demo_certificate_and_is_idempotent(world, playbook, scenario):
    world("demo", time_scale=0.01)
    book = REPO / "playbooks" / f"custom_domain_{scenario}.yml"
    extra = yaml.safe_load((REPO / "playbooks" / "vars" / f"custom_domain_{scenario}.yml").read_text())
    first = playbook(book, extra_vars=extra)
    assert first.rc == 0, first.explain()
    held = by_host(first.state, extra["custom_domain_service_name"])
    wanted = extra["custom_domain_hostnames"][0]
    entry = held[wanted["host_name"]]
    assert entry["certificateSource"] == "KeyVault" and entry["certificate"]["subject"] == "CN=api.contoso.com"
    if scenario == "user_assigned":
        assert entry["identityClientId"] == identity_client_id(first.state, extra["custom_domain_identity"])
    else:
        assert entry["identityClientId"] is None
    assert "apim-contoso-demo.azure-api.net" in held
    assert_idempotent(runs_of(playbook, book, extra_vars=extra), diff=False)
