# Private to the azure_apim.identity test suite.
"""Scenarios 32-34 (issue 15): every task keeps its deadline, and a concurrent writer loses nothing.

32. A slow or hanging token endpoint (Entra ID's, the managed identity endpoint's, the workload identity exchange):
    the task fails with a sign-in deadline message, sends nothing to ARM, and the re-run converges.
33. 412: another writer changes the resource between our read and our write (the local Azure's `concurrent_write`
    fault sends the other writer's request through its own handlers; its real If-Match check then refuses ours).
    The module re-reads and re-applies within the deadline; the other writer's change is kept; the re-run is a no-op.
34. No task outlives its `timeout` by more than one poll interval under any fault the local Azure can inject.

About the wall-clock figures in scenarios 32 and 34: they are a bound check on a documented contract ("a task ends
at most one poll interval after its timeout"), not a speed assertion. The bound is measured around the whole
module process, interpreter start included, and is never tightened to what a fast machine achieves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from reliability.conftest import require_modules
from reliability.snapshot import foreign_view
from reliability.worlds import (DOMAIN_HOST, DOMAIN_RBAC_VAULT, FAST, FOREIGN_IDENTITY, RG, SERVICE, attached, ids,
                                rel_world, seed_rbac_domain, service_of)

require_modules("apim_identity", "apim_named_value", "apim_subnet_service_endpoint", "user_assigned_identity",
                "apim_custom_domain", "keyvault_access")

# The contract's slack: the modules poll long-running operations every 5 s when Azure sends no Retry-After
# (AzureApimModule's DEFAULT_POLLING_INTERVAL); a task may end at most that long after its timeout.
POLL_INTERVAL_S = 5.0
TOKEN_PATH = r"/oauth2/v2\.0/token$"
MSI_PATH = r"/msi/token$"
# Long enough to outlast any task below; cleared (and so released) at the end of each scenario.
HANG_S = 120.0
APIM_API = "2024-05-01"
NETWORK_API = "2024-05-01"
SUBNET = "/providers/Microsoft.Network/virtualNetworks/vnet-rel/subnets/snet-apim"


def _within_bound(run, timeout: float) -> None:
    """The contract: the module process ended no later than its timeout plus one poll interval."""
    assert run.elapsed <= timeout + POLL_INTERVAL_S, (
        f"the task ran {run.elapsed:.1f} s with timeout {timeout} s (bound: timeout + {POLL_INTERVAL_S} s)\n"
        + run.explain())


def _names_deadline(run, timeout: float) -> None:
    text = run.msg.lower()
    assert "timeout" in text, "the message must name the task's timeout\n" + run.explain()


def _token_requests(run) -> list:
    return [e for e in run.requests if e["path"].endswith(("/oauth2/v2.0/token", "/msi/token"))]


def _ours(entries) -> list:
    """Requests the module sent (not the other writer a `concurrent_write` fault let in)."""
    return [e for e in entries if not e.get("actor")]


def _our_writes(run) -> list:
    return _ours(run.writes())


# --- 32: slow / hanging token endpoint ------------------------------------------------------------------------------


def _msi_env(rel) -> dict[str, str]:
    return {**rel.azure.msi_env(), "ANSIBLE_AZURE_AUTH_SOURCE": "msi", "AZURE_SECRET": "", "AZURE_CLIENT_ID": ""}


def _workload_env(rel, tmp_path: Path) -> dict[str, str]:
    """A workload identity (id-rel-wl, federated with the local issuer, Contributor on the group) and its token."""
    subject = "system:serviceaccount:ops:ansible"
    rel.admin.seed({"resource_groups": [{"name": RG, "user_assigned_identities": [
        {"name": "id-rel-wl", "federated_credentials": [{"name": "awx", "subject": subject}]}]}]})
    principal = rel.state()["resources"][(ids(rel.azure.subscription_id)["uai"] + "id-rel-wl").lower()]["properties"]
    rel.admin.seed({"role_assignments": [{"scope": ids(rel.azure.subscription_id)["rg"], "role": "Contributor",
                                          "principal": principal["principalId"]}]})
    token_file = tmp_path / "federated-token"
    token_file.write_text(rel.admin.federated_token(subject)["token"], encoding="utf-8")
    return {"ANSIBLE_AZURE_AUTH_SOURCE": "workload_identity", "AZURE_SECRET": "",
            "AZURE_CLIENT_ID": principal["clientId"], "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}


SIGN_INS: dict[str, tuple[str, str, Callable[..., dict[str, str]], str]] = {
    # sign-in -> (method, path of its token endpoint, extra environment, azure-identity credential)
    "client_secret": ("POST", TOKEN_PATH, lambda rel, tmp: {}, "ClientSecretCredential"),
    "managed_identity": ("GET", MSI_PATH, lambda rel, tmp: _msi_env(rel), "ManagedIdentityCredential"),
    "workload_identity": ("POST", TOKEN_PATH, _workload_env, "WorkloadIdentityCredential"),
}


@pytest.mark.scenario(32, "slow / hanging token endpoint vs the task deadline")
@pytest.mark.parametrize("sign_in", sorted(SIGN_INS))
def test_hanging_token_endpoint_ends_the_task_at_its_deadline(rel, record, tmp_path, sign_in):
    rel.seed(rel_world(), **FAST)
    method, path, env_for, credential = SIGN_INS[sign_in]
    env = env_for(rel, tmp_path)
    before = foreign_view(rel.state())
    args = {"resource_group": RG, "name": "id-rel-deadline", "location": "westeurope", "timeout": 8}
    rel.fault(method=method, path=path, delay_s=HANG_S)
    try:
        run = rel.run("user_assigned_identity", args, env=env)
    finally:
        rel.clear_faults()  # releases the held request
    assert run.failed and run.result.get("error_code") == "SignInTimeout", run.explain()
    assert "timeout of 8 s" in run.msg and "token endpoint" in run.msg, run.explain()
    assert run.result["auth"]["credential"] == credential, run.explain()
    assert run.requests.arm() == [] or all("/oauth2/" in e["path"] or "/msi/" in e["path"]
                                           for e in run.requests.arm()), "no ARM request without a token"
    assert len(_token_requests(run)) == 1, "no attempt may start after the deadline\n" + run.explain()
    _within_bound(run, 8)
    assert foreign_view(rel.state()) == before
    # The endpoint answers again: the same task converges, and its re-runs are no-ops.
    runs = rel.quartet("user_assigned_identity", {k: v for k, v in args.items() if k != "timeout"}, env=env)
    record(writes=len(runs["apply"].writes()), reruns=1)


@pytest.mark.scenario(32, "slow / hanging token endpoint vs the task deadline")
def test_slow_token_endpoint_within_the_deadline_is_waited_for(rel, record):
    """A token endpoint that is slow but answers within the timeout is not an error."""
    rel.seed(rel_world(), **FAST)
    args = {"resource_group": RG, "name": "id-rel-slow-sign-in", "location": "westeurope", "timeout": 30}
    rel.fault(method="POST", path=TOKEN_PATH, delay_s=3.0, times=1)
    run = rel.run("user_assigned_identity", args)
    rel.clear_faults()
    assert not run.failed and run.changed, run.explain()
    assert [e["method"] for e in run.writes()] == ["PUT"]
    record(writes=1, reruns=0)


# --- 33: 412, another writer between our read and our write ---------------------------------------------------------


def _concurrent(rel, method: str, path: str, api_version: str, body: dict) -> dict[str, Any]:
    """A fault rule: when our write `method path$` arrives, the other writer's request goes first (and finishes)."""
    return {"method": method, "path": path.rsplit("/", 1)[-1] + "$", "times": 1,
            "concurrent_write": {"method": method, "path": path,
                                 "api_version": api_version, "body": body, "settle": True}}


