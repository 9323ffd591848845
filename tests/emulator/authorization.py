"""Microsoft.Authorization: role assignments at any scope (built-in role definitions: ``roles.py``).

Modelled behaviour: PrincipalNotFound while a new principal replicates (unless principalType is sent),
RoleAssignmentExists for the same scope + role + principal under another name, `$filter` on lists, and a propagation
delay before a grant is effective for data-plane reads (`grants_secret_read`, used by APIM's Key Vault resolution).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Callable, Optional

from flask import Blueprint, Response, g, request

from emulator import arm
from emulator.roles import (OWNER_ID, RD_TYPE, ROLE_DEFINITIONS, SECRET_READ_ACTION, role_allows_action,
                            role_allows_data_action, role_by_name, role_definition_body, role_guid, shared_dir)
from emulator.world import World

bp = Blueprint("authorization", __name__)

NS = "Microsoft.Authorization"
RA_TYPE = "Microsoft.Authorization/roleAssignments"

# Role definitions live in emulator.roles; these names stay importable from here.
__all__ = ["NS", "OWNER_ID", "RA_TYPE", "RD_TYPE", "ROLE_DEFINITIONS", "SECRET_READ_ACTION", "assign", "bp",
           "check_arm_access", "grants_secret_read", "pending_secret_read", "role_allows_action",
           "role_allows_data_action", "role_by_name", "role_definition_body", "shared_dir"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# --- scope helpers ---------------------------------------------------------------------------------------------------


def norm_scope(scope: str) -> str:
    """`/`-prefixed scope without a trailing slash; `/` for the root."""
    scope = "/" + scope.strip("/")
    return scope


def covers(outer: str, inner: str) -> bool:
    """True when an assignment at `outer` applies to `inner` (same scope or an ancestor)."""
    outer_l, inner_l = norm_scope(outer).lower(), norm_scope(inner).lower()
    return outer_l == "/" or inner_l == outer_l or inner_l.startswith(outer_l + "/")


def _scope_exists(w: World, scope: str) -> bool:
    scope = norm_scope(scope)
    parts = [p for p in scope.split("/") if p]
    if len(parts) <= 2:  # root or /subscriptions/{id}
        return len(parts) == 0 or parts[1].lower() in w.subscriptions()
    return w.get(scope) is not None


# --- data-plane checks used by other providers -----------------------------------------------------------------------


def assignments_for(w: World, principal_id: str) -> list[dict]:
    """Every role assignment of a principal."""
    pid = principal_id.lower()
    return [ra for ra in w.list(RA_TYPE) if ra["properties"]["principalId"].lower() == pid]


def grants_data_action(w: World, principal_id: str, scope_id: str, action: str, now: Optional[float] = None,
                       honour_propagation: bool = True) -> bool:
    """Does any role assignment let `principal_id` perform data `action` on `scope_id`?

    Azure RBAC changes reach data planes after a delay: an assignment counts only `rbac_propagation_s` Azure seconds
    after it was created.
    """
    now = w.now() if now is None else now
    delay = float(w.config.get("rbac_propagation_s", 0)) if honour_propagation else 0.0
    for ra in assignments_for(w, principal_id):
        props = ra["properties"]
        if not covers(props["scope"], scope_id):
            continue
        if now < float(ra.get("_created", 0.0)) + delay:
            continue
        role = ROLE_DEFINITIONS.get(role_guid(props["roleDefinitionId"]))
        if role and role_allows_data_action(role, action):
            return True
    return False


def grants_secret_read(w: World, principal_id: str, scope_id: str, now: Optional[float] = None) -> bool:
    """True when RBAC lets the principal read secret values at `scope_id` (a vault or a secret), after propagation."""
    return grants_data_action(w, principal_id, scope_id, SECRET_READ_ACTION, now)


def pending_secret_read(w: World, principal_id: str, scope_id: str) -> bool:
    """True when a grant exists but has not propagated yet (lets callers explain the delay)."""
    return (grants_data_action(w, principal_id, scope_id, SECRET_READ_ACTION, honour_propagation=False)
            and not grants_secret_read(w, principal_id, scope_id))


def grants_action(w: World, principal_id: str, scope_id: str, action: str) -> bool:
    """Does the principal hold control-plane `action` on `scope_id` (no propagation delay for ARM)?"""
    for ra in assignments_for(w, principal_id):
        props = ra["properties"]
        if not covers(props["scope"], scope_id):
            continue
        role = ROLE_DEFINITIONS.get(role_guid(props["roleDefinitionId"]))
        if role and role_allows_action(role, action):
            return True
    return False


# --- creating assignments (ARM and seeding share this) ---------------------------------------------------------------


def _principal_type_of(principal: dict) -> str:
    return "ServicePrincipal" if principal.get("kind") in ("ServicePrincipal", "ManagedIdentity") else principal.get(
        "kind", "User")


def assignment_body(w: World, scope: str, name: str, role_guid: str, principal_id: str, principal_type: str,
                    description: Optional[str] = None, created_by: Optional[str] = None,
                    condition: Optional[str] = None) -> dict[str, Any]:
    """A role assignment body as ARM returns it (plus the private creation time)."""
    scope = norm_scope(scope)
    stamp = w.iso()
    prefix = "" if scope == "/" else scope
    return {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{w.subscription_id}/providers/{RD_TYPE}/{role_guid}",
            "principalId": principal_id,
            "principalType": principal_type,
            "scope": scope,
            "condition": condition,
            "conditionVersion": "2.0" if condition else None,
            "createdOn": stamp,
            "updatedOn": stamp,
            "createdBy": created_by,
            "updatedBy": created_by,
            "delegatedManagedIdentityResourceId": None,
            "description": description,
        },
        "id": f"{prefix}/providers/{RA_TYPE}/{name}",
        "type": RA_TYPE,
        "name": name,
        "_created": w.now(),
    }


def assign(w: World, scope: str, role: str, principal_id: str, name: Optional[str] = None,
           principal_type: Optional[str] = None, description: Optional[str] = None) -> dict[str, Any]:
    """Create a role assignment directly (seeding, bootstrap): `role` is a role name or GUID. Already propagated."""
    guid = role.lower() if _GUID.match(role) else role_by_name(role)["name"]  # type: ignore[index]
    principal = w.principals.get(principal_id, {})
    ptype = principal_type or (_principal_type_of(principal) if principal else "User")
    body = assignment_body(w, scope, name or str(uuid.uuid4()), guid, principal_id, ptype, description)
    body["_created"] = -1e9  # seeded grants are long propagated
    w.put(body["id"], body)
    return body


def _principal_not_found(w: World, principal_id: str) -> arm.ArmError:
    return arm.ArmError(
        400, "PrincipalNotFound",
        f"Principal {principal_id.replace('-', '')} does not exist in the directory {w.tenant_id}. Check that you "
        "have the correct principal ID. If you are creating this principal and then immediately assigning a role, "
        "this error might be related to a replication delay. In this case, set the role assignment principalType "
        "property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype")


def _validate_new_assignment(w: World, scope: str, name: str, props: dict) -> tuple[str, str]:
    """Check a PUT body like ARM does; returns (role guid, principal type)."""
    if not _GUID.match(name):
        raise arm.ArmError(400, "InvalidRoleAssignmentId", f"The role assignment ID '{name}' is not valid. The role "
                           "assignment ID must be a GUID.")
    rd_id, principal_id = props.get("roleDefinitionId"), props.get("principalId")
    if not rd_id or not principal_id:
        raise arm.ArmError(400, "InvalidRequestContent", "The request content was invalid: roleDefinitionId and "
                           "principalId are required.")
    guid = role_guid(rd_id)
    if guid not in ROLE_DEFINITIONS:
        raise arm.ArmError(400, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{guid}' does not exist.")
    if not _scope_exists(w, scope):
        raise arm.ArmError(404, "ResourceNotFound", f"The scope '{scope}' does not exist or the resource was not "
                           "found.")
    principal = w.principals.get(principal_id) or w.principals.get(principal_id.lower())
    sent_type = props.get("principalType")
    replicating = principal is not None and w.now() - principal["created_at"] < float(
        w.config.get("identity_replication_s", 0))
    if principal is None or (replicating and not sent_type):
        raise _principal_not_found(w, principal_id)
    actual = _principal_type_of(principal)
    if sent_type and not replicating and sent_type.lower() != actual.lower():
        raise arm.ArmError(400, "UnmatchedPrincipalType", f"The PrincipalId '{principal_id.replace('-', '')}' has "
                           f"type '{actual}' , which is different from specified PrincipalType '{sent_type}'.")
    return guid, sent_type or actual


def _duplicate_of(w: World, scope: str, name: str, guid: str, principal_id: str) -> Optional[dict]:
    for ra in w.list(RA_TYPE):
        props = ra["properties"]
        if (norm_scope(props["scope"]).lower() == norm_scope(scope).lower() and ra["name"].lower() != name.lower()
                and role_guid(props["roleDefinitionId"]) == guid and props["principalId"].lower() == principal_id.lower()):
            return ra
    return None


# --- routes ------------------------------------------------------------------------------------------------------------


def _ra_id(scope: str, name: str) -> str:
    scope = norm_scope(scope)
    return f"{'' if scope == '/' else scope}/providers/{RA_TYPE}/{name}"


def _at_any_scope(path: str, *methods: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Route ``<scope>/providers/Microsoft.Authorization/<path>`` for any scope, the tenant root (scope "") included."""
    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        bp.route(f"/<path:scope>/providers/Microsoft.Authorization/{path}", methods=list(methods))(view)
        bp.route(f"/providers/Microsoft.Authorization/{path}", methods=list(methods), defaults={"scope": ""})(view)
        return view
    return register


