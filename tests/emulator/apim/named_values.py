"""Named values: plain, secret and Key Vault references; writes are asynchronous (asyncId/asyncCode polling)."""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from flask import Response, request

from emulator import arm, resolve
from emulator.apim import children
from emulator.apim.base import (ASYNC_HEADER_FROM, NAMESPACE, NV_BODY_FROM, NV_TYPE, SERVICE, SERVICE_TYPE, api_version,
                                bp, check_if_match, new_etag, not_found, online_service, retry_after, service_or_404,
                                validation)
from emulator.world import Operation, World

NV = SERVICE + "/namedValues/<nv>"
_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9-._]+$")


def _nv_public(nv: dict) -> dict:
    body = arm.public(nv)
    props = body["properties"]
    if props.get("secret"):
        props.pop("value", None)
    return body


def _pending(stored: dict) -> bool:
    """A named value whose create is still running is not there yet (GET 404, DELETE 204, not listed)."""
    return bool(stored.get("_pending"))


NAMED_VALUES = children.Family("namedValues", NV_TYPE, "Property", hidden=_pending, view=_nv_public)  # APIM's wording


def _validate_nv(w: World, svc: dict, nv_name: str, props: dict) -> None:
    display = props.get("displayName")
    if not display or len(display) > 256 or not _DISPLAY_NAME.match(display):
        raise validation("'displayName' is required and may contain only letters, digits, '-', '.' and '_'.",
                         "displayName")
    if props.get("keyVault") and props.get("value") is not None:
        raise validation("Specify either a value or a keyVault reference, not both.", "value")
    if not props.get("keyVault") and props.get("value") in (None, ""):
        raise validation("'value' is required when no keyVault reference is given.", "value")
    if len(str(props.get("value") or "")) > 4096:
        raise validation("'value' may be at most 4096 characters long.", "value")
    for other in w.children(svc["id"], NV_TYPE):
        if other["name"].lower() != nv_name.lower() and \
                other["properties"].get("displayName", "").lower() == display.lower():
            raise validation(f"A named value with display name '{display}' already exists.", "displayName")


def _kv_status(w: World, svc: dict, nv: dict) -> None:
    """Read the Key Vault secret behind a named value now and record the outcome in ``keyVault.lastStatus``."""
    kv = nv["properties"]["keyVault"]
    res = resolve.resolve_secret(w, svc, kv.get("secretIdentifier", ""), kv.get("identityClientId"))
    status: dict[str, Any] = {"code": "Success", "timeStampUtc": w.iso()}
    if res.ok:
        nv["_value"] = res.value
    else:
        status = {"code": res.inner_code or res.code, "message": res.message, "timeStampUtc": w.iso()}
    kv["lastStatus"] = status


def nv_body(w: World, svc: dict, nv_name: str, props: dict, old: Optional[dict]) -> dict:
    out: dict[str, Any] = {"displayName": props["displayName"]}
    kv = props.get("keyVault")
    if kv:
        out["keyVault"] = {"secretIdentifier": kv.get("secretIdentifier"),
                           "identityClientId": kv.get("identityClientId")}
        out["secret"] = True  # Key Vault named values are always secret
    else:
        out["value"] = props["value"]
        out["secret"] = bool(props.get("secret", False))
    out["tags"] = props.get("tags") if props.get("tags") is not None else []
    body = {"id": NAMED_VALUES.child_id(svc, nv_name), "type": NV_TYPE, "name": nv_name, "properties": out,
            "_etag": new_etag()}
    if not kv:
        body["_value"] = props["value"]
    return body


def _nv_identity_error(w: World, svc: dict, props: dict) -> Optional[dict]:
    kv = props.get("keyVault")
    if not kv:
        return None
    if resolve.parse_secret_uri(kv.get("secretIdentifier", "")) is None:
        return {"code": "ValidationError", "message": "One or more fields contain incorrect values:",
                "details": [{"code": "ValidationError", "target": "secretIdentifier",
                             "message": "Key Vault secret identifier must be an https URI of a Key Vault secret."}]}
    if resolve.find_identity(w, svc, kv.get("identityClientId")) is None:
        client = kv.get("identityClientId") or ""
        return {"code": "ValidationError", "message": "One or more fields contain incorrect values:",
                "details": [{"code": "ValidationError", "target": "identityClientId",
                             "message": f"Can not find Managed Identity with provided IdentityClientId : {client}. "
                                        "For more information please see aka.ms/apimmsi."}]}
    return None


