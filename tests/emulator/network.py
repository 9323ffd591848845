"""Microsoft.Network: virtual networks with subnets, network security groups with rules, route tables, NAT gateways.

Long-running semantics of the network RP: a PUT/DELETE answers at once (201/200 with provisioningState `Updating`,
or 202) with an `Azure-AsyncOperation` header; the status URL reports InProgress until `network_update_s` Azure
seconds pass, then the resource reads `Succeeded`. A subnet PUT replaces the subnet exactly as sent — anything the
caller leaves out (service endpoints, NSG, route table links) is removed, which is why callers must send back what
exists.
"""

from __future__ import annotations

import uuid
from typing import Any, Optional

from flask import Blueprint, Response, request

from emulator import arm, resources
from emulator.world import World

bp = Blueprint("network", __name__)

NS = "Microsoft.Network"
VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
NSG = "Microsoft.Network/networkSecurityGroups"
RULE = "Microsoft.Network/networkSecurityGroups/securityRules"
ROUTE_TABLE = "Microsoft.Network/routeTables"
NAT = "Microsoft.Network/natGateways"
_RG = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network"

# Azure's six default rules of every NSG (priorities 65000+), returned under defaultSecurityRules.
_DEFAULT_RULES = [
    ("AllowVnetInBound", "Inbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", "Allow", 65001, "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", "Deny", 65500, "*", "*"),
    ("AllowVnetOutBound", "Outbound", "Allow", 65000, "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", "Allow", 65001, "*", "Internet"),
    ("DenyAllOutBound", "Outbound", "Deny", 65500, "*", "*"),
]


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def _rid(w: World, rg: str, kind: str, name: str) -> str:
    return f"{w.rg_id(rg)}/providers/{NS}/{kind}/{name}"


def _finish_later(w: World, body_ids: list[str]) -> Any:
    """Start the RP's async operation that flips provisioningState to Succeeded on every listed resource."""

    def done(world: World) -> None:
        for rid in body_ids:
            stored = world.get(rid)
            if stored is not None:
                stored["properties"]["provisioningState"] = "Succeeded"

    return w.start_operation(body_ids[0], float(w.config.get("network_update_s", 2.0)), on_done=done, namespace=NS)


# --- builders (ARM writes and seeding share them) ------------------------------------------------------------------


def _ref_ok(w: World, ref: Optional[dict], kind: str, owner_id: str) -> Optional[dict]:
    """Validate a `{id: ...}` link to another network resource; 400 InvalidResourceReference when missing."""
    if not ref:
        return None
    target = w.get(ref.get("id", ""))
    if target is None or target.get("type", "").lower() != kind.lower():
        raise arm.ArmError(400, "InvalidResourceReference", f"Resource {ref.get('id')} referenced by resource "
                           f"{owner_id} was not found. Please make sure that the referenced resource exists, and that "
                           "both resources are in the same region.")
    return {"id": target["id"]}


def subnet_body(w: World, vnet_id: str, name: str, props: dict[str, Any], state: str = "Succeeded") -> dict:
    """A subnet exactly as sent (links validated, service endpoints given their status)."""
    sid = f"{vnet_id}/subnets/{name}"
    out: dict[str, Any] = {"provisioningState": state}
    if props.get("addressPrefixes"):
        out["addressPrefixes"] = list(props["addressPrefixes"])
    else:
        out["addressPrefix"] = props.get("addressPrefix")
    if not (out.get("addressPrefix") or out.get("addressPrefixes")):
        raise arm.ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: subnet '{name}' has no "
                           "addressPrefix.")
    for key, kind in (("networkSecurityGroup", NSG), ("routeTable", ROUTE_TABLE), ("natGateway", NAT)):
        link = _ref_ok(w, props.get(key), kind, sid)
        if link:
            out[key] = link
    endpoints = []
    for ep in props.get("serviceEndpoints") or []:
        endpoints.append({"service": ep["service"], "locations": ep.get("locations") or ["*"],
                          "provisioningState": "Succeeded"})
    out["serviceEndpoints"] = endpoints
    out["delegations"] = props.get("delegations") or []
    out["privateEndpointNetworkPolicies"] = props.get("privateEndpointNetworkPolicies", "Disabled")
    out["privateLinkServiceNetworkPolicies"] = props.get("privateLinkServiceNetworkPolicies", "Enabled")
    return {"id": sid, "name": name, "type": SUBNET, "etag": _etag(), "properties": out}