@_at_any_scope("roleAssignments/<name>", "PUT")
def put_role_assignment(scope: str, name: str) -> Response:
    """RoleAssignments_Create: 201 on create, 200 when the identical assignment already exists under this name."""
    props = arm.versioned_body(RA_TYPE).get("properties") or {}
    with arm.locked() as w:
        existing = w.get(_ra_id(scope, name))
        guid, ptype = _validate_new_assignment(w, norm_scope(scope), name, props)
        if existing is not None:
            old = existing["properties"]
            if role_guid(old["roleDefinitionId"]) != guid or old["principalId"].lower() != props["principalId"].lower():
                raise arm.ArmError(400, "RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, "
                                   "and scope are not allowed to be updated.")
            return arm.json_response(arm.public(existing), 200)
        dup = _duplicate_of(w, scope, name, guid, props["principalId"])
        if dup is not None:
            raise arm.ArmError(409, "RoleAssignmentExists", "The role assignment already exists.",
                               details=[{"code": "RoleAssignmentExists", "message": f"The role assignment already "
                                         f"exists with id '{dup['name']}'."}])
        caller = g.get("caller", {}).get("object_id")
        body = assignment_body(w, scope, name, guid, props["principalId"], ptype, props.get("description"), caller,
                               props.get("condition"))
        w.put(body["id"], body)
        return arm.json_response(arm.public(body), 201)


