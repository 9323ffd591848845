# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of apim_backend_auth: the authentication-managed-identity elements of one policy document (global,
API or operation), merged into the document and written through the engine (_state.ensure) with a comparator that
looks at those elements only, so the rest of the document is never judged or rewritten."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from . import _apim_policy as policy_xml
from ._access import ServiceIdentity
from ._errors import AzureApimError
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._state import ResourceSpec, ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._items import ItemList
    from ._module import AzureApimModule

# One item: its params and how an error names it (the list entry, or nothing for the single form).
Item = Tuple[Dict[str, Any], Callable[[Callable[[Dict[str, Any]], Any]], Any]]
# (output_token_variable_name, wanted settings or None for "removed") per element of one document
Wanted = List[Tuple[Optional[str], Optional[Dict[str, Any]]]]


def validate(params: Dict[str, Any]) -> None:
    """An element without an audience, or an operation without its API, is refused before any request."""
    if params["operation_id"] and not params["api_id"]:
        raise AzureApimError("operation_id {0!r} is given without api_id".format(params["operation_id"]),
                             code="InvalidParameters", hint="give the API the operation belongs to (api_id)")
    if params["state"] == "present" and not (params["resource"] or "").strip():
        raise AzureApimError("'resource' is missing or empty", code="InvalidParameters",
                             hint="give the backend's audience, for example https://storage.azure.com/")


def element_key(params: Dict[str, Any]) -> str:
    """How the list names an entry: its policy and the element's key."""
    where = "/".join(p for p in (params["api_id"], params["operation_id"]) if p) or "(global)"
    return "{0} {1}".format(where, params["output_token_variable_name"] or "Authorization header")


def wanted_element(params: Dict[str, Any], client_id: Optional[str]) -> Dict[str, Any]:
    """Attributes to set; ``client_id`` None removes the attribute (system-assigned identity)."""
    wanted: Dict[str, Any] = {"resource": params["resource"].strip(), "client_id": client_id}
    if params["output_token_variable_name"]:
        wanted["output_token_variable_name"] = params["output_token_variable_name"]
    if params["ignore_error"] is not None:
        wanted["ignore_error"] = params["ignore_error"]
    return wanted


class Identities:
    """One ServiceIdentity per identity reference (they share one read of the service)."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module
        self._known: Dict[str, ServiceIdentity] = {}

    def __call__(self, params: Dict[str, Any]) -> ServiceIdentity:
        ref = params["identity"]
        if ref not in self._known:
            self._known[ref] = ServiceIdentity(self.module, params["resource_group"], params["service_name"], ref)
        return self._known[ref]


def _merge_one(text: Optional[str], scope: str, params: Dict[str, Any],
               identities: Identities) -> Tuple[str, bool, Optional[Dict[str, Any]]]:
    """The document with this element merged (or removed), whether that changed it, and the wanted settings."""
    if params["state"] != "present":
        return policy_xml.remove(text, params["output_token_variable_name"]) + (None,)
    identity = identities(params)
    wanted = wanted_element(params, identity.client_id())
    new_text, changed = policy_xml.merge(text, scope, wanted)
    if changed:
        identity.resolve()  # refuse an identity the service does not have, before any write
    return new_text, changed, wanted


def _elements_as_wanted(wanted: Wanted) -> Callable[[Any, Any], bool]:
    """The policy-XML comparator: two documents are equal when every element of this task is (or, wanted None, is
    not) in ``have`` as asked; whatever else the document holds is not this module's business."""
    def equal(_wanted_text: Any, have_text: Any) -> bool:
        for key, element in wanted:
            settings = policy_xml.current_settings(have_text, key)
            if not (settings is None if element is None else policy_xml.matches(settings, element)):
                return False
        return True

    return equal


