"""What the network resource types share: ids, ETags, the RP's asynchronous operations, links between resources,
If-Match, and the GET/list/DELETE of child resources (subnets, security rules)."""

from __future__ import annotations

import uuid
from typing import Any, Callable, Optional

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
RG = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network"


def etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def network_id(w: World, rg: str, kind: str, name: str) -> str:
    return f"{w.rg_id(rg)}/providers/{NS}/{kind}/{name}"


def finish_later(w: World, body_ids: list[str]) -> Any:
    """Start the RP's async operation that flips provisioningState to Succeeded on every listed resource."""

    def done(world: World) -> None:
        for rid in body_ids:
            stored = world.get(rid)
            if stored is not None:
                stored["properties"]["provisioningState"] = "Succeeded"

    return w.start_operation(body_ids[0], float(w.config.get("network_update_s", 2.0)), on_done=done, namespace=NS)


def ref_ok(w: World, ref: Optional[dict], kind: str, owner_id: str) -> Optional[dict]:
    """Validate a `{id: ...}` link to another network resource; 400 InvalidResourceReference when missing."""
    if not ref:
        return None
    target = w.get(ref.get("id", ""))
    if target is None or target.get("type", "").lower() != kind.lower():
        raise arm.ArmError(400, "InvalidResourceReference", f"Resource {ref.get('id')} referenced by resource "
                           f"{owner_id} was not found. Please make sure that the referenced resource exists, and that "
                           "both resources are in the same region.")
    return {"id": target["id"]}


def subnets_linking(w: World, target_id: str, key: str) -> list[dict]:
    out = []
    for subnet in w.list(SUBNET):
        link = subnet["properties"].get(key) or {}
        if link.get("id", "").lower() == target_id.lower():
            out.append({"id": subnet["id"]})
    return out


def require(w: World, rid: str, kind: str, name: str, rg: str) -> dict:
    body = w.get(rid)
    if body is None:
        raise arm.not_found(kind, name, rg)
    return body


def child_get(sub: str, rg: str, parent: tuple, child_kind: str, name: str) -> Response:
    """GET a child resource (subnet, security rule): 404 for the parent first, then for the child."""
    parent_kind, parent_type, parent_name = parent
    with resources.in_group(sub, rg) as w:
        pid = parent_id(w, rg, parent_kind, parent_type, parent_name)
        body = w.get(f"{pid}/{child_kind}/{name}")
        if body is None:
            raise arm.ArmError(404, "NotFound", f"Resource {pid}/{child_kind}/{name} not found.")
        return arm.json_response(arm.public(body))


def child_list(sub: str, rg: str, parent: tuple, child_type: str) -> Response:
    """List the children of one type under a parent (404 when the parent does not exist)."""
    parent_kind, parent_type, parent_name = parent
    with resources.in_group(sub, rg) as w:
        pid = parent_id(w, rg, parent_kind, parent_type, parent_name)
        return arm.json_response(arm.paged(w.children(pid, child_type)))


def delete_lro(rid: str, sub: str, rg: str) -> Response:
    with resources.in_group(sub, rg) as w:
        if w.get(rid) is None:
            return arm.empty_response(204)
        w.get(rid)["properties"]["provisioningState"] = "Deleting"

        def gone(world: World) -> None:
            world.delete(rid)

        op = w.start_operation(rid, float(w.config.get("network_update_s", 2.0)), on_done=gone, namespace=NS)
        return arm.lro_response(op, 202)


def check_if_match(stored: Optional[dict]) -> None:
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


def parent_id(w: World, rg: str, kind: str, rtype: str, name: str) -> str:
    """The id of a parent (a VNet, an NSG) that must exist: ARM's 404 for it otherwise."""
    pid = network_id(w, rg, kind, name)
    require(w, pid, rtype, name, rg)
    return pid


def store_with_children(w: World, parent: dict, child_type: str, sent: Optional[list], children: list[dict]) -> Any:
    """Store a parent written with its children inline: a list that was sent replaces the stored children (one that
    was not sent leaves them); everything written reads Updating until the RP's operation ends."""
    w.put(parent["id"], parent)
    if sent is not None:
        for old in w.children(parent["id"], child_type):
            w.delete(old["id"])
        for child in children:
            w.put(child["id"], child)
    return finish_later(w, [parent["id"]] + [c["id"] for c in children])


def child_routes(parent_kind: str, parent_type: str, parent_var: str, child_kind: str, child_type: str) -> None:
    """GET, list and DELETE of a child resource type (subnets, security rules) under ``parent_kind/<parent_var>``."""
    rule = f"{RG}/{parent_kind}/<{parent_var}>/{child_kind}"

    def get(sub: str, rg: str, name: str, **kw: str) -> Response:
        arm.require_api_version(child_type)
        return child_get(sub, rg, (parent_kind, parent_type, kw[parent_var]), child_kind, name)

    def listing(sub: str, rg: str, **kw: str) -> Response:
        arm.require_api_version(child_type)
        return child_list(sub, rg, (parent_kind, parent_type, kw[parent_var]), child_type)

    def delete(sub: str, rg: str, name: str, **kw: str) -> Response:
        arm.require_api_version(child_type)
        return delete_lro(f"{network_id(arm.world(), rg, parent_kind, kw[parent_var])}/{child_kind}/{name}", sub, rg)

    bp.add_url_rule(f"{rule}/<name>", f"get_{child_kind}", get, methods=["GET"])
    bp.add_url_rule(rule, f"list_{child_kind}", listing, methods=["GET"])
    bp.add_url_rule(f"{rule}/<name>", f"delete_{child_kind}", delete, methods=["DELETE"])


def read_routes(kind: str, rtype: str, render: Callable[[World, dict], dict], listed: bool = True) -> None:
    """GET of one resource, rendered with what it embeds or what links to it, and (``listed``) the list in a group."""
    def get(sub: str, rg: str, name: str) -> Response:
        arm.require_api_version(rtype)
        with resources.in_group(sub, rg) as w:
            return arm.json_response(render(w, require(w, network_id(w, rg, kind, name), rtype, name, rg)))

    def listing(sub: str, rg: str) -> Response:
        with arm.locked(rtype) as w:
            group = resources.require_group(w, sub, rg)
            return arm.json_response({"value": [render(w, b) for b in w.list(rtype, under=group["id"])]})

    bp.add_url_rule(f"{RG}/{kind}/<name>", f"get_{kind}", get, methods=["GET"])
    if listed:
        bp.add_url_rule(f"{RG}/{kind}", f"list_{kind}", listing, methods=["GET"])
