"""Policy XML merge: our element is added, updated or removed; everything else survives byte-for-byte in C14N."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_policy as policy

# A policy with what real documents carry: comments, expressions with escaped quotes and ampersands, nested
# choose/when (with its own authentication-managed-identity that is not ours), attributes in a given order.
RICH = (
    "<policies>\r\n"
    "  <!-- owned by the API team: keep -->\r\n"
    "  <inbound>\r\n"
    "    <base />\r\n"
    "    <set-variable name=\"caller\" value=\"@(context.Request.Headers.GetValueOrDefault(&quot;X-Caller&quot;,"
    "&quot;&quot;))\" />\r\n"
    "    <choose>\r\n"
    "      <when condition=\"@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;caller&quot;) == &quot;a&amp;b&quot;)\">\r\n"
    "        <authentication-managed-identity resource=\"https://vault.azure.net\" />\r\n"
    "      </when>\r\n"
    "    </choose>\r\n"
    "    <rate-limit calls=\"20\" renewal-period=\"90\" remaining-calls-variable-name=\"remaining\" />\r\n"
    "  </inbound>\r\n"
    "  <backend>\r\n    <base />\r\n  </backend>\r\n"
    "  <outbound>\r\n    <base />\r\n    <set-header name=\"X-Powered-By\" exists-action=\"delete\" />\r\n  </outbound>\r\n"
    "  <on-error>\r\n    <base />\r\n  </on-error>\r\n"
    "</policies>"
)
WITH_OURS = RICH.replace(
    "    <base />\r\n    <set-variable",
    "    <base />\r\n    <authentication-managed-identity resource=\"https://storage.azure.com/\" "
    "client-id=\"AAAA-1111\" ignore-error=\"false\" />\r\n    <set-variable", 1)
NO_INBOUND = "<policies>\r\n  <backend>\r\n    <forward-request />\r\n  </backend>\r\n  <outbound />\r\n</policies>"
TOKEN_VAR = RICH.replace(
    "    <base />\r\n    <set-variable",
    "    <base />\r\n    <authentication-managed-identity resource=\"https://servicebus.azure.net/\" "
    "output-token-variable-name=\"sb-token\" />\r\n    <set-variable", 1)


def _ours(text: str, key=None):
    return policy.current_settings(text, key)


def _others(text: str, key=None) -> str:
    return policy._without(text, key)


@pytest.mark.parametrize("source, scope, wanted, expected", [
    # add to an existing policy, after <base />
    (RICH, "api", {"resource": "https://vault.azure.net", "client_id": None},
     {"resource": "https://vault.azure.net", "client_id": None, "output_token_variable_name": None,
      "ignore_error": None}),
    # add with a user-assigned client id and ignore-error
    (RICH, "operation", {"resource": "https://management.azure.com/", "client_id": "c1", "ignore_error": True},
     {"resource": "https://management.azure.com/", "client_id": "c1", "output_token_variable_name": None,
      "ignore_error": True}),
    # update: resource changes, client-id removed for the system-assigned identity, ignore-error left alone
    (WITH_OURS, "api", {"resource": "https://vault.azure.net", "client_id": None},
     {"resource": "https://vault.azure.net", "client_id": None, "output_token_variable_name": None,
      "ignore_error": False}),
    # a second element keyed by output-token-variable-name is added next to the existing one
    (WITH_OURS, "api", {"resource": "https://eventhubs.azure.net/", "client_id": None,
                        "output_token_variable_name": "eh-token"},
     {"resource": "https://eventhubs.azure.net/", "client_id": None, "output_token_variable_name": "eh-token",
      "ignore_error": None}),
    # a policy without <inbound> gets one
    (NO_INBOUND, "service", {"resource": "https://vault.azure.net", "client_id": None},
     {"resource": "https://vault.azure.net", "client_id": None, "output_token_variable_name": None,
      "ignore_error": None}),
])
def test_merge_sets_our_element_and_keeps_everything_else(source, scope, wanted, expected):
    result, changed = policy.merge(source, scope, wanted)
    assert changed is True
    assert _ours(result, wanted.get("output_token_variable_name")) == expected
    # every other element, attribute, comment and expression is there, unchanged
    assert _others(result, wanted.get("output_token_variable_name")) == _others(source, wanted.get(
        "output_token_variable_name"))
    # and the result is still a policies document APIM accepts
    assert ET.fromstring(result).tag == "policies"


def test_merge_keeps_comments_and_expressions_verbatim_in_the_text():
    result = policy.merge(RICH, "api", {"resource": "https://vault.azure.net", "client_id": None})[0]
    assert "<!-- owned by the API team: keep -->" in result
    assert "GetValueOrDefault(&quot;X-Caller&quot;,&quot;&quot;)" in result
    assert "&quot;a&amp;b&quot;" in result
    assert 'remaining-calls-variable-name="remaining"' in result
    # the nested element inside <when> is not ours and is still there
    when = ET.fromstring(result).find("inbound/choose/when/authentication-managed-identity")
    assert when is not None and when.get("resource") == "https://vault.azure.net"


def test_merge_places_the_element_after_base():
    result = policy.merge(RICH, "api", {"resource": "https://vault.azure.net", "client_id": None})[0]
    tags = [child.tag for child in ET.fromstring(result).find("inbound")]
    assert tags[:3] == ["base", "authentication-managed-identity", "set-variable"]


@pytest.mark.parametrize("source, wanted", [
    (WITH_OURS, {"resource": "https://storage.azure.com/", "client_id": "aaaa-1111"}),  # client id case differs
    (WITH_OURS, {"resource": "https://storage.azure.com/", "client_id": "AAAA-1111", "ignore_error": False}),
    (TOKEN_VAR, {"resource": "https://servicebus.azure.net/", "client_id": None,
                 "output_token_variable_name": "sb-token"}),
])
def test_merge_is_a_no_op_when_the_element_matches(source, wanted):
    result, changed = policy.merge(source, "api", wanted)
    assert changed is False
    assert result == source


@pytest.mark.parametrize("source, key, expected_changed", [
    (WITH_OURS, None, True),
    (TOKEN_VAR, "sb-token", True),
    (TOKEN_VAR, None, False),      # the token-variable element has another key
    (RICH, None, False),           # the nested element in <when> is not ours
    (None, None, False),
])
def test_remove_only_touches_our_element(source, key, expected_changed):
    result, changed = policy.remove(source, key)
    assert changed is expected_changed
    if source is None:
        assert result is None
        return
    assert _ours(result, key) is None
    assert _others(result, key) == _others(source, key)
    if expected_changed:
        assert policy.canonical(policy.parse(result)) == policy.canonical(policy.parse(RICH))


@pytest.mark.parametrize("scope, has_base", [("service", False), ("api", True), ("operation", True)])
def test_a_scope_without_policy_gets_the_default_document(scope, has_base):
    result, changed = policy.merge(None, scope, {"resource": "https://vault.azure.net", "client_id": None})
    assert changed is True
    root = ET.fromstring(result)
    assert [c.tag for c in root] == ["inbound", "backend", "outbound", "on-error"]
    assert (root.find("inbound/base") is not None) is has_base
    assert root.find("inbound/authentication-managed-identity").get("resource") == "https://vault.azure.net"


@pytest.mark.parametrize("text, code", [
    ("<policies><inbound>", "InvalidPolicy"),
    ("<policy><inbound /></policy>", "InvalidPolicy"),
])
def test_unreadable_policies_are_refused(text, code):
    with pytest.raises(policy.PolicyDocumentError) as err:
        policy.merge(text, "api", {"resource": "https://vault.azure.net"})
    assert err.value.code == code
    assert err.value.hint


def test_namespaced_documents_are_refused_rather_than_rewritten():
    text = '<policies xmlns:x="urn:x"><inbound><x:custom x:a="1" /></inbound></policies>'
    with pytest.raises(policy.PolicyDocumentError) as err:
        policy.merge(text, "api", {"resource": "https://vault.azure.net"})
    assert err.value.code == "PolicyMergeUnsafe"


def test_removing_then_adding_round_trips():
    removed = policy.remove(WITH_OURS, None)[0]
    added = policy.merge(removed, "api", {"resource": "https://storage.azure.com/", "client_id": "AAAA-1111",
                                          "ignore_error": False})[0]
    assert policy.canonical(policy.parse(added)) == policy.canonical(policy.parse(WITH_OURS))


@pytest.mark.parametrize("after", [
    RICH.replace('calls="20"', 'calls="21"'),                     # an attribute of another element
    RICH.replace("<!-- owned by the API team: keep -->", ""),     # a comment
    RICH.replace("&quot;a&amp;b&quot;", "&quot;ab&quot;"),        # an expression
])
def test_the_guard_refuses_any_other_difference(after):
    with pytest.raises(policy.PolicyDocumentError) as err:
        policy.check_preserved(RICH, after, None)
    assert err.value.code == "PolicyMergeUnsafe"


def test_the_guard_accepts_whitespace_only_differences():
    policy.check_preserved(RICH, RICH.replace("\r\n    ", "\n\t"), None)
