"""Resource types modelled just enough to exist: created, read, listed and deleted synchronously, with the properties
a fresh resource shows, so that they can be role-assignment scopes and the targets APIM refers to.

A provider module (``eventhub.py``, ``servicebus.py``, ``storage.py``) describes each type with a :class:`Tracked` or
:class:`Child` and registers their routes on its own blueprint with :func:`routes`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from flask import Blueprint, Response

from emulator import arm, resources
from emulator.world import World


@dataclass(frozen=True)
class Tracked:
    """A top-level (tracked) resource type: ``Namespace/kind`` in a resource group."""

    type_: str
    sku: dict[str, Any]  # the sku a create without one gets
    properties: Callable[[str, World], dict[str, Any]]  # (name, world) → the properties of a fresh resource
    kind: Optional[str] = None

    def resource_id(self, w: World, rg: str, name: str) -> str:
        namespace, kind = self.type_.split("/")
        return f"{w.rg_id(rg)}/providers/{namespace}/{kind}/{name}"

    def body(self, w: World, rid: str, name: str, location: str, tags: Optional[dict],
             sku: Optional[dict]) -> dict[str, Any]:
        body = {"id": rid, "name": name, "type": self.type_, "location": location, "tags": tags or {},
                "sku": sku or self.sku, "properties": self.properties(name, w)}
        if self.kind:
            body["kind"] = self.kind
        return body

    def seed(self, w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
        """Seed one from a world file's ``{name, location, tags}``."""
        rid = self.resource_id(w, rg, spec["name"])
        return w.put(rid, self.body(w, rid, spec["name"], spec.get("location", location), spec.get("tags"), None))


@dataclass(frozen=True)
class Child:
    """A nested resource type: ``Namespace/parentKind/kind`` (an event hub, a queue)."""

    type_: str
    extra: dict[str, Any] = field(default_factory=dict)  # properties beyond created/updated/status

    @property
    def segment(self) -> str:
        return self.type_.rsplit("/", 1)[1]

    def seed(self, w: World, parent_id: str, name: str) -> dict:
        cid = f"{parent_id}/{self.segment}/{name}"
        props: dict[str, Any] = {"createdAt": w.iso(), "updatedAt": w.iso(), "status": "Active",
                                 **copy.deepcopy(self.extra)}
        return w.put(cid, {"id": cid, "name": name, "type": self.type_, "location": "westeurope",
                           "properties": props})


def _locked(rtype: str, handler: Callable[..., Response], read_body: bool = False) -> Callable[..., Response]:
    """A view: the api-version check, then ``handler(w, req, **url variables)`` under the world's lock."""
    def view(**kw: str) -> Response:
        arm.require_api_version(rtype)
        req = arm.parse_json_body() if read_body else {}
        with resources.in_group(kw["sub"], kw["rg"]) as w:
            return handler(w, req, **kw)
    return view


def routes(bp: Blueprint, tracked: Tracked, *children: Child) -> None:
    """PUT/GET/DELETE/list for ``tracked`` and PUT/GET/list for each of its ``children``."""
    namespace, kind = tracked.type_.split("/")
    base = f"/subscriptions/<sub>/resourceGroups/<rg>/providers/{namespace}/{kind}"
    endpoint = kind + namespace.replace(".", "_")

    def put(w: World, req: dict, sub: str, rg: str, name: str) -> Response:
        rid = tracked.resource_id(w, rg, name)
        existing = w.get(rid)
        body = tracked.body(w, existing["id"] if existing else rid, name,
                            req.get("location") or resources.location_of(w, sub, rg, None), req.get("tags"),
                            req.get("sku"))
        w.put(rid, body)
        return arm.json_response(arm.public(body), 200 if existing else 201)

    def get(w: World, _req: dict, sub: str, rg: str, name: str) -> Response:
        body = w.get(tracked.resource_id(w, rg, name))
        if body is None:
            raise arm.not_found(tracked.type_, name, rg)
        return arm.json_response(arm.public(body))

    def delete(w: World, _req: dict, sub: str, rg: str, name: str) -> Response:
        removed = w.delete(tracked.resource_id(w, rg, name))
        return arm.empty_response(200 if removed else 204)

    def listing(w: World, _req: dict, sub: str, rg: str) -> Response:
        group = resources.require_group(w, sub, rg)
        return arm.json_response(arm.paged(w.list(tracked.type_, under=group["id"])))

    bp.add_url_rule(f"{base}/<name>", f"put_{endpoint}", _locked(tracked.type_, put, True), methods=["PUT"])
    bp.add_url_rule(f"{base}/<name>", f"get_{endpoint}", _locked(tracked.type_, get), methods=["GET"])
    bp.add_url_rule(f"{base}/<name>", f"delete_{endpoint}", _locked(tracked.type_, delete), methods=["DELETE"])
    bp.add_url_rule(base, f"list_{endpoint}", _locked(tracked.type_, listing), methods=["GET"])
    for child in children:
        _child_routes(bp, tracked, child)


def _child_routes(bp: Blueprint, tracked: Tracked, child: Child) -> None:
    namespace, parent_kind = tracked.type_.split("/")
    base = f"/subscriptions/<sub>/resourceGroups/<rg>/providers/{namespace}/{parent_kind}/<parent>/{child.segment}"
    endpoint = f"{parent_kind}_{child.segment}_{namespace.replace('.', '_')}"

    def _parent(w: World, rg: str, parent: str) -> str:
        pid = tracked.resource_id(w, rg, parent)
        if w.get(pid) is None:
            raise arm.not_found(tracked.type_, parent, rg)
        return pid

    def put(w: World, _req: dict, sub: str, rg: str, parent: str, name: str) -> Response:
        pid = _parent(w, rg, parent)
        existed = w.get(f"{pid}/{child.segment}/{name}") is not None
        body = child.seed(w, pid, name)
        return arm.json_response(arm.public(body), 200 if existed else 201)

    def get(w: World, _req: dict, sub: str, rg: str, parent: str, name: str) -> Response:
        body = w.get(f"{_parent(w, rg, parent)}/{child.segment}/{name}")
        if body is None:
            raise arm.not_found(child.type_, f"{parent}/{name}", rg)
        return arm.json_response(arm.public(body))

    def listing(w: World, _req: dict, sub: str, rg: str, parent: str) -> Response:
        return arm.json_response(arm.paged(w.children(_parent(w, rg, parent), child.type_)))

    bp.add_url_rule(f"{base}/<name>", f"put_{endpoint}", _locked(child.type_, put, True), methods=["PUT"])
    bp.add_url_rule(f"{base}/<name>", f"get_{endpoint}", _locked(child.type_, get), methods=["GET"])
    bp.add_url_rule(base, f"list_{endpoint}", _locked(child.type_, listing), methods=["GET"])
