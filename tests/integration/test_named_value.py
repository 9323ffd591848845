"""apim_named_value against the local Azure: plain and Key Vault named values, both identity kinds, lastStatus
waiting, ETag-guarded updates, bad input, and secrets that never show."""

from __future__ import annotations

import pytest

from harness.quartet import assert_idempotent, runs_of
from integration.nv_support import (
    FAST, KV_POLICY, KV_RBAC, PLAIN_SECRET, RG, SECRET_VALUE, UAMI, assert_no_secret, assert_quartet,
    resource, service_id, world_spec, writes,
)
from integration.reads_support import reads, service_reads

pytestmark = pytest.mark.integration

TASK = "Named value"
PLAYBOOK = "nv_named_value"


def _secret_uri(vault: str) -> str:
    return f"https://{vault}.vault.azure.net/secrets/backend-key"


def _stored(run, azure, name):
    """The named value as ARM returns it now (the state snapshot masks 'secret' and 'value' keys)."""
    resp = azure.arm().get(f"{service_id(azure)}/namedValues/{name}", "2024-05-01")
    if resp.status_code == 404:
        return None
    assert resp.status_code == 200, resp.text
    return resp.json()


def _uami(run, name=UAMI):
    return next(r for r in run.state["resources"].values()
                if r.get("type", "").lower() == "microsoft.managedidentity/userassignedidentities" and r["name"] == name)


def _grant_access_policy(azure, vault: str, object_id: str) -> None:
    """Another team grants the identity 'secrets get' on the vault (outside the module under test)."""
    path = f"{azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/{vault}/accessPolicies/add"
    resp = azure.arm().put(path, {"properties": {"accessPolicies": [{
        "tenantId": azure.tenant_id, "objectId": object_id, "permissions": {"secrets": ["get"]}}]}},
        api_version="2023-07-01")
    assert resp.status_code in (200, 201), resp.text


def _grant_rbac(azure, vault: str, principal_id: str) -> None:
    """Key Vault Secrets User on the vault for the principal (RBAC propagation starts now)."""
    import uuid

    scope = f"{azure.rg_id(RG)}/providers/Microsoft.KeyVault/vaults/{vault}"
    role = f"/subscriptions/{azure.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/" \
           "4633458b-17de-408a-b874-0445c86b69e6"
    resp = azure.arm().put(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
                           {"properties": {"roleDefinitionId": role, "principalId": principal_id,
                                           "principalType": "ServicePrincipal"}}, api_version="2022-04-01")
    assert resp.status_code in (200, 201), resp.text


