"""Virtual networks and their subnets. A subnet PUT replaces the subnet exactly as sent (and honours If-Match with
412); a VNet PUT with a subnets list replaces the VNet's subnets."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response

from emulator import arm, resources
from emulator.network.base import (NAT, NSG, RG, ROUTE_TABLE, SUBNET, VNET, bp, check_if_match, child_routes,
                                   delete_lro, etag, finish_later, network_id, parent_id, read_routes, ref_ok,
                                   store_with_children)
from emulator.world import World


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
        link = ref_ok(w, props.get(key), kind, sid)
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
    return {"id": sid, "name": name, "type": SUBNET, "etag": etag(), "properties": out}


def create_subnet(w: World, vnet_id: str, name: str, props: dict[str, Any], state: str = "Succeeded") -> dict:
    """Store a subnet (replacing any previous one of that name)."""
    return w.put(f"{vnet_id}/subnets/{name}", subnet_body(w, vnet_id, name, props, state))


def create_vnet(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a virtual network: `address_prefixes`, `subnets` [{name, address_prefix, service_endpoints, nsg,
    route_table, nat_gateway}] (link values are names in the same group or ids)."""
    vid = network_id(w, rg, "virtualNetworks", spec["name"])
    body = {"id": vid, "name": spec["name"], "type": VNET, "location": spec.get("location", location),
            "tags": spec.get("tags", {}), "etag": etag(),
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
                props[key] = {"id": ref if ref.startswith("/") else network_id(w, rg, kind, ref)}
        create_subnet(w, vid, sub["name"], props)
    return body


def render_vnet(w: World, body: dict) -> dict:
    """A VNet with its subnets embedded."""
    out = arm.public(body)
    out["properties"]["subnets"] = [arm.public(s) for s in w.children(body["id"], SUBNET)]
    return out


@bp.put(f"{RG}/virtualNetworks/<name>")
def put_vnet(sub: str, rg: str, name: str) -> Response:
    """VirtualNetworks_CreateOrUpdate: the subnets list in the body replaces the VNet's subnets."""
    req = arm.versioned_body(VNET)
    props = req.get("properties") or {}
    with resources.in_group(sub, rg) as w:
        vid = network_id(w, rg, "virtualNetworks", name)
        existing = w.get(vid)
        prefixes = (props.get("addressSpace") or {}).get("addressPrefixes")
        if not prefixes:
            raise arm.ArmError(400, "InvalidRequestFormat", "Cannot parse the request: addressSpace.addressPrefixes "
                               "is required.")
        body = {"id": existing["id"] if existing else vid, "name": name, "type": VNET,
                "location": req.get("location") or resources.location_of(w, sub, rg, None),
                "tags": req.get("tags") or {}, "etag": etag(),
                "properties": {"addressSpace": {"addressPrefixes": prefixes}, "provisioningState": "Updating",
                               "resourceGuid": (existing["properties"]["resourceGuid"] if existing
                                                else str(uuid.uuid4())),
                               "virtualNetworkPeerings": [], "enableDdosProtection": False}}
        subnets = props.get("subnets")
        new_subnets = [subnet_body(w, vid, s["name"], s.get("properties") or {}, "Updating") for s in subnets or []]
        op = store_with_children(w, body, SUBNET, subnets, new_subnets)
        return arm.lro_response(op, 200 if existing else 201, render_vnet(w, body), location=False)


@bp.delete(f"{RG}/virtualNetworks/<name>")
def delete_vnet(sub: str, rg: str, name: str) -> Response:
    """VirtualNetworks_Delete: 202 + Azure-AsyncOperation, or 204 when absent."""
    arm.require_api_version(VNET)
    return delete_lro(network_id(arm.world(), rg, "virtualNetworks", name), sub, rg)


@bp.put(f"{RG}/virtualNetworks/<vnet>/subnets/<name>")
def put_subnet(sub: str, rg: str, vnet: str, name: str) -> Response:
    """Subnets_CreateOrUpdate: replaces the subnet with exactly what was sent."""
    props = arm.versioned_body(SUBNET).get("properties") or {}
    with resources.in_group(sub, rg) as w:
        vid = parent_id(w, rg, "virtualNetworks", VNET, vnet)
        stored = w.get(f"{vid}/subnets/{name}")
        existed = stored is not None
        check_if_match(stored)
        body = create_subnet(w, vid, name, props, "Updating")
        op = finish_later(w, [body["id"]])
        return arm.lro_response(op, 200 if existed else 201, arm.public(body), location=False)


child_routes("virtualNetworks", VNET, "vnet", "subnets", SUBNET)
read_routes("virtualNetworks", VNET, render_vnet)
