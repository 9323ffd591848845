#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_service
short_description: Create, update or delete an API Management service with its managed identities
version_added: 0.1.0
description:
  - Creates an API Management service with its system-assigned and user-assigned identities in the same request
    (the article's ARM template and PowerShell paths), updates its SKU, publisher, tags and identities, or deletes it.
  - Creating a service in a classic tier takes 30 to 45 minutes in Azure; the default O(timeout) covers it. When the
    task times out it reports the state the service reached; the operation carries on in Azure, and a re-run while
    the service is still C(Created)/C(Activating)/C(Updating) waits for it instead of writing again.
  - Updates are sent as a PATCH carrying only what differs, so custom hostnames, custom properties and settings this
    module does not manage stay as they are.
  - Identity options work as in M(azure_apim.identity.apim_identity), including the refusal to remove an identity
    still in use.
  - Deleting waits until the service is gone. Azure keeps a deleted service soft-deleted for 48 hours; creating one
    with the same name meanwhile needs it purged or restored first.
options:
  resource_group:
    description: Resource group of the service.
    type: str
    required: true
  name:
    description: Name of the service; it becomes C(<name>.azure-api.net) and must be unique in Azure.
    type: str
    required: true
    aliases: [service_name]
  location:
    description:
      - Azure region, for example V(westeurope). Used on creation only; a service cannot move.
      - Defaults to the resource group's region.
    type: str
  sku_name:
    description: Pricing tier. Defaults to V(Developer) on creation; unset leaves the tier of an existing service.
    type: str
    choices: [Consumption, Developer, Basic, Standard, Premium, Isolated, BasicV2, StandardV2, PremiumV2]
  sku_capacity:
    description:
      - Number of units. Defaults on creation to 1, or 0 for V(Consumption) (which has no units).
    type: int
  publisher_name:
    description: Organisation name shown in the developer portal and e-mails. Required to create a service.
    type: str
  publisher_email:
    description: E-mail address that receives system notifications. Required to create a service.
    type: str
  tags:
    description: Tags to set. Tags not listed are kept unless O(purge_tags=true).
    type: dict
  purge_tags:
    description: Remove tags that are not in O(tags). Only applies when O(tags) is given.
    type: bool
    default: false
  system_assigned:
    description:
      - V(true) enables the system-assigned identity, V(false) disables it. Unset leaves it as it is (a new service
        then has none).
    type: bool
  user_assigned_identities:
    description:
      - User-assigned identities (resource IDs, or names looked up in O(resource_group)); see O(user_assigned_mode).
      - At most 10 per service.
    type: list
    elements: str
  user_assigned_mode:
    description:
      - V(add) attaches the listed identities and keeps the others; V(exact) keeps exactly the listed ones;
        V(remove) detaches the listed ones.
    type: str
    choices: [add, exact, remove]
    default: add
  state:
    description: Whether the service should exist.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - Seconds the task may take in total, including waiting for an operation already running on the service.
      - On timeout the task fails with the state reached; a re-run waits for the running operation.
    type: int
    default: 3600
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.apim_service_info
  - module: azure_apim.identity.apim_identity
  - name: Use managed identities in Azure API Management
    description: The Microsoft Learn article this collection automates.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Create a Developer-tier service with a system-assigned identity (waits up to an hour)
  azure_apim.identity.apim_service:
    resource_group: rg-apim
    name: apim-contoso
    location: westeurope
    sku_name: Developer
    publisher_name: Contoso
    publisher_email: api-team@contoso.com
    system_assigned: true
  register: apim

- name: Create a StandardV2 service with a user-assigned identity
  azure_apim.identity.apim_service:
    resource_group: rg-apim
    name: apim-contoso-v2
    sku_name: StandardV2
    publisher_name: Contoso
    publisher_email: api-team@contoso.com
    user_assigned_identities: [id-apim-keyvault]

- name: Scale out and tag, leaving everything else alone
  azure_apim.identity.apim_service:
    resource_group: rg-apim
    name: apim-contoso
    sku_capacity: 2
    tags:
      cost-center: "1234"

- name: Delete the service (waits until it is gone)
  azure_apim.identity.apim_service:
    resource_group: rg-apim
    name: apim-contoso
    state: absent
"""

RETURN = r"""
service:
  description:
    - The service after the task ({} when absent). In check mode, the predicted state; IDs and URLs Azure assigns on
      creation are then null.
  returned: always
  type: dict
  contains:
    id:
      description: Resource ID.
      type: str
    name:
      description: Name of the service.
      type: str
      sample: apim-contoso
    resource_group:
      description: Resource group.
      type: str
    location:
      description: Region as Azure returns it.
      type: str
      sample: West Europe
    sku:
      description: Tier and units.
      type: dict
      sample: {name: Developer, capacity: 1}
    publisher_name:
      description: Publisher name.
      type: str
    publisher_email:
      description: Publisher e-mail.
      type: str
    tags:
      description: Tags.
      type: dict
    provisioning_state:
      description: Provisioning state.
      type: str
      sample: Succeeded
    gateway_url:
      description: Gateway URL.
      type: str
      sample: https://apim-contoso.azure-api.net
    virtual_network_type:
      description: C(None), C(External) or C(Internal).
      type: str
    subnet_id:
      description: Subnet of a service in a virtual network.
      type: str
    hostname_configurations:
      description: Hostnames of the service (certificate details, never certificate contents).
      type: list
      elements: dict
    identity:
      description: Identities, as returned by M(azure_apim.identity.apim_identity).
      type: dict
      sample:
        type: SystemAssigned
        principal_id: 22222222-2222-2222-2222-222222222222
        tenant_id: 33333333-3333-3333-3333-333333333333
        user_assigned_identities: {}
        user_assigned: []
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_service import (
    SKUS, USER_ASSIGNED_MODES, ensure_service)
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    name=dict(type="str", required=True, aliases=["service_name"]),
    location=dict(type="str"),
    sku_name=dict(type="str", choices=list(SKUS)),
    sku_capacity=dict(type="int"),
    publisher_name=dict(type="str"),
    publisher_email=dict(type="str"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=False),
    system_assigned=dict(type="bool"),
    user_assigned_identities=dict(type="list", elements="str"),
    user_assigned_mode=dict(type="str", choices=list(USER_ASSIGNED_MODES), default="add"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
# Classic tiers take 30-45 minutes to create; an hour leaves room for a slow region.
MODULE_KWARGS: Dict[str, Any] = {"default_timeout": 3600}


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the service's state and return the module result."""
    return ensure_service(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
