"""Network security groups and their rules. An NSG PUT with a securityRules list replaces the NSG's rules; a rule PUT
changes one rule; two rules may not share a priority and direction."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response

from emulator import arm, resources
from emulator.network.base import (NSG, RG, RULE, bp, child_routes, delete_lro, etag, finish_later, network_id,
                                   parent_id, read_routes, store_with_children, subnets_linking)
from emulator.world import World

# Azure's six default rules of every NSG (priorities 65000+), returned under defaultSecurityRules.
_DEFAULT_RULES = [
    ("AllowVnetInBound", "Inbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", "Allow", 65001, "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", "Deny", 65500, "*", "*"),
    ("AllowVnetOutBound", "Outbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", "Allow", 65001, "*", "Internet"),
    ("DenyAllOutBound", "Outbound", "Deny", 65500, "*", "*"),
]


def rule_body(nsg_id: str, name: str, props: dict[str, Any], state: str = "Succeeded") -> dict:
    """A security rule as ARM returns it (validated like the RP does)."""
    direction = props.get("direction")
    access = props.get("access")
    priority = props.get("priority")
    if direction not in ("Inbound", "Outbound") or access not in ("Allow", "Deny"):
        raise arm.ArmError(400, "InvalidRequestFormat", f"Security rule '{name}': direction must be Inbound or "
                           "Outbound and access Allow or Deny.")
    if not isinstance(priority, int) or not 100 <= priority <= 4096:
        raise arm.ArmError(400, "SecurityRuleInvalidPriority", f"Security rule {name} has invalid Priority. Value "
                           f"provided: {priority} Allowed range 100-4096.")
    out = {"protocol": props.get("protocol", "*"), "sourcePortRange": props.get("sourcePortRange", "*"),
           "access": access, "priority": priority, "direction": direction, "provisioningState": state}
    for key in ("description", "destinationPortRange", "destinationPortRanges", "sourceAddressPrefix",
                "sourceAddressPrefixes", "destinationAddressPrefix", "destinationAddressPrefixes", "sourcePortRanges"):
        if props.get(key) not in (None, [], ""):
            out[key] = props[key]
    # ARM fills in '*' for the singular form unless the plural form was sent.
    for singular in ("sourceAddressPrefix", "destinationAddressPrefix", "destinationPortRange"):
        if singular + "es" not in out and singular + "s" not in out:
            out.setdefault(singular, "*")
    return {"id": f"{nsg_id}/securityRules/{name}", "name": name, "type": RULE, "etag": etag(), "properties": out}


def _check_rule_conflict(w: World, nsg_id: str, rule: dict) -> None:
    props = rule["properties"]
    for other in w.children(nsg_id, RULE):
        if other["name"].lower() == rule["name"].lower():
            continue
        op = other["properties"]
        if op["priority"] == props["priority"] and op["direction"] == props["direction"]:
            raise arm.ArmError(400, "SecurityRuleConflict", f"Security rule {rule['name']} conflicts with rule "
                               f"{other['name']}. Rules cannot have the same Priority and Direction.")


def create_nsg(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed an NSG: `rules` [{name, priority, direction, access, protocol, source_address_prefix,
    destination_port_range, ...}] (snake_case or ARM camelCase keys)."""
    nid = network_id(w, rg, "networkSecurityGroups", spec["name"])
    body = _nsg_shell(nid, spec["name"], spec.get("location", location), spec.get("tags", {}))
    w.put(nid, body)
    for rule in spec.get("rules", []):
        props = {_camel(k): v for k, v in rule.items() if k != "name"}
        w.put(f"{nid}/securityRules/{rule['name']}", rule_body(nid, rule["name"], props))
    return body


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _nsg_shell(nid: str, name: str, location: str, tags: dict) -> dict:
    return {"id": nid, "name": name, "type": NSG, "location": location, "tags": tags or {}, "etag": etag(),
            "properties": {"provisioningState": "Succeeded", "resourceGuid": str(uuid.uuid4())}}


