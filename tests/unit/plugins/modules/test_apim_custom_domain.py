"""apim_custom_domain through the real azure-mgmt-apimanagement SDK and a fake APIM behind the fake transport.

These cover what the local Azure cannot stage deterministically: a concurrent writer dropping entries right after
our write, and an ETag race between our read and our write. Key Vault sources are covered by the integration tests.
"""
from __future__ import annotations

import base64
import copy
import json
import uuid
from typing import Any, Callable, Dict, List, Optional

import pytest
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.azure_apim.identity.plugins.module_utils._pfx import read_pfx_info
from ansible_collections.azure_apim.identity.plugins.modules import apim_custom_domain as mod
from ansible_collections.azure_apim.identity.plugins.modules import apim_custom_domain_info as info_mod

from ...conftest import ARM, SUBSCRIPTION, body_of
from ..module_utils.pfx_util import make_pfx

SERVICE = ("/subscriptions/{0}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-x"
           .format(SUBSCRIPTION))
PASSWORD = "Pfx-Secret-Pass-7"
PFX = base64.b64encode(make_pfx("api.contoso.com", password=PASSWORD)).decode()
BASE = {"resource_group": "rg-apim", "service_name": "apim-x", "host_name": "api.contoso.com",
        "certificate": PFX, "certificate_password": PASSWORD, "timeout": 120}
PORTAL = {"type": "Portal", "hostName": "portal.contoso.com", "keyVaultId":
          "https://kv.vault.azure.net/secrets/portal", "certificateSource": "KeyVault",
          "defaultSslBinding": False, "negotiateClientCertificate": False,
          "certificate": {"expiry": "2031-01-01T00:00:00+00:00", "thumbprint": "AA11", "subject": "CN=portal"}}


class FakeApim:
    """One APIM service: GET, PATCH (202 + Location, If-Match checked), the operation result URL."""

    def __init__(self, transport: Any) -> None:
        self.etag = "AAAAAAAAAAE="
        self.hostnames: List[Dict[str, Any]] = [
            {"type": "Proxy", "hostName": "apim-x.azure-api.net", "certificateSource": "BuiltIn",
             "defaultSslBinding": True, "negotiateClientCertificate": False}, copy.deepcopy(PORTAL)]
        self.before_patch: List[Callable[["FakeApim"], None]] = []
        self.after_patch: List[Callable[["FakeApim"], None]] = []
        self.if_match: List[Optional[str]] = []
        transport.add("GET", SERVICE, lambda req, m: (200, {"ETag": '"%s"' % self.etag}, self.body()))
        transport.add("PATCH", SERVICE, self._patch)
        transport.add("GET", SERVICE + "/operationresults/([^/]+)", lambda req, m: (200, {}, self.body()))

    def body(self) -> Dict[str, Any]:
        return {"id": SERVICE, "name": "apim-x", "type": "Microsoft.ApiManagement/service", "location": "West Europe",
                "etag": self.etag, "sku": {"name": "Developer", "capacity": 1},
                "identity": {"type": "SystemAssigned", "principalId": "pid", "tenantId": "tid"},
                "properties": {"provisioningState": "Succeeded", "publisherEmail": "a@b.c", "publisherName": "C",
                               "hostnameConfigurations": copy.deepcopy(self.hostnames)}}

    def bump(self) -> None:
        self.etag = base64.b64encode(uuid.uuid4().bytes[:8]).decode()

    def _patch(self, request: Any, match: Any) -> Any:
        for hook in self.before_patch:
            hook(self)
        self.before_patch = []
        self.if_match.append(request.headers.get("If-Match"))
        if request.headers.get("If-Match", "").strip('"') not in ("*", self.etag):
            return 412, {}, {"error": {"code": "PreconditionFailed", "message": "ETag mismatch"}}
        sent = body_of(request)["properties"]["hostnameConfigurations"]
        self.hostnames = [self._stored(h) for h in sent]
        self.bump()
        for hook in self.after_patch:
            hook(self)
        self.after_patch = []
        return 202, {"Location": ARM + SERVICE + "/operationresults/op1?api-version=x", "Retry-After": "0"}, None

    def _stored(self, sent: Dict[str, Any]) -> Dict[str, Any]:
        out = {k: v for k, v in sent.items() if k not in ("encodedCertificate", "certificatePassword")}
        if sent.get("encodedCertificate"):
            info = read_pfx_info(sent["encodedCertificate"], sent.get("certificatePassword"))
            cert = {k: info[k] for k in ("expiry", "thumbprint", "subject")}
            out.update(certificateSource="Custom", certificate=cert)
        return out

    def names(self) -> List[str]:
        return [h["hostName"] for h in self.hostnames]


@pytest.fixture
def apim(transport: Any) -> FakeApim:
    return FakeApim(transport)