def test_plain_secret_value_quartet_and_never_shown(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = {"nv_name": "plain-token", "nv_value": PLAIN_SECRET, "nv_secret": True, "nv_tags": ["ops"]}
    runs = assert_quartet(playbook, PLAYBOOK, extra, TASK, secrets=(PLAIN_SECRET,))
    check = runs.check
    apply = runs.apply
    assert check.task(TASK)["diff"]["after"]["display_name"] == "plain-token"
    assert apply.task(TASK)["diff"]["before"] == {}
    stored = _stored(apply, local_azure, "plain-token")
    assert stored["properties"]["secret"] is True
    assert stored["properties"]["tags"] == ["ops"]
    # the create sent the value (masked in the log), and no run ever asked for it back
    assert [w["method"] for w in writes(apply)] == ["PUT"]
    info = apply.task("Named values of the service")["named_values"]
    assert [(i["name"], i["secret"]) for i in info] == [("plain-token", True)]


def test_plain_secret_value_rotates_only_with_update_secret_always(world, playbook, local_azure):
    world(world_spec(), **FAST)
    base = {"nv_name": "rotating", "nv_value": PLAIN_SECRET, "nv_secret": True}
    assert playbook(PLAYBOOK, extra_vars=base).rc == 0
    unchanged = playbook(PLAYBOOK, extra_vars={**base, "nv_value": "another-value-9d1"})
    assert unchanged.task(TASK)["changed"] is False and writes(unchanged) == []
    rotate = {**base, "nv_value": "rotated-value-c44", "nv_update_secret": "always"}
    check = playbook(PLAYBOOK, extra_vars=rotate, check=True)
    assert check.task(TASK)["changed"] is True and writes(check) == []
    rotated = playbook(PLAYBOOK, extra_vars=rotate, diff=True, verbosity=3)
    assert rotated.task(TASK)["changed"] is True, rotated.explain()
    assert [w["method"] for w in writes(rotated)] == ["PATCH"]
    assert_no_secret(rotated, ("rotated-value-c44", PLAIN_SECRET))
    value = local_azure.arm().request("POST", f"{service_id(local_azure)}/namedValues/rotating/listValue",
                                      "2024-05-01").json()["value"]
    assert value == "rotated-value-c44"


def test_plain_visible_value_is_compared(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = {"nv_name": "region", "nv_value": "westeurope"}
    assert_quartet(playbook, PLAYBOOK, extra, TASK)
    changed = playbook(PLAYBOOK, extra_vars={**extra, "nv_value": "northeurope"}, diff=True)
    assert changed.task(TASK)["changed"] is True
    assert [w["method"] for w in writes(changed)] == ["PATCH"]
    assert _stored(changed, local_azure, "region")["properties"]["value"] == "northeurope"


@pytest.mark.parametrize("identity", ["system", UAMI])
def test_key_vault_named_value_turns_success_after_the_grant(world, playbook, local_azure, identity):
    world(world_spec(), **FAST)
    extra = {"nv_name": "backend-key", "nv_secret_id": _secret_uri(KV_POLICY), "nv_identity": identity}
    runs = assert_quartet(playbook, PLAYBOOK, extra, TASK, secrets=(SECRET_VALUE,))
    apply = runs.apply
    apply2 = runs.apply2
    stored = _stored(apply, local_azure, "backend-key")["properties"]
    svc = resource(apply.state, service_id(local_azure))
    if identity == "system":
        assert stored["keyVault"].get("identityClientId") is None  # omitted for the system-assigned identity
        principal = svc["identity"]["principalId"]
    else:
        uami = _uami(apply)
        assert stored["keyVault"]["identityClientId"] == uami["properties"]["clientId"]
        principal = uami["properties"]["principalId"]
    assert stored["secret"] is True
    # nobody granted access yet: the module reports it, with Key Vault's reason, as a warning
    result = apply2.task(TASK)
    assert result["last_status"]["code"] != "Success"
    assert "secrets get" in result["last_status"]["message"]
    assert any("cannot read the Key Vault secret" in w for w in result.get("warnings", []))
    # waiting fails within the deadline with lastStatus' message
    failed = playbook(PLAYBOOK, extra_vars={**extra, "nv_wait": True, "nv_wait_interval": 1, "nv_timeout": 8})
    assert failed.rc != 0
    msg = failed.task(TASK)["msg"]
    assert "still cannot read the Key Vault secret" in msg and "secrets get permission" in msg, msg
    # the grant arrives; the wait refreshes and succeeds
    _grant_access_policy(local_azure, KV_POLICY, principal)
    ok = playbook(PLAYBOOK, extra_vars={**extra, "nv_wait": True, "nv_wait_interval": 1, "nv_timeout": 60})
    assert ok.rc == 0, ok.explain()
    assert ok.task(TASK)["last_status"]["code"] == "Success"
    assert ok.task(TASK)["secret_refreshes"] >= 1
    assert [w["path"].rsplit("/", 1)[-1] for w in writes(ok)] == ["refreshSecret"] * ok.task(TASK)["secret_refreshes"]
    assert_no_secret(ok, (SECRET_VALUE,))
    # and once readable, a re-run with wait sends nothing
    again = playbook(PLAYBOOK, extra_vars={**extra, "nv_wait": True, "nv_wait_interval": 1})
    assert again.task(TASK)["changed"] is False and writes(again) == []


def test_rbac_grant_is_waited_for_through_propagation(world, playbook, local_azure):
    # RBAC propagation of 3000 Azure seconds = 15 s here: longer than starting the next playbook on a busy machine
    world(world_spec(), **FAST, rbac_propagation_s=3000)
    extra = {"nv_name": "rbac-key", "nv_secret_id": _secret_uri(KV_RBAC), "nv_identity": "system"}
    first = playbook(PLAYBOOK, extra_vars=extra)
    assert first.rc == 0, first.explain()
    assert first.task(TASK)["last_status"]["code"] != "Success"
    principal = resource(first.state, service_id(local_azure))["identity"]["principalId"]
    _grant_rbac(local_azure, KV_RBAC, principal)
    waited = playbook(PLAYBOOK, extra_vars={**extra, "nv_wait": True, "nv_wait_interval": 2, "nv_timeout": 120})
    assert waited.rc == 0, waited.explain()
    result = waited.task(TASK)
    assert result["last_status"]["code"] == "Success"
    # propagation made the first refresh fail: the wait was observed
    refreshes = [w for w in writes(waited) if w["path"].endswith("/refreshSecret")]
    assert result["secret_refreshes"] == len(refreshes) >= 2
    assert result["changed"] is True


def test_switching_identity_and_other_writers_tags_survive(world, playbook, local_azure):
    world(world_spec(), **FAST)
    extra = {"nv_name": "switch", "nv_secret_id": _secret_uri(KV_POLICY), "nv_identity": "system",
             "nv_tags": ["ours"]}
    assert playbook(PLAYBOOK, extra_vars=extra).rc == 0
    # another writer adds its tag
    path = f"{service_id(local_azure)}/namedValues/switch"
    resp = local_azure.arm().request("PATCH", path, "2024-05-01", {"properties": {"tags": ["ours", "theirs"]}},
                                     headers={"If-Match": "*"})
    assert resp.status_code in (200, 202), resp.text
    import time
    time.sleep(0.5)
    # the module's next update races with a concurrent change once: 412, re-read, re-merge, write
    local_azure.admin.add_fault(method="PATCH", path="/namedValues/switch$", status=412, times=1)
    moved = playbook(PLAYBOOK, extra_vars={**extra, "nv_identity": UAMI, "nv_tags": ["ours", "new"]}, diff=True)
    assert moved.rc == 0, moved.explain()
    result = moved.task(TASK)
    assert result["changed"] is True
    assert result["diff"]["before"]["key_vault"]["identity_client_id"] == "SystemAssigned"
    assert result["diff"]["after"]["key_vault"]["identity_client_id"] == _uami(moved)["properties"]["clientId"]
    patches = [w for w in moved.requests if w["method"] == "PATCH"]
    assert [p["status"] for p in patches] == [412, 202]
    stored = _stored(moved, local_azure, "switch")["properties"]
    assert sorted(stored["tags"]) == ["new", "ours", "theirs"]


@pytest.mark.parametrize("identity,noop_reads", [
    # the system identity's client id is known: an unchanged Key Vault named value needs no service read
    ("system", ["GET service/apim-nv/namedvalues/kv-ref"]),
    # a user-assigned identity's client id comes from the service: one read of it to compare
    (UAMI, ["GET service/apim-nv/namedvalues/kv-ref", "GET service/apim-nv"]),
])
def test_reads_of_a_create_and_of_a_no_op(world, playbook, local_azure, identity, noop_reads):
    world(world_spec(), **FAST)
    extra = {"nv_name": "kv-ref", "nv_secret_id": _secret_uri(KV_POLICY), "nv_identity": identity}
    apply = playbook(PLAYBOOK, extra_vars=extra, tags=["named_value"])
    assert apply.rc == 0 and apply.task(TASK)["changed"] is True, apply.explain()
    # before the write: the named value, then the service (exists, identity enabled) once
    assert reads(apply)[:2] == ["GET service/apim-nv/namedvalues/kv-ref", "GET service/apim-nv"], reads(apply)
    assert service_reads(apply, "apim-nv") == 1, reads(apply)
    rerun = runs_of(playbook, PLAYBOOK, extra_vars=extra, tags=["named_value"])
    for again in assert_idempotent(rerun, TASK, diff=False):
        assert reads(again) == noop_reads, reads(again)
    plain = {"nv_name": "plain", "nv_value": "v-1", "nv_tags": ["ops"]}
    assert playbook(PLAYBOOK, extra_vars=plain, tags=["named_value"]).rc == 0
    unchanged = playbook(PLAYBOOK, extra_vars=plain, tags=["named_value"])
    assert unchanged.task(TASK)["changed"] is False, unchanged.explain()
    assert reads(unchanged) == ["GET service/apim-nv/namedvalues/plain"], reads(unchanged)
    absent = playbook(PLAYBOOK, extra_vars={"nv_name": "never-there", "nv_state": "absent"}, tags=["named_value"])
    assert absent.rc == 0 and absent.task(TASK)["changed"] is False, absent.explain()
    assert reads(absent) == ["GET service/apim-nv/namedvalues/never-there"], reads(absent)


def test_missing_service_is_named_before_any_write(world, playbook):
    world(world_spec(), **FAST)
    run = playbook(PLAYBOOK, extra_vars={"nv_name": "x", "nv_value": "v-1", "service": "apim-missing"},
                   tags=["named_value"])
    failed = run.task(TASK)
    assert failed["_status"] == "failed" and failed["error_code"] == "ServiceNotFound", run.explain()
    assert "apim-missing" in failed["msg"] and writes(run) == []


@pytest.mark.parametrize("extra, expected", [
    ({"nv_value": "x-1", "nv_secret_id": _secret_uri(KV_POLICY)}, "both 'value' and 'key_vault_secret_id'"),
    ({"nv_secret_id": f"https://{KV_POLICY}.vault.azure.net/certificates/backend-key"},
     "/secrets/backend-key"),
    ({"nv_secret_id": _secret_uri(KV_POLICY), "nv_identity": "id-unattached"}, "is not attached"),
    ({"nv_secret_id": _secret_uri(KV_POLICY), "nv_secret": False}, "always secret"),
])
def test_bad_input_is_refused_before_any_write(world, playbook, extra, expected):
    world(world_spec(), **FAST)
    run = playbook(PLAYBOOK, extra_vars={"nv_name": "bad", **extra})
    assert run.rc != 0
    assert expected in run.task(TASK)["msg"], run.task(TASK)["msg"]
    assert writes(run) == []


def test_absent_quartet(world, playbook, local_azure):
    world(world_spec(), **FAST)
    assert playbook(PLAYBOOK, extra_vars={"nv_name": "gone", "nv_value": "v-1"}).rc == 0
    runs = assert_quartet(playbook, PLAYBOOK, {"nv_name": "gone", "nv_state": "absent"}, TASK)
    apply = runs.apply
    assert _stored(apply, local_azure, "gone") is None
    assert [w["method"] for w in writes(apply)] == ["DELETE"]
