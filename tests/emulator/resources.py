"""Microsoft.Resources: the subscription and its resource groups.

Every other provider calls `require_group()` first: ARM answers 404 ResourceGroupNotFound before a provider sees a
request for a group that does not exist.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from flask import Blueprint, Response, request

from emulator import arm
from emulator.world import World

bp = Blueprint("resources", __name__)

RG_TYPE = "Microsoft.Resources/resourceGroups"


def require_subscription(w: World, sub: str) -> None:
    """404 SubscriptionNotFound for any subscription but the world's two."""
    if sub.lower() not in w.subscriptions():
        raise arm.ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def require_group(w: World, sub: str, rg: str) -> dict:
    """The resource group body, or 404 ResourceGroupNotFound as ARM returns it."""
    require_subscription(w, sub)
    return group_or_404(w, sub, rg)


def group_or_404(w: World, sub: str, rg: str) -> dict:
    """The resource group body, or 404 ResourceGroupNotFound (the subscription is not checked)."""
    body = w.get(f"/subscriptions/{sub}/resourceGroups/{rg}")
    if body is None:
        raise arm.ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return body


def resource_or_404(w: World, sub: str, rg: str, rid: str, rtype: str, name: str) -> dict:
    """A resource in a group: ResourceGroupNotFound first, then ARM's ResourceNotFound for ``rtype``/``name``."""
    group_or_404(w, sub, rg)
    body = w.get(rid)
    if body is None:
        raise arm.not_found(rtype, name, rg)
    return body


def name_availability(rtype: str, taken_message: str, available: dict[str, Any]) -> Response:
    """CheckNameAvailability for a type whose names are global DNS names: taken when any resource of ``rtype`` in
    any subscription has the name (``taken_message`` may say ``{name}``); ``available`` adds to a free name's answer."""
    name = str(arm.versioned_body(rtype).get("name", ""))
    with arm.locked() as w:
        taken = any(r["name"].lower() == name.lower() for r in w.list(rtype))
    if taken:
        return arm.json_response({"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": taken_message.format(name=name)})
    return arm.json_response({"nameAvailable": True, **available})


@contextmanager
def in_group(sub: str, rg: str) -> Iterator[World]:
    """The world, under its lock, once the group is known to exist: how a provider's route starts."""
    w = arm.world()
    with w.lock:
        require_group(w, sub, rg)
        yield w


def create_group(w: World, name: str, location: str, tags: Optional[dict] = None) -> dict:
    """Store a resource group body (create or replace) and return it."""
    rid = w.rg_id(name)
    existing = w.get(rid)
    body = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else name,
        "type": RG_TYPE,
        "location": location.lower().replace(" ", ""),
        "tags": tags or {},
        "properties": {"provisioningState": "Succeeded"},
    }
    return w.put(rid, body)


@bp.get("/subscriptions")
def list_subscriptions() -> Response:
    """Subscriptions_List: the one subscription of the world."""
    arm.require_api_version("Microsoft.Resources")
    return arm.json_response({"value": [_subscription_body(arm.world())], "count": {"type": "Total", "value": 1}})


@bp.get("/subscriptions/<sub>")
def get_subscription(sub: str) -> Response:
    """Subscriptions_Get."""
    arm.require_api_version("Microsoft.Resources")
    w = arm.world()
    require_subscription(w, sub)
    return arm.json_response(_subscription_body(w))


def _subscription_body(w: World) -> dict[str, Any]:
    return {
        "id": w.subscription_scope(),
        "subscriptionId": w.subscription_id,
        "tenantId": w.tenant_id,
        "displayName": "Local Azure subscription",
        "state": "Enabled",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                 "spendingLimit": "Off"},
        "authorizationSource": "RoleBased",
    }


@bp.put("/subscriptions/<sub>/resourceGroups/<rg>")
def put_group(sub: str, rg: str) -> Response:
    """ResourceGroups_CreateOrUpdate: 201 on create, 200 on update."""
    arm.require_api_version("Microsoft.Resources")
    w = arm.world()
    require_subscription(w, sub)
    body = arm.parse_json_body()
    if not body.get("location"):
        raise arm.ArmError(400, "LocationRequired", "The location property is required for this definition.")
    with w.lock:
        existed = w.get(w.rg_id(rg)) is not None
        stored = create_group(w, rg, body["location"], body.get("tags"))
        if body.get("managedBy"):
            stored["managedBy"] = body["managedBy"]
        return arm.json_response(arm.public(stored), 200 if existed else 201)


