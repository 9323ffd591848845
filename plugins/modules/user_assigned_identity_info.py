#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: user_assigned_identity_info
short_description: Read user-assigned managed identities
version_added: 0.1.0
description:
  - Returns one user-assigned managed identity, all identities of a resource group, or all of the subscription.
  - Never fails because something does not exist; the list is then empty.
options:
  resource_group:
    description:
      - Resource group to look in. Without it, the whole subscription is listed.
    type: str
  name:
    description:
      - Name of one identity. Requires O(resource_group).
    type: str
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Look up one identity
  azure_apim.identity.user_assigned_identity_info:
    resource_group: rg-apim
    name: id-apim-keyvault
  register: found

- name: Use its client id when it exists
  ansible.builtin.debug:
    msg: "{{ found.identities[0].client_id }}"
  when: found.identities | length > 0

- name: All identities of a resource group
  azure_apim.identity.user_assigned_identity_info:
    resource_group: rg-apim
"""

RETURN = r"""
identities:
  description: The identities found (empty when none).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Resource ID.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-kv
    name:
      description: Name.
      type: str
      sample: id-apim-keyvault
    resource_group:
      description: Resource group.
      type: str
      sample: rg-apim
    location:
      description: Region.
      type: str
      sample: westeurope
    tags:
      description: Tags.
      type: dict
      sample: {owner: platform}
    client_id:
      description: Client (application) ID.
      type: str
      sample: 11111111-1111-1111-1111-111111111111
    principal_id:
      description: Object ID of the service principal.
      type: str
      sample: 22222222-2222-2222-2222-222222222222
    tenant_id:
      description: Tenant ID.
      type: str
      sample: 33333333-3333-3333-3333-333333333333
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: always
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._user_assigned_identities import find_identities

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str"),
    name=dict(type="str"),
)
MODULE_KWARGS: Dict[str, Any] = dict(required_by={"name": "resource_group"})


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Look the identities up."""
    return {"changed": False,
            "identities": find_identities(module, module.params["resource_group"], module.params["name"])}


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
