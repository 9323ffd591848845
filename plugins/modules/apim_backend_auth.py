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
diff:
  description: The whole policy document before and after (shown with C(--diff)).
  returned: always
  type: dict
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict, Optional

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_policy as policy_xml
from ansible_collections.azure_apim.identity.plugins.module_utils._apim import ServiceIdentity
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_entities import (
    Policies, retry_on_etag_mismatch,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

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
MODULE_KWARGS: Dict[str, Any] = dict(required_by={"operation_id": "api_id"},
                                     required_if=[("state", "present", ("resource",))])


def wanted_element(params: Dict[str, Any], client_id: Optional[str]) -> Dict[str, Any]:
    """Attributes to set; ``client_id`` None removes the attribute (system-assigned identity)."""
    wanted: Dict[str, Any] = {"resource": params["resource"].strip(), "client_id": client_id}
    if params["output_token_variable_name"]:
        wanted["output_token_variable_name"] = params["output_token_variable_name"]
    if params["ignore_error"] is not None:
        wanted["ignore_error"] = params["ignore_error"]
    return wanted


def apply_once(module: AzureApimModule, policies: Policies, identity: ServiceIdentity) -> Dict[str, Any]:
    """Read the policy, merge (or remove) the element, write it with the ETag read, verify; the module result.

    The service is read only when it matters: no policy at the scope (does the scope exist?), a user-assigned
    identity (its client id is compared), or a change to write (the identity must be enabled).
    """
    params = module.params
    api, operation, key = params["api_id"], params["operation_id"], params["output_token_variable_name"]
    scope = policies.scope_name(api, operation)
    current = policies.get(api, operation)
    if current is None:
        # 404: the scope may have no policy yet, or the service / API / operation may not exist; say which.
        identity.service()
        policies.require_scope(api, operation)
    text = (current or {}).get("value")
    wanted = wanted_element(params, identity.client_id()) if params["state"] == "present" else None
    if wanted is not None:
        new_text, changed = policy_xml.merge(text, scope, wanted)
        if changed:
            identity.resolve()  # refuse an identity the service does not have, before any write
    else:
        new_text, changed = policy_xml.remove(text, key)
    if changed and not module.check_mode:
        policies.put(api, operation, new_text, (current or {}).get("etag"))
        verify(policies, api, operation, key, wanted)
    element = policy_xml.current_settings(new_text, key)
    return {"changed": changed,
            "policy": {"scope": scope, "api_id": api, "operation_id": operation, "element": element},
            "diff": {"before": _lines(text), "after": _lines(new_text),
                     "before_header": policies.describe(api, operation), "after_header": policies.describe(api, operation)}}


def _lines(text: Optional[str]) -> str:
    """APIM answers with CRLF line ends, the XML parser gives LF: one style so the diff shows real changes only."""
    return (text or "").replace("\r\n", "\n")


def verify(policies: Policies, api: Optional[str], operation: Optional[str], key: Optional[str],
           wanted: Optional[Dict[str, Any]]) -> None:
    """Re-read the policy and insist the element is (or is no longer) there as asked."""
    after = policies.get(api, operation)
    settings = policy_xml.current_settings((after or {}).get("value"), key)
    ok = settings is None if wanted is None else policy_xml.matches(settings, wanted)
    if not ok:
        raise AzureApimError("Azure accepted the write but re-reading {0} does not show the requested {1} "
                             "element".format(policies.describe(api, operation), policy_xml.ELEMENT),
                             code="VerificationFailed", hint="re-run the task; another process may be editing it")


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the element and return the module result."""
    params = module.params
    if params["state"] == "present" and not params["resource"].strip():
        raise AzureApimError("'resource' is empty", code="InvalidParameters",
                             hint="give the backend's audience, for example https://storage.azure.com/")
    identity = ServiceIdentity(module, params["resource_group"], params["service_name"], params["identity"])
    policies = Policies(module, params["resource_group"], params["service_name"])
    return retry_on_etag_mismatch(lambda: apply_once(module, policies, identity),
                                  policies.describe(params["api_id"], params["operation_id"]))


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
