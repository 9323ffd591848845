"""ApiManagementService routes: create/update/delete as long-running operations, their polling URLs, lists (paged)
and the name check."""

from __future__ import annotations

import base64
from typing import Any, Callable, Optional

from flask import Response, request

from emulator import arm, resources
from emulator.apim.base import (ASYNC_HEADER_FROM, NAMESPACE, SERVICE, SERVICE_TYPE, TRANSITIONING, api_version, bp,
                                busy, check_if_match, new_etag, retry_after, service_id,
                                service_or_404)
from emulator.apim.hostnames import build_hostnames
from emulator.apim.identity import build_identity
from emulator.apim.service import (activate, apply_update, new_service_body, retire_system_identity, system_data,
                                   validate_service_create)
from emulator.world import Operation, World


def _op_urls(svc_id: str, op: Operation) -> tuple[str, str]:
    base = f"{arm.base_url()}{svc_id}/operationresults/{op.id}?api-version={api_version()}"
    return base, base + "&asyncResponse"


def _lro_headers(w: World, svc: dict, op: Operation, azure_s: float) -> dict[str, str]:
    location, async_url = _op_urls(svc["id"], op)
    headers = {"Location": location, "Retry-After": retry_after(w, azure_s)}
    if api_version() >= ASYNC_HEADER_FROM:
        headers["Azure-AsyncOperation"] = async_url
    return headers


def _start(w: World, svc: dict, duration: float, finish: Callable[[World], Optional[dict]], kind: str) -> Operation:
    op = w.start_operation(svc["id"], duration, on_done=finish, namespace=NAMESPACE)
    op.extra["kind"] = kind
    svc["_operation"] = op.id
    return op


def _finish_create(sid: str) -> Callable[[World], None]:
    def done(w: World) -> None:
        svc = w.get(sid)
        if svc is None:
            return
        activate(svc)
        svc["properties"].update(provisioningState="Succeeded", targetProvisioningState="")
        svc["etag"] = new_etag()
    return done


def _finish_update(sid: str, target: dict) -> Callable[[World], None]:
    def done(w: World) -> None:
        svc = w.get(sid)
        if svc is None:
            return
        retire_system_identity(w, svc.get("identity"), target.get("identity"))
        target["properties"].update(provisioningState="Succeeded", targetProvisioningState="")
        target["etag"] = new_etag()
        target["systemData"] = svc.get("systemData")
        w.put(sid, {k: v for k, v in target.items() if k != "_operation"})
    return done


def _finish_delete(sid: str) -> Callable[[World], None]:
    def done(w: World) -> None:
        svc = w.delete(sid)
        if svc:
            retire_system_identity(w, svc.get("identity"), None)
    return done


def _service_response(svc: dict, status: int, headers: Optional[dict] = None) -> Response:
    body = arm.public(svc)
    body.setdefault("identity", None)  # the live service always sends the key (null when there is no identity)
    return arm.json_response(body, status, etag=svc.get("etag"), headers=headers)


@bp.get(SERVICE)
def get_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_Get."""
    with arm.locked(SERVICE_TYPE) as w:
        return _service_response(service_or_404(w, sub, rg, name), 200)


@bp.put(SERVICE)
def put_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_CreateOrUpdate: 201 + LRO on create; 200 (Updating) + LRO on update."""
    body = arm.versioned_body(SERVICE_TYPE)
    with arm.locked() as w:
        resources.group_or_404(w, sub, rg)
        sid = service_id(sub, rg, name)
        current = w.get(sid)
        if current is None:
            return _create_service(w, sub, rg, name, body)
        return _update_service(w, current, body, merge=False)


class _principals_rolled_back:  # noqa: N801 - a context manager read as a statement
    """A rejected request must not leave behind the system identity it generated on the way."""

    def __init__(self, w: World) -> None:
        self.w = w
        self.before = set(w.principals)

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None:
            for oid in set(self.w.principals) - self.before:
                self.w.remove_principal(oid)


def _create_service(w: World, sub: str, rg: str, name: str, body: dict) -> Response:
    with _principals_rolled_back(w):
        return _create_service_checked(w, sub, rg, name, body)


def _create_service_checked(w: World, sub: str, rg: str, name: str, body: dict) -> Response:
    validate_service_create(body)
    svc = new_service_body(w, sub, rg, name, body)
    svc["identity"] = build_identity(w, name, None, body.get("identity"), merge=False)
    hostnames = build_hostnames(w, svc, (body.get("properties") or {}).get("hostnameConfigurations"),
                                svc["properties"]["hostnameConfigurations"])
    svc["properties"]["hostnameConfigurations"] = hostnames
    w.put(svc["id"], svc)
    duration = float(w.config.get("apim_create_s", 45.0))
    op = _start(w, svc, duration, _finish_create(svc["id"]), "create")
    return _service_response(svc, 201, _lro_headers(w, svc, op, duration))


def _update_service(w: World, current: dict, body: dict, merge: bool) -> Response:
    if current["properties"].get("provisioningState") in TRANSITIONING or \
            current["properties"].get("targetProvisioningState"):
        raise busy(current)
    check_if_match(current.get("etag"))
    with _principals_rolled_back(w):
        target = apply_update(w, current, body, merge)
    target["systemData"] = system_data(w, current.get("systemData"))
    current["systemData"] = target["systemData"]
    current["properties"].update(provisioningState="Updating", targetProvisioningState="Succeeded")
    current["etag"] = new_etag()
    duration = float(w.config.get("apim_update_s", 15.0))
    op = _start(w, current, duration, _finish_update(current["id"], target), "update")
    headers = _lro_headers(w, current, op, duration)
    if merge:
        return arm.empty_response(202, headers)
    return _service_response(current, 200, headers)


