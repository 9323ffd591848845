"""Policies at service, API and operation scope: stored as sent, returned normalised (or raw with ?format=rawxml)."""

from __future__ import annotations

import re
from typing import Callable

from flask import Response, request
from lxml import etree

from emulator import arm
from emulator.apim import children
from emulator.apim.apis import API, OPERATION, in_api, operation_or_404
from emulator.apim.base import API_TYPE, OPERATION_TYPE, SERVICE, SERVICE_TYPE, bp, not_found, validation
from emulator.world import World

POLICY_FORMATS = ("xml", "xml-link", "rawxml", "rawxml-link")
_BARE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);)")
_SELF_CLOSING = re.compile(r"(?<! )/>")


def normalise_policy(value: str, fmt: str) -> str:
    """Parse a policy document and render it the way APIM returns it (xml format).

    ``rawxml`` documents may carry unescaped ``&`` inside policy expressions; APIM accepts them and escapes them
    when it renders the document as XML. The root element must be ``<policies>``.
    """
    text = _BARE_AMPERSAND.sub("&amp;", value) if fmt.startswith("rawxml") else value
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise validation(f"The policy document is not well-formed XML: {exc}", "value") from exc
    if root.tag != "policies":
        raise validation("The root element of a policy document must be <policies>.", "value")
    etree.indent(root, space="  ")
    rendered = etree.tostring(root, encoding="unicode")
    return _SELF_CLOSING.sub(" />", rendered).replace("\n", "\r\n")


def _in_operation(w: World, kw: dict[str, str], write: bool) -> dict:
    return operation_or_404(w, in_api(w, kw, write), kw["operation"])


# scope → (the family of its policy, the policy's URL, the policy's parent); every scope holds one policy, "policy"
_SCOPES: dict[str, tuple[children.Family, str, children.Parent]] = {
    "service": (children.Family("policies", f"{SERVICE_TYPE}/policies", "Policy", version_type=SERVICE_TYPE),
                SERVICE + "/policies/<policy_id>", children.in_service),
    "api": (children.Family("policies", f"{API_TYPE}/policies", "Policy", version_type=SERVICE_TYPE),
            API + "/policies/<policy_id>", in_api),
    "operation": (children.Family("policies", f"{OPERATION_TYPE}/policies", "Policy", version_type=SERVICE_TYPE),
                  OPERATION + "/policies/<policy_id>", _in_operation),
}


def _policy_put(family: children.Family, parent: children.Parent, kw: dict[str, str]) -> Response:
    family.check_version()
    if kw["policy_id"].lower() != "policy":
        raise validation("The policy identifier must be 'policy'.", "policyId")
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        scope = parent(w, kw, True)
        fmt = props.get("format") or "xml"
        if fmt not in POLICY_FORMATS:
            raise validation(f"'format' must be one of {', '.join(POLICY_FORMATS)}.", "format")
        if fmt.endswith("-link"):
            raise validation("Policy links are not supported by the local Azure; send the document inline.",
                             "format")
        value = str(props.get("value") or "")
        return children.put(family, w, scope, "policy",
                            lambda _old: {"properties": {"value": normalise_policy(value, fmt)}, "_raw": value})


def _policy_get(family: children.Family, parent: children.Parent, kw: dict[str, str]) -> Response:
    """The policy as stored (normalised XML), or in the ``format`` asked for (``rawxml``: the text as sent)."""
    family.check_version()
    w = arm.world()
    with w.lock:
        stored = family.find(w, parent(w, kw, False), "policy")
        if stored is None or kw["policy_id"].lower() != "policy":
            raise not_found("Policy")
        body = arm.public(stored)
        fmt = request.args.get("format")
        if fmt == "rawxml":
            body["properties"] = {"format": "rawxml", "value": stored.get("_raw", body["properties"]["value"])}
        elif fmt:
            body["properties"] = {"format": fmt, "value": body["properties"]["value"]}
        return arm.json_response(body, 200, etag=stored["_etag"])


def _policy_delete(family: children.Family, parent: children.Parent, kw: dict[str, str]) -> Response:
    family.check_version()
    w = arm.world()
    with w.lock:
        return children.delete(family, w, parent(w, kw, True), "policy")


def _register_policy_routes() -> None:
    for scope, (family, rule, parent) in _SCOPES.items():
        for method, handler in (("PUT", _policy_put), ("GET", _policy_get), ("DELETE", _policy_delete)):
            def view(_handler: Callable[..., Response] = handler, _family: children.Family = family,
                     _parent: children.Parent = parent, **kw: str) -> Response:
                return _handler(_family, _parent, kw)
            bp.add_url_rule(rule, endpoint=f"policy_{scope}_{method.lower()}", view_func=view, methods=[method])


_register_policy_routes()
