"""Microsoft.ManagedIdentity: user-assigned identities.

Creating one registers an Entra service principal (kind ManagedIdentity) whose object id is the identity's
principalId; deleting the identity removes it. A fresh principal is subject to the directory replication delay that
role assignments model (PrincipalNotFound unless principalType is sent).
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Blueprint, Response, request

from emulator import arm, resources
from emulator.world import World

bp = Blueprint("msi", __name__)

UAMI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
_BASE = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities"


def identity_id(w: World, rg: str, name: str) -> str:
    """ARM id of a user-assigned identity."""
    return f"{w.rg_id(rg)}/providers/{UAMI_TYPE}/{name}"


def create_identity(w: World, rg: str, name: str, location: str, tags: Optional[dict] = None,
                    replicated: bool = True) -> dict:
    """Create (or re-tag) an identity and its principal; seeded identities are already replicated."""
    rid = identity_id(w, rg, name)
    existing = w.get(rid)
    if existing is not None:
        existing["tags"] = tags if tags is not None else existing.get("tags", {})
        return existing
    principal = w.new_principal(name, "ManagedIdentity")
    if replicated:
        principal["created_at"] = -1e9
    body = {
        "id": rid,
        "name": name,
        "type": UAMI_TYPE,
        "location": location.lower().replace(" ", ""),
        "tags": tags or {},
        "properties": {"tenantId": w.tenant_id, "principalId": principal["object_id"],
                       "clientId": principal["app_id"]},
    }
    return w.put(rid, body)


def _render(body: dict[str, Any]) -> dict[str, Any]:
    out = arm.public(body)
    # 2024-11-30 adds isolationScope (None unless set); older versions do not return it.
    if request.args.get("api-version", "") >= "2024-11-30":
        out["properties"].setdefault("isolationScope", "None")
    return out


@bp.put(f"{_BASE}/<name>")
def put_identity(sub: str, rg: str, name: str) -> Response:
    """UserAssignedIdentities_CreateOrUpdate: 201 on create, 200 on update (ids never change)."""
    body = arm.versioned_body(UAMI_TYPE)
    with resources.in_group(sub, rg) as w:
        if not body.get("location"):
            raise arm.ArmError(400, "LocationRequired", "The location property is required for this definition.")
        existed = w.get(identity_id(w, rg, name)) is not None
        stored = create_identity(w, rg, name, body["location"], body.get("tags"), replicated=False)
        isolation = (body.get("properties") or {}).get("isolationScope")
        if isolation:
            stored["properties"]["isolationScope"] = isolation
        return arm.json_response(_render(stored), 200 if existed else 201)


@bp.patch(f"{_BASE}/<name>")
def patch_identity(sub: str, rg: str, name: str) -> Response:
    """UserAssignedIdentities_Update (tags)."""
    body = arm.versioned_body(UAMI_TYPE)
    with resources.in_group(sub, rg) as w:
        stored = _require(w, rg, name)
        if "tags" in body:
            stored["tags"] = body["tags"] or {}
        return arm.json_response(_render(stored))


def _require(w: World, rg: str, name: str) -> dict:
    stored = w.get(identity_id(w, rg, name))
    if stored is None:
        raise arm.not_found(UAMI_TYPE, name, rg)
    return stored


@bp.get(f"{_BASE}/<name>")
def get_identity(sub: str, rg: str, name: str) -> Response:
    """UserAssignedIdentities_Get."""
    arm.require_api_version(UAMI_TYPE)
    with resources.in_group(sub, rg) as w:
        return arm.json_response(_render(_require(w, rg, name)))


@bp.delete(f"{_BASE}/<name>")
def delete_identity(sub: str, rg: str, name: str) -> Response:
    """UserAssignedIdentities_Delete: 200, or 204 when it did not exist; its principal disappears."""
    arm.require_api_version(UAMI_TYPE)
    with resources.in_group(sub, rg) as w:
        removed = w.delete(identity_id(w, rg, name))
        if removed is None:
            return arm.empty_response(204)
        w.remove_principal(removed["properties"]["principalId"])
        return arm.empty_response(200)


# --- federated identity credentials (workload identity federation) -------------------------------------------------

FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
MAX_FEDERATED_CREDENTIALS = 20  # Azure's limit per identity


def create_federated_credential(w: World, identity: dict, name: str, issuer: str, subject: str,
                                audiences: Optional[list] = None) -> dict:
    """Store a federated identity credential under a user-assigned identity."""
    body = {"id": f"{identity['id']}/federatedIdentityCredentials/{name}", "name": name, "type": FIC_TYPE,
            "properties": {"issuer": issuer, "subject": subject,
                           "audiences": audiences or ["api://AzureADTokenExchange"]}}
    return w.put(body["id"], body)


@bp.put(f"{_BASE}/<name>/federatedIdentityCredentials/<fic>")
def put_federated_credential(sub: str, rg: str, name: str, fic: str) -> Response:
    """FederatedIdentityCredentials_CreateOrUpdate: 201 on create, 200 on update."""
    props = arm.versioned_body(FIC_TYPE).get("properties") or {}
    with resources.in_group(sub, rg) as w:
        identity = _require(w, rg, name)
        if not str(props.get("issuer", "")).startswith("https://") or not props.get("subject"):
            raise arm.ArmError(400, "BadRequest", "The federated identity credential needs an https issuer URL and "
                               "a subject.")
        existing = w.children(identity["id"], FIC_TYPE)
        fic_id = f"{identity['id']}/federatedIdentityCredentials/{fic}"
        existed = w.get(fic_id) is not None
        if not existed and len(existing) >= MAX_FEDERATED_CREDENTIALS:
            raise arm.ArmError(400, "BadRequest", f"Too many Federated Identity Credentials are written to Managed "
                               f"Identity '{identity['id']}'. The limit is {MAX_FEDERATED_CREDENTIALS}.")
        body = create_federated_credential(w, identity, fic, props["issuer"], props["subject"], props.get("audiences"))
        return arm.json_response(arm.public(body), 200 if existed else 201)


def _fic_id(w: World, rg: str, name: str, fic: str) -> str:
    """The id of a federated credential of an identity that exists (404 for the identity first)."""
    return f"{_require(w, rg, name)['id']}/federatedIdentityCredentials/{fic}"


@bp.get(f"{_BASE}/<name>/federatedIdentityCredentials/<fic>")
def get_federated_credential(sub: str, rg: str, name: str, fic: str) -> Response:
    """FederatedIdentityCredentials_Get."""
    arm.require_api_version(FIC_TYPE)
    with resources.in_group(sub, rg) as w:
        body = w.get(_fic_id(w, rg, name, fic))
        if body is None:
            raise arm.not_found(FIC_TYPE, f"{name}/{fic}", rg)
        return arm.json_response(arm.public(body))


@bp.delete(f"{_BASE}/<name>/federatedIdentityCredentials/<fic>")
def delete_federated_credential(sub: str, rg: str, name: str, fic: str) -> Response:
    """FederatedIdentityCredentials_Delete: 200, or 204 when absent."""
    arm.require_api_version(FIC_TYPE)
    with resources.in_group(sub, rg) as w:
        removed = w.delete(_fic_id(w, rg, name, fic))
        return arm.empty_response(200 if removed else 204)


@bp.get(f"{_BASE}/<name>/federatedIdentityCredentials")
def list_federated_credentials(sub: str, rg: str, name: str) -> Response:
    """FederatedIdentityCredentials_List."""
    arm.require_api_version(FIC_TYPE)
    with resources.in_group(sub, rg) as w:
        identity = _require(w, rg, name)
        return arm.json_response(arm.paged(w.children(identity["id"], FIC_TYPE)))


@bp.get(_BASE)
def list_by_group(sub: str, rg: str) -> Response:
    """UserAssignedIdentities_ListByResourceGroup."""
    with arm.locked(UAMI_TYPE) as w:
        group = resources.require_group(w, sub, rg)
        return arm.json_response({"value": [_render(b) for b in w.list(UAMI_TYPE, under=group["id"])]})


@bp.get("/subscriptions/<sub>/providers/Microsoft.ManagedIdentity/userAssignedIdentities")
def list_by_subscription(sub: str) -> Response:
    """UserAssignedIdentities_ListBySubscription."""
    arm.require_api_version(UAMI_TYPE)
    w = arm.world()
    resources.require_subscription(w, sub)
    with w.lock:
        return arm.json_response({"value": [_render(b) for b in w.list(UAMI_TYPE, under=w.subscription_scope())]})
