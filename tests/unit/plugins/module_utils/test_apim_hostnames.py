"""Pure helpers of _apim_hostnames: keys, secret-id normalisation, delta merge, exclusivity, certificates."""
from __future__ import annotations

import base64
import datetime as dt

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_hostnames as hn
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._compare import same_identity_client
from ansible_collections.azure_apim.identity.plugins.module_utils._ids import parse_secret_uri, same_secret_id
from ansible_collections.azure_apim.identity.plugins.module_utils._pfx import days_until, read_pfx_info

from .pfx_util import make_pfx

KV = "https://kv-contoso.vault.azure.net/secrets/api-cert"
BUILTIN = {"type": "Proxy", "host_name": "apim-contoso.azure-api.net", "certificate_source": "BuiltIn",
           "default_ssl_binding": True, "negotiate_client_certificate": False}
FOREIGN = {"type": "Portal", "host_name": "portal.contoso.com", "key_vault_id": KV.replace("api-cert", "portal"),
           "identity_client_id": None, "certificate_source": "KeyVault", "default_ssl_binding": False,
           "negotiate_client_certificate": False,
           "certificate": {"expiry": "2030-01-01T00:00:00+00:00", "thumbprint": "AB", "subject": "CN=portal"}}
SYSTEM = {"kind": "system", "principal_id": "p", "client_id": None}
USER = {"kind": "user", "principal_id": "p2", "client_id": "5B7A0C1E-0000-4000-8000-000000000001"}


def ours(secret: str = KV, identity=None, **flags):
    return hn.keyvault_entry("proxy", "API.contoso.com", parse_secret_uri(secret), identity or SYSTEM,
                             flags.get("default_ssl_binding"), flags.get("negotiate"))


@pytest.mark.parametrize("wanted, current, same", [
    (KV, KV, True),
    (KV, KV.upper().replace("HTTPS", "https"), True),
    (KV + "/", KV, True),
    ("https://KV-Contoso.vault.azure.net:443/secrets/API-Cert", KV, True),
    (KV + "/abc123", KV + "/ABC123", True),
    (KV + "/abc123", KV, False),           # the user pinned a version: versionless differs
    (KV, KV + "/abc123", False),           # the user wants rotation back: a pinned version differs
    (KV + "/abc123", KV + "/def456", False),
    (KV, KV.replace("api-cert", "other"), False),
    (KV, None, False),
    (None, None, True),
])
def test_secret_ids_normalised(wanted, current, same):
    assert same_secret_id(wanted, current) is same


@pytest.mark.parametrize("wanted, current, same", [
    (None, None, True), (None, "SystemAssigned", True), ("", "systemassigned", True),
    ("ABC", "abc", True), ("abc", None, False), (None, "abc", False),
])
def test_identity_client_ids(wanted, current, same):
    assert same_identity_client(wanted, current) is same


@pytest.mark.parametrize("entry, builtin", [
    (BUILTIN, True),
    ({"type": "Proxy", "host_name": "x.azure-api.cn", "certificate_source": None}, True),
    (FOREIGN, False),
    ({"type": "Proxy", "host_name": "api.contoso.com", "certificate_source": "Custom"}, False),
])
def test_builtin_detection(entry, builtin):
    assert hn.is_builtin(entry) is builtin


def test_keys_ignore_case_and_trailing_dot():
    assert hn.entry_key({"type": "Proxy", "host_name": "API.Contoso.com."}) == ("proxy", "api.contoso.com")
    with pytest.raises(AzureApimError, match="Unknown hostname type"):
        hn.canonical_type("gateway")
    assert hn.canonical_type("developerportal") == "DeveloperPortal"


def test_system_identity_sends_no_client_id_and_user_sends_its_client_id():
    assert ours()["identity_client_id"] is None
    assert ours(identity=USER)["identity_client_id"] == USER["client_id"]


def test_add_keeps_foreign_and_builtin_entries_in_place():
    new, changed = hn.apply_delta([BUILTIN, FOREIGN], [ours()])
    assert changed is True
    assert [e["host_name"] for e in new] == [BUILTIN["host_name"], FOREIGN["host_name"], "API.contoso.com"]
    assert new[0] == BUILTIN and new[1] == FOREIGN
    assert new[2]["key_vault_id"] == KV and new[2]["certificate_source"] == "KeyVault"


def test_satisfied_entry_is_no_change_even_with_case_and_slash_variants():
    current = [BUILTIN, dict(ours(), host_name="api.contoso.com", key_vault_id=KV.upper().replace("HTTPS", "https"),
                             identity_client_id="SystemAssigned", default_ssl_binding=False,
                             negotiate_client_certificate=False)]
    variant = ours(secret=KV + "/")
    assert hn.delta_satisfied([variant], current) is True
    assert hn.apply_delta(current, [variant]) == (current, False)


