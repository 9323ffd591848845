"""Route tables and NAT gateways: only what subnets link to (routes and public IPs are not modelled)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response

from emulator import arm, resources
from emulator.network.base import NAT, RG, ROUTE_TABLE, bp, etag, network_id, read_routes, subnets_linking
from emulator.world import World


def create_route_table(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a route table (routes are not modelled)."""
    rid = network_id(w, rg, "routeTables", spec["name"])
    body = {"id": rid, "name": spec["name"], "type": ROUTE_TABLE, "location": spec.get("location", location),
            "tags": spec.get("tags", {}), "etag": etag(),
            "properties": {"provisioningState": "Succeeded", "disableBgpRoutePropagation": False, "routes": [],
                           "resourceGuid": str(uuid.uuid4())}}
    return w.put(rid, body)


def create_nat_gateway(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a NAT gateway (Standard SKU; public IPs not modelled)."""
    rid = network_id(w, rg, "natGateways", spec["name"])
    body = {"id": rid, "name": spec["name"], "type": NAT, "location": spec.get("location", location),
            "tags": spec.get("tags", {}), "etag": etag(), "sku": {"name": "Standard"},
            "properties": {"provisioningState": "Succeeded", "idleTimeoutInMinutes": 4,
                           "resourceGuid": str(uuid.uuid4())}}
    return w.put(rid, body)


def render_route_table(w: World, body: dict) -> dict:
    """A route table with the subnets that use it."""
    out = arm.public(body)
    out["properties"]["subnets"] = subnets_linking(w, body["id"], "routeTable")
    return out


def render_nat_gateway(w: World, body: dict) -> dict:
    """A NAT gateway with the subnets that use it."""
    out = arm.public(body)
    out["properties"]["subnets"] = subnets_linking(w, body["id"], "natGateway")
    return out


@bp.put(f"{RG}/routeTables/<name>")
def put_route_table(sub: str, rg: str, name: str) -> Response:
    """RouteTables_CreateOrUpdate (routes not modelled)."""
    req = arm.versioned_body(ROUTE_TABLE)
    spec = {"name": name, "tags": req.get("tags") or {}}
    if req.get("location"):
        spec["location"] = req["location"]
    with resources.in_group(sub, rg) as w:
        existed = w.get(network_id(w, rg, "routeTables", name)) is not None
        body = create_route_table(w, rg, spec, resources.location_of(w, sub, rg, None))
        return arm.json_response(render_route_table(w, body), 200 if existed else 201)


read_routes("routeTables", ROUTE_TABLE, render_route_table, listed=False)
read_routes("natGateways", NAT, render_nat_gateway, listed=False)
