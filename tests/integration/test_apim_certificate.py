"""apim_certificate against the local Azure: Key Vault certificates fetched by the service's identity (system or
user-assigned, access-policy or RBAC vault with realistic propagation), the custom domains' refusals, refresh on
request, removal refused while a backend uses the certificate, uploaded PFX that never shows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from emulator import pfx
from harness import quartet
from integration.kv_quartet import run_quartet

pytestmark = pytest.mark.integration

RG, SERVICE, UAI = "rg-cert", "apim-cert", "id-cert"
KV_AP, KV_RBAC = "kv-cert-ap", "kv-cert-rbac"
TASK, INFO, PLAYBOOK = "Certificate", "Certificates of the service", "apim_certificate_one"
API = "2024-05-01"
# Azure seconds -> wall clock: RBAC propagation (600 s) takes 3 s.
FAST = {"time_scale": 0.005}


def _uri(vault: str, name: str = "backend-mtls", version: str = "") -> str:
    return f"https://{vault}.vault.azure.net/secrets/{name}" + (f"/{version}" if version else "")


def _spec() -> dict[str, Any]:
    cert = {"name": "backend-mtls", "certificate": {"subject": "CN=backend.contoso.com"}}
    # the service first: the vault's access policy names its identity
    return {"resource_groups": [
        {"name": RG, "user_assigned_identities": [{"name": UAI}],
         "apim_services": [{"name": SERVICE, "identity": {"type": "SystemAssigned, UserAssigned",
                                                          "user_assigned": [UAI]}}]},
        {"name": RG + "-kv", "key_vaults": [
            {"name": KV_AP, "access_policies": [{"principal": SERVICE, "permissions": {"secrets": ["get"]}}],
             "secrets": [cert, {"name": "plain", "value": "not-a-certificate-value"}]},
            {"name": KV_RBAC, "rbac": True, "secrets": [cert]}]}]}


@pytest.fixture
def seeded(world: Any, local_azure: Any) -> Any:
    world(_spec(), **FAST)
    return local_azure


def _service_id(azure: Any) -> str:
    return f"{azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{SERVICE}"


def _stored(azure: Any, name: str) -> Any:
    resp = azure.arm().get(f"{_service_id(azure)}/certificates/{name}", API)
    return None if resp.status_code == 404 else resp.json()["properties"]


def _uai(azure: Any) -> dict:
    return next(r for r in azure.admin.state()["resources"].values()
                if r.get("type", "").lower() == "microsoft.managedidentity/userassignedidentities")["properties"]


def test_system_identity_quartet_diff_and_request_log(seeded: Any, playbook: Any) -> None:
    extra = {"cert_name": "backend-mtls", "cert_secret_id": _uri(KV_AP)}
    q = run_quartet(playbook, PLAYBOOK, TASK, extra)
    predicted = q.check.task(TASK)["diff"]["after"]["key_vault"]
    # What API Management reports after fetching the secret is only known after apply.
    assert predicted == {"secret_identifier": _uri(KV_AP), "identity_client_id": "SystemAssigned",
                         "last_status": "(known after apply)"}
    task = q.apply.task(TASK)
    assert task["diff"]["before"] == {} and task["certificate"]["subject"] == "CN=backend.contoso.com"
    assert task["certificate"]["thumbprint"] and task["certificate"]["key_vault"]["last_status"]["code"] == "Success"
    writes = q.apply.requests.writes()
    assert [(w["method"], w["path"].rsplit("/", 2)[-2:]) for w in writes] == [("PUT", ["certificates", "backend-mtls"])]
    assert writes[0]["body"]["properties"] == {"keyVault": {"secretIdentifier": _uri(KV_AP)}}
    stored = _stored(seeded, "backend-mtls")
    assert stored["keyVault"]["secretIdentifier"] == _uri(KV_AP) and stored["keyVault"]["identityClientId"] is None
    info = q.reapply.task(INFO)["certificates"]
    assert [(c["name"], c["backends"]) for c in info] == [("backend-mtls", [])]


def test_user_assigned_on_rbac_vault_converges_through_propagation(seeded: Any, playbook: Any) -> None:
    # RBAC propagation of 3000 Azure seconds = 15 s here: the first fetches are refused, the module waits
    seeded.admin.config(rbac_propagation_s=3000)
    uai = _uai(seeded)
    scope = f"{seeded.rg_id(RG + '-kv')}/providers/Microsoft.KeyVault/vaults/{KV_RBAC}"
    role = f"/subscriptions/{seeded.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/" \
           "4633458b-17de-408a-b874-0445c86b69e6"
    resp = seeded.arm().put(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
                            {"properties": {"roleDefinitionId": role, "principalId": uai["principalId"],
                                            "principalType": "ServicePrincipal"}}, api_version="2022-04-01")
    assert resp.status_code in (200, 201), resp.text
    seeded.admin.clear_requests()
    extra = {"cert_name": "rbac-mtls", "cert_secret_id": _uri(KV_RBAC), "cert_identity": UAI, "cert_timeout": 120}
    run = playbook(PLAYBOOK, extra_vars=extra, diff=True)
    assert run.rc == 0, run.explain()
    puts = [w for w in run.requests if w["method"] == "PUT" and w["path"].endswith("/certificates/rbac-mtls")]
    assert len(puts) >= 2 and [p["status"] for p in puts][-1] == 201 and {p["status"] for p in puts[:-1]} == {400}
    assert _stored(seeded, "rbac-mtls")["keyVault"]["identityClientId"] == uai["clientId"]
    # by client id: the same identity, nothing to do
    by_client_id = {**extra, "cert_identity": uai["clientId"]}
    quartet.assert_idempotent(quartet.runs_of(playbook, PLAYBOOK, extra_vars=by_client_id), TASK, diff=False)


@pytest.mark.parametrize("extra,code,words", [
    ({"cert_secret_id": _uri(KV_AP, "plain")}, "NotACertificate", ["application/x-pkcs12"]),
    ({"cert_secret_id": _uri(KV_AP, "missing")}, "SecretNotFound", ["missing"]),
    ({"cert_secret_id": _uri(KV_RBAC)}, "NoSecretAccess", ["keyvault_access"]),
    ({"cert_secret_id": _uri(KV_AP), "cert_identity": "id-nope"}, "IdentityNotEnabled", ["attached: id-cert"]),
])
def test_refusals_before_any_write_match_custom_domains(seeded: Any, playbook: Any, extra: dict, code: str,
                                                        words: list) -> None:
    run = playbook(PLAYBOOK, extra_vars={"cert_name": "refused", **extra}, tags=["certificate"])
    assert run.rc != 0 and run.requests.writes() == []
    result = run.task(TASK)
    assert result["error_code"] == code, result
    assert all(w in result["msg"] + result.get("hint", "") for w in words), result


def test_versioned_id_warns_and_refresh_on_request(seeded: Any, playbook: Any) -> None:
    version = next(v for v in seeded.arm().get(
        f"{seeded.rg_id(RG + '-kv')}/providers/Microsoft.KeyVault/vaults/{KV_AP}/secrets/backend-mtls", "2023-07-01"
    ).json()["properties"]["secretUriWithVersion"].rsplit("/", 1)[-1:])
    pinned = playbook(PLAYBOOK, extra_vars={"cert_name": "pinned", "cert_secret_id": _uri(KV_AP, version=version)})
    assert pinned.rc == 0, pinned.explain()
    assert any("pins version" in w for w in pinned.task(TASK).get("warnings", []))
    extra = {"cert_name": "pinned", "cert_secret_id": _uri(KV_AP, version=version), "cert_refresh": True}
    check = playbook(PLAYBOOK, extra_vars=extra, check=True)
    assert check.task(TASK)["changed"] is True and check.task(TASK)["secret_refreshed"] is True
    assert check.requests.writes() == []
    refreshed = playbook(PLAYBOOK, extra_vars=extra)
    assert refreshed.task(TASK)["changed"] is True
    assert [w["path"].rsplit("/", 1)[-1] for w in refreshed.requests.writes()] == ["refreshSecret"]


def test_removal_refused_while_a_backend_uses_it_then_removed(seeded: Any, playbook: Any) -> None:
    assert playbook(PLAYBOOK, extra_vars={"cert_name": "backend-mtls", "cert_secret_id": _uri(KV_AP)}).rc == 0
    resp = seeded.arm().put(f"{_service_id(seeded)}/backends/orders", {"properties": {
        "url": "https://orders.contoso.com", "protocol": "http",
        "credentials": {"certificateIds": ["/certificates/backend-mtls"]}}}, API)
    assert resp.status_code in (200, 201), resp.text
    extra = {"cert_name": "backend-mtls", "cert_state": "absent"}
    refused = playbook(PLAYBOOK, extra_vars=extra)
    assert refused.rc != 0 and refused.requests.writes() == []
    assert refused.task(TASK)["error_code"] == "CertificateInUse" and "orders" in refused.task(TASK)["msg"]
    assert seeded.arm().delete(f"{_service_id(seeded)}/backends/orders", API,
                               headers={"If-Match": "*"}).status_code == 200
    q = run_quartet(playbook, PLAYBOOK, TASK, extra)
    assert [w["method"] for w in q.apply.requests.writes()] == ["DELETE"]
    assert _stored(seeded, "backend-mtls") is None


def test_inline_pfx_quartet_never_shows_the_secret(seeded: Any, playbook: Any) -> None:
    data = pfx.make_pfx_b64("inline.contoso.com", password="pfx-pass-5e1d")
    extra = {"cert_name": "inline", "cert_pfx": data, "cert_password": "pfx-pass-5e1d"}
    q = run_quartet(playbook, PLAYBOOK, TASK, extra)
    for run in (q.check, q.apply, q.recheck, q.reapply):
        blob = run.stdout + run.stderr + str(run.result)
        assert data[:40] not in blob and "pfx-pass-5e1d" not in blob
    assert "inline.contoso.com" in q.apply.task(TASK)["certificate"]["subject"]
    assert q.apply.task(TASK)["certificate"]["key_vault"] is None


def test_check_mode_predicts_the_refusal(seeded: Any, playbook: Any) -> None:
    run = playbook(PLAYBOOK, extra_vars={"cert_name": "plain", "cert_secret_id": _uri(KV_AP, "plain")}, check=True,
                   tags=["certificate"])
    assert run.rc != 0 and run.requests.writes() == []
    assert run.task(TASK)["error_code"] == "NotACertificate"


def test_identity_removal_refused_while_our_certificate_uses_it(seeded: Any, playbook: Any) -> None:
    assert playbook(PLAYBOOK, extra_vars={"cert_name": "backend-mtls", "cert_secret_id": _uri(KV_AP)}).rc == 0
    args = {"resource_group": RG, "service_name": SERVICE, "system_assigned": False}
    refused = playbook("identity_module", extra_vars={"identity_args": args})
    assert refused.rc != 0 and refused.requests.writes() == []
    assert "backend-mtls" in refused.task("Apply apim_identity")["msg"]
    assert playbook(PLAYBOOK, extra_vars={"cert_name": "backend-mtls", "cert_state": "absent"}).rc == 0
    freed = playbook("identity_module", extra_vars={"identity_args": args})
    assert freed.rc == 0 and freed.task("Apply apim_identity")["changed"] is True, freed.explain()


def test_teardown_removes_our_certificate_then_the_identity(seeded: Any, playbook: Any) -> None:
    assert playbook(PLAYBOOK, extra_vars={"cert_name": "backend-mtls", "cert_secret_id": _uri(KV_AP)}).rc == 0
    data = pfx.make_pfx_b64("foreign.contoso.com", password="pw-foreign")  # another team's uploaded certificate
    assert playbook(PLAYBOOK, extra_vars={"cert_name": "foreign", "cert_pfx": data, "cert_password": "pw-foreign"}).rc == 0
    # No task of the teardown may change on the re-runs.
    q = quartet.run_quartet(quartet.runs_of(playbook, "teardown_certificates"), None, apply_writes=False)
    removed = "azure_apim.identity.apim_teardown : Remove the certificates"
    assert removed in q.check.changed_tasks() and removed in q.apply.changed_tasks()
    assert _stored(seeded, "backend-mtls") is None and _stored(seeded, "foreign") is not None  # not ours: stays
    service = seeded.arm().get(_service_id(seeded), "2024-05-01").json()
    assert service["identity"]["type"] == "UserAssigned"
