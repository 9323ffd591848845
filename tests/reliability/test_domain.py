# Private to the azure_apim.identity test suite.
"""Scenarios 12, 13, 17, 18: custom domains and identities next to things other teams own, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from reliability.conftest import require_modules, wait_for
from reliability.snapshot import foreign_view
from reliability.worlds import DOM_VAULT, FAST, FOREIGN_IDENTITY, FW_VAULT, RG, SERVICE, domain_vaults as _vaults, \
    ids, rel_world, secret_uri

require_modules("apim_custom_domain", "apim_identity")

OURS = "api.rel.contoso.com"
LEGACY = "legacy.rel.contoso.com"


def _seed(rel, world: dict | None = None, service: str = SERVICE) -> None:
    rel.seed(world or rel_world(), **FAST)
    rel.admin.seed(_vaults(service))
    rel.admin.clear_requests()


def _service(state: dict, azure) -> dict:
    return state["resources"][ids(azure.subscription_id)["service"].lower()]


def _hosts(state: dict, azure) -> dict[str, dict]:
    return {h["hostName"].lower(): h for h in _service(state, azure)["properties"]["hostnameConfigurations"]}


def _settled(rel) -> bool:
    return _service(rel.state(), rel.azure)["properties"]["provisioningState"] == "Succeeded"


def _add_foreign_hostname(rel, host: str, key_vault_id: str, client_id: str | None = None) -> None:
    """Another team adds a hostname out of band (raw ARM PATCH), and the service finishes updating."""
    state = rel.state()
    current = _service(state, rel.azure)["properties"]["hostnameConfigurations"]
    entry = {"type": "Proxy", "hostName": host, "keyVaultId": key_vault_id, "certificateSource": "KeyVault",
             "negotiateClientCertificate": False, "defaultSslBinding": False}
    if client_id:
        entry["identityClientId"] = client_id
    body = {"properties": {"hostnameConfigurations": current + [entry]}}
    response = rel.azure.arm().request("PATCH", ids(rel.azure.subscription_id)["service"], "2024-05-01", body)
    assert response.status_code == 202, response.text
    assert wait_for(lambda: _settled(rel)), "the out-of-band hostname update did not finish"
    assert host in _hosts(rel.state(), rel.azure)
    rel.admin.clear_requests()


def _dom_args(**extra: Any) -> dict:
    return {"resource_group": RG, "service_name": SERVICE, "host_name": OURS,
            "key_vault_secret_id": secret_uri("api-rel-contoso-com"), **extra}


def _service_view(rel, state: dict) -> dict:
    return foreign_view(state, shared={ids(rel.azure.subscription_id)["service"]:
                                       ["properties.hostnameConfigurations"]})


@pytest.mark.scenario(12, "foreign hostname survives add and remove")
def test_foreign_hostname_survives_adding_and_removing_ours(rel, record):
    _seed(rel)
    _add_foreign_hostname(rel, LEGACY, secret_uri("legacy-rel-contoso-com"))
    before_state = rel.state()
    legacy_before = _hosts(before_state, rel.azure)[LEGACY]
    builtin = f"{SERVICE}.azure-api.net"
    before = _service_view(rel, before_state)

    added = rel.quartet("apim_custom_domain", _dom_args())
    hosts = _hosts(added["apply_again"].state, rel.azure)
    assert set(hosts) == {builtin, LEGACY, OURS}
    assert hosts[LEGACY] == legacy_before, "the foreign hostname is identical"
    assert hosts[OURS]["keyVaultId"] == secret_uri("api-rel-contoso-com")

    removed = rel.quartet("apim_custom_domain", _dom_args(state="absent"))
    after_state = removed["apply_again"].state
    hosts = _hosts(after_state, rel.azure)
    assert set(hosts) == {builtin, LEGACY} and hosts[LEGACY] == legacy_before
    rel.assert_foreign_unchanged(before, _service_view(rel, after_state))
    writes = len(added["apply"].writes()) + len(removed["apply"].writes())
    assert [e["method"] for e in added["apply"].writes() + removed["apply"].writes()] == ["PATCH", "PATCH"]
    record(writes=writes, reruns=0)


def _refused(rel, module: str, args: dict, words: list[str]) -> int:
    """Check mode and apply both refuse with a message naming the fix, before any write; returns the writes (0)."""
    for check_mode in (True, False):
        run = rel.run(module, args, check=check_mode)
        assert run.failed, run.explain()
        text = (run.msg + " " + str(run.result.get("hint", ""))).lower()
        for word in words:
            assert word.lower() in text, (word, run.msg)
        assert run.writes() == [], "a refusal comes before any write\n" + run.explain()
    return 0


@pytest.mark.scenario(13, "11th identity / referenced removal / KV hostname without identity")
def test_eleventh_identity_is_refused(rel, record):
    names = [f"id-rel-{i:02d}" for i in range(9)]
    world = rel_world(user_assigned_identities=[{"name": FOREIGN_IDENTITY}, {"name": "id-rel-a"}]
                      + [{"name": n} for n in names])
    world["resource_groups"][0]["apim_services"][0]["identity"]["user_assigned"] = [FOREIGN_IDENTITY] + names
    _seed(rel, world)
    before = foreign_view(rel.state())
    _refused(rel, "apim_identity", {"resource_group": RG, "service_name": SERVICE,
                                    "user_assigned_identities": ["id-rel-a"]}, ["10"])
    assert foreign_view(rel.state()) == before
    record(writes=0, reruns=0)


@pytest.mark.scenario(13, "11th identity / referenced removal / KV hostname without identity")
def test_removing_an_identity_a_hostname_uses_is_refused(rel, record):
    _seed(rel)
    client_id = rel.state()["resources"][(ids(rel.azure.subscription_id)["uai"] + FOREIGN_IDENTITY).lower()][
        "properties"]["clientId"]
    _add_foreign_hostname(rel, LEGACY, secret_uri("legacy-rel-contoso-com"), client_id)
    before = foreign_view(rel.state())
    _refused(rel, "apim_identity", {"resource_group": RG, "service_name": SERVICE, "user_assigned_mode": "remove",
                                    "user_assigned_identities": [FOREIGN_IDENTITY]}, [LEGACY])
    _refused(rel, "apim_identity", {"resource_group": RG, "service_name": SERVICE, "state": "absent"}, [LEGACY])
    assert foreign_view(rel.state()) == before
    record(writes=0, reruns=0)


@pytest.mark.scenario(13, "11th identity / referenced removal / KV hostname without identity")
def test_key_vault_hostname_without_the_system_identity_is_refused(rel, record):
    world = rel_world()
    world["resource_groups"][0]["apim_services"][0]["identity"] = {"type": "UserAssigned",
                                                                   "user_assigned": [FOREIGN_IDENTITY]}
    _seed(rel, world)
    before = foreign_view(rel.state())
    _refused(rel, "apim_custom_domain", _dom_args(identity="system"), ["system-assigned", "apim_identity"])
    assert foreign_view(rel.state()) == before
    record(writes=0, reruns=0)


@pytest.mark.scenario(17, "firewall + user-assigned, wrong content type, /certificates/ URL")
@pytest.mark.parametrize("case, extra, words", [
    ("firewall-user-assigned", {"identity": FOREIGN_IDENTITY,
                                "key_vault_secret_id": secret_uri("api-rel-contoso-com", FW_VAULT)},
     ["firewall", "system-assigned"]),
    ("content-type", {"key_vault_secret_id": secret_uri("plain-text")}, ["content type", "text/plain"]),
    ("certificates-url", {"key_vault_secret_id": f"https://{DOM_VAULT}.vault.azure.net/certificates/"
                                                 "api-rel-contoso-com"},
     ["/secrets/api-rel-contoso-com"]),
])
def test_key_vault_mistakes_are_refused_before_any_write(rel, record, case, extra, words):
    _seed(rel)
    before = foreign_view(rel.state())
    _refused(rel, "apim_custom_domain", _dom_args(**extra), words)
    assert foreign_view(rel.state()) == before, case
    record(writes=0, reruns=0)


@pytest.mark.scenario(18, "versioned/versionless ids, case, trailing slash")
def test_id_spellings_cause_no_perpetual_change(rel, record):
    _seed(rel)
    before = _service_view(rel, rel.state())
    runs = rel.quartet("apim_custom_domain", _dom_args())
    versionless = secret_uri("api-rel-contoso-com")
    for variant in (versionless.upper().replace("HTTPS://", "https://"), versionless + "/",
                    versionless.replace(DOM_VAULT, DOM_VAULT.upper()) + "/"):
        rel.idempotent("apim_custom_domain", _dom_args(key_vault_secret_id=variant))
    by_name = {k: v for k, v in _dom_args().items() if k != "key_vault_secret_id"}
    rel.idempotent("apim_custom_domain", {**by_name, "key_vault": DOM_VAULT, "secret_name": "api-rel-contoso-com"})
    # A versioned id is a different request (rotation off): one change, then stable in every spelling.
    vault = rel.state()["resources"][(ids(rel.azure.subscription_id)["rg"] +
                                      f"/providers/Microsoft.KeyVault/vaults/{DOM_VAULT}/secrets/"
                                      "api-rel-contoso-com").lower()]
    versioned = vault["properties"]["secretUriWithVersion"]
    pinned = rel.quartet("apim_custom_domain", _dom_args(key_vault_secret_id=versioned))
    rel.idempotent("apim_custom_domain", _dom_args(key_vault_secret_id=versioned.upper().replace("HTTPS://",
                                                                                                 "https://") + "/"))
    hosts = _hosts(rel.state(), rel.azure)
    assert hosts[OURS]["keyVaultId"].rstrip("/").lower() == versioned.lower()
    rel.assert_foreign_unchanged(before, _service_view(rel, rel.state()))
    record(writes=len(runs["apply"].writes()) + len(pinned["apply"].writes()), reruns=0)