@bp.patch(SERVICE)
def patch_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_Update: 202 with Location (+ Azure-AsyncOperation), merged on completion."""
    body = arm.versioned_body(SERVICE_TYPE)
    with arm.locked() as w:
        return _update_service(w, service_or_404(w, sub, rg, name), body, merge=True)


@bp.delete(SERVICE)
def delete_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_Delete: 202 with the body (targetProvisioningState Deleting), 204 when absent."""
    with arm.locked(SERVICE_TYPE) as w:
        resources.group_or_404(w, sub, rg)
        svc = w.get(service_id(sub, rg, name))
        if svc is None:
            return arm.empty_response(204)
        if svc["properties"].get("targetProvisioningState") == "Deleting":
            op = w.operations[svc["_operation"]]
            return _service_response(svc, 202, _lro_headers(w, svc, op, max(0.0, op.due - w.now())))
        if svc["properties"].get("provisioningState") in TRANSITIONING:
            raise busy(svc)
        svc["properties"]["targetProvisioningState"] = "Deleting"
        duration = float(w.config.get("apim_delete_s", 10.0))
        op = _start(w, svc, duration, _finish_delete(svc["id"]), "delete")
        return _service_response(svc, 202, _lro_headers(w, svc, op, duration))


@bp.get(SERVICE + "/operationResults/<op_id>")
def service_operation_result(sub: str, rg: str, name: str, op_id: str) -> Response:
    """Polling URL of service operations: status body with ``asyncResponse``, else 202 → final result."""
    with arm.locked(SERVICE_TYPE) as w:
        op = w.operations.get(op_id)
        if op is None or op.resource_id.lower() != service_id(sub, rg, name).lower():
            raise arm.ArmError(404, "OperationNotFound", f"Operation '{op_id}' was not found.")
        if "asyncResponse" in request.args:
            headers = {} if op.done else {"Retry-After": retry_after(w, op.due - w.now())}
            return arm.json_response(op.to_status(w), 200, headers=headers)
        if not op.done:
            location = _op_urls(op.resource_id, op)[0]
            return arm.empty_response(202, {"Location": location, "Retry-After": retry_after(w, op.due - w.now())})
        if op.status == "Failed":
            err = op.error or {}
            return arm.arm_error(400, err.get("code", "Failed"), err.get("message", "The operation failed."))
        svc = w.get(op.resource_id)
        if op.extra.get("kind") == "delete" or svc is None:
            return arm.empty_response(200)
        return _service_response(svc, 200)


def _list_services(under: str) -> Response:
    """ApiManagementServiceListResult: ``value`` holds one page, ``nextLink`` the URL of the next (absent on the
    last). The page is picked by an opaque ``$skiptoken`` ARM puts into the link; clients follow the link as is."""
    with arm.locked(SERVICE_TYPE) as w:
        services = sorted(w.list(SERVICE_TYPE, under=under), key=lambda s: s["id"].lower())
        size = max(1, int(w.config.get("list_page_size", 100)))
        start = _skip_token(request.args.get("$skiptoken"))
        items = [{**arm.public(s), "identity": s.get("identity")} for s in services[start:start + size]]
        body: dict[str, Any] = {"value": items}
        if start + size < len(services):
            body["nextLink"] = "{0}{1}?api-version={2}&$skiptoken={3}".format(
                arm.base_url(), request.path, api_version(), _encode_skip(start + size))
        return arm.json_response(body)


def _encode_skip(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _skip_token(token: Optional[str]) -> int:
    """The offset in a ``$skiptoken`` this server issued; anything else is ARM's 400 InvalidSkipToken."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if text.startswith("offset:"):
            return int(text.split(":", 1)[1])
    except (ValueError, UnicodeDecodeError):
        pass
    raise arm.ArmError(400, "InvalidSkipToken", "The $skiptoken in the request is not valid.")


@bp.get("/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ApiManagement/service")
def list_services_rg(sub: str, rg: str) -> Response:
    """ApiManagementService_ListByResourceGroup."""
    with arm.world().lock:
        resources.group_or_404(arm.world(), sub, rg)
    return _list_services(f"/subscriptions/{sub}/resourceGroups/{rg}")


@bp.get("/subscriptions/<sub>/providers/Microsoft.ApiManagement/service")
def list_services_sub(sub: str) -> Response:
    """ApiManagementService_List (ARM answers 404 SubscriptionNotFound for a subscription it does not know)."""
    with arm.world().lock:
        resources.require_subscription(arm.world(), sub)
    return _list_services(f"/subscriptions/{sub}")


@bp.post("/subscriptions/<sub>/providers/Microsoft.ApiManagement/checkNameAvailability")
def check_name(sub: str) -> Response:
    """ApiManagementService_CheckNameAvailability (service names are global DNS names)."""
    return resources.name_availability(SERVICE_TYPE, "{name} is already in use", {"reason": "Valid", "message": ""})
