#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_subnet_service_endpoint
short_description: Add or remove a service endpoint (Microsoft.KeyVault by default) on the API Management subnet
version_added: 0.1.0
description:
  - An API Management service deployed in a virtual network reaches Key Vault through a C(Microsoft.KeyVault)
    service endpoint on its subnet. This module adds that endpoint (or another service's) or removes it.
  - The subnet is written back with everything it has (other service endpoints, route table, network security
    group, NAT gateway, delegations); only the one endpoint changes. The PUT carries the subnet's ETag
    in If-Match, so when someone changes the subnet between the read and the write, Azure refuses the write (412)
    and the module reads again and merges; the other change is kept.
  - The subnet is named by O(subnet_id), by O(resource_group) + O(virtual_network) + O(subnet), or found from the
    API Management service (O(service_name)).
options:
  subnet_id:
    description: Resource id of the subnet.
    type: str
  resource_group:
    description: Resource group of O(virtual_network).
    type: str
  virtual_network:
    description: Virtual network name.
    type: str
  subnet:
    description: Subnet name in O(virtual_network).
    type: str
  service_name:
    description: API Management service whose subnet is meant. Requires O(service_resource_group).
    type: str
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
  service:
    description: Service of the endpoint.
    type: str
    default: Microsoft.KeyVault
  locations:
    description: Regions of the endpoint; new endpoints default to all regions (V(*)). Existing ones are kept unless given.
    type: list
    elements: str
  state:
    description: Whether the endpoint should be on the subnet.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.apim_nsg_outbound_rules
  - module: azure_apim.identity.apim_keyvault_preflight
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Key Vault service endpoint on the subnet of the service
  azure_apim.identity.apim_subnet_service_endpoint:
    service_name: apim-contoso
    service_resource_group: rg-apim

- name: Same, naming the subnet
  azure_apim.identity.apim_subnet_service_endpoint:
    resource_group: rg-network
    virtual_network: vnet-apim
    subnet: snet-apim
"""

RETURN = r"""
subnet:
  description: The subnet after the task (predicted in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: Resource id.
      type: str
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/snet
    name:
      description: Subnet name.
      type: str
      sample: snet-apim
    address_prefix:
      description: Address prefix (or prefixes).
      type: raw
      sample: 10.0.1.0/24
    service_endpoints:
      description: Service endpoints.
      type: list
      elements: dict
      sample: [{service: Microsoft.Storage, locations: ["*"]}, {service: Microsoft.KeyVault, locations: ["*"]}]
    network_security_group_id:
      description: Linked NSG.
      type: str
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg
    route_table_id:
      description: Linked route table.
      type: str
      sample: /subscriptions/0000/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt
    nat_gateway_id:
      description: Linked NAT gateway.
      type: str
      sample: null
    delegations:
      description: Delegations (service names).
      type: list
      elements: str
      sample: []
    provisioning_state:
      description: Provisioning state.
      type: str
      sample: Succeeded
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_network import ensure_subnet_endpoint
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    subnet_id=dict(type="str"),
    resource_group=dict(type="str"),
    virtual_network=dict(type="str"),
    subnet=dict(type="str"),
    service_name=dict(type="str"),
    service_resource_group=dict(type="str"),
    service=dict(type="str", default="Microsoft.KeyVault"),
    locations=dict(type="list", elements="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
MODULE_KWARGS: Dict[str, Any] = dict(
    required_one_of=[("subnet_id", "subnet", "service_name")],
    mutually_exclusive=[("subnet_id", "subnet", "service_name")],
    required_by={"subnet": ("resource_group", "virtual_network"), "service_name": "service_resource_group"},
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Add or remove the endpoint, keeping everything else on the subnet."""
    return ensure_subnet_endpoint(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
