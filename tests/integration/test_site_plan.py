"""Check mode plans the whole article on a service that lacks its identity or its Key Vault grant: every step
predicts its change from what earlier tasks of the same run are about to create (the ``assume`` hand-over), the run
sends zero writes, the apply then changes exactly the tasks the check announced, and a prerequisite that nothing in
the play creates still fails."""

from __future__ import annotations

from typing import Any

import pytest

from harness.diffs import compare_runs
from integration.harness import REPO_ROOT
from integration.site_support import (
    FAST, SECRET_VALUE, add_legacy_hostname, assert_no_secret, site_vars, world_spec, writes,
)

pytestmark = pytest.mark.integration

PLAYBOOKS = REPO_ROOT / "playbooks"
UNKNOWN = "(known after apply)"
# The tasks that must announce a change on a fresh service: the article's every step.
ARTICLE_TASKS = (
    "azure_apim.identity.apim_identity : Enable the identities on the service",
    "azure_apim.identity.apim_keyvault_access : Grant or revoke the identity's secret access",
    "azure_apim.identity.apim_custom_domains : Bind the hostnames to their certificates",
    "azure_apim.identity.apim_named_values : Ensure the Key Vault named values and wait until API Management reads "
    "their secrets",
    "azure_apim.identity.apim_backend_auth : Ensure the authentication-managed-identity elements",
    "azure_apim.identity.apim_eventhub_logger : Ensure the Event Hub logger with the managed identity",
    "azure_apim.identity.apim_trusted_access : Assign the data roles to the API Management identity",
)


def _seed(world: Any, local_azure: Any) -> None:
    world(world_spec(), **FAST)
    add_legacy_hostname(local_azure)


def _changed(run: Any) -> list[str]:
    return sorted(set(run.changed_tasks()))


def _check_then_apply(playbook: Any, name: str, extra: dict) -> tuple:
    check = playbook(PLAYBOOKS / name, extra_vars=extra, check=True, diff=True,
                     env={"ANSIBLE_CALLBACKS_ENABLED": "json_result,azure_apim.identity.plan"})
    assert "PLAN (check mode: nothing was written)" in check.stdout, check.stdout[-3000:]
    assert check.rc == 0, check.explain()
    assert writes(check) == [], writes(check)
    apply = playbook(PLAYBOOKS / name, extra_vars=extra, diff=True)
    assert apply.rc == 0, apply.explain()
    # The apply changes exactly the tasks the check announced, and each diff as predicted but for the values only
    # the apply knows.
    assert _changed(check) == _changed(apply), (_changed(check), _changed(apply))
    assert compare_runs(check, apply) == {}
    again = playbook(PLAYBOOKS / name, extra_vars=extra, check=True, diff=True)
    assert again.rc == 0 and again.changed_tasks() == [], again.explain()
    for run in (check, apply, again):
        assert_no_secret(run, (SECRET_VALUE,))
    return check, apply


@pytest.mark.parametrize("name", ["site_system_assigned", "site_user_assigned"])
def test_check_plans_the_whole_article_on_a_fresh_service(world, playbook, local_azure, name):
    _seed(world, local_azure)
    check, _apply = _check_then_apply(playbook, name + ".yml", site_vars(local_azure, name))
    for task in ARTICLE_TASKS:
        assert task in check.changed_tasks(), (task, check.changed_tasks())
    grant = check.task("azure_apim.identity.apim_keyvault_access : Grant or revoke the identity's secret access")
    assert UNKNOWN in str(grant["diff"]), grant["diff"]
    assert any("assum" in w for w in grant.get("warnings", [])), grant.get("warnings")
    plan = check.stdout[check.stdout.index("PLAN ("):]
    assert "+ azure_apim.identity.apim_keyvault_access : Grant" in plan, plan
    assert "known after apply" in plan and "to create" in plan, plan


def test_check_plans_the_grant_when_the_identity_exists(world, playbook, local_azure):
    """Identity present, Key Vault grant missing: the hostname and named value steps assume the planned grant."""
    _seed(world, local_azure)
    extra = site_vars(local_azure, "site_system_assigned")
    first = playbook(PLAYBOOKS / "site_system_assigned.yml", extra_vars=extra, tags=["identity"])
    assert first.rc == 0, first.explain()
    check, _apply = _check_then_apply(playbook, "site_system_assigned.yml", extra)
    assert ARTICLE_TASKS[0] not in check.changed_tasks()
    for task in ARTICLE_TASKS[1:]:
        assert task in check.changed_tasks(), (task, check.changed_tasks())
    bind = check.task(ARTICLE_TASKS[2])
    assert any("read access" in w for w in bind.get("warnings", [])), bind.get("warnings")


def test_check_fails_when_nothing_in_the_play_creates_the_prerequisite(world, playbook, local_azure):
    """Only the hostname step on a service without its identity: nothing plans the identity, so check mode fails
    with the apply's error instead of assuming it."""
    _seed(world, local_azure)
    extra = site_vars(local_azure, "site_system_assigned")
    check = playbook(PLAYBOOKS / "site_system_assigned.yml", extra_vars=extra, check=True, diff=True, tags=["domains"])
    assert check.rc != 0
    failed = [t for t in check.tasks() if t["hosts"].get("localhost", {}).get("_status") == "failed"]
    assert failed, check.explain()
    assert "system-assigned identity is not enabled" in str(failed[0]["hosts"]["localhost"]), check.explain()
    assert writes(check) == []