@bp.patch("/subscriptions/<sub>/resourceGroups/<rg>")
def patch_group(sub: str, rg: str) -> Response:
    """ResourceGroups_Update (tags)."""
    body = arm.versioned_body("Microsoft.Resources")
    with arm.locked() as w:
        stored = require_group(w, sub, rg)
        if "tags" in body:
            stored["tags"] = body["tags"] or {}
        return arm.json_response(arm.public(stored))


@bp.get("/subscriptions/<sub>/resourceGroups/<rg>")
def get_group(sub: str, rg: str) -> Response:
    """ResourceGroups_Get (and HEAD: CheckExistence, 204 or 404)."""
    arm.require_api_version("Microsoft.Resources")
    w = arm.world()
    if is_head():
        require_subscription(w, sub)
        return arm.empty_response(204 if w.get(w.rg_id(rg)) else 404)
    with w.lock:
        return arm.json_response(arm.public(require_group(w, sub, rg)))


@bp.delete("/subscriptions/<sub>/resourceGroups/<rg>")
def delete_group(sub: str, rg: str) -> Response:
    """ResourceGroups_Delete: 202 with a Location to poll; everything inside goes with the group."""
    with arm.locked("Microsoft.Resources") as w:
        group = require_group(w, sub, rg)
        gid = group["id"]

        def finish(world: World) -> None:
            for body in world.list("Microsoft.ManagedIdentity/userAssignedIdentities", under=gid):
                world.remove_principal(body["properties"]["principalId"])
            world.delete(gid)

        op = w.start_operation(gid, 1.0, on_done=finish, namespace="Microsoft.Resources")
        return arm.lro_response(op, 202, azure_async=False)


@bp.get("/subscriptions/<sub>/resourceGroups")
def list_groups(sub: str) -> Response:
    """ResourceGroups_List."""
    arm.require_api_version("Microsoft.Resources")
    w = arm.world()
    require_subscription(w, sub)
    with w.lock:
        return arm.json_response(arm.paged(w.list(RG_TYPE, under=w.subscription_scope())))


@bp.get("/subscriptions/<sub>/resourceGroups/<rg>/resources")
def list_group_resources(sub: str, rg: str) -> Response:
    """Resources_ListByResourceGroup: tracked resources directly in the group (generic view)."""
    with arm.locked("Microsoft.Resources") as w:
        group = require_group(w, sub, rg)
        prefix = group["id"].lower() + "/providers/"
        out = []
        for key, body in list(w.resources.items()):
            if key.startswith(prefix) and key[len(prefix):].count("/") == 2:
                out.append({k: body.get(k) for k in ("id", "name", "type", "location", "tags") if k in body})
        return arm.json_response({"value": out})


# Resources_List's $filter: `eq` clauses on resourceType and name joined by `and` (the ones the collection sends;
# ARM also accepts location, resourceGroup, tags and substringof, which nothing here uses).
_FILTER_CLAUSE = re.compile(r"^\s*(resourceType|name)\s+eq\s+'((?:[^']|'')*)'\s*$", re.I)


def _resource_filter(text: str) -> dict[str, str]:
    """{'resourcetype': ..., 'name': ...} from a $filter, or 400 InvalidFilterInQueryString like ARM."""
    out: dict[str, str] = {}
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.I) if text.strip() else []:
        match = _FILTER_CLAUSE.match(clause)
        if not match:
            raise arm.ArmError(400, "InvalidFilterInQueryString", f"Invalid $filter '{text}' specified in the query string.")
        out[match.group(1).lower()] = match.group(2).replace("''", "'")
    return out


