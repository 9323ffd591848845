#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment
short_description: Assign one Azure role to one principal at one scope
version_added: 0.1.0
description:
  - Creates or removes the Azure role assignment of one role for one principal at one scope (a vault, a secret,
    a storage account, a resource group, ...).
  - The assignment name is derived from the scope, the principal and the role, so re-runs and retries never
    create duplicates. When the same assignment already exists under another name, it is adopted and its name
    is returned.
  - The principal is an object id, or an identity of an API Management service (O(service_name) and O(identity)).
  - A principal created moments ago may not have replicated in Entra ID yet; Azure then answers C(PrincipalNotFound)
    and the module retries until the task's O(timeout).
  - With O(state=absent) only assignments of exactly this role, principal and scope are removed; inherited
    assignments and other principals' assignments are never touched.
options:
  scope:
    description:
      - ARM id of the scope, for example a vault id, a vault id followed by C(/secrets/<name>), a resource group id.
      - Required (with O(role)) unless O(assignments) lists several.
    type: str
  role:
    description:
      - Role display name (for example V(Key Vault Secrets User)), role definition GUID or full role definition id.
      - An unknown name fails listing the closest role names.
      - Required (with O(scope)) unless O(assignments) lists several.
    type: str
  principal_id:
    description:
      - Object id of the principal. Mutually exclusive with O(service_name).
    type: str
  service_name:
    description:
      - Name of the API Management service whose identity gets the role. Requires O(service_resource_group).
    type: str
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
  identity:
    description:
      - Which identity of O(service_name) gets the role. V(system) for the system-assigned identity, or the name
        (in O(service_resource_group)), resource id or client id of a user-assigned identity attached to the service.
    type: str
    default: system
  principal_type:
    description:
      - Principal type sent with the assignment. Sending it lets Azure accept a principal that has not replicated yet.
    type: str
    choices: [ServicePrincipal, User, Group]
    default: ServicePrincipal
  description:
    description:
      - Description stored with a new assignment (not compared on existing ones, never rewritten).
      - >-
        For an identity of an API Management service (O(service_name)), a new assignment's description starts
        with the marker C(azure_apim.identity grant for API Management service <service id>; identity: system)
        (or C(identity: <user-assigned identity id>)), followed by this text after C( | ). The marker lets
        M(azure_apim.identity.apim_identity_info) (O(azure_apim.identity.apim_identity_info#module:orphaned_grants))
        find the assignment once the identity's principal is gone. Microsoft recommends descriptions of at most
        512 characters.
    type: str
  state:
    description: Whether the assignment should exist.
    type: str
    choices: [present, absent]
    default: present
  assignments:
    description:
      - Several assignments for the same principal in one task, instead of O(scope) and O(role), for example the
        data roles of the trusted services. The principal is resolved once; every entry is checked before the first
        request; the entries are then handled in order in one module run.
      - An option an entry leaves unset takes the value of the task's option of the same name (or its default).
      - The first entry that fails ends the task; the error names it, and RV(assignments) lists what the entries
        before it did.
    type: list
    elements: dict
    suboptions:
      scope:
        description: See O(scope).
        type: str
        required: true
      role:
        description: See O(role).
        type: str
        required: true
      identity:
        description: See O(identity).
        type: str
      principal_type:
        description: See O(principal_type).
        type: str
        choices: [ServicePrincipal, User, Group]
      description:
        description: See O(description).
        type: str
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
  - module: azure_apim.identity.role_assignment_info
  - module: azure_apim.identity.keyvault_access
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Let the service's system identity read secrets of an RBAC vault
  azure_apim.identity.role_assignment:
    scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.KeyVault/vaults/kv-apim
    role: Key Vault Secrets User
    service_name: apim-contoso
    service_resource_group: rg-apim

- name: Grant a user-assigned identity one secret only
  azure_apim.identity.role_assignment:
    scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.KeyVault/vaults/kv-apim/secrets/backend-key
    role: Key Vault Secrets User
    service_name: apim-contoso
    service_resource_group: rg-apim
    identity: id-apim-keyvault

- name: Data roles on the trusted services in one task
  azure_apim.identity.role_assignment:
    service_name: apim-contoso
    service_resource_group: rg-apim
    assignments:
      - scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stcontoso
        role: Storage Blob Data Reader
      - scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.ServiceBus/namespaces/sb-contoso
        role: Azure Service Bus Data Sender

- name: Remove the assignment
  azure_apim.identity.role_assignment:
    scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.KeyVault/vaults/kv-apim
    role: Key Vault Secrets User
    principal_id: 22222222-2222-2222-2222-222222222222
    state: absent
"""

RETURN = r"""
role_assignment:
  description: The assignment after the task ({} when absent). In check mode, the predicted assignment (id null).
  returned: when O(scope) is set
  type: dict
  contains:
    id:
      description: Resource id of the assignment.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleAssignments/3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b
    name:
      description: Assignment name (a GUID); the adopted assignment's name when it existed under another name.
      type: str
      sample: 3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b
    scope:
      description: Scope of the assignment.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim
    role_definition_id:
      description: Role definition id.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6
    role_name:
      description: Role display name.
      type: str
      sample: Key Vault Secrets User
    principal_id:
      description: Object id of the principal.
      type: str
      sample: 22222222-2222-2222-2222-222222222222
    principal_type:
      description: Principal type.
      type: str
      sample: ServicePrincipal
    description:
      description: Description of the assignment.
      type: str
      sample: null
    condition:
      description: ABAC condition of the assignment, if any.
      type: str
      sample: null
    created_on:
      description:
        - When Azure created the assignment (UTC, ISO 8601). A new Azure RBAC assignment can take up to 10 minutes
          to take effect.
      type: str
      sample: "2026-12-04T12:00:00.1234567Z"
    adopted:
      description: True when an assignment of this triple existed under another name and was kept as is.
      type: bool
      sample: false
principal:
  description: The principal that was resolved (never a secret).
  returned: when O(scope) is set
  type: dict
  sample: {kind: system, principal_id: 22222222-2222-2222-2222-222222222222, tenant_id: 33333333-3333-3333-3333-333333333333}
assignments:
  description:
    - With O(assignments), one entry per assignment handled, in the order of the list (on failure, the entries
      before the failing one). Each entry holds RV(role_assignment), RV(principal) and C(changed).
  returned: when O(assignments) is set
  type: list
  elements: dict
  sample:
    - changed: false
      role_assignment: {name: 3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b, role_name: Storage Blob Data Reader, adopted: false}
      principal: {kind: system, principal_id: 22222222-2222-2222-2222-222222222222}
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._items import ItemList
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._role_assignments import (
    PRINCIPAL_KWARGS, PRINCIPAL_OPTIONS, ensure_assignment, validate,
)

ARGUMENT_SPEC = dict(
    scope=dict(type="str"),
    role=dict(type="str"),
    principal_type=dict(type="str", choices=["ServicePrincipal", "User", "Group"], default="ServicePrincipal"),
    description=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    **PRINCIPAL_OPTIONS,
)


ITEMS = ItemList("assignments", ("scope", "role", "identity", "principal_type", "description", "state"),
                 key=lambda params: "{0} at {1}".format(params["role"], params["scope"]), validate=validate,
                 noun="role assignment")
ARGUMENT_SPEC.update(assignments=ITEMS.sub_spec(ARGUMENT_SPEC, required=("scope", "role")))
MODULE_KWARGS: Dict[str, Any] = {
    **PRINCIPAL_KWARGS,
    "mutually_exclusive": PRINCIPAL_KWARGS["mutually_exclusive"] + [("scope", "assignments"), ("role", "assignments")],
    "required_one_of": PRINCIPAL_KWARGS["required_one_of"] + [("scope", "assignments")],
    "required_together": [("scope", "role")],
}


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the one assignment and return the module result."""
    return ensure_assignment(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run_items(run, ITEMS)


if __name__ == "__main__":
    main()
