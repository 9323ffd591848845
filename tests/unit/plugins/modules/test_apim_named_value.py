"""apim_named_value through the real azure-mgmt-apimanagement SDK and a fake transport: desired state, the ETag
race (412 -> re-read -> re-merge -> write with the new ETag), secrets never sent twice or shown."""
from __future__ import annotations

import json

import pytest

from ansible_collections.azure_apim.identity.plugins.modules import apim_named_value as nv
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_entities import retry_on_etag_mismatch
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

from ...conftest import SUBSCRIPTION, body_of

SERVICE_PATH = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-nv"
NV_PATTERN = r".*/service/apim-nv/namedValues/nv1"
BASE = {"resource_group": "rg-apim", "service_name": "apim-nv", "name": "nv1"}
KV_URI = "https://kv-nv.vault.azure.net/secrets/backend-key"


def _service_body():
    return {"id": SERVICE_PATH, "name": "apim-nv", "type": "Microsoft.ApiManagement/service", "location": "westeurope",
            "sku": {"name": "Developer", "capacity": 1},
            "properties": {"publisherEmail": "a@contoso.com", "publisherName": "Contoso", "provisioningState": "Succeeded"},
            "identity": {"type": "SystemAssigned", "principalId": "pid-1", "tenantId": "tid-1"}}


class FakeNamedValue:
    """One named value whose ETag changes on every write; ``before_patch`` lets a test act as another writer."""

    def __init__(self, transport, properties):
        self.properties = dict(properties)
        self.etag = '"E1"'
        self.versions = 1
        self.patches = []
        self.before_patch = None
        transport.add("GET", r".*/service/apim-nv", lambda req, m: (200, {}, _service_body()))
        transport.add("GET", NV_PATTERN, self.get)
        transport.add("PATCH", NV_PATTERN, self.patch)

    def body(self):
        props = {k: v for k, v in self.properties.items() if not (k == "value" and self.properties.get("secret"))}
        return {"id": SERVICE_PATH + "/namedValues/nv1", "name": "nv1",
                "type": "Microsoft.ApiManagement/service/namedValues", "properties": props}

    def bump(self):
        self.versions += 1
        self.etag = '"E{0}"'.format(self.versions)

    def get(self, request, match):
        return 200, {"ETag": self.etag}, self.body()

    def patch(self, request, match):
        self.patches.append((request.headers.get("If-Match"), body_of(request)))
        if self.before_patch:
            hook, self.before_patch = self.before_patch, None
            hook(self)
        if request.headers.get("If-Match") not in ("*", self.etag):
            return 412, {}, {"error": {"code": "PreconditionFailed", "message": "ETag mismatch"}}
        self.properties.update(body_of(request)["properties"])
        self.bump()
        return 200, {"ETag": self.etag}, self.body()


def test_a_concurrent_tag_is_kept_through_the_etag_race(run_module, transport):
    fake = FakeNamedValue(transport, {"displayName": "nv1", "secret": True, "tags": ["ours"],
                                      "keyVault": {"secretIdentifier": KV_URI}})

    def other_writer(named_value):
        named_value.properties["tags"] = ["ours", "theirs"]
        named_value.bump()

    fake.before_patch = other_writer
    result = run_module(nv, dict(BASE, key_vault_secret_id=KV_URI, tags=["ours", "new"]))
    assert not result.failed, result.result.get("msg")
    assert result.result["changed"] is True
    # first PATCH carried the ETag first read and met 412; the second carried the fresh one and the merged tags
    assert [p[0] for p in fake.patches] == ['"E1"', '"E2"']
    assert fake.patches[1][1] == {"properties": {"tags": ["ours", "theirs", "new"]}}
    assert sorted(fake.properties["tags"]) == ["new", "ours", "theirs"]


def test_etag_races_are_bounded():
    calls = []

    def always_412():
        calls.append(1)
        raise AzureApimError("changed", status=412, code="PreconditionFailed")

    with pytest.raises(AzureApimError) as err:
        retry_on_etag_mismatch(always_412, "named value nv1", attempts=3, sleep=lambda s: None)
    assert len(calls) == 3
    assert err.value.code == "ConcurrentChanges" and "3 attempts" in err.value.msg