@bp.get("/subscriptions/<sub>/resources")
def list_resources(sub: str) -> Response:
    """Resources_List: the subscription's tracked resources (generic view), filtered on type and name."""
    arm.require_api_version("Microsoft.Resources")
    wanted = _resource_filter(request.args.get("$filter", ""))
    w = arm.world()
    require_subscription(w, sub)
    prefix = f"/subscriptions/{sub}/resourcegroups/".lower()
    out = []
    with w.lock:
        for key, body in list(w.resources.items()):
            rest = key[len(prefix):].split("/") if key.startswith(prefix) else []
            if len(rest) != 5 or rest[1] != "providers":  # <rg>/providers/<namespace>/<type>/<name>
                continue
            if "resourcetype" in wanted and str(body.get("type", "")).lower() != wanted["resourcetype"].lower():
                continue
            if "name" in wanted and str(body.get("name", "")).lower() != wanted["name"].lower():
                continue
            out.append({k: body.get(k) for k in ("id", "name", "type", "location", "tags") if k in body})
    return arm.json_response({"value": out})


def location_of(w: World, sub: str, rg: str, requested: Optional[str]) -> str:
    """The location of a new resource: as requested, else the group's."""
    if requested:
        return requested
    return require_group(w, sub, rg).get("location", w.location)


def is_head() -> bool:
    """True for HEAD requests (Flask routes HEAD to GET handlers)."""
    return request.method == "HEAD"


# --- resource provider registration ---------------------------------------------------------------------------------
# A subscription must be registered for a resource provider namespace before it can use it; until then ARM answers
# every request for a resource of that namespace with 409 MissingSubscriptionRegistration. Registration is a
# subscription-level write (POST /providers/<ns>/register) that completes after `provider_registration_s`. Worlds mark
# a namespace unregistered with `unregistered_providers: [<ns>]`; every other namespace counts as registered.

PROVIDER_TYPE = "Microsoft.Resources/providers"


def provider_id(w: World, namespace: str) -> str:
    """ARM id of a provider registration in the world's subscription."""
    return f"/subscriptions/{w.subscription_id}/providers/{namespace}"


def mark_unregistered(w: World, namespace: str) -> dict:
    """Store a NotRegistered provider (seeding)."""
    return w.put(provider_id(w, namespace), {"id": provider_id(w, namespace), "namespace": namespace,
                                             "type": PROVIDER_TYPE, "registrationState": "NotRegistered"})


def registration_state(w: World, namespace: str) -> str:
    """NotRegistered, Registering or Registered (the default for namespaces the world does not list)."""
    body = w.get(provider_id(w, namespace))
    if body is None:
        return "Registered"
    since = body.get("_registering_since")
    if since is not None and w.now() >= since + float(w.config.get("provider_registration_s", 120.0)):
        body["registrationState"] = "Registered"
        body.pop("_registering_since", None)
    return body["registrationState"]


def require_registered(w: World, path: str) -> None:
    """409 MissingSubscriptionRegistration for a resource path of an unregistered namespace (ARM checks this before
    the provider sees the request). Subscription-level provider paths (register, get) are never refused."""
    lowered = path.lower()
    if "/providers/" not in lowered or lowered.startswith(f"/subscriptions/{w.subscription_id.lower()}/providers/"):
        return
    namespace = path.split("/providers/", 1)[1].split("/", 1)[0]
    if namespace.lower() in ("microsoft.authorization",) or not w.get(provider_id(w, namespace)):
        return
    if registration_state(w, namespace) != "Registered":
        raise arm.ArmError(409, "MissingSubscriptionRegistration",
                           f"The subscription is not registered to use namespace '{namespace}'. See "
                           "https://aka.ms/rps-not-found for how to register subscriptions.")


def _provider_body(w: World, namespace: str) -> dict:
    return {"id": provider_id(w, namespace), "namespace": namespace, "registrationState": registration_state(w, namespace),
            "registrationPolicy": "RegistrationRequired", "resourceTypes": []}


@bp.get("/subscriptions/<sub>/providers/<namespace>")
def get_provider(sub: str, namespace: str) -> Response:
    """Providers_Get: the namespace's registration state."""
    w = arm.world()
    require_subscription(w, sub)
    with w.lock:
        return arm.json_response(_provider_body(w, namespace))


@bp.post("/subscriptions/<sub>/providers/<namespace>/register")
def register_provider(sub: str, namespace: str) -> Response:
    """Providers_Register: 200 with registrationState Registering; Registered after provider_registration_s."""
    w = arm.world()
    require_subscription(w, sub)
    with w.lock:
        body = w.get(provider_id(w, namespace))
        if body is not None and body["registrationState"] == "NotRegistered":
            body.update(registrationState="Registering", _registering_since=w.now())
        return arm.json_response(_provider_body(w, namespace))
