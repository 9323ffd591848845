#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_named_value_info
short_description: Read the named values of an API Management service
version_added: 0.1.0
description:
  - Returns one named value or all named values of an API Management service, with the status of API Management's
    last read of each Key Vault secret.
  - Values are never returned (secret values are never read).
  - Never fails because something does not exist; the list is then empty.
options:
  resource_group:
    description: Resource group of the API Management service.
    type: str
    required: true
  service_name:
    description: Name of the API Management service.
    type: str
    required: true
  name:
    description: Identifier of one named value. Without it, every named value of the service is returned.
    type: str
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.apim_named_value
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Which Key Vault named values cannot be read?
  azure_apim.identity.apim_named_value_info:
    resource_group: rg-apim
    service_name: apim-contoso
  register: found

- name: Show them
  ansible.builtin.debug:
    msg: "{{ found.named_values | selectattr('key_vault') | rejectattr('key_vault.last_status.code', 'equalto', 'Success')
             | map(attribute='name') | list }}"
"""

RETURN = r"""
named_values:
  description: The named values found (empty when none), without values.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Resource ID.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/namedValues/backend-key
    name:
      description: Identifier.
      type: str
      sample: backend-api-key
    display_name:
      description: Name used in policies.
      type: str
      sample: backend-api-key
    secret:
      description: Whether the value is secret.
      type: bool
      sample: true
    tags:
      description: Tags.
      type: list
      elements: str
      sample: [backend]
    key_vault:
      description: Key Vault reference (secret_identifier, identity_client_id, last_status); null for plain values.
      type: dict
      sample: {secret_identifier: "https://kv-contoso.vault.azure.net/secrets/backend-api-key",
               identity_client_id: SystemAssigned, last_status: {code: Success, message: null}}
    provisioning_state:
      description: Provisioning state.
      type: str
      sample: Succeeded
    etag:
      description: Entity tag (only when one named value is read).
      type: str
      sample: '"AAAAAAAAX1A="'
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: always
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_named_values import find_named_values
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    name=dict(type="str"),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Look the named values up."""
    return {"changed": False, "named_values": find_named_values(module)}


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
