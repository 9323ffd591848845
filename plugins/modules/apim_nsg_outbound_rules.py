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

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._ids import parse_resource_id
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_network import apim_subnet_id, nsg_rule_spec
from ansible_collections.azure_apim.identity.plugins.module_utils._network import NSG_TYPE, NetworkService, plan_rules
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ensure

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


def nsg_id_from_params(module: AzureApimModule, network: NetworkService) -> str:
    """The NSG the options name (for a service: the one linked to its subnet)."""
    params = module.params
    if params["nsg_id"]:
        return str(parse_resource_id(params["nsg_id"], NSG_TYPE))
    if params["nsg_name"]:
        return "/subscriptions/{0}/resourceGroups/{1}/providers/{2}/{3}".format(
            module.subscription_id, params["resource_group"], NSG_TYPE, params["nsg_name"])
    subnet = network.get_subnet(apim_subnet_id(module, params["service_resource_group"], params["service_name"]))
    if not subnet or not subnet.get("network_security_group_id"):
        raise AzureApimError("The subnet of API Management service {0!r} has no network security group".format(
            params["service_name"]), code="NoNetworkSecurityGroup",
            hint="without an NSG outbound traffic is not filtered; nothing to do")
    return subnet["network_security_group_id"]


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure one outbound rule per service tag; other rules are never touched."""
    params = module.params
    if params["priority"] is not None and not 100 <= params["priority"] <= 4096:
        raise AzureApimError("priority must be between 100 and 4096, not {0}".format(params["priority"]),
                             code="InvalidPriority")
    network = NetworkService(module)
    nsg_id = nsg_id_from_params(module, network)
    nsg = network.get_nsg(nsg_id)
    if nsg is None:
        raise AzureApimError("Network security group {0} does not exist".format(nsg_id), status=404,
                             code="NetworkSecurityGroupNotFound", hint="check the NSG name and resource group")
    absent = params["state"] == "absent"
    plan = plan_rules(nsg, params["service_tags"], params["port"], params["priority"]) if not absent else {}
    changed, before, after = False, [], []
    for tag in params["service_tags"]:
        spec = nsg_rule_spec(network, nsg_id, tag, params["port"], plan.get(tag, {}), owned_only=absent)
        outcome = ensure(spec, params["state"], {"allows": True}, check_mode=module.check_mode,
                         deadline=module.deadline)
        changed = changed or outcome.changed
        before.append(outcome.before)
        after.append(outcome.after)
    rules = [r for r in after if r]
    return {"changed": changed, "rules": rules, "nsg": {"id": nsg["id"], "name": nsg["name"]},
            "diff": {"before": {"rules": [r for r in before if r]}, "after": {"rules": rules}}}


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
