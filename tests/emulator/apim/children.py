"""One handler for the entities that live inside an API Management service (named values, loggers, certificates,
backends, APIs, operations, policies): GET, list, PUT and DELETE the way APIM answers them.

- every answer about one entity carries its ETag; GET of a missing one is the family's own 404 ("Logger not found.");
- PUT answers 201 on create and 200 on update, synchronously (named values and policies add their own steps around it);
- DELETE answers 200, or 204 when there was nothing to delete;
- writes honour If-Match (``*`` or the current ETag, else 412 PreconditionFailed), except where a family says it
  does not (APIs and operations here);
- writes need the service online (409 while it transitions), reads only need it to exist;
- a list is one page with ``count``.

Families differ only in the facts a :class:`Family` holds; the routes of a family are registered with
:func:`register`, or composed from :func:`get`, :func:`put`, :func:`delete` and :func:`listing` where the family adds
behaviour of its own (named values poll asynchronously, policies render formats).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from flask import Response

from emulator import arm
from emulator.apim.base import bp, check_if_match, new_etag, not_found, online_service, service_or_404
from emulator.world import World

# (world, the route's URL variables, whether the request writes) → the parent resource; raises the parent's 404/409
Parent = Callable[[World, dict[str, str], bool], dict]
# (world, parent, the request's properties, the stored entity or None) → the new body's properties and private keys
Builder = Callable[[World, dict, dict, Optional[dict]], dict[str, Any]]


def _never(_stored: dict) -> bool:
    return False


@dataclass(frozen=True)
class Family:
    """What tells one kind of child entity from another."""

    segment: str  # the path segment under the parent: ``loggers``
    type_: str  # the ARM type (also the api-versions accepted, unless ``version_type`` says otherwise)
    label: str  # APIM's 404 wording: "<label> not found."
    honours_if_match: bool = True  # APIs and operations here take writes unconditionally
    replace: bool = True  # False: an update keeps the stored body (and the casing of its first id), new properties
    hidden: Callable[[dict], bool] = field(default=_never)  # an asynchronous create still running is not there yet
    view: Callable[[dict], dict] = field(default=arm.public)  # what GET and list show of a stored body
    version_type: Optional[str] = None  # policies accept the service's api-versions

    def check_version(self) -> None:
        arm.require_api_version(self.version_type or self.type_)

    def child_id(self, parent: dict, name: str) -> str:
        return f"{parent['id']}/{self.segment}/{name}"

    def find(self, w: World, parent: dict, name: str) -> Optional[dict]:
        stored = w.get(self.child_id(parent, name))
        return None if stored is None or self.hidden(stored) else stored

    def get_or_404(self, w: World, parent: dict, name: str) -> dict:
        stored = self.find(w, parent, name)
        if stored is None:
            raise not_found(self.label)
        return stored


def in_service(w: World, kw: dict[str, str], write: bool) -> dict:
    """The parent of service-level entities: any existing service for reads, an online one for writes."""
    lookup = online_service if write else service_or_404
    return lookup(w, kw["sub"], kw["rg"], kw["name"])


def answer(family: Family, stored: dict, status: int = 200) -> Response:
    """One entity as the family shows it, with its ETag."""
    return arm.json_response(family.view(stored), status, etag=stored["_etag"])


def get(family: Family, w: World, parent: dict, name: str) -> Response:
    """GET: 200 with the ETag, or the family's 404."""
    return answer(family, family.get_or_404(w, parent, name))


def listing(family: Family, w: World, parent: dict) -> Response:
    """ListByService (or ListByApi): one page with ``count``."""
    items = [family.view(c) for c in w.children(parent["id"], family.type_) if not family.hidden(c)]
    return arm.json_response({"value": items, "count": len(items)})


def delete(family: Family, w: World, parent: dict, name: str) -> Response:
    """DELETE: 200 when deleted (its own children go with it), 204 when it was not there."""
    stored = family.find(w, parent, name)
    if stored is None:
        return arm.empty_response(204)
    if family.honours_if_match:
        check_if_match(stored.get("_etag"))
    w.delete(stored["id"])
    return arm.empty_response(200)


def put(family: Family, w: World, parent: dict, name: str,
        make: Callable[[Optional[dict]], dict[str, Any]]) -> Response:
    """PUT: ``make(old)`` gives the new properties (and private keys); 201 on create, 200 on update."""
    old = family.find(w, parent, name)
    if family.honours_if_match:
        check_if_match((old or {}).get("_etag"))
    fragment = make(old)
    if old is not None and not family.replace:
        old.update(fragment, _etag=new_etag())
        return answer(family, old, 200)
    cid = family.child_id(parent, name)
    body = {"id": cid, "type": family.type_, "name": name, **fragment, "_etag": new_etag()}
    w.put(cid, body)
    return answer(family, body, 200 if old else 201)


def register(family: Family, rule: str, key: str, parent: Parent = in_service, build: Optional[Builder] = None,
             methods: Iterable[str] = ("GET", "DELETE", "LIST", "PUT")) -> None:
    """Routes for ``rule`` (the entity's URL, its name in the variable ``key``) and its collection (the list)."""
    handlers: dict[str, Callable[[World, dict[str, str], dict], Response]] = {
        "GET": lambda w, kw, _props: get(family, w, parent(w, kw, False), kw[key]),
        "DELETE": lambda w, kw, _props: delete(family, w, parent(w, kw, True), kw[key]),
        "LIST": lambda w, kw, _props: listing(family, w, parent(w, kw, False)),
    }
    if build is not None:
        handlers["PUT"] = lambda w, kw, props: _put_built(family, w, parent(w, kw, True), kw[key], props, build)
    for method in methods:
        if method in handlers:
            _add_rule(family, rule.rsplit("/", 1)[0] if method == "LIST" else rule, method, handlers[method])


def _put_built(family: Family, w: World, parent: dict, name: str, props: dict, build: Builder) -> Response:
    return put(family, w, parent, name, lambda old: build(w, parent, props, old))


def _add_rule(family: Family, rule: str, method: str,
              handler: Callable[[World, dict[str, str], dict], Response]) -> None:
    def view(**kw: str) -> Response:
        family.check_version()
        props = dict(arm.parse_json_body().get("properties") or {}) if method == "PUT" else {}
        w = arm.world()
        with w.lock:
            return handler(w, kw, props)

    endpoint = f"{method.lower()}_{family.type_.rsplit('/', 1)[-1]}_{rule.count('/')}"
    bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=["GET" if method == "LIST" else method])