def _nv_location(svc: dict, nv_name: str, op: Operation, code: int, suffix: str = "") -> str:
    return (f"{arm.base_url()}{NAMED_VALUES.child_id(svc, nv_name)}{suffix}?api-version={api_version()}"
            f"&asyncId={op.id.replace('-', '')[:24]}&asyncCode={code}")


def _nv_accepted(w: World, svc: dict, nv_name: str, op: Operation, code: int, suffix: str = "",
                 body: Optional[dict] = None) -> Response:
    """The first answer of a named-value write: polling headers pointing at the entity URL with asyncId/asyncCode.

    Without ``body``: 202 and no content (the live 2021-08-01 recording). With ``body``: ``code`` and the entity in
    provisioningState InProgress (the 2024-05-01 examples; azure-mgmt-apimanagement 5.x accepts only 200/201 here).
    """
    headers = {"location": _nv_location(svc, nv_name, op, code, suffix),
               "Retry-After": retry_after(w, float(w.config.get("named_value_s", 2.0)))}
    if api_version() >= ASYNC_HEADER_FROM:
        headers["Azure-AsyncOperation"] = (f"{arm.base_url()}{svc['id']}/tenant/operationResults/"
                                           f"{op.id.replace('-', '')[:24]}?api-version={api_version()}")
    svc.setdefault("_async", {})[op.id.replace("-", "")[:24]] = op.id
    if body is None:
        return arm.empty_response(202, headers)
    shown = _nv_public(body)
    shown["properties"]["provisioningState"] = "InProgress"
    return arm.json_response(shown, code, headers=headers)


def _start_nv_write(w: World, svc: dict, nv_name: str, target: dict, error: Optional[dict]) -> Operation:
    nid = target["id"]

    def done(world: World) -> Optional[dict]:
        if error:
            if (world.get(nid) or {}).get("_pending"):
                world.delete(nid)
            return error
        if target["properties"].get("keyVault"):
            _kv_status(world, world.get(svc["id"]) or svc, target)  # the service as it is now
        target.pop("_pending", None)
        world.put(nid, target)
        return None

    op = w.start_operation(nid, float(w.config.get("named_value_s", 2.0)), on_done=done, namespace=NAMESPACE)
    return op


def _write_nv(sub: str, rg: str, name: str, nv: str, merge: bool) -> Response:
    body = arm.versioned_body(NV_TYPE)
    with arm.locked() as w:
        svc = online_service(w, sub, rg, name)
        old = NAMED_VALUES.find(w, svc, nv)
        if merge and old is None:
            raise not_found("Property")
        check_if_match((old or {}).get("_etag"))
        props = dict(body.get("properties") or {})
        if merge:
            props = {**_nv_props_for_merge(old), **{k: v for k, v in props.items() if v is not None}}
            if props.get("keyVault") and "value" in (body.get("properties") or {}):
                props.pop("keyVault")
            elif (body.get("properties") or {}).get("keyVault"):
                props.pop("value", None)
        _validate_nv(w, svc, nv, props)
        target = nv_body(w, svc, nv, props, old)
        error = _nv_identity_error(w, svc, props)
        if old is None and not error:
            w.put(target["id"], {**target, "_pending": True})
        op = _start_nv_write(w, svc, nv, target, error)
        code = 201 if old is None else 200
        if merge or api_version() < NV_BODY_FROM:
            return _nv_accepted(w, svc, nv, op, code)
        shown = json.loads(json.dumps(target))
        if shown["properties"].get("keyVault") and not error:
            _kv_status(w, svc, shown)  # APIM reads the secret while accepting the write
        return _nv_accepted(w, svc, nv, op, code, body=shown)


def _nv_props_for_merge(old: dict) -> dict:
    props = dict(old["properties"])
    props.pop("provisioningState", None)
    if "keyVault" in props:
        props["keyVault"] = {k: v for k, v in props["keyVault"].items() if k != "lastStatus"}
    elif "_value" in old:
        props["value"] = old["_value"]
    return props


@bp.put(NV)
def put_named_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_CreateOrUpdate."""
    return _write_nv(sub, rg, name, nv, merge=False)


@bp.patch(NV)
def patch_named_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_Update."""
    return _write_nv(sub, rg, name, nv, merge=True)


