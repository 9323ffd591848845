# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""API Management policy documents: one ``authentication-managed-identity`` element merged into the XML.

The merge works on the policy as APIM returns it in its ``xml`` format (well-formed, expressions XML-escaped).
It uses the standard library's ElementTree with comments and processing instructions kept, so no compiled
dependency is needed where the modules run. ElementTree keeps element order, attribute order (Python 3.8+),
comments, processing instructions and every policy expression (escaping may be re-spelled, the text is the same);
it would rename namespace prefixes and turn CDATA into escaped text, which APIM's ``xml`` output does not contain.
As a guard, every merge is checked: the document without our element must be canonically identical (C14N 2.0,
comments included) before and after the change, otherwise nothing is written.

Only direct children of ``<inbound>`` are managed; an element nested in ``<choose>`` or ``<when>`` belongs to
whoever wrote it. Elements are told apart by ``output-token-variable-name`` (none = the one that sets the
``Authorization`` header of the backend request).

The Azure side (reading and writing the policy of a scope with its ETag) is ``Policies`` at the end.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ._arm import with_etag
from ._errors import AzureApimError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

ELEMENT = "authentication-managed-identity"
INBOUND = "inbound"
SECTIONS = ("inbound", "backend", "outbound", "on-error")
# Option name -> attribute name of the policy element (Microsoft's policy reference).
ATTRIBUTES = {
    "resource": "resource",
    "client_id": "client-id",
    "output_token_variable_name": "output-token-variable-name",
    "ignore_error": "ignore-error",
}
KEY_ATTRIBUTE = "output-token-variable-name"

# A scope without any policy: the global scope cannot use <base /> (nothing to inherit), API and operation
# scopes inherit the parent's policy through <base /> in every section.
_GLOBAL_SKELETON = ("<policies>\r\n  <inbound />\r\n  <backend>\r\n    <forward-request />\r\n  </backend>\r\n"
                    "  <outbound />\r\n  <on-error />\r\n</policies>")
_CHILD_SKELETON = ("<policies>\r\n  <inbound>\r\n    <base />\r\n  </inbound>\r\n  <backend>\r\n    <base />\r\n"
                   "  </backend>\r\n  <outbound>\r\n    <base />\r\n  </outbound>\r\n  <on-error>\r\n    <base />\r\n"
                   "  </on-error>\r\n</policies>")


class PolicyDocumentError(AzureApimError):
    """The existing policy cannot be merged safely."""


def skeleton(scope: str) -> str:
    """The policy document of a scope that has none yet (``service``, ``api`` or ``operation``)."""
    return _GLOBAL_SKELETON if scope == "service" else _CHILD_SKELETON


def parse(text: str) -> ET.Element:
    """Parse a policy document keeping comments and processing instructions; the root must be <policies>."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    try:
        parser.feed(text)
        root = parser.close()
    except ET.ParseError as err:
        raise PolicyDocumentError("The existing policy is not well-formed XML ({0})".format(err), code="InvalidPolicy",
                                  hint="fix the policy in the portal or with its owner's tooling, then re-run") from err
    if root.tag != "policies":
        raise PolicyDocumentError("The existing policy's root element is <{0}>, not <policies>".format(root.tag),
                                  code="InvalidPolicy", hint="fix the policy document, then re-run")
    _refuse_namespaces(root)
    return root


def _refuse_namespaces(root: ET.Element) -> None:
    """ElementTree would rewrite namespace prefixes (``ns0:``); such documents are left to their owners."""
    for node in root.iter():
        names = [node.tag] + list(node.attrib) if isinstance(node.tag, str) else []
        if any(name.startswith("{") for name in names):
            raise PolicyDocumentError(
                "The existing policy uses XML namespaces, which this module does not rewrite; nothing was written",
                code="PolicyMergeUnsafe", hint="add the element to the policy by hand, then re-run")


def render(root: ET.Element) -> str:
    """Serialise a document the way APIM writes empty elements (``<base />``)."""
    return ET.tostring(root, encoding="unicode", short_empty_elements=True)


def _children(parent: ET.Element) -> List[ET.Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _section(root: ET.Element, name: str) -> Optional[ET.Element]:
    return next((child for child in _children(root) if child.tag == name), None)


def _key_of(element: ET.Element) -> str:
    return element.get(KEY_ATTRIBUTE) or ""


def find(root: ET.Element, key: Optional[str]) -> Optional[ET.Element]:
    """Our element in <inbound>: the direct child whose output-token-variable-name equals ``key`` (None = unset)."""
    inbound = _section(root, INBOUND)
    if inbound is None:
        return None
    for child in _children(inbound):
        if child.tag == ELEMENT and _key_of(child) == (key or ""):
            return child
    return None


def element_to_dict(element: Optional[ET.Element]) -> Optional[Dict[str, Any]]:
    """The element's settings as option names (``ignore_error`` as a bool); None when absent."""
    if element is None:
        return None
    result: Dict[str, Any] = {option: element.get(attr) for option, attr in ATTRIBUTES.items()}
    if result["ignore_error"] is not None:
        result["ignore_error"] = result["ignore_error"].strip().lower() == "true"
    return result