def policy_spec(module: AzureApimModule, policies: policy_xml.Policies, items: List[Item],
                identities: Identities) -> Tuple[ResourceSpec, Callable[[Optional[Dict[str, Any]]], Dict[str, Any]],
                                                 Dict[str, Any]]:
    """The spec of one policy document, its desired-state function and what the last merge saw (``track``).

    The service is read only when it matters: no policy at the scope (does the scope exist?), a user-assigned
    identity (its client id is compared), or a change to write (the identity must be enabled).
    """
    first = items[0][0]
    api, operation = first["api_id"], first["operation_id"]
    scope = policies.scope_name(api, operation)
    track: Dict[str, Any] = {"wanted": []}

    def read() -> Dict[str, Any]:
        current = policies.get(api, operation)
        if current is None:
            # 404: the scope may have no policy yet, or the service / API / operation may not exist; say which.
            identities(first).service()
            policies.require_scope(api, operation)
            return {"value": None, "etag": None}
        return current

    def desired(current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        text = new_text = (current or {}).get("value")
        changes, wanted = [], []
        for params, labelled in items:
            new_text, changed, element = labelled(lambda p, t=new_text: _merge_one(t, scope, p, identities))
            changes.append(changed)
            wanted.append((params["output_token_variable_name"], element))
        track.update(text=text, new_text=new_text, changes=changes)
        track["wanted"][:] = wanted
        return {"value": new_text}

    spec = ResourceSpec(
        what=policies.describe(api, operation), read=read,
        update=lambda current, wanted, paths: policies.put(api, operation, wanted["value"], current.get("etag")),
        comparators={"value": _elements_as_wanted(track["wanted"])},
        settle=False,  # a policy has no provisioningState
        # 412: the document changed since it was read (the PUT carries its ETag): read, merge, write again
        rerun_on=(APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED))
    return spec, desired, track


def apply_policy(module: AzureApimModule, policies: policy_xml.Policies, items: List[Item],
                 identities: Identities) -> Dict[str, Any]:
    """Read one policy, merge (or remove) every element of ``items``, write it once with the ETag read, verify."""
    spec, desired, track = policy_spec(module, policies, items, identities)
    outcome = ensure(spec, "present", desired, check_mode=module.check_mode, deadline=module.deadline)
    # an element the merge rewrote but that already reads as asked is not a change (nothing was written)
    changes = [changed and outcome.changed for changed in track["changes"]]
    first = items[0][0]
    api, operation = first["api_id"], first["operation_id"]
    scope, where, new_text = policies.scope_name(api, operation), policies.describe(api, operation), track["new_text"]
    return {"changed": outcome.changed,
            "items": [{"changed": changed, "policy": {
                "scope": scope, "api_id": api, "operation_id": operation,
                "element": policy_xml.current_settings(new_text, params["output_token_variable_name"])}}
                for (params, _labelled), changed in zip(items, changes)],
            "diff": {"before": _lines(track["text"]), "after": _lines(new_text), "before_header": where,
                     "after_header": where}}


def _lines(text: Optional[str]) -> str:
    """APIM answers with CRLF line ends, the XML parser gives LF: one style so the diff shows real changes only."""
    return (text or "").replace("\r\n", "\n")


def _policies(module: AzureApimModule) -> policy_xml.Policies:
    return policy_xml.Policies(module, module.params["resource_group"], module.params["service_name"])


def ensure_element(module: AzureApimModule) -> Dict[str, Any]:
    """apim_backend_auth with one element: ensure it and return the module result."""
    params = module.params
    validate(params)
    outcome = apply_policy(module, _policies(module), [(params, lambda fn: fn(params))], Identities(module))
    return {"changed": outcome["changed"], "policy": outcome["items"][0]["policy"], "diff": outcome["diff"]}


def ensure_elements(module: AzureApimModule, items: ItemList) -> Dict[str, Any]:
    """apim_backend_auth ``elements``: every entry checked first; then, policy by policy in the order of first
    mention, one read-merge-write."""
    merged = items.expand(module.params)
    for index in range(len(merged)):
        items.labelled(index, merged, validate)
    groups: Dict[Tuple[Any, Any], List[int]] = {}
    for index, params in enumerate(merged):
        groups.setdefault((params["api_id"], params["operation_id"]), []).append(index)
    policies, identities = _policies(module), Identities(module)
    done: Dict[int, Dict[str, Any]] = {}
    diff: Dict[str, Dict[str, Any]] = {"before": {}, "after": {}}
    for indexes in groups.values():
        entries = [(merged[i], lambda fn, i=i: items.labelled(i, merged, fn)) for i in indexes]
        try:
            outcome = apply_policy(module, policies, entries, identities)
        except AzureApimError as err:
            err.extra = dict(getattr(err, "extra", None) or {}, elements=[done[i] for i in sorted(done)])
            raise
        done.update(zip(indexes, outcome["items"]))
        if outcome["changed"]:
            diff["before"][outcome["diff"]["before_header"]] = outcome["diff"]["before"]
            diff["after"][outcome["diff"]["after_header"]] = outcome["diff"]["after"]
    results = [done[i] for i in sorted(done)]
    return {"changed": any(r["changed"] for r in results), "elements": results, "diff": diff}