def _async_op(w: World, svc: dict, async_id: str) -> Operation:
    op_id = (svc.get("_async") or {}).get(async_id)
    op = w.operations.get(op_id or "")
    if op is None:
        raise arm.ArmError(404, "ResourceNotFound", f"Operation '{async_id}' not found.")
    return op


def _async_result(w: World, svc: dict, nv_name: str, suffix: str = "") -> Optional[Response]:
    """The entity URL polled with ``asyncId``: 202 while running, then the error or the asyncCode with the entity."""
    async_id = request.args.get("asyncId")
    if not async_id:
        return None
    op = _async_op(w, svc, async_id)
    code = int(request.args.get("asyncCode", "200"))
    if not op.done:
        return arm.empty_response(202, {"location": _nv_location(svc, nv_name, op, code, suffix),
                                        "Retry-After": retry_after(w, op.due - w.now())})
    if op.status == "Failed":
        err = op.error or {}
        return arm.arm_error(400, err.get("code", "ValidationError"), err.get("message", ""), err.get("details"))
    return children.answer(NAMED_VALUES, NAMED_VALUES.get_or_404(w, svc, nv_name), code)


@bp.get(NV)
def get_named_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_Get (also the polling URL of writes when ``asyncId`` is present)."""
    with arm.locked(NV_TYPE) as w:
        svc = service_or_404(w, sub, rg, name)
        polled = _async_result(w, svc, nv)
        if polled is not None:
            return polled
        return children.get(NAMED_VALUES, w, svc, nv)


children.register(NAMED_VALUES, NV, "nv", methods=("DELETE", "LIST"))


@bp.post(NV + "/listValue")
def list_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_ListValue: the secret value, with the entity's ETag."""
    with arm.locked(NV_TYPE) as w:
        stored = NAMED_VALUES.get_or_404(w, service_or_404(w, sub, rg, name), nv)
        if "_value" not in stored:
            status = (stored["properties"].get("keyVault") or {}).get("lastStatus") or {}
            raise arm.ArmError(400, "ValidationError", "The Key Vault secret of this named value could not be "
                               f"read (last status: {status.get('code', 'unknown')}). Fix access and call "
                               "refreshSecret.")
        return arm.json_response({"value": stored["_value"]}, 200, etag=stored["_etag"])


@bp.post(NV + "/refreshSecret")
def refresh_secret(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_RefreshSecret: 202, then the entity with a fresh ``keyVault.lastStatus``."""
    with arm.locked(NV_TYPE) as w:
        svc = online_service(w, sub, rg, name)
        stored = NAMED_VALUES.get_or_404(w, svc, nv)
        if not stored["properties"].get("keyVault"):
            raise validation("Only Key Vault named values can be refreshed.", "keyVault")

        def done(world: World) -> None:
            current = world.get(stored["id"])
            if current is not None:
                _kv_status(world, world.get(svc["id"]) or svc, current)
                current["_etag"] = new_etag()

        op = w.start_operation(stored["id"], float(w.config.get("named_value_s", 2.0)), on_done=done,
                               namespace=NAMESPACE)
        return _nv_accepted(w, svc, nv, op, 200, suffix="/refreshSecret")


@bp.get(NV + "/refreshSecret")
def refresh_secret_poll(sub: str, rg: str, name: str, nv: str) -> Response:
    """Polling URL of refreshSecret."""
    with arm.locked(NV_TYPE) as w:
        svc = service_or_404(w, sub, rg, name)
        polled = _async_result(w, svc, nv, suffix="/refreshSecret")
        if polled is None:
            raise arm.ArmError(405, "MethodNotAllowed", "refreshSecret is a POST operation.")
        return polled


@bp.get(SERVICE + "/tenant/operationResults/<async_id>")
def tenant_operation_result(sub: str, rg: str, name: str, async_id: str) -> Response:
    """The Azure-AsyncOperation URL of entity writes: ``{"status": InProgress|Succeeded|Failed, ...}``."""
    with arm.locked(SERVICE_TYPE) as w:
        svc = service_or_404(w, sub, rg, name)
        op = _async_op(w, svc, async_id)
        body = op.to_status(w)
        body["id"] = f"{svc['id']}/tenant/operationResults/{async_id}"
        body["name"] = async_id
        headers = {} if op.done else {"Retry-After": retry_after(w, op.due - w.now())}
        return arm.json_response(body, 200, headers=headers)
