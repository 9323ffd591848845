#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_identity
short_description: Manage the managed identities of an API Management service
version_added: 0.1.0
description:
  - Enables or disables the system-assigned identity of an existing API Management service, and attaches or detaches
    user-assigned identities (at most 10 per service).
  - Waits while the service is still C(Updating) or C(Activating) before it writes, then sends a PATCH carrying only
    the C(identity) block, so hostnames, custom properties and every other setting stay as they are. The PATCH
    carries the service's ETag in If-Match, so a change made by someone else since the read makes Azure refuse it
    (412) and the module reads again and re-plans.
  - Kept user-assigned identities are sent as C({}) and removed ones as C(null). After the update the service is
    read again and the module fails if the identity type or the user-assigned identities did not change as asked
    (API Management has been seen to ignore a type change).
  - Before any write, refuses to remove an identity that the service still uses to reach Key Vault or another
    service (a custom hostname with a Key Vault certificate, a Key Vault named value, a managed-identity logger or a
    Key Vault certificate) and names each of them. As the Microsoft article says, switch a hostname to an inline
    certificate first.
  - Options left unset are left as they are in Azure.
options:
  resource_group:
    description: Resource group of the API Management service.
    type: str
    required: true
  service_name:
    description: Name of the API Management service.
    type: str
    required: true
    aliases: [name]
  system_assigned:
    description:
      - V(true) enables the system-assigned identity, V(false) disables it. Unset leaves it as it is.
      - Disabling it deletes its service principal in Entra ID; enabling it again creates a new principal, so role
        assignments and Key Vault access policies must be granted again.
    type: bool
  user_assigned_identities:
    description:
      - User-assigned identities, each a resource ID or a name. Names are looked up in O(resource_group).
      - Unset leaves the user-assigned identities as they are. What a list means depends on O(user_assigned_mode).
      - IDs differing only in letter case name the same identity.
    type: list
    elements: str
  user_assigned_mode:
    description:
      - V(add) attaches the listed identities and keeps the others.
      - V(exact) leaves exactly the listed identities attached and detaches the others (an empty list detaches all).
      - V(remove) detaches the listed identities and keeps the others.
    type: str
    choices: [add, exact, remove]
    default: add
  state:
    description:
      - V(present) applies O(system_assigned) and O(user_assigned_identities).
      - V(absent) removes every identity (type C(None)); O(system_assigned) and O(user_assigned_identities) must
        then be unset.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - Seconds the task may take in total, including waiting for an operation already running on the service and
        for the identity update itself (these can take several minutes in Azure).
      - On timeout the task fails with the state reached; the operation carries on in Azure and a re-run waits for
        it.
    type: int
    default: 1800
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.apim_identity_info
  - module: azure_apim.identity.user_assigned_identity
  - module: azure_apim.identity.apim_service
  - name: Use managed identities in Azure API Management
    description: The Microsoft Learn article this collection automates.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Enable the system-assigned identity
  azure_apim.identity.apim_identity:
    resource_group: rg-apim
    service_name: apim-contoso
    system_assigned: true
  register: apim_id

- name: Show the principal id to grant Key Vault access to
  ansible.builtin.debug:
    msg: "{{ apim_id.identity.principal_id }}"

- name: Attach a user-assigned identity (by name) and keep the others
  azure_apim.identity.apim_identity:
    resource_group: rg-apim
    service_name: apim-contoso
    user_assigned_identities:
      - id-apim-keyvault

- name: Keep exactly these user-assigned identities, and the system-assigned one
  azure_apim.identity.apim_identity:
    resource_group: rg-apim
    service_name: apim-contoso
    system_assigned: true
    user_assigned_identities:
      - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-shared
      - id-apim-keyvault
    user_assigned_mode: exact

- name: Detach one user-assigned identity (refused while a hostname, named value or logger uses it)
  azure_apim.identity.apim_identity:
    resource_group: rg-apim
    service_name: apim-contoso
    user_assigned_identities: [id-apim-old]
    user_assigned_mode: remove

- name: Remove every identity
  azure_apim.identity.apim_identity:
    resource_group: rg-apim
    service_name: apim-contoso
    state: absent