def _patches(transport: Any) -> List[Any]:
    return [r for r in transport.writes() if r.method == "PATCH"]


def test_inline_certificate_quartet_keeps_builtin_and_foreign(run_module, apim, transport):
    check = run_module(mod, BASE, check_mode=True, diff=True)
    assert not check.failed, check.result
    assert check.result["changed"] is True and transport.writes() == []
    assert check.result["hostname"]["certificate_source"] == "Custom"

    applied = run_module(mod, BASE, diff=True)
    assert not applied.failed, applied.result
    assert applied.result["changed"] is True
    [patch] = _patches(transport)
    body = body_of(patch)
    assert list(body) == ["properties"] and list(body["properties"]) == ["hostnameConfigurations"]
    assert apim.if_match == ['"AAAAAAAAAAE="']
    assert apim.names() == ["apim-x.azure-api.net", "portal.contoso.com", "api.contoso.com"]
    # The foreign entry went back as read; its certificate details are APIM's to fill in from Key Vault.
    assert apim.hostnames[1] == {k: v for k, v in PORTAL.items() if k != "certificate"}
    ours = applied.result["hostname"]
    assert ours["certificate"]["thumbprint"] == read_pfx_info(PFX, PASSWORD)["thumbprint"]
    dumped = json.dumps(applied.result)
    assert PASSWORD not in dumped and PFX[:40] not in dumped
    assert [e["host_name"] for e in applied.result["diff"]["before"]["hostname_configurations"]] == \
        ["apim-x.azure-api.net", "portal.contoso.com"]

    for check_mode in (True, False):
        transport.requests.clear()
        again = run_module(mod, BASE, check_mode=check_mode)
        assert again.result["changed"] is False and transport.writes() == []


def test_concurrent_writer_dropping_entries_after_our_write_is_merged_back(run_module, apim, transport):
    def clobber(fake: FakeApim) -> None:
        # Another writer with a stale list wins right after our write: ours and the portal entry are gone.
        fake.hostnames = [fake.hostnames[0], {"type": "Scm", "hostName": "scm.contoso.com",
                                              "keyVaultId": "https://kv.vault.azure.net/secrets/scm",
                                              "certificateSource": "KeyVault"}]
        fake.bump()

    apim.after_patch.append(clobber)
    result = run_module(mod, BASE)
    assert not result.failed, result.result
    assert len(_patches(transport)) == 2
    assert sorted(apim.names()) == sorted(["apim-x.azure-api.net", "scm.contoso.com", "portal.contoso.com",
                                           "api.contoso.com"])
    restored = next(h for h in apim.hostnames if h["hostName"] == "portal.contoso.com")
    assert restored["keyVaultId"] == PORTAL["keyVaultId"]
    assert any("Another writer changed the hostnames" in w for w in ansible_warnings.get_warning_messages())


def test_etag_race_between_read_and_write_reruns_the_whole_cycle(run_module, apim, transport):
    def sneak_in(fake: FakeApim) -> None:
        fake.hostnames.append({"type": "Management", "hostName": "mgmt.contoso.com",
                               "keyVaultId": "https://kv.vault.azure.net/secrets/mgmt", "certificateSource": "KeyVault"})
        fake.bump()

    apim.before_patch.append(sneak_in)
    result = run_module(mod, BASE)
    assert not result.failed, result.result
    assert len(apim.if_match) == 2 and apim.if_match[0] != apim.if_match[1]
    assert "mgmt.contoso.com" in apim.names() and "api.contoso.com" in apim.names()


def test_absent_removes_only_ours_and_info_never_fails(run_module, apim, transport):
    run_module(mod, BASE)
    gone = run_module(mod, {"resource_group": "rg-apim", "service_name": "apim-x", "host_name": "API.contoso.com",
                            "state": "absent"}, diff=True)
    assert gone.result["changed"] is True and gone.result["removed_host_names"] == ["api.contoso.com"]
    assert apim.names() == ["apim-x.azure-api.net", "portal.contoso.com"]
    found = run_module(info_mod, {"resource_group": "rg-apim", "service_name": "apim-x", "type": "Portal"})
    assert [h["host_name"] for h in found.result["hostname_configurations"]] == ["portal.contoso.com"]
    transport.add("GET", SERVICE.replace("apim-x", "nope"),
                  lambda req, m: (404, {}, {"error": {"code": "ResourceNotFound", "message": "nope"}}))
    missing = run_module(info_mod, {"resource_group": "rg-apim", "service_name": "nope"})
    assert not missing.failed and missing.result["hostname_configurations"] == []


def test_bad_inline_password_fails_before_any_write(run_module, apim, transport):
    result = run_module(mod, dict(BASE, certificate_password="not-the-Password-1"))
    assert result.failed and "password is wrong" in result.result["msg"]
    assert "not-the-Password-1" not in json.dumps(result.result)
    assert transport.writes() == []


