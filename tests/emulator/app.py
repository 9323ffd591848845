"""The Flask application of the local Azure: one blueprint per resource provider plus the shared request pipeline.

Every request: tick the world (finish due operations) → injected latency → fault rules → bearer-token check for ARM
paths → handler → request log.
"""

from __future__ import annotations

import copy
import importlib
import json
import random
import re
import socket
import time
from typing import Any, Optional
from urllib.parse import parse_qs

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from emulator import admin, arm, authorization, entra, resources, throttle
from emulator.world import World, mask_secrets

# Provider modules, each exposing a Blueprint `bp`. Missing ones (not written yet) are skipped.
PROVIDER_MODULES = ("entra", "admin", "resources", "apim", "keyvault", "authorization", "msi", "network", "eventhub",
                    "servicebus", "storage")

# Paths that are not ARM: Entra ID's own endpoints and the admin interface need no bearer token.
_UNAUTHENTICATED = re.compile(
    r"^/(_admin(/|$)|msi/token$|oidc-issuer/|[^/]+/oauth2/|[^/]+/v2\.0/\.well-known/|[^/]+/discovery/|common/discovery|favicon\.ico$)"
)
# POSTs that read rather than write (list secrets/values/keys): excluded from `writes()` in the request log.
READ_LIKE_POST = re.compile(r"/(list[A-Za-z]*|[^/]*/oauth2/v2\.0/token)$")

# Default ARM error codes for injected faults given only a status.
_FAULT_CODES = {
    400: "BadRequest", 401: "AuthenticationFailed", 403: "AuthorizationFailed", 404: "NotFound",
    409: "Conflict", 412: "PreconditionFailed", 429: "TooManyRequests", 500: "InternalServerError",
    502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout",
}


def create_app(world: Optional[World] = None) -> Flask:
    """Build the app for `world` (a fresh World when None) with every available provider registered."""
    app = Flask("emulator")
    app.config["WORLD"] = world or World()
    app.config["SIGNING_KEY"] = entra.SigningKey()
    app.config["ISSUER_KEY"] = entra.SigningKey()
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.wsgi_app = arm.CanonicalPathMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(arm.ops_bp)
    for name in PROVIDER_MODULES:
        module = _import_provider(name)
        if module is not None and hasattr(module, "bp"):
            app.register_blueprint(module.bp)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(lambda _exc: app.config["WORLD"].serve_subscription_of(None))
    app.register_error_handler(arm.ArmError, lambda exc: exc.response())
    app.register_error_handler(HTTPException, _http_error)

    admin.bootstrap(app.config["WORLD"])
    return app


