"""apim_backend_auth against the local Azure: the authentication-managed-identity element is added, updated and
removed at service, API and operation scope while every other part of a seeded policy stays exactly as it was."""

from __future__ import annotations

import pytest
from lxml import etree

from harness.quartet import assert_idempotent, runs_of
from integration.nv_support import FAST, UAMI, assert_quartet, resource, service_id, world_spec, writes
from integration.reads_support import reads

pytestmark = pytest.mark.integration

TASK = "Backend auth"
PLAYBOOK = "nv_backend_auth"
API_VERSION = "2024-05-01"
ELEMENT = "authentication-managed-identity"

SEEDED = """<policies>
  <!-- owned by the API team: keep -->
  <inbound>
    <base />
    <set-variable name="caller" value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Caller&quot;,&quot;&quot;))" />
    <choose>
      <when condition="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;caller&quot;) == &quot;a&amp;b&quot;)">
        <authentication-managed-identity resource="https://vault.azure.net" />
      </when>
    </choose>
    <rate-limit calls="20" renewal-period="90" />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
    <set-header name="X-Powered-By" exists-action="delete" />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>"""


def _seed_api(azure, with_policy: bool = True) -> None:
    arm = azure.arm()
    svc = service_id(azure)
    resp = arm.put(f"{svc}/apis/orders", {"properties": {"displayName": "Orders", "path": "orders"}}, API_VERSION)
    assert resp.status_code in (200, 201), resp.text
    resp = arm.put(f"{svc}/apis/orders/operations/send", {"properties": {
        "displayName": "Send", "method": "POST", "urlTemplate": "/send"}}, API_VERSION)
    assert resp.status_code in (200, 201), resp.text
    if with_policy:
        for path in (f"{svc}/apis/orders/policies/policy", f"{svc}/apis/orders/operations/send/policies/policy"):
            resp = arm.put(path, {"properties": {"format": "xml", "value": SEEDED}}, API_VERSION)
            assert resp.status_code in (200, 201), resp.text


def _policy_path(azure, api=None, operation=None) -> str:
    path = service_id(azure)
    if api:
        path += f"/apis/{api}"
    if operation:
        path += f"/operations/{operation}"
    return path + "/policies/policy"


def _stored_xml(run, azure, api=None, operation=None) -> str:
    """The document as the module sent it (the state snapshot masks 'value' keys; '_raw' is the text received)."""
    return resource(run.state, _policy_path(azure, api, operation))["_raw"]


def _ours(xml: str, key=None):
    """Direct children of <inbound> named authentication-managed-identity with this token variable."""
    root = etree.fromstring(xml.encode())
    return [e for e in root.find("inbound") if e.tag == ELEMENT and e.get("output-token-variable-name") == key]


def _canonical_without_ours(xml: str, key=None) -> bytes:
    """lxml's own C14N of the document minus our element: an independent check of 'nothing else changed'."""
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    inbound = root.find("inbound")
    for element in list(inbound):
        if element.tag == ELEMENT and element.get("output-token-variable-name") == key:
            inbound.remove(element)
    return etree.tostring(root, method="c14n2", with_comments=True, strip_text=True)


@pytest.mark.parametrize("scope", ["api", "operation"])
def test_add_update_remove_keep_the_seeded_policy(world, playbook, local_azure, scope):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    target = {"auth_api": "orders"} if scope == "api" else {"auth_api": "orders", "auth_operation": "send"}
    where = {"api": "orders", "operation": "send" if scope == "operation" else None}

    # add (system-assigned identity: no client-id)
    add = {**target, "auth_resource": "https://storage.azure.com/"}
    runs = assert_quartet(playbook, PLAYBOOK, add, TASK)
    check = runs.check
    apply = runs.apply
    diff = check.task(TASK)["diff"]
    assert "https://storage.azure.com/" in diff["after"] and "https://storage.azure.com/" not in diff["before"]
    xml = _stored_xml(apply, local_azure, **where)
    [element] = _ours(xml)
    assert dict(element.attrib) == {"resource": "https://storage.azure.com/"}
    seeded = _canonical_without_ours(SEEDED)
    assert _canonical_without_ours(xml) == seeded
    assert [w["method"] for w in writes(apply)] == ["PUT"]

    # update: a user-assigned identity and ignore-error
    update = {**add, "auth_identity": UAMI, "auth_ignore_error": True}
    runs = assert_quartet(playbook, PLAYBOOK, update, TASK)
    apply = runs.apply
    [element] = _ours(_stored_xml(apply, local_azure, **where))
    uami = next(r for r in apply.state["resources"].values() if r.get("name") == UAMI)
    assert element.get("client-id") == uami["properties"]["clientId"]
    assert element.get("ignore-error") == "true"
    assert _canonical_without_ours(_stored_xml(apply, local_azure, **where)) == seeded

    # a second element keyed by its token variable sits next to the first
    token = {**target, "auth_resource": "https://servicebus.azure.net/", "auth_token_variable": "sb-token"}
    runs = assert_quartet(playbook, PLAYBOOK, token, TASK)
    apply = runs.apply
    xml = _stored_xml(apply, local_azure, **where)
    assert len(_ours(xml)) == 1 and len(_ours(xml, "sb-token")) == 1

    # remove the first; the token-variable one and the seeded content stay
    remove = {**target, "auth_state": "absent"}
    runs = assert_quartet(playbook, PLAYBOOK, remove, TASK)
    apply = runs.apply
    xml = _stored_xml(apply, local_azure, **where)
    assert _ours(xml) == [] and len(_ours(xml, "sb-token")) == 1
    assert _canonical_without_ours(xml, "sb-token") == seeded
    # the nested element inside <when> was never ours
    assert etree.fromstring(xml.encode()).find(f"inbound/choose/when/{ELEMENT}") is not None


