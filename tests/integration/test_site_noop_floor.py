"""The site playbook's no-op re-run at its floor (issue 17): one module run per kind of object the article
manages, no read-back tasks, no write, and the reads the modules need to compare (asserted exactly, so an extra
read or module run fails here). Counts, never times: speed is measured by bench/ (scenario site.noop)."""

from __future__ import annotations

from typing import Any

import pytest

from integration.harness import REPO_ROOT
from integration.reads_support import reads
from integration.site_support import FAST, add_legacy_hostname, site_vars, world_spec, writes

pytestmark = pytest.mark.integration

PLAYBOOK = REPO_ROOT / "playbooks" / "site_system_assigned.yml"
# One module run each: the identity, the Key Vault grant (with its preflight), the custom domains, the named values,
# the backend policy, the logger, the data-role assignments.
MODULE_RUNS = 7


def _module_runs(run: Any) -> int:
    """Module processes that called Azure: each signs in with one token request."""
    return len([e for e in run.requests if "/oauth2/" in e["path"] and e["path"].rstrip("/").endswith("/token")])


def test_site_noop_rerun_is_one_module_run_per_kind_of_object(world, playbook, local_azure):
    world(world_spec(), **FAST)
    add_legacy_hostname(local_azure)
    extra = site_vars(local_azure, "site_system_assigned")
    apply = playbook(PLAYBOOK, extra_vars=extra)
    assert apply.rc == 0 and writes(apply), apply.explain()
    again = playbook(PLAYBOOK, extra_vars=extra)
    assert again.rc == 0 and again.changed_tasks() == [], again.explain()
    assert writes(again) == []
    assert _module_runs(again) == MODULE_RUNS, [t["task"]["name"] for t in again.tasks()]
    # The module tasks that ran: one per kind of object, no read-back task.
    ran = [t["task"]["name"].split(" : ")[-1] for t in again.tasks()
           if t["task"]["action"].startswith("azure_apim.identity.")
           and t["hosts"].get("localhost", {}).get("_status") != "skipped"]
    assert ran == RAN, ran
    assert sorted(reads(again)) == sorted(EXPECTED_READS), "\n".join(["READS"] + sorted(reads(again)))


RAN = [
    "Enable the identities on the service",
    "Grant or revoke the identity's secret access",
    "Bind the hostnames to their certificates",
    "Ensure the Key Vault named values and wait until API Management reads their secrets",
    "Ensure the authentication-managed-identity elements",
    "Ensure the Event Hub logger with the managed identity",
    "Assign the data roles to the API Management identity",
]
# What the modules compare against (the service where an identity or principal is resolved or the hostnames live,
# the vault twice: the preflight and the grant); nothing is read back.
EXPECTED_READS = [
    "GET service/apim-contoso-demo",                          # apim_identity
    # keyvault_access with its preflight: one service read resolves the identity for both; the vault read by the
    # preflight, then again by the grant that may write it (a vault has no etag: the grant reads it just before)
    "GET service/apim-contoso-demo", "GET vaults/kv-contoso-demo", "GET vaults/kv-contoso-demo",
    "GET service/apim-contoso-demo",                          # apim_custom_domain
    "GET service/apim-contoso-demo/namedvalues/backend-api-key",  # with API Management's last read of the secret
    "GET service/apim-contoso-demo/policies/policy",
    "GET service/apim-contoso-demo/loggers/eventhub-logger",
    "GET service/apim-contoso-demo",                          # role_assignment: the identity's principal
    "GET storageaccounts/stcontosodemo/roleassignments",
    "GET namespaces/sb-contoso-demo/roleassignments",
    "GET namespaces/evhns-contoso-demo/roleassignments",
]