def create_subnet(w: World, vnet_id: str, name: str, props: dict[str, Any], state: str = "Succeeded") -> dict:
    """Store a subnet (replacing any previous one of that name)."""
    return w.put(f"{vnet_id}/subnets/{name}", subnet_body(w, vnet_id, name, props, state))


def create_vnet(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a virtual network: `address_prefixes`, `subnets` [{name, address_prefix, service_endpoints, nsg,
    route_table, nat_gateway}] (link values are names in the same group or ids)."""
    vid = _rid(w, rg, "virtualNetworks", spec["name"])
    body = {"id": vid, "name": spec["name"], "type": VNET, "location": spec.get("location", location),
            "tags": spec.get("tags", {}), "etag": _etag(),
            "properties": {"addressSpace": {"addressPrefixes": spec.get("address_prefixes", ["10.0.0.0/16"])},
                           "provisioningState": "Succeeded", "resourceGuid": str(uuid.uuid4()),
                           "virtualNetworkPeerings": [], "enableDdosProtection": False}}
    w.put(vid, body)
    for sub in spec.get("subnets", []):
        props: dict[str, Any] = {"addressPrefix": sub.get("address_prefix", "10.0.0.0/24"),
                                 "serviceEndpoints": [{"service": s} for s in sub.get("service_endpoints", [])]}
        for key, kind, spec_key in (("networkSecurityGroup", "networkSecurityGroups", "nsg"),
                                    ("routeTable", "routeTables", "route_table"),
                                    ("natGateway", "natGateways", "nat_gateway")):
            if sub.get(spec_key):
                ref = sub[spec_key]
                props[key] = {"id": ref if ref.startswith("/") else _rid(w, rg, kind, ref)}
        create_subnet(w, vid, sub["name"], props)
    return body


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
    return {"id": f"{nsg_id}/securityRules/{name}", "name": name, "type": RULE, "etag": _etag(), "properties": out}


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
    nid = _rid(w, rg, "networkSecurityGroups", spec["name"])
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
    return {"id": nid, "name": name, "type": NSG, "location": location, "tags": tags or {}, "etag": _etag(),
            "properties": {"provisioningState": "Succeeded", "resourceGuid": str(uuid.uuid4())}}


def create_route_table(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a route table (routes are not modelled)."""
    rid = _rid(w, rg, "routeTables", spec["name"])
    body = {"id": rid, "name": spec["name"], "type": ROUTE_TABLE, "location": spec.get("location", location),
            "tags": spec.get("tags", {}), "etag": _etag(),
            "properties": {"provisioningState": "Succeeded", "disableBgpRoutePropagation": False, "routes": [],
                           "resourceGuid": str(uuid.uuid4())}}
    return w.put(rid, body)


def create_nat_gateway(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a NAT gateway (Standard SKU; public IPs not modelled)."""
    rid = _rid(w, rg, "natGateways", spec["name"])
    body = {"id": rid, "name": spec["name"], "type": NAT, "location": spec.get("location", location),
            "tags": spec.get("tags", {}), "etag": _etag(), "sku": {"name": "Standard"},
            "properties": {"provisioningState": "Succeeded", "idleTimeoutInMinutes": 4,
                           "resourceGuid": str(uuid.uuid4())}}
    return w.put(rid, body)


# --- rendering: parents embed their children as ARM does ------------------------------------------------------------


def _subnets_linking(w: World, target_id: str, key: str) -> list[dict]:
    out = []
    for subnet in w.list(SUBNET):
        link = subnet["properties"].get(key) or {}
        if link.get("id", "").lower() == target_id.lower():
            out.append({"id": subnet["id"]})
    return out


def render_vnet(w: World, body: dict) -> dict:
    """A VNet with its subnets embedded."""
    out = arm.public(body)
    out["properties"]["subnets"] = [arm.public(s) for s in w.children(body["id"], SUBNET)]
    return out


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
    out["properties"]["subnets"] = _subnets_linking(w, body["id"], "networkSecurityGroup")
    return out


def render_route_table(w: World, body: dict) -> dict:
    """A route table with the subnets that use it."""
    out = arm.public(body)
    out["properties"]["subnets"] = _subnets_linking(w, body["id"], "routeTable")
    return out


def render_nat_gateway(w: World, body: dict) -> dict:
    """A NAT gateway with the subnets that use it."""
    out = arm.public(body)
    out["properties"]["subnets"] = _subnets_linking(w, body["id"], "natGateway")
    return out


# --- virtual networks -------------------------------------------------------------------------------------------------


def _require(w: World, rid: str, kind: str, name: str, rg: str) -> dict:
    body = w.get(rid)
    if body is None:
        raise arm.not_found(kind, name, rg)
    return body


@bp.put(f"{_RG}/virtualNetworks/<name>")
def put_vnet(sub: str, rg: str, name: str) -> Response:
    """VirtualNetworks_CreateOrUpdate: the subnets list in the body replaces the VNet's subnets."""
    arm.require_api_version(VNET)
    w = arm.world()
    req = arm.parse_json_body()
    props = req.get("properties") or {}
    with w.lock:
        resources.require_group(w, sub, rg)
        vid = _rid(w, rg, "virtualNetworks", name)
        existing = w.get(vid)
        prefixes = (props.get("addressSpace") or {}).get("addressPrefixes")
        if not prefixes:
            raise arm.ArmError(400, "InvalidRequestFormat", "Cannot parse the request: addressSpace.addressPrefixes "
                               "is required.")
        body = {"id": existing["id"] if existing else vid, "name": name, "type": VNET,
                "location": req.get("location") or resources.location_of(w, sub, rg, None),
                "tags": req.get("tags") or {}, "etag": _etag(),
                "properties": {"addressSpace": {"addressPrefixes": prefixes}, "provisioningState": "Updating",
                               "resourceGuid": (existing["properties"]["resourceGuid"] if existing
                                                else str(uuid.uuid4())),
                               "virtualNetworkPeerings": [], "enableDdosProtection": False}}
        subnets = props.get("subnets")
        new_subnets = [subnet_body(w, vid, s["name"], s.get("properties") or {}, "Updating") for s in subnets or []]
        w.put(vid, body)
        if subnets is not None:
            for old in w.children(vid, SUBNET):
                w.delete(old["id"])
            for s in new_subnets:
                w.put(s["id"], s)
        op = _finish_later(w, [vid] + [s["id"] for s in new_subnets])
        return arm.lro_response(op, 200 if existing else 201, render_vnet(w, body), location=False)


@bp.get(f"{_RG}/virtualNetworks/<name>")
def get_vnet(sub: str, rg: str, name: str) -> Response:
    """VirtualNetworks_Get."""
    arm.require_api_version(VNET)
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        return arm.json_response(render_vnet(w, _require(w, _rid(w, rg, "virtualNetworks", name), VNET, name, rg)))


@bp.delete(f"{_RG}/virtualNetworks/<name>")
def delete_vnet(sub: str, rg: str, name: str) -> Response:
    """VirtualNetworks_Delete: 202 + Azure-AsyncOperation, or 204 when absent."""
    arm.require_api_version(VNET)
    return _delete_lro(_rid(arm.world(), rg, "virtualNetworks", name), sub, rg)


@bp.get(f"{_RG}/virtualNetworks")
def list_vnets(sub: str, rg: str) -> Response:
    """VirtualNetworks_List (in a group)."""
    arm.require_api_version(VNET)
    w = arm.world()
    with w.lock:
        group = resources.require_group(w, sub, rg)
        return arm.json_response({"value": [render_vnet(w, b) for b in w.list(VNET, under=group["id"])]})


def _child_get(sub: str, rg: str, parent: tuple, child_kind: str, name: str) -> Response:
    """GET a child resource (subnet, security rule): 404 for the parent first, then for the child."""
    parent_kind, parent_type, parent_name = parent
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        pid = _rid(w, rg, parent_kind, parent_name)
        _require(w, pid, parent_type, parent_name, rg)
        body = w.get(f"{pid}/{child_kind}/{name}")
        if body is None:
            raise arm.ArmError(404, "NotFound", f"Resource {pid}/{child_kind}/{name} not found.")
        return arm.json_response(arm.public(body))


def _child_list(sub: str, rg: str, parent: tuple, child_type: str) -> Response:
    """List the children of one type under a parent (404 when the parent does not exist)."""
    parent_kind, parent_type, parent_name = parent
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        pid = _rid(w, rg, parent_kind, parent_name)
        _require(w, pid, parent_type, parent_name, rg)
        return arm.json_response(arm.paged(w.children(pid, child_type)))


def _delete_lro(rid: str, sub: str, rg: str) -> Response:
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        if w.get(rid) is None:
            return arm.empty_response(204)
        w.get(rid)["properties"]["provisioningState"] = "Deleting"

        def gone(world: World) -> None:
            world.delete(rid)

        op = w.start_operation(rid, float(w.config.get("network_update_s", 2.0)), on_done=gone, namespace=NS)
        return arm.lro_response(op, 202)


# --- subnets -----------------------------------------------------------------------------------------------------


def _check_if_match(stored: Optional[dict]) -> None:
    """Network resources honour If-Match on PUT: `*` or the stored ETag passes, anything else is 412 (optimistic
    concurrency for read-modify-write clients such as the subnet's whole-body PUT)."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    wanted = [h.strip().replace("W/", "").strip('"') for h in header.split(",")]
    current = str((stored or {}).get("etag") or "").replace("W/", "").strip('"')
    if ("*" in wanted and stored is not None) or (current and current in wanted):
        return
    raise arm.ArmError(412, "PreconditionFailed", "Operation failed because the resource was modified since it was "
                       "read: the If-Match ETag does not match the current one.")


@bp.put(f"{_RG}/virtualNetworks/<vnet>/subnets/<name>")
def put_subnet(sub: str, rg: str, vnet: str, name: str) -> Response:
    """Subnets_CreateOrUpdate: replaces the subnet with exactly what was sent."""
    arm.require_api_version(SUBNET)
    w = arm.world()
    props = arm.parse_json_body().get("properties") or {}
    with w.lock:
        resources.require_group(w, sub, rg)
        vid = _rid(w, rg, "virtualNetworks", vnet)
        _require(w, vid, VNET, vnet, rg)
        stored = w.get(f"{vid}/subnets/{name}")
        existed = stored is not None
        _check_if_match(stored)
        body = create_subnet(w, vid, name, props, "Updating")
        op = _finish_later(w, [body["id"]])
        return arm.lro_response(op, 200 if existed else 201, arm.public(body), location=False)


@bp.get(f"{_RG}/virtualNetworks/<vnet>/subnets/<name>")
def get_subnet(sub: str, rg: str, vnet: str, name: str) -> Response:
    """Subnets_Get."""
    arm.require_api_version(SUBNET)
    return _child_get(sub, rg, ("virtualNetworks", VNET, vnet), "subnets", name)


@bp.get(f"{_RG}/virtualNetworks/<vnet>/subnets")
def list_subnets(sub: str, rg: str, vnet: str) -> Response:
    """Subnets_List."""
    arm.require_api_version(SUBNET)
    return _child_list(sub, rg, ("virtualNetworks", VNET, vnet), SUBNET)


@bp.delete(f"{_RG}/virtualNetworks/<vnet>/subnets/<name>")
def delete_subnet(sub: str, rg: str, vnet: str, name: str) -> Response:
    """Subnets_Delete."""
    arm.require_api_version(SUBNET)
    return _delete_lro(f"{_rid(arm.world(), rg, 'virtualNetworks', vnet)}/subnets/{name}", sub, rg)


# --- network security groups and rules -------------------------------------------------------------------------------


@bp.put(f"{_RG}/networkSecurityGroups/<name>")
def put_nsg(sub: str, rg: str, name: str) -> Response:
    """NetworkSecurityGroups_CreateOrUpdate: the securityRules list in the body replaces the NSG's rules."""
    arm.require_api_version(NSG)
    w = arm.world()
    req = arm.parse_json_body()
    with w.lock:
        resources.require_group(w, sub, rg)
        nid = _rid(w, rg, "networkSecurityGroups", name)
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
        w.put(nid, body)
        if rules is not None:
            for old in w.children(nid, RULE):
                w.delete(old["id"])
            for r in new_rules:
                w.put(r["id"], r)
        op = _finish_later(w, [nid] + [r["id"] for r in new_rules])
        return arm.lro_response(op, 200 if existing else 201, render_nsg(w, body), location=False)


def _check_unique_priorities(rules: list[dict]) -> None:
    seen: dict[tuple, str] = {}
    for rule in rules:
        key = (rule["properties"]["priority"], rule["properties"]["direction"])
        if key in seen:
            raise arm.ArmError(400, "SecurityRuleConflict", f"Security rule {rule['name']} conflicts with rule "
                               f"{seen[key]}. Rules cannot have the same Priority and Direction.")
        seen[key] = rule["name"]


@bp.get(f"{_RG}/networkSecurityGroups/<name>")
def get_nsg(sub: str, rg: str, name: str) -> Response:
    """NetworkSecurityGroups_Get."""
    arm.require_api_version(NSG)
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        body = _require(w, _rid(w, rg, "networkSecurityGroups", name), NSG, name, rg)
        return arm.json_response(render_nsg(w, body))


@bp.delete(f"{_RG}/networkSecurityGroups/<name>")
def delete_nsg(sub: str, rg: str, name: str) -> Response:
    """NetworkSecurityGroups_Delete; refused while a subnet uses it (InUseNetworkSecurityGroupCannotBeDeleted)."""
    arm.require_api_version(NSG)
    w = arm.world()
    nid = _rid(w, rg, "networkSecurityGroups", name)
    with w.lock:
        users = _subnets_linking(w, nid, "networkSecurityGroup")
        if users:
            raise arm.ArmError(400, "InUseNetworkSecurityGroupCannotBeDeleted", f"Network security group {nid} cannot "
                               f"be deleted because it is in use by the following resources: {users[0]['id']}.")
    return _delete_lro(nid, sub, rg)


@bp.get(f"{_RG}/networkSecurityGroups")
def list_nsgs(sub: str, rg: str) -> Response:
    """NetworkSecurityGroups_List (in a group)."""
    arm.require_api_version(NSG)
    w = arm.world()
    with w.lock:
        group = resources.require_group(w, sub, rg)
        return arm.json_response({"value": [render_nsg(w, b) for b in w.list(NSG, under=group["id"])]})


@bp.put(f"{_RG}/networkSecurityGroups/<nsg>/securityRules/<name>")
def put_rule(sub: str, rg: str, nsg: str, name: str) -> Response:
    """SecurityRules_CreateOrUpdate: one rule, other rules untouched."""
    arm.require_api_version(RULE)
    w = arm.world()
    props = arm.parse_json_body().get("properties") or {}
    with w.lock:
        resources.require_group(w, sub, rg)
        nid = _rid(w, rg, "networkSecurityGroups", nsg)
        _require(w, nid, NSG, nsg, rg)
        rule = rule_body(nid, name, props, "Updating")
        _check_rule_conflict(w, nid, rule)
        existed = w.get(rule["id"]) is not None
        w.put(rule["id"], rule)
        op = _finish_later(w, [rule["id"]])
        return arm.lro_response(op, 200 if existed else 201, arm.public(rule), location=False)


@bp.get(f"{_RG}/networkSecurityGroups/<nsg>/securityRules/<name>")
def get_rule(sub: str, rg: str, nsg: str, name: str) -> Response:
    """SecurityRules_Get."""
    arm.require_api_version(RULE)
    return _child_get(sub, rg, ("networkSecurityGroups", NSG, nsg), "securityRules", name)


@bp.get(f"{_RG}/networkSecurityGroups/<nsg>/securityRules")
def list_rules(sub: str, rg: str, nsg: str) -> Response:
    """SecurityRules_List."""
    arm.require_api_version(RULE)
    return _child_list(sub, rg, ("networkSecurityGroups", NSG, nsg), RULE)


@bp.delete(f"{_RG}/networkSecurityGroups/<nsg>/securityRules/<name>")
def delete_rule(sub: str, rg: str, nsg: str, name: str) -> Response:
    """SecurityRules_Delete."""
    arm.require_api_version(RULE)
    return _delete_lro(f"{_rid(arm.world(), rg, 'networkSecurityGroups', nsg)}/securityRules/{name}", sub, rg)


# --- route tables (links only) -------------------------------------------------------------------------------------


@bp.get(f"{_RG}/routeTables/<name>")
def get_route_table(sub: str, rg: str, name: str) -> Response:
    """RouteTables_Get."""
    arm.require_api_version(ROUTE_TABLE)
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        body = _require(w, _rid(w, rg, "routeTables", name), ROUTE_TABLE, name, rg)
        return arm.json_response(render_route_table(w, body))


@bp.put(f"{_RG}/routeTables/<name>")
def put_route_table(sub: str, rg: str, name: str) -> Response:
    """RouteTables_CreateOrUpdate (routes not modelled)."""
    arm.require_api_version(ROUTE_TABLE)
    w = arm.world()
    req = arm.parse_json_body()
    with w.lock:
        resources.require_group(w, sub, rg)
        existed = w.get(_rid(w, rg, "routeTables", name)) is not None
        body = create_route_table(w, rg, {"name": name, "tags": req.get("tags") or {},
                                          "location": req.get("location")} if req.get("location") else
                                  {"name": name, "tags": req.get("tags") or {}},
                                  resources.location_of(w, sub, rg, None))
        return arm.json_response(render_route_table(w, body), 200 if existed else 201)


@bp.get(f"{_RG}/natGateways/<name>")
def get_nat_gateway(sub: str, rg: str, name: str) -> Response:
    """NatGateways_Get."""
    arm.require_api_version(NAT)
    w = arm.world()
    with w.lock:
        resources.require_group(w, sub, rg)
        body = _require(w, _rid(w, rg, "natGateways", name), NAT, name, rg)
        return arm.json_response(render_nat_gateway(w, body))
