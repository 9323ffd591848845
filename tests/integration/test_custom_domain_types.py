"""Every hostname type with a user-assigned identity; versioned secret ids warn; short-lived certificates warn."""
from __future__ import annotations

from integration.custom_domain_world import UAI, by_host, identity_client_id, secret_id, seed, service_writes
from integration.test_custom_domain import quartet

TYPES = ("Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi")
TASK = "Ensure each hostname"


def _current_version(state: dict, vault: str, secret: str) -> str:
    for rid, body in state["resources"].items():
        if rid.lower().endswith(f"/vaults/{vault}/secrets/{secret}"):
            return body["properties"]["secretUriWithVersion"].rstrip("/").rsplit("/", 1)[-1]
    raise KeyError(secret)


def test_every_type_with_the_user_assigned_identity(world, local_azure, playbook):
    seed(world, local_azure)
    items = [{"type": t, "host_name": f"{t.lower()}.contoso.com", "key_vault": "kv-dom",
              "secret_name": "portal-contoso-com", "identity": UAI} for t in TYPES]
    apply = quartet(playbook, {"dom_items": items}, name="custom_domain_many", task=TASK)
    held = by_host(apply.state)
    client_id = identity_client_id(apply.state)
    for t in TYPES:
        entry = held[f"{t.lower()}.contoso.com"]
        assert entry["type"] == t and entry["identityClientId"] == client_id
        assert entry["keyVaultId"] == secret_id("kv-dom", "portal-contoso-com")
        assert entry["certificate"]["subject"] == "CN=portal.contoso.com"
    assert "apim-dom.azure-api.net" in held
    # One PATCH per hostname (one task each), each carrying the entries of the tasks before it.
    bodies = [w["body"]["properties"]["hostnameConfigurations"] for w in service_writes(apply.requests)]
    assert [len(b) for b in bodies] == [2, 3, 4, 5, 6, 7]
    results = apply.task(TASK)["results"]
    assert all(r["hostname"]["identity_client_id"] == client_id for r in results)
    assert all(r["diff"]["after"]["hostname_configurations"] for r in results)


def test_versioned_secret_warns_and_a_short_lived_certificate_warns(world, local_azure, playbook):
    seed(world, local_azure)
    version = _current_version(local_azure.admin.state(), "kv-dom", "soon-contoso-com")
    items = [{"host_name": "pinned.contoso.com", "key_vault_secret_id": secret_id("kv-dom", "soon-contoso-com", version)}]
    apply = quartet(playbook, {"dom_items": items}, name="custom_domain_many", task=TASK)
    result = apply.task(TASK)["results"][0]
    # ansible-core shows module warnings on stdout (and drops them from the result); lines may wrap.
    warnings = " ".join(" ".join(result.get("warnings") or []).split() + (apply.stdout + apply.stderr).split())
    assert "automatic rotation is off" in warnings and version in warnings
    assert "expires in" in warnings  # the seeded certificate is valid for 10 days
    assert result["hostname"]["versioned_secret"] is True and result["hostname"]["expires_in_days"] <= 10
    pinned = secret_id("kv-dom", "soon-contoso-com", version)
    assert by_host(apply.state)["pinned.contoso.com"]["keyVaultId"] == pinned
    # Back to the versionless id: a change (rotation on again), then stable.
    items[0]["key_vault_secret_id"] = secret_id("kv-dom", "soon-contoso-com")
    unpinned = quartet(playbook, {"dom_items": items}, name="custom_domain_many", task=TASK)
    assert by_host(unpinned.state)["pinned.contoso.com"]["keyVaultId"] == secret_id("kv-dom", "soon-contoso-com")
    assert "rotation is off" not in " ".join((unpinned.stdout + unpinned.stderr).split())