"""

RETURN = r"""
planned:
  description:
    - Check mode only, when the task plans a change.
    - The identities this task is about to enable or attach, in the shape of the O(assume) option; the collection's roles pass it to the
      later tasks of the run as O(assume) (see the README, "Check mode plans the whole article").
  returned: check mode, when changed
  type: dict
  sample: {identities: [{service: rg-apim/apim-contoso, identity: system}]}
identity:
  description:
    - The identities of the service after the task. In check mode, the predicted identities; a principal ID Azure
      has not created yet is then null.
  returned: always
  type: dict
  contains:
    type:
      description: C(None), C(SystemAssigned), C(UserAssigned) or C(SystemAssigned, UserAssigned).
      type: str
      sample: SystemAssigned, UserAssigned
    principal_id:
      description: Object ID of the system-assigned identity (null without one); grant roles and access policies to it.
      type: str
      sample: 22222222-2222-2222-2222-222222222222
    tenant_id:
      description: Tenant of the identities.
      type: str
      sample: 33333333-3333-3333-3333-333333333333
    user_assigned_identities:
      description: User-assigned identities by resource ID, each with its principal_id and client_id.
      type: dict
      sample:
        /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-kv:
          principal_id: 44444444-4444-4444-4444-444444444444
          client_id: 55555555-5555-5555-5555-555555555555
    user_assigned:
      description: The same user-assigned identities as a list (sorted by ID), easy to loop over.
      type: list
      elements: dict
      contains:
        id:
          description: Resource ID of the identity.
          type: str
        name:
          description: Name of the identity.
          type: str
        principal_id:
          description: Object ID of its service principal.
          type: str
        client_id:
          description: Client ID; the value settings such as C(identityClientId) expect.
          type: str
service:
  description: Which service the identities belong to.
  returned: always
  type: dict
  contains:
    id:
      description: Resource ID of the service.
      type: str
    name:
      description: Name of the service.
      type: str
    resource_group:
      description: Resource group of the service.
      type: str
    provisioning_state:
      description: Provisioning state after the task.
      type: str
      sample: Succeeded
dependents:
  description: When a removal is refused, what still uses the identity and how to unblock it.
  returned: on failure because an identity is in use
  type: list
  elements: dict
  sample:
    - kind: hostname
      name: api.contoso.com
      identity: the system-assigned identity
      identity_client_id: null
      unblock: switch the hostname to an inline certificate (or to another identity) first
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_identity import (
    USER_ASSIGNED_MODES, IdentityRequest, check_user_assigned_count, identities_planned, identity_result, identity_spec,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._plan import planned
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ensure

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True, aliases=["name"]),
    system_assigned=dict(type="bool"),
    user_assigned_identities=dict(type="list", elements="str"),
    user_assigned_mode=dict(type="str", choices=list(USER_ASSIGNED_MODES), default="add"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
MODULE_KWARGS: Dict[str, Any] = {"default_timeout": 1800}


def request_from(params: Dict[str, Any]) -> IdentityRequest:
    """The identity change the parameters ask for; refuses what can never work before any call."""
    if params["state"] == "absent":
        if params["system_assigned"] is not None or params["user_assigned_identities"] is not None:
            raise AzureApimError("state=absent removes every identity; system_assigned and user_assigned_identities "
                                 "must not be set with it", code="InvalidParameters",
                                 hint="use state=present with system_assigned: false or user_assigned_mode: remove "
                                      "to remove only some identities")
        return IdentityRequest(system=False, users=[], mode="exact")
    check_user_assigned_count(params["user_assigned_identities"])
    return IdentityRequest(system=params["system_assigned"], users=params["user_assigned_identities"],
                           mode=params["user_assigned_mode"])


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the service's identities and return the module result."""
    params = module.params
    request = request_from(params)
    spec, desired = identity_spec(module, params["resource_group"], params["service_name"], request)
    outcome = ensure(spec, "present", desired, check_mode=module.check_mode, deadline=module.deadline)
    result = identity_result(outcome)
    if module.check_mode and outcome.changed:
        # the hand-over to later tasks of this check run (see _plan.py): the identities about to be enabled
        result["planned"] = planned(identities=identities_planned(
            params["resource_group"], params["service_name"], (outcome.before or {}).get("identity"),
            (outcome.after or {}).get("identity")))
    return result


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
