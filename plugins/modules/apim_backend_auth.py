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

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_backend_auth import (
    element_key, ensure_element, ensure_elements, validate,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._items import ItemList
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
ITEMS = ItemList("elements", ("api_id", "operation_id", "resource", "identity", "output_token_variable_name",
                              "ignore_error", "state"), key=element_key, validate=validate, noun="policy element")
ARGUMENT_SPEC.update(elements=ITEMS.sub_spec(ARGUMENT_SPEC))
MODULE_KWARGS: Dict[str, Any] = dict(required_by={"operation_id": "api_id"},
                                     required_if=[("state", "present", ("resource", "elements"), True)])


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the one element and return the module result."""
    return ensure_element(module)


def run_list(module: AzureApimModule) -> Dict[str, Any]:
    """Every entry checked first; then, policy by policy, one read-merge-write."""
    return ensure_elements(module, ITEMS)


def main() -> None:
    """Module entry point."""
    module = AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS)
    module.run(run_list if module.params.get("elements") is not None else run)


if __name__ == "__main__":
    main()