def _refused_then_applied(run, method: str, path_part: str) -> None:
    ours = _ours(run.requests.matching(method, path_part))
    assert [e["status"] for e in ours][:1] == [412], "our first write must meet the other writer's change\n" \
        + run.explain()
    assert len(ours) == 2 and ours[1]["status"] < 300, run.explain()
    theirs = [e for e in run.requests if e.get("actor")]
    assert len(theirs) == 1 and theirs[0]["status"] < 300, run.explain()
    first_read_of_ours_after = [e for e in _ours(run.requests.matching("GET", path_part))
                                if e["seq"] > ours[0]["seq"] and e["seq"] < ours[1]["seq"]]
    assert first_read_of_ours_after, "the second write must come from a fresh read\n" + run.explain()


@pytest.mark.scenario(33, "412: another writer between our read and our write")
def test_service_identity_patch_keeps_the_other_writers_identity(rel, record):
    rel.seed(rel_world(), **FAST)
    sid = ids(rel.azure.subscription_id)
    before = foreign_view(rel.state(), shared={sid["service"]: ["identity", "tags"]})
    theirs = {"tags": {"owner": "other-team", "changed-by": "other-writer"},
              "identity": {"type": "SystemAssigned, UserAssigned",
                           "userAssignedIdentities": {sid["uai"] + FOREIGN_IDENTITY: {}, sid["uai"] + "id-rel-b": {}}}}
    fault = _concurrent(rel, "PATCH", sid["service"], APIM_API, theirs)
    args = {"resource_group": RG, "service_name": SERVICE, "user_assigned_identities": ["id-rel-a"], "timeout": 120}
    runs = rel.quartet("apim_identity", args, faults=[fault])
    apply = runs["apply"]
    _refused_then_applied(apply, "PATCH", f"/service/{SERVICE}")
    service = service_of(rel, runs["apply_again"].state)
    assert attached(service) == {FOREIGN_IDENTITY, "id-rel-a", "id-rel-b"}, "both writers' identities are attached"
    assert service["tags"] == theirs["tags"], "the other writer's tags are kept"
    rel.assert_foreign_unchanged(before, foreign_view(runs["apply_again"].state,
                                                      shared={sid["service"]: ["identity", "tags"]}))
    record(writes=len(_our_writes(apply)), reruns=0)