@pytest.mark.parametrize("change", [
    dict(secret=KV.replace("api-cert", "other")),
    dict(identity=USER),
    dict(default_ssl_binding=True),
    dict(negotiate=True),
])
def test_each_setting_is_compared(change):
    current = [BUILTIN, hn.apply_delta([], [ours()])[0][0]]
    assert hn.delta_satisfied([ours(**change)], current) is False


def test_switching_identity_to_system_clears_client_id():
    user_entry = hn.apply_delta([], [ours(identity=USER)])[0][0]
    new, changed = hn.apply_delta([user_entry], [ours()])
    assert changed and new[0]["identity_client_id"] is None


def test_default_ssl_binding_is_cleared_on_other_proxy_entries_only():
    other_proxy = {"type": "Proxy", "host_name": "old.contoso.com", "certificate_source": "KeyVault",
                   "key_vault_id": KV, "default_ssl_binding": True}
    new = hn.apply_delta([BUILTIN, other_proxy, FOREIGN], [ours(default_ssl_binding=True)])[0]
    flags = {e["host_name"]: e["default_ssl_binding"] for e in new}
    assert flags == {BUILTIN["host_name"]: False, "old.contoso.com": False, FOREIGN["host_name"]: False,
                     "API.contoso.com": True}


def test_unset_flags_keep_current_values():
    current = dict(hn.apply_delta([], [ours(negotiate=True)])[0][0])
    new, changed = hn.apply_delta([current], [ours(secret=KV + "/v2")])
    assert changed and new[0]["negotiate_client_certificate"] is True
    assert new[0]["certificate"] is None  # a new secret: APIM fetches the certificate on write


def test_absent_removes_only_the_named_entry():
    new, changed = hn.apply_delta([BUILTIN, FOREIGN], [hn.absent_entry("Portal", "PORTAL.contoso.com")])
    assert changed and new == [BUILTIN]
    assert hn.apply_delta([BUILTIN], [hn.absent_entry("Portal", "portal.contoso.com")]) == ([BUILTIN], False)
    # Same host, other type: a different key, nothing removed.
    assert hn.apply_delta([FOREIGN], [hn.absent_entry("Proxy", "portal.contoso.com")])[1] is False


def test_exclusive_removes_custom_entries_not_named_or_kept():
    scm = dict(FOREIGN, type="Scm", host_name="scm.contoso.com")
    mgmt = dict(FOREIGN, type="Management", host_name="mgmt.contoso.com")
    mine = hn.apply_delta([], [ours()])[0][0]
    removals = hn.exclusive_removals([BUILTIN, FOREIGN, scm, mgmt, mine], [hn.entry_key(mine)], ["SCM.contoso.com"])
    assert sorted(r["host_name"] for r in removals) == ["mgmt.contoso.com", "portal.contoso.com"]
    assert all(r["absent"] for r in removals)
    new = hn.apply_delta([BUILTIN, FOREIGN, scm, mgmt, mine], [ours()] + removals)[0]
    assert [e["host_name"] for e in new] == [BUILTIN["host_name"], "scm.contoso.com", "API.contoso.com"]


def test_dropped_entries_exclude_builtin_and_deliberate_removals():
    sent = [BUILTIN, FOREIGN, hn.apply_delta([], [ours()])[0][0]]
    delta = [ours(), hn.absent_entry("Scm", "gone.contoso.com")]
    assert hn._dropped(sent, [FOREIGN], delta) == [sent[2]]
    assert hn._dropped(sent, sent, delta) == []
    restore = hn._restorable([FOREIGN], "svc")
    assert restore[0]["restore"] is True and "certificate" not in restore[0]
    with pytest.raises(AzureApimError, match="cannot be restored without its PFX"):
        hn._restorable([dict(FOREIGN, certificate_source="Custom", key_vault_id=None)], "svc")


@pytest.mark.parametrize("expiry, days", [
    ("2030-01-31T00:00:00+00:00", 30), ("2030-01-01T12:00:00Z", 0), ("2029-12-31T00:00:00+00:00", -1),
    (None, None), ("not a date", None), (dt.datetime(2030, 1, 11), 10),
])
def test_days_until(expiry, days):
    assert days_until(expiry, now=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)) == days


def test_inline_pfx_is_read_and_wrong_password_is_refused_without_echo():
    blob = make_pfx("api.contoso.com", days=10, password="Pfx-Pass-42")
    info = read_pfx_info(base64.b64encode(blob).decode(), "Pfx-Pass-42")
    assert info["subject"] == "CN=api.contoso.com" and len(info["thumbprint"]) == 40
    assert 8 <= days_until(info["expiry"]) <= 10
    with pytest.raises(AzureApimError) as err:
        read_pfx_info(base64.b64encode(blob).decode(), "wrong-Pass-99")
    assert "password" in str(err.value) and "wrong-Pass-99" not in str(err.value)
    with pytest.raises(AzureApimError, match="not base64"):
        read_pfx_info("%%%not-base64%%%", None)


