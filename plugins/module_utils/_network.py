# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Microsoft.Network prerequisites of API Management in a virtual network reaching Key Vault: the subnet's
Microsoft.KeyVault service endpoint and outbound NSG rules to the AzureKeyVault and AzureActiveDirectory service tags.

A subnet PUT replaces the subnet with exactly what is sent: anything left out (other service endpoints, the route
table, NSG or NAT gateway links, delegations) is removed. Every subnet write here therefore sends back the subnet's
properties as read, with only the endpoint list changed. NSG rules are written one child resource at a time
(``securityRules/{name}``), so other rules are never part of a request.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._arm import API_VERSIONS, properties_to_dict
from ._errors import AzureApimError
from ._lro import wait_poller

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

API_VERSION = API_VERSIONS["Microsoft.Network"]
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
# Read-only subnet properties the RP computes; not sent back on PUT.
_SUBNET_READ_ONLY = ("provisioningState", "ipConfigurations", "ipConfigurationProfiles", "privateEndpoints",
                     "resourceNavigationLinks", "serviceAssociationLinks", "purpose")
MIN_PRIORITY, MAX_PRIORITY = 100, 4096


def _link(props: Dict[str, Any], key: str) -> Optional[str]:
    return (props.get(key) or {}).get("id")


def subnet_to_dict(body: Dict[str, Any]) -> Dict[str, Any]:
    """A subnet as a plain dict; ``raw`` keeps the ARM body for the write-back."""
    props = body.get("properties") or {}
    return {
        "id": body.get("id"),
        "name": body.get("name"),
        "address_prefix": props.get("addressPrefix") or props.get("addressPrefixes"),
        "service_endpoints": [{"service": e.get("service"), "locations": list(e.get("locations") or [])}
                              for e in props.get("serviceEndpoints") or []],
        "network_security_group_id": _link(props, "networkSecurityGroup"),
        "route_table_id": _link(props, "routeTable"),
        "nat_gateway_id": _link(props, "natGateway"),
        "delegations": [d.get("name") or (d.get("properties") or {}).get("serviceName")
                        for d in props.get("delegations") or []],
        "provisioning_state": props.get("provisioningState"),
        "raw": body,
    }


def rule_to_dict(body: Dict[str, Any]) -> Dict[str, Any]:
    """An NSG security rule as a plain dict."""
    return properties_to_dict(body, {
        "priority": "priority", "direction": "direction", "access": "access", "protocol": "protocol",
        "source_address_prefix": "sourceAddressPrefix", "source_address_prefixes": "sourceAddressPrefixes",
        "destination_address_prefix": "destinationAddressPrefix",
        "destination_address_prefixes": "destinationAddressPrefixes",
        "destination_port_range": "destinationPortRange", "destination_port_ranges": "destinationPortRanges",
        "description": "description", "provisioning_state": "provisioningState",
    }, lists=("source_address_prefixes", "destination_address_prefixes", "destination_port_ranges"))


def has_endpoint(subnet: Dict[str, Any], service: str) -> bool:
    """True when the subnet has a service endpoint for ``service`` (case-insensitive)."""
    return any(str(e["service"]).lower() == service.lower() for e in subnet.get("service_endpoints") or [])