def _subnet_world() -> dict:
    return rel_world(
        network_security_groups=[{"name": "nsg-rel", "rules": []}],
        virtual_networks=[{"name": "vnet-rel", "address_prefixes": ["10.20.0.0/16"],
                           "subnets": [{"name": "snet-apim", "address_prefix": "10.20.1.0/24", "nsg": "nsg-rel"}]}],
    )


@pytest.mark.scenario(33, "412: another writer between our read and our write")
def test_subnet_put_keeps_the_other_writers_endpoint(rel, record):
    rel.seed(_subnet_world(), **FAST)
    subnet_id = ids(rel.azure.subscription_id)["rg"] + SUBNET
    current = rel.azure.arm().get(subnet_id, NETWORK_API).json()
    theirs = {"properties": {**current["properties"],
                             "serviceEndpoints": [{"service": "Microsoft.Storage", "locations": ["westeurope"]}]}}
    theirs["properties"].pop("provisioningState", None)
    before = foreign_view(rel.state(), shared={subnet_id: ["properties.serviceEndpoints"]})
    fault = _concurrent(rel, "PUT", subnet_id, NETWORK_API, theirs)
    runs = rel.quartet("apim_subnet_service_endpoint", {"subnet_id": subnet_id, "timeout": 120}, faults=[fault])
    apply = runs["apply"]
    _refused_then_applied(apply, "PUT", "/subnets/snet-apim")
    endpoints = rel.state()["resources"][subnet_id.lower()]["properties"]["serviceEndpoints"]
    assert sorted(e["service"] for e in endpoints) == ["Microsoft.KeyVault", "Microsoft.Storage"], endpoints
    rel.assert_foreign_unchanged(before, foreign_view(rel.state(), shared={subnet_id: ["properties.serviceEndpoints"]}))
    record(writes=len(_our_writes(apply)), reruns=0)


@pytest.mark.scenario(33, "412: another writer between our read and our write")
def test_named_value_update_keeps_the_other_writers_tags(rel, record):
    rel.seed(rel_world(), **FAST)
    base = {"resource_group": RG, "service_name": SERVICE, "name": "shared-setting", "value": "blue"}
    created = rel.run("apim_named_value", {**base, "tags": ["ours-1"]})
    assert not created.failed, created.explain()
    nv_path = ids(rel.azure.subscription_id)["service"] + "/namedValues/shared-setting"
    before = foreign_view(rel.state(), owned=[nv_path])
    fault = _concurrent(rel, "PATCH", nv_path, APIM_API, {"properties": {"tags": ["ours-1", "theirs"]}})
    args = {**base, "tags": ["ours-2"], "timeout": 120}
    runs = rel.quartet("apim_named_value", args, faults=[fault])
    apply = runs["apply"]
    _refused_then_applied(apply, "PATCH", "/namedValues/shared-setting")
    stored = rel.state()["resources"][nv_path.lower()]["properties"]
    assert set(stored["tags"]) == {"ours-1", "theirs", "ours-2"}, stored
    rel.assert_foreign_unchanged(before, foreign_view(rel.state(), owned=[nv_path]))
    record(writes=len(_our_writes(apply)), reruns=0)


# --- 34: every fault class vs the task deadline -----------------------------------------------------------------------


IDENTITY_ARGS = {"resource_group": RG, "service_name": SERVICE, "user_assigned_identities": ["id-rel-a"]}
HOST = DOMAIN_HOST
KV_RBAC = DOMAIN_RBAC_VAULT