def _inbound(root: ET.Element, scope: str) -> ET.Element:
    """The <inbound> section, created first in the document when missing (with <base /> below the global scope)."""
    inbound = _section(root, INBOUND)
    if inbound is not None:
        return inbound
    inbound = ET.Element(INBOUND)
    if scope != "service":
        ET.SubElement(inbound, "base")
    inbound.tail = root.text
    root.insert(0, inbound)
    return inbound


def _insert(inbound: ET.Element, element: ET.Element) -> None:
    """Put the element after <base /> when there is one (inherited policies run first), else first."""
    children = list(inbound)
    base = next((i for i, child in enumerate(children) if child.tag == "base"), None)
    if base is None:
        element.tail = inbound.text
        inbound.insert(0, element)
        return
    element.tail = children[base].tail
    inbound.insert(base + 1, element)


def detach(parent: ET.Element, element: ET.Element) -> None:
    """Remove ``element`` and give its trailing whitespace to the previous node, so indentation stays right."""
    children = list(parent)
    index = children.index(element)
    if index > 0:
        children[index - 1].tail = element.tail
    parent.remove(element)


def _set_attributes(element: ET.Element, wanted: Dict[str, Any]) -> None:
    for option, attr in ATTRIBUTES.items():
        if option not in wanted:
            continue
        value = wanted[option]
        if value is None:
            element.attrib.pop(attr, None)
        elif isinstance(value, bool):
            element.set(attr, "true" if value else "false")
        else:
            element.set(attr, str(value))


