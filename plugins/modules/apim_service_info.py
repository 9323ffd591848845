#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_service_info
short_description: Read API Management services
version_added: 0.1.0
description:
  - Returns one API Management service, every service of a resource group, or every service of the subscription,
    with SKU, provisioning state, hostnames and identities.
  - Never fails because something does not exist; the list is then empty.
options:
  resource_group:
    description: Resource group to look in. Without it, the whole subscription is listed.
    type: str
  name:
    description: Name of one service. Requires O(resource_group).
    type: str
    aliases: [service_name]
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.apim_service
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Read one service
  azure_apim.identity.apim_service_info:
    resource_group: rg-apim
    name: apim-contoso
  register: found

- name: Show its state when it exists
  ansible.builtin.debug:
    msg: "{{ found.services[0].provisioning_state }}"
  when: found.services | length > 0

- name: Every service of the subscription
  azure_apim.identity.apim_service_info:
"""

RETURN = r"""
services:
  description: The services found (empty when none); each as the C(service) return value of M(azure_apim.identity.apim_service).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Resource ID.
      type: str
    name:
      description: Name of the service.
      type: str
    resource_group:
      description: Resource group.
      type: str
    location:
      description: Region.
      type: str
    sku:
      description: Tier and units.
      type: dict
      sample: {name: Developer, capacity: 1}
    provisioning_state:
      description: Provisioning state.
      type: str
      sample: Succeeded
    gateway_url:
      description: Gateway URL.
      type: str
    identity:
      description: Identities (type, principal_id, tenant_id, user_assigned_identities, user_assigned).
      type: dict
    hostname_configurations:
      description: Hostnames (certificate details, never certificate contents).
      type: list
      elements: dict
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_service import find_services
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str"),
    name=dict(type="str", aliases=["service_name"]),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Read the services asked for."""
    return find_services(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
