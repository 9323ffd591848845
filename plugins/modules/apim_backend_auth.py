#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_backend_auth
short_description: Authenticate API Management's calls to a backend with its managed identity (policy element)
version_added: 0.1.0
description:
  - Ensures an C(authentication-managed-identity) element in the C(inbound) section of the policy of an API
    Management service (global), of an API or of an operation, or removes it.
  - The element makes the gateway get a token for O(resource) with the service's managed identity and send it to
    the backend in the C(Authorization) header, or store it in the variable named O(output_token_variable_name).
  - The element is merged into the existing policy document; every other element, attribute, comment and policy
    expression stays as it is. The merge is verified (canonical XML of the rest of the document before and after)
    before anything is written. The write carries the policy's ETag, so a concurrent edit is merged again rather
    than overwritten.
  - "Elements are told apart by O(output_token_variable_name): without it, the module manages the one element
    that sets the C(Authorization) header. Elements nested in C(choose)/C(when) are never touched."
  - "Audiences (O(resource)) of common Azure backends:
    Key Vault V(https://vault.azure.net);
    Storage V(https://storage.azure.com/);
    Service Bus V(https://servicebus.azure.net/);
    Event Hubs V(https://eventhubs.azure.net/);
    Azure Resource Manager V(https://management.azure.com/).
    For an API protected by Microsoft Entra ID, use its application ID URI or client ID."
  - The identity also needs a role on the backend (for example C(Storage Blob Data Reader)); the
    C(apim_trusted_access) role grants the common ones.
options:
  resource_group:
    description: Resource group of the API Management service.
    type: str
    required: true
  service_name:
    description: Name of the API Management service.
    type: str
    required: true
  api_id:
    description:
      - Identifier (name) of the API whose policy is changed. Without it, the global policy of the service is
        changed.
    type: str
  operation_id:
    description: Identifier (name) of an operation of O(api_id), to change the operation's policy.
    type: str
  resource:
    description:
      - The audience of the token (C(resource) attribute), see the list above. Required when O(state=present).
    type: str
    aliases: [audience]
  identity:
    description:
      - The identity of the service that gets the token. V(system) for the system-assigned identity (no
        C(client-id) attribute), or a user-assigned identity attached to the service, by name (in the service's
        resource group), resource ID or client ID (its client ID goes into C(client-id)).
      - The service is read to check this identity is enabled only when the task writes (or, for a
        user-assigned identity, to compare its client ID); an unchanged element with the system-assigned
        identity costs no read of the service.
    type: str
    default: system
  output_token_variable_name:
    description:
      - Store the token in this context variable instead of setting the C(Authorization) header. Also the key
        that tells this element apart from others.
    type: str
  ignore_error:
    description:
      - Whether the request continues when no token can be obtained (C(ignore-error)). Left as it is when unset.
    type: bool
  state:
    description: Whether the element should be in the policy.
    type: str
    choices: [present, absent]
    default: present
  elements:
    description:
      - Several elements in one task, instead of one. The elements of one policy (the same O(api_id) and
        O(operation_id)) are merged into the document together and written with one request; each policy is read
        once before and once after its write.
      - Each entry takes the per-element options below; an option an entry leaves unset takes the value of the
        task's option of the same name (or its default). Every entry is checked before the first request.
      - The first policy that fails ends the task; the error names the entry, and RV(elements) lists what the
        entries before it did.
    type: list
    elements: dict
    suboptions:
      api_id:
        description: See O(api_id).
        type: str
      operation_id:
        description: See O(operation_id).
        type: str
      resource:
        description: See O(resource). Required when the entry's O(state=present).
        type: str
        aliases: [audience]
      identity:
        description: See O(identity).
        type: str
      output_token_variable_name:
        description: See O(output_token_variable_name). Unique per policy in the list.
        type: str
      ignore_error:
        description: See O(ignore_error).
        type: bool
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - name: authentication-managed-identity policy
    description: Microsoft's reference of the policy element.
    link: https://learn.microsoft.com/azure/api-management/authentication-managed-identity-policy
  - name: Use managed identities in Azure API Management
    description: The Microsoft Learn article this collection automates.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Call a Storage backend of one API with the system-assigned identity
  azure_apim.identity.apim_backend_auth:
    resource_group: rg-apim
    service_name: apim-contoso
    api_id: blobs
    resource: https://storage.azure.com/

- name: Get a Service Bus token with a user-assigned identity into a variable, in one operation
  azure_apim.identity.apim_backend_auth:
    resource_group: rg-apim
    service_name: apim-contoso
    api_id: orders
    operation_id: send-order
    resource: https://servicebus.azure.net/
    identity: id-apim-servicebus
    output_token_variable_name: sb-token
    ignore_error: false

- name: Two elements of one API policy, written with one request
  azure_apim.identity.apim_backend_auth:
    resource_group: rg-apim
    service_name: apim-contoso
    api_id: orders
    elements:
      - resource: https://storage.azure.com/
      - resource: https://servicebus.azure.net/
        identity: id-apim-servicebus
        output_token_variable_name: sb-token

- name: Stop sending the token
  azure_apim.identity.apim_backend_auth:
    resource_group: rg-apim
    service_name: apim-contoso
    api_id: blobs
    state: absent
"""

RETURN = r"""
policy:
  description: Where the element is and how it is set after the task (in check mode, the prediction).
  returned: always
  type: dict
  contains:
    scope:
      description: V(service), V(api) or V(operation).
      type: str
      sample: api
    api_id:
      description: The API, or null for the global policy.
      type: str
      sample: blobs
    operation_id:
      description: The operation, or null.
      type: str
      sample: null
    element:
      description:
        - Settings of the managed element (resource, client_id, output_token_variable_name, ignore_error);
          null when it is absent.
      type: dict
      sample: {resource: "https://storage.azure.com/", client_id: null, output_token_variable_name: null,
               ignore_error: null}
elements:
  description: With O(elements), one entry per list entry, in order, each with RV(policy) and C(changed).
  returned: when O(elements) is given
  type: list
  elements: dict
  sample:
    - changed: true
      policy: {scope: api, api_id: orders, operation_id: null, element: {resource: "https://storage.azure.com/"}}
diff:
  description:
    - The whole policy document before and after (shown with C(--diff)); with O(elements), keyed by policy.
  returned: always
  type: dict
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_policy as policy_xml
from ansible_collections.azure_apim.identity.plugins.module_utils._access import ServiceIdentity
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_entities import (
    Policies, retry_on_etag_mismatch,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule, ItemList

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    api_id=dict(type="str"),
    operation_id=dict(type="str"),
    resource=dict(type="str", aliases=["audience"]),
    identity=dict(type="str", default="system"),
    output_token_variable_name=dict(type="str"),
    ignore_error=dict(type="bool"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
# One item: its params and how an error names it (the list entry, or nothing for the single form).
Item = Tuple[Dict[str, Any], Callable[[Callable[[Dict[str, Any]], Any]], Any]]


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


ITEMS = ItemList("elements", ("api_id", "operation_id", "resource", "identity", "output_token_variable_name",
                              "ignore_error", "state"), key=element_key, validate=validate, noun="policy element")
ARGUMENT_SPEC.update(elements=ITEMS.sub_spec(ARGUMENT_SPEC))
MODULE_KWARGS: Dict[str, Any] = dict(required_by={"operation_id": "api_id"},
                                     required_if=[("state", "present", ("resource", "elements"), True)])


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


def apply_policy(module: AzureApimModule, policies: Policies, items: List[Item],
                 identities: Identities) -> Dict[str, Any]:
    """Read one policy, merge (or remove) every element of ``items``, write it once with the ETag read, verify.

    The service is read only when it matters: no policy at the scope (does the scope exist?), a user-assigned
    identity (its client id is compared), or a change to write (the identity must be enabled).
    """
    first = items[0][0]
    api, operation = first["api_id"], first["operation_id"]
    scope = policies.scope_name(api, operation)
    current = policies.get(api, operation)
    if current is None:
        # 404: the scope may have no policy yet, or the service / API / operation may not exist; say which.
        identities(first).service()
        policies.require_scope(api, operation)
    text = new_text = (current or {}).get("value")
    changes, wanted = [], []
    for params, labelled in items:
        new_text, changed, element = labelled(lambda p, t=new_text: _merge_one(t, scope, p, identities))
        changes.append(changed)
        wanted.append((params["output_token_variable_name"], element))
    if any(changes) and not module.check_mode:
        policies.put(api, operation, new_text, (current or {}).get("etag"))
        verify(policies, api, operation, wanted)
    where = policies.describe(api, operation)
    return {"changed": any(changes),
            "items": [{"changed": changed, "policy": {
                "scope": scope, "api_id": api, "operation_id": operation,
                "element": policy_xml.current_settings(new_text, params["output_token_variable_name"])}}
                for (params, _labelled), changed in zip(items, changes)],
            "diff": {"before": _lines(text), "after": _lines(new_text), "before_header": where, "after_header": where}}


def _lines(text: Optional[str]) -> str:
    """APIM answers with CRLF line ends, the XML parser gives LF: one style so the diff shows real changes only."""
    return (text or "").replace("\r\n", "\n")


def verify(policies: Policies, api: Optional[str], operation: Optional[str],
           wanted: List[Tuple[Optional[str], Optional[Dict[str, Any]]]]) -> None:
    """Re-read the policy once and insist every element is (or, wanted None, is no longer) there as asked."""
    after = (policies.get(api, operation) or {}).get("value")
    for key, element in wanted:
        settings = policy_xml.current_settings(after, key)
        if not (settings is None if element is None else policy_xml.matches(settings, element)):
            raise AzureApimError("Azure accepted the write but re-reading {0} does not show the requested {1} "
                                 "element".format(policies.describe(api, operation), policy_xml.ELEMENT),
                                 code="VerificationFailed", hint="re-run the task; another process may be editing it")


def _policies(module: AzureApimModule) -> Policies:
    return Policies(module, module.params["resource_group"], module.params["service_name"])


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the one element and return the module result."""
    params = module.params
    validate(params)
    policies, identities = _policies(module), Identities(module)
    outcome = retry_on_etag_mismatch(
        lambda: apply_policy(module, policies, [(params, lambda fn: fn(params))], identities),
        policies.describe(params["api_id"], params["operation_id"]))
    return {"changed": outcome["changed"], "policy": outcome["items"][0]["policy"], "diff": outcome["diff"]}


def run_list(module: AzureApimModule) -> Dict[str, Any]:
    """Every entry checked first; then, policy by policy in the order of first mention, one read-merge-write."""
    merged = ITEMS.expand(module.params)
    for index in range(len(merged)):
        ITEMS.labelled(index, merged, validate)
    groups: Dict[Tuple[Any, Any], List[int]] = {}
    for index, params in enumerate(merged):
        groups.setdefault((params["api_id"], params["operation_id"]), []).append(index)
    policies, identities = _policies(module), Identities(module)
    done: Dict[int, Dict[str, Any]] = {}
    diff: Dict[str, Dict[str, Any]] = {"before": {}, "after": {}}
    for (api, operation), indexes in groups.items():
        items = [(merged[i], lambda fn, i=i: ITEMS.labelled(i, merged, fn)) for i in indexes]
        try:
            outcome = retry_on_etag_mismatch(lambda: apply_policy(module, policies, items, identities),
                                             policies.describe(api, operation))
        except AzureApimError as err:
            err.extra = dict(getattr(err, "extra", None) or {}, elements=[done[i] for i in sorted(done)])
            raise
        done.update(zip(indexes, outcome["items"]))
        if outcome["changed"]:
            diff["before"][outcome["diff"]["before_header"]] = outcome["diff"]["before"]
            diff["after"][outcome["diff"]["after_header"]] = outcome["diff"]["after"]
    results = [done[i] for i in sorted(done)]
    return {"changed": any(r["changed"] for r in results), "elements": results, "diff": diff}


def main() -> None:
    """Module entry point."""
    module = AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS)
    module.run(run_list if module.params.get("elements") is not None else run)


if __name__ == "__main__":
    main()