@_at_any_scope("roleAssignments/<name>", "GET", "DELETE")
def role_assignment(scope: str, name: str) -> Response:
    """RoleAssignments_Get (404 RoleAssignmentNotFound) and RoleAssignments_Delete (200 with the deleted assignment,
    204 when there was none)."""
    deleting = request.method == "DELETE"
    with arm.locked(RA_TYPE) as w:
        body = (w.delete if deleting else w.get)(_ra_id(scope, name))
    if body is not None:
        return arm.json_response(arm.public(body))
    if deleting:
        return arm.empty_response(204)
    raise arm.ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")


_FILTER_PRINCIPAL = re.compile(r"principalId\s+eq\s+'([^']+)'", re.I)
_FILTER_ASSIGNED = re.compile(r"assignedTo\('([^']+)'\)", re.I)
_FILTER_AT_SCOPE = re.compile(r"atScope\(\)", re.I)


def filter_assignments(assignments: list[dict], scope: str, flt: str) -> list[dict]:
    """Apply ARM's list semantics: at, above and below `scope`; `atScope()` keeps only at-or-above."""
    scope = norm_scope(scope)
    at_scope = bool(_FILTER_AT_SCOPE.search(flt))
    principal = _FILTER_PRINCIPAL.search(flt) or _FILTER_ASSIGNED.search(flt)
    out = []
    for ra in assignments:
        ra_scope = ra["properties"]["scope"]
        above = covers(ra_scope, scope)
        below = covers(scope, ra_scope)
        if not (above or (below and not at_scope)):
            continue
        if principal and ra["properties"]["principalId"].lower() != principal.group(1).lower():
            continue
        out.append(ra)
    return out