def _import_provider(name: str) -> Any:
    try:
        return importlib.import_module(f"emulator.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"emulator.{name}":
            return None
        raise


def is_arm_path(path: str) -> bool:
    """True for management-plane paths (everything but Entra ID and the admin interface)."""
    return not _UNAUTHENTICATED.match(path)


def _before_request() -> Optional[Response]:
    w: World = arm.world()
    w.serve_subscription_of(request.path)
    w.tick()
    g.started = time.monotonic()
    if request.path.startswith("/_admin"):
        return None
    _log_request(w)
    latency = float(w.config.get("latency_ms", 0) or 0)
    if latency > 0:
        time.sleep(latency / 1000.0)
    actor = request.headers.get(admin.ACTOR_HEADER)
    if actor:
        g.log_entry["actor"] = actor  # another writer a fault rule sent: never itself faulted
    fault = None if actor else _match_fault(w)
    if fault is not None:
        g.log_entry["fault"] = fault["id"]
        admin.before_serving(w, fault)
        if fault.get("fail_operation"):
            _arm_failing_operation(w, fault)
        elif fault.get("apply_then_fail"):
            g.pending_fault = fault
        elif fault.get("status") is not None or fault.get("drop_connection"):
            return _fault_response(fault)
    if is_arm_path(request.path):
        g.caller = entra.authenticate_arm_request(w)
        g.log_entry["caller"] = g.caller.get("object_id")
        authorization.check_arm_access(w, g.caller, request.method, request.path)
        with w.lock:
            resources.require_registered(w, request.path)
        return _throttle(w)
    return None


def _throttle(w: World) -> Optional[Response]:
    """Spend a token of ARM's per-subscription bucket; an empty one answers 429 (only with throttle_enforce)."""
    subscription = throttle.subscription_of(request.path)
    if subscription is None:
        return None
    kind = throttle.kind_of(request.method, is_write(request.method, request.path))
    allowed, remaining, retry = throttle.take(w, subscription, g.caller.get("object_id", ""), kind)
    g.ratelimit = (throttle.HEADERS[kind], str(remaining))
    if allowed:
        return None
    response = arm.arm_error(429, "SubscriptionRequestsThrottled",
                             f"Number of '{kind}' requests for subscription '{subscription}' exceeded the limit. "
                             f"Please try again after '{retry}' seconds.")
    response.headers["Retry-After"] = str(retry)
    return response


def _after_request(response: Response) -> Response:
    fault = g.pop("pending_fault", None)
    if fault is not None:
        response = _fault_response(fault)
    failing = g.pop("failing_operation", None)
    if failing is not None:
        _fail_new_operations(arm.world(), *failing)
    ratelimit = g.pop("ratelimit", None)
    if ratelimit is not None:
        response.headers[ratelimit[0]] = ratelimit[1]
    entry = g.get("log_entry")
    if entry is not None:
        entry["status"] = response.status_code
        entry["duration_ms"] = round((time.monotonic() - g.started) * 1000, 1)
    return response


def _http_error(exc: HTTPException) -> Response:
    """Unrouted paths and wrong verbs answer with ARM's error envelope."""
    if exc.code == 404:
        return arm.arm_error(404, "NotFound", f"The requested resource '{request.path}' does not exist in the "
                             "local Azure (no provider handles this path).")
    if exc.code == 405:
        return arm.arm_error(405, "MethodNotAllowed", f"The HTTP method '{request.method}' is not supported for "
                             f"'{request.path}'.")
    return arm.arm_error(exc.code or 500, exc.name.replace(" ", ""), exc.description or exc.name)


# --- request log -----------------------------------------------------------------------------------------------------


def _masked_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw:
        return None
    ctype = request.content_type or ""
    if "application/x-www-form-urlencoded" in ctype:
        form = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        return mask_secrets(form)
    try:
        return mask_secrets(json.loads(raw))
    except ValueError:
        return f"<{len(raw)} bytes, not JSON>"


def _log_request(w: World) -> None:
    entry = {
        "seq": 0,
        "time": time.time(),
        "azure_time": w.now(),
        "method": request.method,
        "path": request.path,
        "original_path": request.environ.get("emulator.original_path", request.path),
        "query": dict(request.args.items()),
        "body": _masked_body(),
        "status": None,
        "write": is_write(request.method, request.path),
    }
    with w.lock:
        entry["seq"] = len(w.requests) + 1
        w.requests.append(entry)
    g.log_entry = entry


def is_write(method: str, path: str) -> bool:
    """PUT/PATCH/DELETE, and POSTs that are not list-like reads or token requests."""
    method = method.upper()
    if method in ("PUT", "PATCH", "DELETE"):
        return True
    return method == "POST" and not READ_LIKE_POST.search(path)


# --- fault injection -------------------------------------------------------------------------------------------------


def _match_fault(w: World) -> Optional[dict]:
    with w.lock:
        for rule in w.faults:
            if rule.get("times") is not None and rule["hits"] >= rule["times"]:
                continue
            if rule.get("method", "*") not in ("*", request.method):
                continue
            if not re.search(rule.get("path", ".*"), request.path) and not re.search(
                    rule.get("path", ".*"), request.environ.get("emulator.original_path", request.path)):
                continue
            probability = rule.get("probability")
            if probability is not None and random.random() >= float(probability):
                continue
            rule["hits"] += 1
            return dict(rule)
    return None


def _arm_failing_operation(w: World, rule: dict) -> None:
    """`fail_operation: {code, message}`: the request is accepted as usual, but the long-running operation it
    starts ends Failed with that error and the resource is left as it was before the request."""
    with w.lock:
        before = w.get(request.path)
        g.failing_operation = (rule["fail_operation"], set(w.operations), copy.deepcopy(before) if before else None)


def _fail_new_operations(w: World, error: dict, known: set, before: Optional[dict]) -> None:
    with w.lock:
        for op_id, op in w.operations.items():
            if op_id in known or op.done:
                continue
            op.error = {"code": error.get("code", "OperationFailed"), "message": error.get("message", "Failed.")}
            op.on_done = _restore(op.resource_id, before)


def _restore(resource_id: str, before: Optional[dict]) -> Any:
    def done(w: World) -> None:
        if before is None:
            w.delete(resource_id)
        else:
            w.put(resource_id, copy.deepcopy(before))
    return done


def _fault_response(rule: dict) -> Response:
    if rule.get("drop_connection"):
        _drop_connection()
    status = int(rule.get("status", 500))
    headers = dict(rule.get("headers") or {})
    body = rule.get("body")
    if body is None:
        code = _FAULT_CODES.get(status, "InjectedFault")
        return arm.arm_error(status, code, f"Injected fault ({code}) by the local Azure.", headers=headers)
    if isinstance(body, (dict, list)):
        return arm.json_response(body, status, headers=headers)
    return Response(str(body), status=status, headers={**headers, "x-ms-request-id": arm.request_id()})


def _drop_connection() -> None:
    """Close the client's TCP connection without a response (a reset mid-request)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass
