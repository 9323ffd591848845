"""Event Hubs, Service Bus and Storage, modelled just enough to exist, be read, and serve as role-assignment scopes
and as the target of an APIM logger (an Event Hubs namespace + hub)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Blueprint, Response

from emulator import arm, resources
from emulator.world import World

bp = Blueprint("others", __name__)

EH_NS = "Microsoft.EventHub/namespaces"
EH_HUB = "Microsoft.EventHub/namespaces/eventhubs"
SB_NS = "Microsoft.ServiceBus/namespaces"
SB_QUEUE = "Microsoft.ServiceBus/namespaces/queues"
SB_TOPIC = "Microsoft.ServiceBus/namespaces/topics"
STORAGE = "Microsoft.Storage/storageAccounts"


def _rid(w: World, rg: str, rtype: str, *names: str) -> str:
    namespace, *types = rtype.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names))
    return f"{w.rg_id(rg)}/providers/{namespace}/{path}"


def _eh_ns_props(name: str, w: World) -> dict[str, Any]:
    return {"provisioningState": "Succeeded", "status": "Active", "createdAt": w.iso(), "updatedAt": w.iso(),
            "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/", "kafkaEnabled": True,
            "disableLocalAuth": False, "publicNetworkAccess": "Enabled", "minimumTlsVersion": "1.2"}


def _sb_ns_props(name: str, w: World) -> dict[str, Any]:
    return {"provisioningState": "Succeeded", "status": "Active", "createdAt": w.iso(), "updatedAt": w.iso(),
            "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/", "disableLocalAuth": False,
            "publicNetworkAccess": "Enabled", "minimumTlsVersion": "1.2"}


def _storage_props(name: str, w: World) -> dict[str, Any]:
    return {"provisioningState": "Succeeded", "creationTime": w.iso(), "accessTier": "Hot",
            "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/",
                                 "queue": f"https://{name}.queue.core.windows.net/",
                                 "table": f"https://{name}.table.core.windows.net/",
                                 "file": f"https://{name}.file.core.windows.net/"},
            "primaryLocation": "westeurope", "statusOfPrimary": "available", "supportsHttpsTrafficOnly": True,
            "allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2",
            "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [],
                            "defaultAction": "Allow"}}


# (type, default sku, properties builder)
_TRACKED: dict[str, tuple[dict[str, Any], Callable[[str, World], dict[str, Any]]]] = {
    EH_NS: ({"name": "Standard", "tier": "Standard", "capacity": 1}, _eh_ns_props),
    SB_NS: ({"name": "Standard", "tier": "Standard"}, _sb_ns_props),
    STORAGE: ({"name": "Standard_LRS", "tier": "Standard"}, _storage_props),
}


def _tracked_body(w: World, rtype: str, rid: str, name: str, location: str, tags: Optional[dict],
                  sku: Optional[dict]) -> dict[str, Any]:
    default_sku, props = _TRACKED[rtype]
    body = {"id": rid, "name": name, "type": rtype, "location": location, "tags": tags or {},
            "sku": sku or default_sku, "properties": props(name, w)}
    if rtype == STORAGE:
        body["kind"] = "StorageV2"
    return body


def _child_body(w: World, rtype: str, rid: str, name: str) -> dict[str, Any]:
    props: dict[str, Any] = {"createdAt": w.iso(), "updatedAt": w.iso(), "status": "Active"}
    if rtype == EH_HUB:
        props.update({"partitionCount": 2, "messageRetentionInDays": 1, "partitionIds": ["0", "1"]})
    return {"id": rid, "name": name, "type": rtype, "location": "westeurope", "properties": props}


def create_eventhub_namespace(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed an Event Hubs namespace with `hubs: [name, ...]`."""
    rid = _rid(w, rg, EH_NS, spec["name"])
    location = spec.get("location", location)
    body = w.put(rid, _tracked_body(w, EH_NS, rid, spec["name"], location, spec.get("tags"), None))
    for hub in spec.get("hubs", []):
        hid = f"{rid}/eventhubs/{hub}"
        w.put(hid, _child_body(w, EH_HUB, hid, hub))
    return body


def create_servicebus_namespace(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a Service Bus namespace with `queues` and `topics`."""
    rid = _rid(w, rg, SB_NS, spec["name"])
    location = spec.get("location", location)
    body = w.put(rid, _tracked_body(w, SB_NS, rid, spec["name"], location, spec.get("tags"), None))
    for kind, rtype in (("queues", SB_QUEUE), ("topics", SB_TOPIC)):
        for child in spec.get(kind, []):
            cid = f"{rid}/{kind}/{child}"
            w.put(cid, _child_body(w, rtype, cid, child))
    return body


def create_storage_account(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a storage account."""
    rid = _rid(w, rg, STORAGE, spec["name"])
    return w.put(rid, _tracked_body(w, STORAGE, rid, spec["name"], spec.get("location", location), spec.get("tags"),
                                    None))


# --- routes: one generic set per tracked type and per child type ----------------------------------------------------


def _tracked_routes(rtype: str) -> None:
    namespace, kind = rtype.split("/")
    base = f"/subscriptions/<sub>/resourceGroups/<rg>/providers/{namespace}/{kind}"
    endpoint = kind + namespace.replace(".", "_")

    def put(sub: str, rg: str, name: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        req = arm.parse_json_body()
        with w.lock:
            resources.require_group(w, sub, rg)
            rid = _rid(w, rg, rtype, name)
            existing = w.get(rid)
            body = _tracked_body(w, rtype, existing["id"] if existing else rid, name,
                                 req.get("location") or resources.location_of(w, sub, rg, None), req.get("tags"),
                                 req.get("sku"))
            w.put(rid, body)
            return arm.json_response(arm.public(body), 200 if existing else 201)

    def get(sub: str, rg: str, name: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        with w.lock:
            resources.require_group(w, sub, rg)
            body = w.get(_rid(w, rg, rtype, name))
            if body is None:
                raise arm.not_found(rtype, name, rg)
            return arm.json_response(arm.public(body))

    def delete(sub: str, rg: str, name: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        with w.lock:
            resources.require_group(w, sub, rg)
            removed = w.delete(_rid(w, rg, rtype, name))
            return arm.empty_response(200 if removed else 204)

    def listing(sub: str, rg: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        with w.lock:
            group = resources.require_group(w, sub, rg)
            return arm.json_response(arm.paged(w.list(rtype, under=group["id"])))

    bp.add_url_rule(f"{base}/<name>", f"put_{endpoint}", put, methods=["PUT"])
    bp.add_url_rule(f"{base}/<name>", f"get_{endpoint}", get, methods=["GET"])
    bp.add_url_rule(f"{base}/<name>", f"delete_{endpoint}", delete, methods=["DELETE"])
    bp.add_url_rule(base, f"list_{endpoint}", listing, methods=["GET"])


def _child_routes(rtype: str) -> None:
    namespace, parent_kind, kind = rtype.split("/")
    base = f"/subscriptions/<sub>/resourceGroups/<rg>/providers/{namespace}/{parent_kind}/<parent>/{kind}"
    endpoint = f"{parent_kind}_{kind}_{namespace.replace('.', '_')}"
    parent_type = f"{namespace}/{parent_kind}"

    def _parent(w: World, sub: str, rg: str, parent: str) -> str:
        resources.require_group(w, sub, rg)
        pid = _rid(w, rg, parent_type, parent)
        if w.get(pid) is None:
            raise arm.not_found(parent_type, parent, rg)
        return pid

    def put(sub: str, rg: str, parent: str, name: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        arm.parse_json_body()
        with w.lock:
            pid = _parent(w, sub, rg, parent)
            cid = f"{pid}/{kind}/{name}"
            existed = w.get(cid) is not None
            body = w.put(cid, _child_body(w, rtype, cid, name))
            return arm.json_response(arm.public(body), 200 if existed else 201)

    def get(sub: str, rg: str, parent: str, name: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        with w.lock:
            pid = _parent(w, sub, rg, parent)
            body = w.get(f"{pid}/{kind}/{name}")
            if body is None:
                raise arm.not_found(rtype, f"{parent}/{name}", rg)
            return arm.json_response(arm.public(body))

    def listing(sub: str, rg: str, parent: str) -> Response:
        arm.require_api_version(rtype)
        w = arm.world()
        with w.lock:
            pid = _parent(w, sub, rg, parent)
            return arm.json_response(arm.paged(w.children(pid, rtype)))

    bp.add_url_rule(f"{base}/<name>", f"put_{endpoint}", put, methods=["PUT"])
    bp.add_url_rule(f"{base}/<name>", f"get_{endpoint}", get, methods=["GET"])
    bp.add_url_rule(base, f"list_{endpoint}", listing, methods=["GET"])


for _rtype in (EH_NS, SB_NS, STORAGE):
    _tracked_routes(_rtype)
for _rtype in (EH_HUB, SB_QUEUE, SB_TOPIC):
    _child_routes(_rtype)