def subnet_body_with_endpoints(subnet: Dict[str, Any], endpoints: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The PUT body: the subnet's properties as read (links, delegations, policies), with ``endpoints``."""
    props = {k: v for k, v in (subnet["raw"].get("properties") or {}).items() if k not in _SUBNET_READ_ONLY}
    props["serviceEndpoints"] = [
        dict({"service": e["service"]}, **({"locations": e["locations"]} if e.get("locations") else {}))
        for e in endpoints]
    return {"properties": props}


def _port_covers(rule: Dict[str, Any], port: int) -> bool:
    ranges = [rule.get("destination_port_range")] + list(rule.get("destination_port_ranges") or [])
    for value in (str(r).strip() for r in ranges if r):
        if value == "*":
            return True
        low, high = (value.split("-", 1) + [""])[:2]
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _prefixes(rule: Dict[str, Any], side: str) -> List[str]:
    single = rule.get(side + "_address_prefix")
    return [p.lower() for p in ([single] if single else []) + list(rule.get(side + "_address_prefixes") or [])]


def allows_outbound(rule: Dict[str, Any], service_tag: str, port: int = 443) -> bool:
    """True when an outbound Allow rule lets the subnet reach ``service_tag`` on TCP ``port``."""
    return (str(rule.get("direction")).lower() == "outbound" and str(rule.get("access")).lower() == "allow"
            and str(rule.get("protocol") or "*").lower() in ("tcp", "*")
            and any(p in (service_tag.lower(), "*") for p in _prefixes(rule, "destination"))
            and any(p in ("virtualnetwork", "*") for p in _prefixes(rule, "source") or ["*"])
            and _port_covers(rule, port))


def blocking_rule(rules: List[Dict[str, Any]], service_tag: str, port: int = 443) -> Optional[Dict[str, Any]]:
    """The highest-precedence outbound rule deciding traffic to ``service_tag``, when it denies it.

    Returns None when the first matching rule allows the traffic, or when no custom rule matches (Azure's default
    AllowInternetOutBound then lets service-tag traffic out).
    """
    for rule in sorted((r for r in rules if str(r.get("direction")).lower() == "outbound"),
                       key=lambda r: r.get("priority") or MAX_PRIORITY):
        if allows_outbound(rule, service_tag, port):
            return None
        denies = (str(rule.get("access")).lower() == "deny" and _port_covers(rule, port)
                  and any(p in (service_tag.lower(), "*", "internet") for p in _prefixes(rule, "destination")))
        if denies:
            return rule
    return None


def free_priorities(rules: List[Dict[str, Any]], count: int, start: int = MIN_PRIORITY) -> List[int]:
    """The ``count`` lowest outbound priorities from ``start`` no rule uses (lower number = evaluated first)."""
    used = {r.get("priority") for r in rules if str(r.get("direction")).lower() == "outbound"}
    found = [p for p in range(start, MAX_PRIORITY + 1) if p not in used][:count]
    if len(found) < count:
        raise AzureApimError("No free outbound priority is left in the network security group", code="NoFreePriority",
                             hint="remove unused outbound rules or give 'priority' explicitly")
    return found


class NetworkService:
    """Subnets and NSG rules through the generic ARM client (plain dicts out)."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module

    def _arm(self) -> Any:
        return self.module.arm()

    def get_subnet(self, subnet_id: str) -> Optional[Dict[str, Any]]:
        """The subnet, or None when it (or its virtual network) does not exist."""
        body = self.module.read(self._arm().get, subnet_id, API_VERSION, what="reading subnet " + subnet_id)
        return subnet_to_dict(body) if body else None

    def put_subnet(self, subnet: Dict[str, Any], endpoints: List[Dict[str, Any]]) -> None:
        """Write the subnet back with ``endpoints`` and wait for the network RP."""
        # The PUT replaces the whole subnet with what was read + our endpoints; If-Match with the read's ETag turns
        # a change someone made in between into 412 (the cycle then re-reads and merges) instead of undoing it.
        etag = (subnet.get("raw") or {}).get("etag")
        poller = self.module.call(self._arm().begin, "PUT", subnet["id"], API_VERSION,
                                  subnet_body_with_endpoints(subnet, endpoints),
                                  headers={"If-Match": etag} if etag else None,
                                  what="updating the service endpoints of subnet " + subnet["name"])
        self.module.call(wait_poller, poller, self.module.deadline, "subnet " + subnet["name"], retry=())

    def get_nsg(self, nsg_id: str) -> Optional[Dict[str, Any]]:
        """The NSG with its custom rules as dicts (``rules``), or None."""
        body = self.module.read(self._arm().get, nsg_id, API_VERSION, what="reading network security group " + nsg_id)
        if not body:
            return None
        props = body.get("properties") or {}
        return {"id": body.get("id"), "name": body.get("name"), "provisioning_state": props.get("provisioningState"),
                "rules": [rule_to_dict(r) for r in props.get("securityRules") or []]}

    def put_rule(self, nsg_id: str, name: str, properties: Dict[str, Any]) -> None:
        """Create or update one security rule (no other rule is sent) and wait for it."""
        poller = self.module.call(self._arm().begin, "PUT", "{0}/securityRules/{1}".format(nsg_id, name), API_VERSION,
                                  {"properties": properties}, what="writing security rule " + name)
        self.module.call(wait_poller, poller, self.module.deadline, "security rule " + name, retry=())

    def delete_rule(self, rule_id: str) -> None:
        """Delete one security rule and wait for it."""
        poller = self.module.call(self._arm().begin, "DELETE", rule_id, API_VERSION,
                                  what="deleting security rule " + rule_id.rsplit("/", 1)[-1])
        self.module.call(wait_poller, poller, self.module.deadline, "security rule", retry=())


# -- engines of the two modules ------------------------------------------------------------------------------------

def public_subnet(subnet: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The subnet as modules return it (no raw body)."""
    return None if subnet is None else {k: v for k, v in subnet.items() if k != "raw"}


def endpoints_equal(wanted: Any, current: Any) -> bool:
    """Service endpoint lists compare by service name (and by locations where the wanted entry gives them)."""
    have = {str(e["service"]).lower(): e for e in current or []}
    if set(have) != {str(e["service"]).lower() for e in wanted or []}:
        return False
    return all(not e.get("locations") or {x.lower() for x in e["locations"]} ==
               {x.lower() for x in have[str(e["service"]).lower()].get("locations") or []} for e in wanted or [])


def endpoints_wanted(current: Dict[str, Any], service: str, locations: Optional[List[str]],
                     present: bool) -> List[Dict[str, Any]]:
    """The subnet's endpoint list with ``service`` added (or its locations set) or removed; others kept in place."""
    result, found = [], False
    for endpoint in current.get("service_endpoints") or []:
        if str(endpoint["service"]).lower() != service.lower():
            result.append(dict(endpoint))
            continue
        found = True
        if present:
            result.append(dict(endpoint, locations=list(locations)) if locations else dict(endpoint))
    if present and not found:
        result.append({"service": service, "locations": list(locations or ["*"])})
    return result


def rule_properties(service_tag: str, priority: int, port: int, description: str) -> Dict[str, Any]:
    """ARM properties of an outbound Allow rule from the virtual network to a service tag on TCP ``port``."""
    return {"priority": priority, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
            "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*",
            "destinationAddressPrefix": service_tag, "destinationPortRange": str(port), "description": description}


def rule_name(service_tag: str) -> str:
    """The name of the rule this collection owns for a service tag."""
    return "AllowApimTo{0}Outbound".format(service_tag)


def plan_rules(nsg: Dict[str, Any], tags: List[str], port: int, priority: Optional[int]) -> Dict[str, Dict[str, Any]]:
    """Per service tag: the rule to keep (ours or an equivalent one) or the priority a new rule gets.

    A tag already reachable through any outbound Allow rule (under any name) needs nothing. New rules get
    ``priority``, ``priority + 1``, ... (each must be free), or the lowest free outbound priorities.
    """
    plan: Dict[str, Dict[str, Any]] = {}
    missing = []
    for tag in tags:
        ours = next((r for r in nsg["rules"] if r["name"].lower() == rule_name(tag).lower()), None)
        equivalent = next((r for r in nsg["rules"] if allows_outbound(r, tag, port)), None)
        plan[tag] = {"rule": ours or equivalent, "priority": (ours or {}).get("priority")}
        if ours is None and equivalent is None:
            missing.append(tag)
    if priority is None:
        chosen = free_priorities(nsg["rules"], len(missing))
    else:
        chosen = list(range(priority, priority + len(missing)))
        taken = [r["name"] for r in nsg["rules"] if str(r["direction"]).lower() == "outbound"
                 and r["priority"] in chosen]
        if taken or (chosen and chosen[-1] > MAX_PRIORITY):
            raise AzureApimError("Outbound priorities {0} are not free in network security group {1!r} (used by {2})"
                                 .format(chosen, nsg["name"], ", ".join(taken) or "out of range"),
                                 code="PriorityInUse", hint="give another 'priority' or leave it unset to pick free ones")
    for tag, value in zip(missing, chosen):
        plan[tag]["priority"] = value
    return plan
