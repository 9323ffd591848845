#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: keyvault_access_info
short_description: List who can read the secrets of a key vault
version_added: 0.1.0
description:
  - On an access-policy vault, lists the access-policy entries; on an Azure RBAC vault, the role assignments at,
    above or below the vault whose role lets the principal read secret values.
  - Optionally only those of one principal (an object id or an identity of an API Management service).
  - Returns an empty list when the vault, the service or the identity does not exist.
options:
  vault:
    description: Name or resource id of the key vault, or a secret URI.
    type: str
    required: true
  vault_resource_group:
    description: Resource group of the vault (otherwise the subscription's vaults are searched).
    type: str
  principal_id:
    description: Only this principal (object id). Mutually exclusive with O(service_name).
    type: str
  service_name:
    description: Only this API Management service's identity. Requires O(service_resource_group).
    type: str
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
  identity:
    description: Which identity of O(service_name); V(system) or a user-assigned identity's name, id or client id.
    type: str
    default: system
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.keyvault_access
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: What can the service's identity read in the vault?
  azure_apim.identity.keyvault_access_info:
    vault: kv-contoso
    service_name: apim-contoso
    service_resource_group: rg-apim
  register: kv_access
"""

RETURN = r"""
permission_model:
  description: The vault's permission model (null when the vault does not exist).
  returned: always
  type: str
  sample: rbac
access:
  description: Access-policy entries or secret-reading role assignments (empty when none).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(access_policy) or V(role_assignment).
      type: str
      sample: access_policy
    principal_id:
      description: Object id of the principal.
      type: str
      sample: 22222222-2222-2222-2222-222222222222
    tenant_id:
      description: Tenant of an access-policy entry.
      type: str
      sample: 33333333-3333-3333-3333-333333333333
    application_id:
      description: Application id of a compound access-policy entry.
      type: str
      sample: null
    permissions:
      description: Permissions of an access-policy entry, per kind.
      type: dict
      sample: {secrets: [get, list], certificates: [], keys: [], storage: []}
    name:
      description: Name of a role assignment.
      type: str
      sample: 3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b
    scope:
      description: Scope of a role assignment.
      type: str
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-contoso
    role_name:
      description: Role of a role assignment.
      type: str
      sample: Key Vault Secrets User
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._vault_access import PRINCIPAL_OPTIONS, vault_readers

ARGUMENT_SPEC = dict(
    vault=dict(type="str", required=True),
    vault_resource_group=dict(type="str"),
    **PRINCIPAL_OPTIONS,
)
MODULE_KWARGS: Dict[str, Any] = dict(mutually_exclusive=[("principal_id", "service_name")],
                                     required_by={"service_name": "service_resource_group"})


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Who can read the vault's secrets; the service is read only when its identity's object id is needed."""
    return vault_readers(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