def matches(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> bool:
    """True when the element has every wanted setting (client ids compared without case)."""
    if current is None:
        return False
    for option, value in wanted.items():
        have = current.get(option)
        if option == "client_id" and have is not None and value is not None:
            if have.lower() != value.lower():
                return False
        elif have != value:
            return False
    return True


def canonical(root: ET.Element) -> str:
    """C14N 2.0 form with comments, whitespace around text ignored (used to prove nothing else changed)."""
    return ET.canonicalize(render(root), with_comments=True, strip_text=True)


def _without(text: str, key: Optional[str]) -> str:
    """Canonical form of the document minus our element, and minus an <inbound> holding at most <base />
    (the merge may create that section when the document had none)."""
    root = parse(text)
    inbound = _section(root, INBOUND)
    element = find(root, key)
    if element is not None:
        detach(inbound, element)
    if inbound is not None and all(child.tag == "base" for child in inbound) and not (inbound.text or "").strip():
        root.remove(inbound)
    return canonical(root)


def check_preserved(before: str, after: str, key: Optional[str]) -> None:
    """Raise unless ``before`` and ``after`` differ only in our element (the merge guard)."""
    if _without(before, key) != _without(after, key):
        raise PolicyDocumentError(
            "Merging the {0} element would change other parts of the existing policy (it may use XML namespaces "
            "or constructs this module does not round-trip); nothing was written".format(ELEMENT),
            code="PolicyMergeUnsafe", hint="add the element to the policy by hand, or simplify the policy, then re-run")


def merge(text: Optional[str], scope: str, wanted: Dict[str, Any]) -> Tuple[str, bool]:
    """The document with our element present and set as ``wanted``; (new text, changed)."""
    source = text if text and text.strip() else skeleton(scope)
    root = parse(source)
    key = wanted.get("output_token_variable_name")
    element = find(root, key)
    if element is not None and matches(element_to_dict(element), wanted):
        return source, False
    if element is None:
        element = ET.Element(ELEMENT)
        _insert(_inbound(root, scope), element)
    _set_attributes(element, wanted)
    result = render(root)
    check_preserved(source, result, key)
    return result, True


def remove(text: Optional[str], key: Optional[str]) -> Tuple[Optional[str], bool]:
    """The document without our element; (new text, changed). A missing policy stays missing."""
    if not text or not text.strip():
        return text, False
    root = parse(text)
    element = find(root, key)
    if element is None:
        return text, False
    detach(_section(root, INBOUND), element)
    result = render(root)
    check_preserved(text, result, key)
    return result, True


def current_settings(text: Optional[str], key: Optional[str]) -> Optional[Dict[str, Any]]:
    """Our element's settings in a document (None when the document or the element is absent)."""
    if not text or not text.strip():
        return None
    return element_to_dict(find(parse(text), key))


# ----------------------------------------------------------------------------------------------------------------
# policies, APIs, operations
# ----------------------------------------------------------------------------------------------------------------

class Policies:
    """The policy document of the service, an API or an operation (plain XML text + ETag)."""

    def __init__(self, module: AzureApimModule, resource_group: str, service: str) -> None:
        self.module, self.group, self.service = module, resource_group, service

    @property
    def _client(self) -> Any:
        return self.module.client("apim")

    def scope_name(self, api: Optional[str], operation: Optional[str]) -> str:
        """``service``, ``api`` or ``operation``."""
        return "operation" if operation else "api" if api else "service"

    def describe(self, api: Optional[str], operation: Optional[str]) -> str:
        """Words for messages: which policy this is."""
        if operation:
            return "the policy of operation {0} of API {1} in service {2}".format(operation, api, self.service)
        if api:
            return "the policy of API {0} in service {1}".format(api, self.service)
        return "the global policy of service {0}".format(self.service)

    def require_scope(self, api: Optional[str], operation: Optional[str]) -> None:
        """Fail clearly (before any write) when the API or operation does not exist."""
        if not api:
            return
        client = self._client
        found = self.module.read(client.api.get, self.group, self.service, api,
                                 what="reading API {0}".format(api))
        if found is None:
            raise AzureApimError("API {0!r} was not found in API Management service {1!r}".format(api, self.service),
                                 status=404, code="ApiNotFound",
                                 hint="check api_id (the API's name, not its display name or path)")
        if operation and self.module.read(client.api_operation.get, self.group, self.service, api, operation,
                                          what="reading operation {0}".format(operation)) is None:
            raise AzureApimError("Operation {0!r} was not found in API {1!r} of service {2!r}".format(
                operation, api, self.service), status=404, code="OperationNotFound",
                hint="check operation_id (the operation's name, not its display name)")

    def _target(self, api: Optional[str], operation: Optional[str]) -> Tuple[Any, tuple]:
        client = self._client
        if operation:
            return client.api_operation_policy, (self.group, self.service, api, operation, "policy")
        if api:
            return client.api_policy, (self.group, self.service, api, "policy")
        return client.policy, (self.group, self.service, "policy")

    def get(self, api: Optional[str], operation: Optional[str]) -> Optional[Dict[str, Any]]:
        """``{"value": xml, "etag": ...}`` in APIM's well-formed ``xml`` format, or None when the scope has none."""
        ops, args = self._target(api, operation)
        found = self.module.read(ops.get, *args, format="xml", cls=with_etag,
                                 what="reading " + self.describe(api, operation))
        if found is None:
            return None
        model, etag = found
        return {"value": getattr(model, "value", None), "etag": etag}

    def put(self, api: Optional[str], operation: Optional[str], xml: str, etag: Optional[str]) -> None:
        """Write the document; ``etag`` (the one read) makes a concurrent change fail with 412 instead of being lost."""
        from azure.mgmt.apimanagement import models

        ops, args = self._target(api, operation)
        self.module.call(ops.create_or_update, *args, models.PolicyContract(value=xml, format="xml"),
                         if_match=etag, what="writing " + self.describe(api, operation), retry=())


# ----------------------------------------------------------------------------------------------------------------
# Key Vault named values: waiting for APIM to read the secret
# ----------------------------------------------------------------------------------------------------------------