def render_nsg(w: World, body: dict) -> dict:
    """An NSG with its rules, Azure's default rules and the subnets that use it."""
    out = arm.public(body)
    out["properties"]["securityRules"] = [arm.public(r) for r in w.children(body["id"], RULE)]
    out["properties"]["defaultSecurityRules"] = [
        {"id": f"{body['id']}/defaultSecurityRules/{n}", "name": n,
         "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
         "properties": {"description": "Default rule", "protocol": "*", "sourcePortRange": "*",
                        "destinationPortRange": "*", "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
                        "access": acc, "priority": prio, "direction": d, "provisioningState": "Succeeded"}}
        for n, d, acc, prio, src, dst in _DEFAULT_RULES]
    out["properties"]["subnets"] = subnets_linking(w, body["id"], "networkSecurityGroup")
    return out


@bp.put(f"{RG}/networkSecurityGroups/<name>")
def put_nsg(sub: str, rg: str, name: str) -> Response:
    """NetworkSecurityGroups_CreateOrUpdate: the securityRules list in the body replaces the NSG's rules."""
    req = arm.versioned_body(NSG)
    with resources.in_group(sub, rg) as w:
        nid = network_id(w, rg, "networkSecurityGroups", name)
        existing = w.get(nid)
        body = _nsg_shell(nid, name, req.get("location") or resources.location_of(w, sub, rg, None),
                          req.get("tags") or {})
        if existing:
            body["id"] = existing["id"]
            body["properties"]["resourceGuid"] = existing["properties"]["resourceGuid"]
        body["properties"]["provisioningState"] = "Updating"
        rules = (req.get("properties") or {}).get("securityRules")
        new_rules = [rule_body(nid, r["name"], r.get("properties") or {}, "Updating") for r in rules or []]
        _check_unique_priorities(new_rules)
        op = store_with_children(w, body, RULE, rules, new_rules)
        return arm.lro_response(op, 200 if existing else 201, render_nsg(w, body), location=False)


def _check_unique_priorities(rules: list[dict]) -> None:
    seen: dict[tuple, str] = {}
    for rule in rules:
        key = (rule["properties"]["priority"], rule["properties"]["direction"])
        if key in seen:
            raise arm.ArmError(400, "SecurityRuleConflict", f"Security rule {rule['name']} conflicts with rule "
                               f"{seen[key]}. Rules cannot have the same Priority and Direction.")
        seen[key] = rule["name"]


@bp.delete(f"{RG}/networkSecurityGroups/<name>")
def delete_nsg(sub: str, rg: str, name: str) -> Response:
    """NetworkSecurityGroups_Delete; refused while a subnet uses it (InUseNetworkSecurityGroupCannotBeDeleted)."""
    arm.require_api_version(NSG)
    w = arm.world()
    nid = network_id(w, rg, "networkSecurityGroups", name)
    with w.lock:
        users = subnets_linking(w, nid, "networkSecurityGroup")
        if users:
            raise arm.ArmError(400, "InUseNetworkSecurityGroupCannotBeDeleted", f"Network security group {nid} cannot "
                               f"be deleted because it is in use by the following resources: {users[0]['id']}.")
    return delete_lro(nid, sub, rg)


@bp.put(f"{RG}/networkSecurityGroups/<nsg>/securityRules/<name>")
def put_rule(sub: str, rg: str, nsg: str, name: str) -> Response:
    """SecurityRules_CreateOrUpdate: one rule, other rules untouched."""
    props = arm.versioned_body(RULE).get("properties") or {}
    with resources.in_group(sub, rg) as w:
        nid = parent_id(w, rg, "networkSecurityGroups", NSG, nsg)
        rule = rule_body(nid, name, props, "Updating")
        _check_rule_conflict(w, nid, rule)
        existed = w.get(rule["id"]) is not None
        w.put(rule["id"], rule)
        op = finish_later(w, [rule["id"]])
        return arm.lro_response(op, 200 if existed else 201, arm.public(rule), location=False)


child_routes("networkSecurityGroups", NSG, "nsg", "securityRules", RULE)
read_routes("networkSecurityGroups", NSG, render_nsg)