def test_service_scope_without_policy_gets_a_default_document(world, playbook, local_azure):
    world(world_spec(), **FAST)
    runs = assert_quartet(playbook, PLAYBOOK, {"auth_resource": "https://vault.azure.net"}, TASK)
    apply = runs.apply
    root = etree.fromstring(_stored_xml(apply, local_azure).encode())
    assert [c.tag for c in root] == ["inbound", "backend", "outbound", "on-error"]
    assert root.find("inbound/base") is None  # the global scope has nothing to inherit
    assert root.find(f"inbound/{ELEMENT}").get("resource") == "https://vault.azure.net"


def test_a_concurrent_policy_edit_is_merged_not_overwritten(world, playbook, local_azure):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    local_azure.admin.add_fault(method="PUT", path="/apis/orders/policies/policy$", status=412, times=1)
    run = playbook(PLAYBOOK, extra_vars={"auth_api": "orders", "auth_resource": "https://storage.azure.com/"})
    assert run.rc == 0, run.explain()
    puts = [e for e in run.requests if e["method"] == "PUT"]
    assert [p["status"] for p in puts] == [412, 200]
    gets = [e for e in run.requests if e["method"] == "GET" and e["path"].endswith("/apis/orders/policies/policy")]
    assert len(gets) >= 3  # read, re-read after the 412, verify


API_POLICY = "GET service/apim-nv/apis/orders/policies/policy"


@pytest.mark.parametrize("identity,noop_reads", [
    # the system identity needs no client id: an unchanged element needs no service read
    ("system", [API_POLICY]),
    # a user-assigned identity's client id comes from the service: one read of it to compare
    (UAMI, [API_POLICY, "GET service/apim-nv"]),
])
def test_reads_of_a_change_and_of_a_no_op(world, playbook, local_azure, identity, noop_reads):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    extra = {"auth_api": "orders", "auth_resource": "https://storage.azure.com/", "auth_identity": identity}
    apply = playbook(PLAYBOOK, extra_vars=extra)
    assert apply.rc == 0 and apply.task(TASK)["changed"] is True, apply.explain()
    # the policy, the service once (identity enabled) before the write, then the policy again to verify
    assert reads(apply) == [API_POLICY, "GET service/apim-nv", API_POLICY], reads(apply)
    for again in assert_idempotent(runs_of(playbook, PLAYBOOK, extra_vars=extra), TASK, diff=False):
        assert reads(again) == noop_reads, reads(again)
    # no policy at the scope (404): the service and the API are read to tell a missing scope from an empty one
    resp = local_azure.arm().put(f"{service_id(local_azure)}/apis/billing",
                                 {"properties": {"displayName": "Billing", "path": "billing"}}, API_VERSION)
    assert resp.status_code in (200, 201), resp.text
    empty = playbook(PLAYBOOK, extra_vars={"auth_api": "billing", "auth_state": "absent"})
    assert empty.rc == 0 and empty.task(TASK)["changed"] is False, empty.explain()
    assert reads(empty) == ["GET service/apim-nv/apis/billing/policies/policy", "GET service/apim-nv",
                            "GET service/apim-nv/apis/billing"], reads(empty)


@pytest.mark.parametrize("extra, expected", [
    ({"auth_api": "no-such-api", "auth_resource": "https://storage.azure.com/"}, "API 'no-such-api' was not found"),
    ({"auth_api": "orders", "auth_operation": "nope", "auth_resource": "https://storage.azure.com/"},
     "Operation 'nope' was not found"),
    ({"auth_api": "orders", "auth_resource": "https://storage.azure.com/", "auth_identity": "id-unattached"},
     "is not attached"),
])
def test_bad_scope_or_identity_is_refused_before_any_write(world, playbook, local_azure, extra, expected):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    run = playbook(PLAYBOOK, extra_vars=extra)
    assert run.rc != 0
    assert expected in run.task(TASK)["msg"], run.task(TASK)["msg"]
    assert writes(run) == []