def test_builtin_hostname_is_refused(run_module, apim, transport):
    result = run_module(mod, dict(BASE, host_name="APIM-X.azure-api.net", state="absent"))
    assert result.failed and "built-in hostname" in result.result["msg"]
    assert transport.writes() == [] and apim.names()[0] == "apim-x.azure-api.net"


def _service_gets(transport: Any) -> List[str]:
    return [r.url.split("?")[0].split(SERVICE, 1)[1] or "/" for r in transport.requests
            if r.method == "GET" and SERVICE in r.url]


SCM_PFX = base64.b64encode(make_pfx("scm.contoso.com", password=PASSWORD)).decode()
LIST = {"resource_group": "rg-apim", "service_name": "apim-x", "timeout": 120, "hostnames": [
    {"host_name": "api.contoso.com", "certificate": PFX, "certificate_password": PASSWORD,
     "default_ssl_binding": True},
    {"type": "Scm", "host_name": "scm.contoso.com", "certificate": SCM_PFX, "certificate_password": PASSWORD},
]}


def test_list_form_one_patch_and_one_read_per_cycle(run_module, apim, transport):
    applied = run_module(mod, LIST, diff=True)
    assert not applied.failed, applied.result
    assert len(_patches(transport)) == 1
    assert apim.names() == ["apim-x.azure-api.net", "portal.contoso.com", "api.contoso.com", "scm.contoso.com"]
    # The read before the write, then the operation's own polling: no read of the service after it.
    assert _service_gets(transport) == ["/", "/operationresults/op1"]
    result = applied.result
    assert [h["host_name"] for h in result["hostnames"]] == ["api.contoso.com", "scm.contoso.com"]
    assert result["hostname"] == result["hostnames"][0] and result["hostnames"][0]["default_ssl_binding"] is True
    assert result["hostnames"][1]["certificate"]["thumbprint"] == read_pfx_info(SCM_PFX, PASSWORD)["thumbprint"]
    assert PASSWORD not in json.dumps(result) and SCM_PFX[:40] not in json.dumps(result)

    for check_mode in (True, False):
        transport.requests.clear()
        again = run_module(mod, LIST, check_mode=check_mode)
        assert again.result["changed"] is False and transport.writes() == []
        assert _service_gets(transport) == ["/"]


def test_single_form_keeps_its_result_keys(run_module, apim, transport):
    result = run_module(mod, BASE).result
    assert "hostnames" not in result
    assert set(result) >= {"changed", "hostname", "hostname_configurations", "removed_host_names", "diff"}


def test_list_refusals_are_collected_and_nothing_is_written(run_module, apim, transport):
    args = dict(LIST, hostnames=[LIST["hostnames"][0],
                                 {"type": "Scm", "host_name": "scm.contoso.com", "certificate": SCM_PFX,
                                  "certificate_password": "wrong-Password-9"},
                                 {"type": "Portal", "host_name": "apim-x.azure-api.net", "state": "absent"}])
    failed = run_module(mod, args)
    assert failed.failed and transport.writes() == []
    assert failed.result["msg"].startswith("2 of the hostnames cannot be bound; nothing was changed")
    assert [(r["hostname"], r["error_code"]) for r in failed.result["refused"]] == [
        ("Scm scm.contoso.com", "InvalidCertificate"), ("Portal apim-x.azure-api.net", "BuiltInHostname")]
    assert "wrong-Password-9" not in json.dumps(failed.result)


def test_duplicates_and_two_defaults_are_refused_before_any_request(run_module, apim, transport):
    twice = dict(LIST, hostnames=[LIST["hostnames"][0], dict(LIST["hostnames"][0], host_name="API.Contoso.com")])
    failed = run_module(mod, twice)
    assert failed.failed and failed.result["error_code"] == "DuplicateHostname"
    second_default = dict(LIST["hostnames"][1], type="Proxy", default_ssl_binding=True)
    defaults = dict(LIST, hostnames=[LIST["hostnames"][0], second_default])
    failed = run_module(mod, defaults)
    assert failed.failed and failed.result["error_code"] == "ConflictingDefaultSslBinding"
    assert _service_gets(transport) == [] and transport.writes() == []


def test_concurrent_writer_dropping_an_entry_of_the_list_is_merged_back(run_module, apim, transport):
    def clobber(fake: FakeApim) -> None:
        fake.hostnames = [h for h in fake.hostnames if h["hostName"] != "portal.contoso.com"]
        fake.bump()

    apim.after_patch.append(clobber)
    result = run_module(mod, LIST)
    assert not result.failed, result.result
    assert len(_patches(transport)) == 2 and "portal.contoso.com" in apim.names()
    assert {"api.contoso.com", "scm.contoso.com"} <= set(apim.names())
