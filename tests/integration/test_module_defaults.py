"""`module_defaults` with the collection's action group `group/azure_apim.identity.azure` supplies the connection
options of every module in a play (meta/runtime.yml lists every module in the group)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from harness.quartet import run_quartet, runs_of
from integration.harness import PlaybookResult, run_playbook

pytestmark = pytest.mark.integration

IDENTITY = "id-apim-defaults"


@dataclass
class _Connection:
    """Stands in for `local_azure` in the harness, with a chosen process environment instead of AWX's."""

    admin: Any
    values: dict[str, str]

    def env(self) -> dict[str, str]:
        """The AZURE_* variables the playbook process gets."""
        return self.values


@pytest.fixture
def run_with_env(local_azure: Any, tmp_path: Path):
    """`run_with_env(playbook, env, **kwargs)`: run with exactly `env` as the Azure-related environment."""
    runs = iter(range(1, 100))

    def run(playbook: str, env: dict[str, str], extra_vars: Optional[dict] = None, **kwargs: Any) -> PlaybookResult:
        local_azure.admin.clear_requests()
        return run_playbook(_Connection(local_azure.admin, env), playbook, tmp_path / f"run{next(runs)}",
                            extra_vars=extra_vars, **kwargs)

    return run


def _defaults_vars(local_azure: Any) -> dict[str, str]:
    """The connection as play variables (what a vault-encrypted vars file or a lookup would provide)."""
    return {"md_subscription_id": local_azure.subscription_id, "md_client_id": local_azure.client_id,
            "md_secret": local_azure.client_secret, "md_tenant": local_azure.tenant_id,
            "md_endpoint": local_azure.base_url, "md_ca_bundle": local_azure.ca_bundle}


def _misleading_env(local_azure: Any) -> dict[str, str]:
    """An environment naming another identity, subscription and cloud: explicit options must win over all of it."""
    return {"AZURE_SUBSCRIPTION_ID": "99999999-9999-9999-9999-999999999999",
            "AZURE_CLIENT_ID": "88888888-8888-8888-8888-888888888888",
            "AZURE_SECRET": "not-the-right-secret", "AZURE_TENANT": "77777777-7777-7777-7777-777777777777",
            "AZURE_CLOUD_ENVIRONMENT": "AzureCloud", "AZURE_RESOURCE_MANAGER_URL": "https://management.azure.com/",
            "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.com"}


def _identity_id(local_azure: Any) -> str:
    return f"{local_azure.rg_id('rg-apim-demo')}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{IDENTITY}"


def test_module_defaults_group_supplies_the_connection(world, local_azure, run_with_env) -> None:
    """check → apply → check → apply with every connection option from module_defaults and no AZURE_* environment
    at all, for both modules of the group."""
    world("demo", time_scale=0.01)
    extra = _defaults_vars(local_azure)

    # No task of the play may change on the re-runs; the client secret (a play variable here) is never shown.
    q = run_quartet(runs_of(run_with_env, "module_defaults_identity", {}, extra), None,
                    secrets=(local_azure.client_secret,))
    check, apply = q.check, q.apply
    predicted = check.task("Create the identity")
    assert predicted["changed"] and predicted["diff"]["before"] == {}
    assert predicted["diff"]["after"]["name"] == IDENTITY
    # Nothing was created by the check: the state right after it holds no such identity.
    assert _identity_id(local_azure).lower() not in {rid.lower() for rid in check.state["resources"]}

    created = apply.task("Create the identity")
    assert created["changed"] and created["diff"]["after"]["tags"] == {"configured_by": "module_defaults"}
    for task in ("Create the identity", "Read it back"):
        assert apply.task(task)["auth"] == _expected_auth(local_azure)
    assert [i["name"] for i in apply.task("Read it back")["identities"]] == [IDENTITY]
    stored = local_azure.admin.resource(_identity_id(local_azure))
    assert stored is not None and stored["tags"] == {"configured_by": "module_defaults"}
    assert len(apply.requests.writes()) == 1


def test_module_defaults_win_over_a_misleading_environment(world, local_azure, run_with_env) -> None:
    """An environment naming another identity, subscription and cloud (say, a stale AWX credential) does not
    override what module_defaults sets: explicit options always win, value by value."""
    world("demo", time_scale=0.01)
    extra = _defaults_vars(local_azure)
    apply = run_with_env("module_defaults_identity", _misleading_env(local_azure), extra)
    assert apply.rc == 0, apply.explain()
    assert apply.task("Create the identity")["auth"] == _expected_auth(local_azure)
    assert local_azure.admin.resource(_identity_id(local_azure)) is not None
    again = run_with_env("module_defaults_identity", _misleading_env(local_azure), extra, check=True)
    assert again.rc == 0 and again.changed_tasks() == [] and again.requests.writes() == []


def _expected_auth(local_azure: Any) -> dict[str, str]:
    """The `auth` return value when every setting came from module parameters."""
    return {"credential": "ClientSecretCredential", "source": "parameters", "cloud": "AzureCloud",
            "resource_manager_url": local_azure.base_url + "/", "client_id": local_azure.client_id}


def test_without_module_defaults_nothing_supplies_the_connection(world, local_azure, run_with_env) -> None:
    """The control case: the same task with neither module_defaults nor environment fails, saying what to set."""
    world("demo", time_scale=0.01)
    run = run_with_env("module_defaults_none", {})
    assert run.rc != 0
    failure = run.task("Create the identity")
    assert failure["error_code"] == "MissingSubscription"
    assert run.stats["localhost"]["failures"] == 1
    assert "subscription_id" in failure["msg"] and "AZURE_SUBSCRIPTION_ID" in failure["msg"]
    assert run.requests.writes() == []