def _seed_plain(rel) -> None:
    rel.seed(rel_world(), **FAST)


def _seed_slow_lro(rel) -> None:
    # An APIM update that takes 10 Azure minutes at real speed: far beyond the task's timeout.
    # Identity replication stays at its realistic default.
    rel.seed(rel_world(), time_scale=1.0, apim_update_s=600.0)


def _seed_lost_status_slow(rel) -> None:
    _seed_slow_lro(rel)
    rel.fault(method="GET", path="/operationresults/", status=404,
              body={"error": {"code": "NotFound", "message": "The operation was not found."}})


def _seed_unregistered(rel) -> None:
    rel.seed(dict(rel_world(), unregistered_providers=["Microsoft.ApiManagement"]), **FAST)


def _seed_rbac_forever(rel) -> None:
    # The grant never propagates within the task (the local Azure's realistic 10 minutes, at real speed); identity
    # replication stays at its realistic default.
    seed_rbac_domain(rel, {"time_scale": 1.0, "rbac_propagation_s": 600.0, "apim_update_s": 1.0})


def _fault(**rule: Any) -> Callable[[Any], None]:
    def seed(rel) -> None:
        _seed_plain(rel)
        rel.fault(**rule)
    return seed


DOMAIN_ARGS = {"resource_group": RG, "service_name": SERVICE, "host_name": HOST,
               "key_vault_secret_id": f"https://{KV_RBAC}.vault.azure.net/secrets/api-rel-contoso-com"}

# fault class -> (seed the world and arm the fault, module, args, timeout, error code the run ends with: None means
# "a deadline error", whose message must name the timeout; a code means the fault has an answer of its own that ends
# the task before the deadline, e.g. MissingSubscriptionRegistration, which is never waited for)
FAULT_CLASSES: dict[str, tuple[Callable[[Any], None], str, dict[str, Any], int, Optional[str]]] = {
    "slow LRO": (_seed_slow_lro, "apim_identity", IDENTITY_ARGS, 10, None),
    "429 storm with Retry-After": (_fault(method="GET", path=f"/service/{SERVICE}$", status=429,
                                          headers={"Retry-After": "3"}), "apim_identity", IDENTITY_ARGS, 10, None),
    # azure-core retries a 503 three times (about 6 s of backoff): a timeout shorter than that is what the
    # deadline has to cut.
    "5xx storm": (_fault(method="GET", path=f"/service/{SERVICE}$", status=503), "apim_identity", IDENTITY_ARGS, 4,
                  None),
    "hanging response (read timeout)": (_fault(method="GET", path=f"/service/{SERVICE}$", delay_s=HANG_S),
                                        "apim_identity", IDENTITY_ARGS, 10, None),
    "lost status URL during a slow LRO": (_seed_lost_status_slow, "apim_identity", IDENTITY_ARGS, 10, None),
    "MissingSubscriptionRegistration": (_seed_unregistered, "apim_identity", IDENTITY_ARGS, 10,
                                        "MissingSubscriptionRegistration"),
    "slow token endpoint": (_fault(method="POST", path=TOKEN_PATH, delay_s=HANG_S), "apim_identity", IDENTITY_ARGS,
                            10, None),
    "RBAC propagation never completing": (_seed_rbac_forever, "apim_custom_domain", DOMAIN_ARGS, 10, None),
}


@pytest.mark.scenario(34, "no task outlives its timeout by more than one poll interval, whatever the fault")
@pytest.mark.parametrize("fault_class", list(FAULT_CLASSES))
def test_no_task_outlives_its_timeout(rel, record, fault_class):
    seed, module, args, timeout, own_code = FAULT_CLASSES[fault_class]
    seed(rel)
    before = foreign_view(rel.state(), shared={ids(rel.azure.subscription_id)["service"]:
                                               ["identity", "properties.hostnameConfigurations"]})
    try:
        run = rel.run(module, {**args, "timeout": timeout})
    finally:
        rel.clear_faults()
    _within_bound(run, timeout)
    assert run.failed, "every fault here outlasts the timeout: the task must not report success\n" + run.explain()
    if own_code is None:
        _names_deadline(run, timeout)
    else:
        assert run.result.get("error_code") == own_code, run.explain()
    after = foreign_view(rel.state(), shared={ids(rel.azure.subscription_id)["service"]:
                                              ["identity", "properties.hostnameConfigurations"]})
    rel.assert_foreign_unchanged(before, after)
    record(writes=len(run.writes()), reruns=0)