@_at_any_scope("roleAssignments", "GET")
def list_role_assignments(scope: str) -> Response:
    """RoleAssignments_ListForScope / ListForSubscription / ListForResourceGroup / ListForResource."""
    arm.require_api_version(RA_TYPE)
    w = arm.world()
    flt = request.args.get("$filter", "")
    with w.lock:
        found = filter_assignments(w.list(RA_TYPE), scope, flt)
        return arm.json_response(arm.paged(found))


@_at_any_scope("roleDefinitions/<guid>", "GET")
def get_role_definition(scope: str, guid: str) -> Response:
    """RoleDefinitions_Get (built-in roles only)."""
    arm.require_api_version(RD_TYPE)
    w = arm.world()
    if guid.lower() not in ROLE_DEFINITIONS:
        raise arm.ArmError(404, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{guid}' does not exist.")
    return arm.json_response(role_definition_body(w, guid.lower(), norm_scope(scope)))


_FILTER_ROLE_NAME = re.compile(r"roleName\s+eq\s+'([^']+)'", re.I)
_FILTER_TYPE = re.compile(r"type\s+eq\s+'([^']+)'", re.I)


@_at_any_scope("roleDefinitions", "GET")
def list_role_definitions(scope: str) -> Response:
    """RoleDefinitions_List with `$filter=roleName eq '...'` or `type eq 'BuiltInRole'`."""
    arm.require_api_version(RD_TYPE)
    w = arm.world()
    flt = request.args.get("$filter", "")
    name = _FILTER_ROLE_NAME.search(flt)
    rtype = _FILTER_TYPE.search(flt)
    out = []
    for guid, role in ROLE_DEFINITIONS.items():
        if name and role["roleName"].lower() != name.group(1).lower():
            continue
        if rtype and role.get("roleType", "BuiltInRole").lower() != rtype.group(1).lower():
            continue
        out.append(role_definition_body(w, guid, norm_scope(scope)))
    return arm.json_response({"value": out})


# --- ARM's own check: may the caller perform this management operation? ------------------------------------------------

_METHOD_VERB = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def arm_action(method: str, path: str) -> tuple[str, str]:
    """(action, scope) ARM authorizes for a management request, e.g. ('Microsoft.KeyVault/vaults/write', <vault id>).

    Resource paths alternate type/name after `providers/<namespace>`; a trailing odd segment on a POST is an action
    (`.../namedValues/x/listValue` → `Microsoft.ApiManagement/service/namedValues/listValue/action`).
    """
    parts = [p for p in path.split("/") if p]
    low = [p.lower() for p in parts]
    tail: list[str] = []
    if "providers" not in low:
        types = ["Microsoft.Resources", "subscriptions"] + (["resourceGroups"] if "resourcegroups" in low else [])
    else:
        idx = len(low) - 1 - low[::-1].index("providers")
        rest = parts[idx + 1:]
        types = [rest[0]] + rest[1::2]
        if method.upper() == "POST" and len(rest) > 1 and len(rest) % 2 == 0:
            tail, types = [rest[-1]], types[:-1]
    scope_parts = parts[:-1] if tail else parts
    rtype = "/".join(types)
    if tail:
        return f"{rtype}/{tail[0]}/action", "/" + "/".join(scope_parts)
    verb = _METHOD_VERB.get(method.upper(), "action")
    return f"{rtype}/{verb}", "/" + "/".join(scope_parts)


def check_arm_access(w: World, caller: dict, method: str, path: str) -> None:
    """403 AuthorizationFailed, worded like ARM, when no role assignment of the caller allows the operation."""
    action, scope = arm_action(method, path)
    if "/locations/" in path.lower() and method.upper() == "GET":
        return  # polling an operation the caller started
    parts = [p.lower() for p in path.split("/") if p]
    if parts[:1] == ["subscriptions"] and len(parts) > 1 and parts[1] not in w.subscriptions():
        return  # ARM answers SubscriptionNotFound for a subscription outside the tenant
    with w.lock:
        if grants_action(w, caller["object_id"], scope, action):
            return
    raise arm.ArmError(
        403, "AuthorizationFailed",
        f"The client '{caller.get('app_id')}' with object id '{caller['object_id']}' does not have authorization to "
        f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials.")
