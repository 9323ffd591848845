"""Shared hostname list: foreign and built-in entries survive every operation; exclusive removes only what it should;
a writer busy on the service when the task starts loses nothing; inline certificates unblock identity removal."""
from __future__ import annotations

import json
import time
from typing import Any

from emulator import pfx

from integration.custom_domain_world import BUILTIN, RG, SERVICE, UAI, by_host, secret_id, seed, service_writes
from integration.test_custom_domain import TASK, quartet

API = "2024-05-01"
PORTAL = {"type": "Portal", "hostName": "portal.contoso.com",
          "keyVaultId": secret_id("kv-dom", "portal-contoso-com")}


def _service_path(local_azure: Any) -> str:
    return f"{local_azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{SERVICE}"


def _foreign_write(local_azure: Any, entries: list[dict]) -> Any:
    """Another writer (not this collection) PATCHes the hostname list directly."""
    arm = local_azure.arm()
    body = {"properties": {"hostnameConfigurations": entries}}
    return arm.request("PATCH", _service_path(local_azure), API, body, headers={"If-Match": "*"})


def _settle(local_azure: Any) -> None:
    arm = local_azure.arm()
    for _attempt in range(200):
        if arm.get(_service_path(local_azure), API).json()["properties"]["provisioningState"] == "Succeeded":
            return
        time.sleep(0.05)
    raise AssertionError("service did not settle")


def test_foreign_and_builtin_survive_add_change_and_remove_and_exclusive_is_scoped(world, local_azure, playbook):
    seed(world, local_azure)
    assert _foreign_write(local_azure, [PORTAL]).status_code == 202
    _settle(local_azure)
    local_azure.admin.clear_requests()

    add = {"dom_host": "api.contoso.com", "dom_secret_id": secret_id("kv-dom", "api-contoso-com")}
    applied = quartet(playbook, add)
    assert set(by_host(applied.state)) == {BUILTIN, "portal.contoso.com", "api.contoso.com"}
    sent = service_writes(applied.requests)[0]["body"]["properties"]["hostnameConfigurations"]
    assert {h["hostName"] for h in sent} == {BUILTIN, "portal.contoso.com", "api.contoso.com"}

    change = dict(add, dom_identity=UAI)
    changed = quartet(playbook, change)
    held = by_host(changed.state)
    assert held["api.contoso.com"]["identityClientId"] == changed.task(TASK)["hostname"]["identity_client_id"]
    assert held["portal.contoso.com"]["keyVaultId"] == PORTAL["keyVaultId"] and BUILTIN in held

    extra = {"dom_host": "scm.contoso.com", "dom_type": "Scm",
             "dom_secret_id": secret_id("kv-dom", "portal-contoso-com")}
    assert playbook("custom_domain_one", extra_vars=extra).rc == 0
    # Exclusive: keep api (ours) and scm (listed); portal goes; the built-in entry always stays.
    exclusive = dict(change, dom_exclusive=True, dom_keep=["SCM.contoso.com"])
    purged = quartet(playbook, exclusive)
    assert set(by_host(purged.state)) == {BUILTIN, "api.contoso.com", "scm.contoso.com"}
    assert purged.task(TASK)["removed_host_names"] == ["portal.contoso.com"]
    diff_after = [h["host_name"] for h in purged.task(TASK)["diff"]["after"]["hostname_configurations"]]
    assert "portal.contoso.com" not in diff_after and BUILTIN in diff_after

    gone = quartet(playbook, {"dom_host": "api.contoso.com", "dom_state": "absent"})
    assert set(by_host(gone.state)) == {BUILTIN, "scm.contoso.com"}
    assert gone.task(TASK)["hostname"] == {} and gone.task(TASK)["removed_host_names"] == ["api.contoso.com"]


def test_writer_busy_on_the_service_when_the_task_starts_loses_nothing(world, local_azure, playbook):
    seed(world, local_azure)
    # The other writer's PATCH keeps the service Updating for ~1.5 s (150 Azure seconds); the task must wait for it,
    # read the list it produced and merge into that list.
    local_azure.admin.config(apim_update_s=150)
    assert _foreign_write(local_azure, [PORTAL]).status_code == 202
    run = playbook("custom_domain_one", extra_vars={"dom_host": "api.contoso.com",
                                                    "dom_secret_id": secret_id("kv-dom", "api-contoso-com")})
    assert run.rc == 0, run.explain()
    assert set(by_host(run.state)) == {BUILTIN, "portal.contoso.com", "api.contoso.com"}
    ours = [w for w in service_writes(run.requests) if w["method"] == "PATCH"]
    assert ours and {h["hostName"] for h in ours[-1]["body"]["properties"]["hostnameConfigurations"]} == \
        {BUILTIN, "portal.contoso.com", "api.contoso.com"}


def test_two_jobs_binding_hostnames_at_the_same_time_keep_both(world, local_azure, playbook):
    seed(world, local_azure)
    local_azure.admin.config(apim_update_s=60)
    run = playbook("custom_domain_parallel", extra_vars={
        "dom_a": {"host_name": "a.contoso.com", "secret": secret_id("kv-dom", "api-contoso-com")},
        "dom_b": {"host_name": "b.contoso.com", "secret": secret_id("kv-dom", "portal-contoso-com")}})
    assert run.rc == 0, run.explain()
    assert set(by_host(run.state)) == {BUILTIN, "a.contoso.com", "b.contoso.com"}


def test_inline_certificate_unblocks_identity_removal(world, local_azure, playbook):
    seed(world, local_azure)
    bound = playbook("custom_domain_one", extra_vars={"dom_host": "api.contoso.com",
                                                      "dom_secret_id": secret_id("kv-dom", "api-contoso-com")})
    assert bound.rc == 0, bound.explain()
    off = "Disable the system-assigned identity"
    refused = playbook("custom_domain_identity_off")
    assert refused.task(off)["_status"] == "failed" and refused.task(off)["error_code"] == "IdentityInUse"
    assert "api.contoso.com" in refused.task(off)["msg"]
    assert refused.requests.writes() == []

    password = "Inline-Pfx-Pass-314"
    blob = pfx.make_pfx_b64("api.contoso.com", days=200, password=password)
    inline = {"dom_host": "api.contoso.com", "dom_certificate": blob, "dom_certificate_password": password}
    switched = quartet(playbook, inline)
    held = by_host(switched.state)["api.contoso.com"]
    assert held["certificateSource"] == "Custom" and held["keyVaultId"] is None
    assert held["certificate"]["thumbprint"] == switched.task(TASK)["hostname"]["certificate"]["thumbprint"]
    everything = switched.stdout + switched.stderr + json.dumps(switched.result)
    assert password not in everything and blob[:64] not in everything

    allowed = playbook("custom_domain_identity_off")
    assert allowed.rc == 0 and allowed.task(off)["_status"] == "ok", allowed.explain()
    assert allowed.task(off)["changed"] is True
    service = next(v for k, v in allowed.state["resources"].items() if k.lower().endswith("/service/" + SERVICE))
    assert service["identity"]["type"] == "UserAssigned"
    assert by_host(allowed.state)["api.contoso.com"]["certificateSource"] == "Custom"
