#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment_info
short_description: List the Azure role assignments that apply at a scope
version_added: 0.1.0
description:
  - Lists role assignments at, above (inherited) and below a scope, optionally only those of one principal and one role.
  - Returns an empty list when nothing matches or the scope does not exist.
options:
  scope:
    description: ARM id of the scope.
    type: str
    required: true
  role:
    description: Only assignments of this role (display name, GUID or role definition id).
    type: str
  principal_id:
    description: Only assignments of this principal (object id). Mutually exclusive with O(service_name).
    type: str
  service_name:
    description: Only assignments of this API Management service's identity. Requires O(service_resource_group).
    type: str
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
  identity:
    description: Which identity of O(service_name); V(system) or a user-assigned identity's name, id or client id.
    type: str
    default: system
  at_scope_only:
    description: Only assignments made exactly at O(scope) (not inherited ones, nor those below it).
    type: bool
    default: false
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.role_assignment
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Which roles does the service's system identity hold on the vault?
  azure_apim.identity.role_assignment_info:
    scope: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.KeyVault/vaults/kv-apim
    service_name: apim-contoso
    service_resource_group: rg-apim
  register: grants
"""

RETURN = r"""
role_assignments:
  description: Matching assignments (empty when none).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Resource id of the assignment.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleAssignments/3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b
    name:
      description: Assignment name.
      type: str
      sample: 3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b
    scope:
      description: Scope of the assignment.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000
    role_definition_id:
      description: Role definition id.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6
    role_name:
      description: Role display name (null when the definition cannot be read).
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
      description: Description.
      type: str
      sample: null
    condition:
      description: ABAC condition, if any.
      type: str
      sample: null
    created_on:
      description:
        - When Azure created the assignment (UTC, ISO 8601). A new Azure RBAC assignment can take up to 10 minutes
          to take effect.
      type: str
      sample: "2026-12-04T12:00:00.1234567Z"
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._role_assignments import PRINCIPAL_OPTIONS, find_assignments

ARGUMENT_SPEC = dict(
    scope=dict(type="str", required=True),
    role=dict(type="str"),
    at_scope_only=dict(type="bool", default=False),
    **PRINCIPAL_OPTIONS,
)
MODULE_KWARGS: Dict[str, Any] = dict(mutually_exclusive=[("principal_id", "service_name")],
                                     required_by={"service_name": "service_resource_group"})


def run(module: AzureApimModule) -> Dict[str, Any]:
    """List and filter the assignments."""
    return find_assignments(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
