#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_nsg_outbound_rules
short_description: Let the API Management subnet reach Key Vault and Entra ID through its network security group
version_added: 0.1.0
description:
  - An API Management service in a virtual network needs outbound TCP 443 to the C(AzureKeyVault) and
    C(AzureActiveDirectory) service tags to read Key Vault secrets with its managed identity.
  - For each service tag, an outbound Allow rule named C(AllowApimTo<tag>Outbound) is created, unless a rule
    already allows that traffic (under any name; it is then left as it is). Rules are written one at a time as
    child resources, so other rules are never sent, changed or removed.
  - Priorities are O(priority), O(priority)+1, ... or, when not given, the lowest free outbound priorities.
  - O(state=absent) removes only the rules this module names; equivalent rules made by others stay.
  - The rule PUT carries no If-Match; the NSG itself is never written as a whole. If someone edits this module's
    own rule between the module's read and its write, the module's version of that one rule wins. Other rules are
    never at risk.
options:
  nsg_id:
    description: Resource id of the network security group.
    type: str
  resource_group:
    description: Resource group of O(nsg_name).
    type: str
  nsg_name:
    description: Name of the network security group.
    type: str
  service_name:
    description: API Management service whose subnet's network security group is meant. Requires O(service_resource_group).
    type: str
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
  service_tags:
    description: Destination service tags.
    type: list
    elements: str
    default: [AzureKeyVault, AzureActiveDirectory]
  port:
    description: Destination TCP port.
    type: int
    default: 443
  priority:
    description: Priority of the first new rule (100-4096); the next new rules take the following numbers.
    type: int
  state:
    description: Whether the rules should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.apim_subnet_service_endpoint
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Outbound rules to Key Vault and Entra ID on the NSG of the service's subnet
  azure_apim.identity.apim_nsg_outbound_rules:
    service_name: apim-contoso
    service_resource_group: rg-apim

- name: Same NSG by name, fixed priorities
  azure_apim.identity.apim_nsg_outbound_rules:
    resource_group: rg-network
    nsg_name: nsg-apim
    priority: 300
"""

RETURN = r"""
rules:
  description: Per service tag, the rule that lets the traffic out after the task (predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: AllowApimToAzureKeyVaultOutbound, priority: 100, direction: Outbound, access: Allow, protocol: Tcp,
       destination_address_prefix: AzureKeyVault, destination_port_range: "443"}
nsg:
  description: The network security group.
  returned: always
  type: dict
  sample: {id: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-apim}
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_network import ensure_outbound_rules
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    nsg_id=dict(type="str"),
    resource_group=dict(type="str"),
    nsg_name=dict(type="str"),
    service_name=dict(type="str"),
    service_resource_group=dict(type="str"),
    service_tags=dict(type="list", elements="str", default=["AzureKeyVault", "AzureActiveDirectory"]),
    port=dict(type="int", default=443),
    priority=dict(type="int"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
MODULE_KWARGS: Dict[str, Any] = dict(
    required_one_of=[("nsg_id", "nsg_name", "service_name")],
    mutually_exclusive=[("nsg_id", "nsg_name", "service_name")],
    required_by={"nsg_name": "resource_group", "service_name": "service_resource_group"},
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure one outbound rule per service tag; other rules are never touched."""
    return ensure_outbound_rules(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