def test_other_errors_are_not_retried():
    calls = []

    def forbidden():
        calls.append(1)
        raise AzureApimError("no", status=403)

    with pytest.raises(AzureApimError):
        retry_on_etag_mismatch(forbidden, "x", sleep=lambda s: None)
    assert calls == [1]


def test_secret_value_is_not_resent_and_never_returned(run_module, transport):
    fake = FakeNamedValue(transport, {"displayName": "nv1", "secret": True, "tags": [], "value": "old-secret-1"})
    result = run_module(nv, dict(BASE, value="new-secret-2", is_secret=True), diff=True)
    assert result.result["changed"] is False and fake.patches == []
    rotated = run_module(nv, dict(BASE, value="new-secret-2", is_secret=True, update_secret="always"), diff=True)
    assert rotated.result["changed"] is True
    assert fake.patches[-1][1] == {"properties": {"secret": True, "value": "new-secret-2"}}
    assert "new-secret-2" not in json.dumps(rotated.result) and "old-secret-1" not in json.dumps(rotated.result)


@pytest.mark.parametrize("params, current, expected", [
    # create a plain value: display name defaults to the name, value sent
    ({"value": "v", "is_secret": None, "update_secret": "on_create"}, None,
     {"display_name": "nv1", "source": "value", "secret": False, "value": "v"}),
    # existing secret: the value is not compared (Azure hides it) unless update_secret=always
    ({"value": "v", "is_secret": True, "update_secret": "on_create"}, {"source": "value", "secret": True, "tags": []},
     {"source": "value", "secret": True}),
    # existing visible value: compared
    ({"value": "v", "is_secret": None, "update_secret": "on_create"}, {"source": "value", "secret": False},
     {"source": "value", "secret": False, "value": "v"}),
    # Key Vault -> plain: the value is sent
    ({"value": "v", "is_secret": True, "update_secret": "on_create"}, {"source": "key_vault", "secret": True},
     {"source": "value", "secret": True, "value": "v"}),
    # Key Vault: always secret, system identity spelled out
    ({"key_vault_secret_id": KV_URI}, None,
     {"display_name": "nv1", "source": "key_vault", "secret": True,
      "key_vault": {"secret_identifier": KV_URI, "identity_client_id": "SystemAssigned"}}),
])
def test_desired_state(params, current, expected):
    full = dict(name="nv1", display_name=None, value=None, is_secret=None, update_secret="on_create",
                key_vault_secret_id=None, tags=None, purge_tags=False)
    full.update(params)
    wanted = {k: v for k, v in nv.desired_state(full, None, current).items() if v is not None}
    assert wanted == expected


@pytest.mark.parametrize("current, wanted, purge, expected", [
    (["a", "b"], ["c"], False, ["a", "b", "c"]),
    (["a", "b"], ["b"], False, ["a", "b"]),
    (["a", "b"], ["c"], True, ["c"]),
    (["a"], None, False, None),
])
def test_tags_are_additive_unless_purged(current, wanted, purge, expected):
    assert nv.merged_tags(current, wanted, purge) == expected


@pytest.mark.parametrize("params, message", [
    ({"value": "x", "key_vault_secret_id": KV_URI}, "both 'value' and 'key_vault_secret_id'"),
    ({"key_vault_secret_id": KV_URI, "is_secret": False}, "always secret"),
    ({"key_vault_secret_id": "https://kv-nv.vault.azure.net/certificates/c1"}, "/secrets/c1"),
    ({"value": "x", "display_name": "has space"}, "display_name"),
    ({"value": ""}, "empty"),
])
def test_bad_input_is_refused_without_calling_azure(run_module, transport, params, message):
    result = run_module(nv, dict(BASE, **params))
    assert result.failed and message in result.result["msg"]
    assert transport.arm_requests() == []