def test_inline_entry_is_satisfied_by_thumbprint_and_public_view_has_no_secret():
    blob = base64.b64encode(make_pfx("api.contoso.com")).decode()
    info = read_pfx_info(blob, None)
    wanted = hn.inline_entry("Proxy", "api.contoso.com", blob, "pw", info, None, None)
    applied = hn.apply_delta([BUILTIN], [wanted])[0]
    stored = dict(applied[1], encoded_certificate=None, certificate_password=None)  # GET never returns them
    assert hn.entry_satisfied(wanted, stored) is True
    assert hn.entry_satisfied(wanted, dict(stored, certificate=dict(stored["certificate"], thumbprint="00"))) is False
    shown = hn.public_entry(applied[1])
    assert "encoded_certificate" not in shown and "certificate_password" not in shown
    assert shown["certificate"]["thumbprint"] == info["thumbprint"] and shown["built_in"] is False


def test_exclusive_keeps_every_listed_key_and_only_by_key():
    scm = dict(FOREIGN, type="Scm", host_name="scm.contoso.com")
    portal_as_proxy = dict(FOREIGN, type="Proxy")  # same host as FOREIGN, another endpoint type
    current = [BUILTIN, FOREIGN, scm, portal_as_proxy]
    removals = hn.exclusive_removals(current, [hn.entry_key(FOREIGN), ("scm", "SCM.contoso.com")], [])
    # Keys are compared as entry_key gives them (lower case); the Proxy entry of the same host is not ours.
    removed = [(r["type"], r["host_name"]) for r in removals]
    assert removed == [("Scm", "scm.contoso.com"), ("Proxy", "portal.contoso.com")]
    listed = [hn.entry_key(FOREIGN), hn.entry_key(scm)]
    assert [r["type"] for r in hn.exclusive_removals(current, listed, [])] == ["Proxy"]
    assert hn.exclusive_removals(current, listed, ["PORTAL.contoso.com."]) == []
    assert hn.exclusive_removals(current, [], []) == [hn.absent_entry(e["type"], e["host_name"])
                                                      for e in (FOREIGN, scm, portal_as_proxy)]


@pytest.mark.parametrize("vault_ref, name, version, found", [
    ("kv-contoso", "api-cert", None, True),
    ("KV-Contoso", "API-Cert", None, True),
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-contoso/", "api-cert", None, True),
    ("kv-other", "api-cert", None, False),
    ("kv-contoso", "other-cert", None, False),
    ("kv-contoso", "api-cert", "abc", False),   # a pinned version is not the versionless id held
    (None, "api-cert", None, False),
])
def test_secret_named_by_current_versionless(vault_ref, name, version, found):
    current = dict(FOREIGN, key_vault_id=KV)
    secret = hn.secret_named_by_current(current, vault_ref, name, version)
    assert (secret is not None) is found
    if found:
        assert secret.uri == KV


def test_secret_named_by_current_versioned_and_unusable_entries():
    current = dict(FOREIGN, key_vault_id=KV + "/ABC")
    assert hn.secret_named_by_current(current, "kv-contoso", "api-cert", "abc").version == "ABC"
    assert hn.secret_named_by_current(current, "kv-contoso", "api-cert", None) is None
    assert hn.secret_named_by_current(None, "kv-contoso", "api-cert", None) is None
    assert hn.secret_named_by_current(dict(FOREIGN, key_vault_id=None), "kv-contoso", "api-cert", None) is None
    broken = dict(FOREIGN, key_vault_id="not a url")
    assert hn.secret_named_by_current(broken, "kv-contoso", "api-cert", None) is None


class _Svc(hn.HostnameService):
    """HostnameService whose reads come from a list (no Azure)."""

    def __init__(self, reads):
        self.reads = list(reads)
        self.count = 0
        self.what = "service"
        self.module = type("M", (), {"deadline": hn.Deadline(60)})()

    def read(self):
        self.count += 1
        return self.reads.pop(0)


def test_settled_uses_a_settled_known_service_and_reads_otherwise(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    done = {"provisioning_state": "Succeeded", "hostname_configurations": []}
    svc = _Svc([done])
    assert svc.settled(done) is done and svc.count == 0
    busy = dict(done, provisioning_state="Updating")
    svc = _Svc([busy, done])
    assert svc.settled(busy) is done and svc.count == 2
    svc = _Svc([done])
    assert svc.settled() is done and svc.count == 1
