"""Microsoft.Network: virtual networks with subnets (``vnets.py``), network security groups with rules (``nsgs.py``),
route tables and NAT gateways (``links.py``); what they share is in ``base.py``.

Long-running semantics of the network RP: a PUT/DELETE answers at once (201/200 with provisioningState `Updating`,
or 202) with an `Azure-AsyncOperation` header; the status URL reports InProgress until `network_update_s` Azure
seconds pass, then the resource reads `Succeeded`. A subnet PUT replaces the subnet exactly as sent — anything the
caller leaves out (service endpoints, NSG, route table links) is removed, which is why callers must send back what
exists.
"""

from __future__ import annotations

from emulator.network.base import NAT, NS, NSG, ROUTE_TABLE, RULE, SUBNET, VNET, bp
from emulator.network.links import create_nat_gateway, create_route_table, render_nat_gateway, render_route_table
from emulator.network.nsgs import create_nsg, render_nsg, rule_body
from emulator.network.vnets import create_subnet, create_vnet, render_vnet, subnet_body

__all__ = [
    "NAT", "NS", "NSG", "ROUTE_TABLE", "RULE", "SUBNET", "VNET", "bp", "create_nat_gateway", "create_nsg",
    "create_route_table", "create_subnet", "create_vnet", "render_nat_gateway", "render_nsg", "render_route_table",
    "render_vnet", "rule_body", "subnet_body",
]
