"""apim_named_value through the real azure-mgmt-apimanagement SDK and a fake transport: desired state, the ETag
race (412 -> re-read -> re-merge -> write with the new ETag), secrets never sent twice or shown."""
from __future__ import annotations

import json

import pytest

from ansible_collections.azure_apim.identity.plugins.modules import apim_named_value as nv
from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_named_values as nv_capability
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ensure

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


class _Stub:
    """Just enough of a module for spec_for: the parameters of one secret named value."""

    params = dict(BASE, state="present", update_secret="on_create", display_name=None, tags=None, purge_tags=False,
                  value="v", is_secret=True, key_vault_secret_id=None, identity="system")


class _NamedValues:
    """A named value whose every PATCH meets the given error (None: it succeeds) and is counted."""

    def __init__(self, errors):
        self.errors, self.calls = list(errors), 0
        self.stored = {"id": "nv1", "name": "nv1", "display_name": "old", "secret": True, "tags": [], "etag": "e1"}

    def get(self, _name):
        return dict(self.stored)

    def update(self, _name, _etag, changes):
        self.calls += 1
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        self.stored.update(changes)
        return None


def _ensure_display_name(named_values, timeout):
    spec = nv_capability.spec_for(_Stub(), named_values)
    return ensure(spec, "present", {"display_name": "new"}, check_mode=False, deadline=Deadline(timeout),
                  sleep=lambda s: None)


def test_etag_race_reruns_read_merge_write():
    named_values = _NamedValues([AzureApimError("changed", status=412, code="PreconditionFailed")])
    outcome = _ensure_display_name(named_values, 600)
    assert named_values.calls == 2 and outcome.changed and outcome.after["display_name"] == "new"


def test_etag_races_end_at_the_deadline():
    """412 after 412: the engine's re-run (ResourceSpec.rerun_on) stops when the next pause would pass the
    task's timeout, and says so (the old fixed attempt count ignored the deadline)."""
    changed = AzureApimError("changed", status=412, code="PreconditionFailed")
    named_values = _NamedValues([changed] * 50)
    with pytest.raises(AzureApimError) as err:
        _ensure_display_name(named_values, 0.5)
    assert named_values.calls == 1 and err.value.status == 412
    assert "timeout" in err.value.msg and "another writer changed the resource" in err.value.msg


def test_other_errors_are_not_rerun():
    named_values = _NamedValues([AzureApimError("no", status=403)])
    with pytest.raises(AzureApimError):
        _ensure_display_name(named_values, 600)
    assert named_values.calls == 1


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
    wanted = {k: v for k, v in nv_capability.desired_state(full, None, current).items() if v is not None}
    assert wanted == expected


@pytest.mark.parametrize("current, wanted, purge, expected", [
    (["a", "b"], ["c"], False, ["a", "b", "c"]),
    (["a", "b"], ["b"], False, ["a", "b"]),
    (["a", "b"], ["c"], True, ["c"]),
    (["a"], None, False, None),
])
def test_tags_are_additive_unless_purged(current, wanted, purge, expected):
    assert nv_capability.merged_tags(current, wanted, purge) == expected


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
