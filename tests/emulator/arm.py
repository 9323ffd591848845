"""Azure Resource Manager conventions shared by every resource provider of the local Azure.

Error bodies, api-version checks, long-running-operation headers, ETags, path canonicalisation (ARM treats resource
group, provider and type segments case-insensitively) and the generic operation status/result endpoints.
"""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Optional

from flask import Blueprint, Response, current_app, g, request

from emulator.world import Operation, World

# api-versions accepted per provider namespace (lower-cased). They cover what the supported SDK versions send:
# azure-mgmt-apimanagement 4.0.1 → 2022-08-01, 5.0.0 → 2024-05-01 (2021-08-01: azure-cli recordings);
# azure-mgmt-keyvault 10.3.1 (multi-API) → 2023-07-01 and older profiles, 14.0.x → 2026-02-01, 14.1.0 → 2026-05-15;
# azure-mgmt-authorization 4.0.0 (multi-API) → 2022-04-01 for assignments/definitions (2015-07-01 and previews in
# older profiles); azure-mgmt-msi 7.0.0 → 2023-01-31, 7.1.0 → 2024-11-30; network/resources: recent SDK defaults.
API_VERSIONS: dict[str, tuple[str, ...]] = {
    "microsoft.apimanagement": ("2021-08-01", "2022-08-01", "2023-05-01-preview", "2024-05-01"),
    "microsoft.keyvault": (
        "2016-10-01", "2018-02-14", "2019-09-01", "2021-04-01-preview", "2021-06-01-preview", "2021-10-01",
        "2022-07-01", "2023-02-01", "2023-07-01", "2024-11-01", "2025-05-01", "2026-02-01", "2026-05-15",
    ),
    "microsoft.authorization": (
        "2015-06-01", "2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview",
        "2020-10-01-preview", "2022-04-01", "2022-05-01-preview",
    ),
    "microsoft.managedidentity": (
        "2018-11-30", "2021-09-30-preview", "2022-01-31-preview", "2023-01-31", "2023-07-31-preview", "2024-11-30",
    ),
    "microsoft.network": (
        "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01",
        "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01",
        "2025-01-01", "2025-03-01", "2025-05-01", "2025-07-01", "2026-01-01", "2026-03-01",
    ),
    "microsoft.resources": (
        "2019-10-01", "2020-06-01", "2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01",
        "2024-11-01", "2025-03-01", "2025-04-01",
    ),
    "microsoft.storage": ("2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01", "2025-06-01"),
    "microsoft.eventhub": ("2021-11-01", "2022-01-01-preview", "2022-10-01-preview", "2024-01-01", "2024-05-01-preview"),
    "microsoft.servicebus": ("2021-11-01", "2022-01-01-preview", "2022-10-01-preview", "2024-01-01"),
}

# The segments ARM matches case-insensitively. Requests are rewritten to these spellings before routing, so a
# provider registers one route per path (e.g. `/resourcegroups/` arrives as `/resourceGroups/`).
CANONICAL_SEGMENTS: dict[str, str] = {}
# Segments after which ARM expects a name (a resource group, a resource, an operation id): never canonicalised.
_NOT_NAME_TAKING: set[str] = {"providers"}


def register_segments(*segments: str, takes_name: bool = True) -> None:
    """Declare ARM path keywords (types, collections, actions) that are matched case-insensitively."""
    for seg in segments:
        CANONICAL_SEGMENTS[seg.lower()] = seg
        if not takes_name:
            _NOT_NAME_TAKING.add(seg.lower())


register_segments("subscriptions", "resourceGroups", "locations", "operationResults", "operationStatuses",
                  "asyncoperations")
register_segments("providers", takes_name=False)
register_segments(
    "Microsoft.ApiManagement", "Microsoft.KeyVault", "Microsoft.Authorization", "Microsoft.ManagedIdentity",
    "Microsoft.Network", "Microsoft.Resources", "Microsoft.Storage", "Microsoft.EventHub", "Microsoft.ServiceBus",
    takes_name=False,
)
register_segments(
    "service", "namedValues", "loggers", "policies", "apis", "operations", "backends", "diagnostics",
    "vaults", "secrets", "accessPolicies", "roleAssignments", "roleDefinitions", "userAssignedIdentities",
    "federatedIdentityCredentials", "virtualNetworks", "subnets", "networkSecurityGroups", "securityRules",
    "routeTables", "natGateways", "namespaces", "eventhubs", "queues", "topics", "storageAccounts",
    "blobServices", "containers", "deletedservices", "deletedVaults",
)


def canonical_path(path: str) -> str:
    """Rewrite keyword segments of an ARM path to their canonical spelling; names keep the caller's case."""
    out: list[str] = []
    name_next = False
    for seg in path.split("/"):
        if name_next:
            out.append(seg)
            name_next = False
            continue
        canon = CANONICAL_SEGMENTS.get(seg.lower())
        if canon is None:
            out.append(seg)
            continue
        out.append(canon)
        name_next = seg.lower() not in _NOT_NAME_TAKING
    return "/".join(out)


class CanonicalPathMiddleware:
    """WSGI middleware applying `canonical_path` before Flask routes the request."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_admin"):
            environ["emulator.original_path"] = path
            environ["PATH_INFO"] = canonical_path(path)
        return self.wsgi_app(environ, start_response)


# --- responses -----------------------------------------------------------------------------------------------------


def request_id() -> str:
    """The x-ms-request-id of the current request (generated once per request)."""
    if "request_id" not in g:
        g.request_id = str(uuid.uuid4())
    return g.request_id


def _base_headers() -> dict[str, str]:
    rid = request_id()
    return {
        "x-ms-request-id": rid,
        "x-ms-correlation-request-id": request.headers.get("x-ms-correlation-request-id", rid),
        "x-ms-routing-request-id": f"WESTEUROPE:LOCAL:{rid}",
        "Cache-Control": "no-cache",
    }


def json_response(body: Any, status: int = 200, etag: Optional[str] = None, headers: Optional[dict] = None) -> Response:
    """A JSON response with ARM's standard headers; `etag` is sent quoted in the ETag header as ARM does."""
    hdrs = _base_headers()
    if etag:
        hdrs["ETag"] = etag if etag.startswith(('"', "W/")) else f'"{etag}"'
    if headers:
        hdrs.update(headers)
    if body is None or status == 204:
        return Response(b"", status=status, headers=hdrs)
    return Response(json.dumps(body), status=status, headers=hdrs, mimetype="application/json")


def empty_response(status: int, headers: Optional[dict] = None) -> Response:
    """A response with no body (202 Accepted without content, 204 No Content, HEAD)."""
    hdrs = _base_headers()
    if headers:
        hdrs.update(headers)
    return Response(b"", status=status, headers=hdrs)


def arm_error(status: int, code: str, message: str, details: Optional[list] = None,
              headers: Optional[dict] = None) -> Response:
    """ARM's error envelope `{"error": {"code", "message"[, "details"]}}`."""
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = details
    return json_response({"error": err}, status=status, headers=headers)


class ArmError(Exception):
    """Raise from a handler to return an ARM error; turned into `arm_error()` by the app's error handler."""

    def __init__(self, status: int, code: str, message: str, details: Optional[list] = None,
                 headers: Optional[dict] = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers

    def response(self) -> Response:
        """The Flask response for this error."""
        return arm_error(self.status, self.code, self.message, self.details, self.headers)


def not_found(resource_type: str, name: str, resource_group: Optional[str] = None) -> ArmError:
    """ARM's ResourceNotFound for a tracked resource."""
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ArmError(404, "ResourceNotFound", f"The Resource '{resource_type}/{name}'{where} was not found. For more "
                    "details please go to https://aka.ms/ARMResourceNotFoundFix")


def public(body: Any) -> Any:
    """A deep copy of a stored body without private bookkeeping keys (those starting with `_`)."""
    if isinstance(body, dict):
        return {k: public(v) for k, v in body.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(body, list):
        return [public(v) for v in body]
    return body


def world() -> World:
    """The World of the running app."""
    return current_app.config["WORLD"]


def base_url() -> str:
    """`https://127.0.0.1:<port>` as the client reached us."""
    return request.host_url.rstrip("/")


def new_etag() -> str:
    """A fresh opaque ETag value in the style APIM uses (base64 of 8 bytes)."""
    import base64

    return base64.b64encode(uuid.uuid4().bytes[:8]).decode()


@contextmanager
def locked(type_: Optional[str] = None) -> Iterator[World]:
    """The running app's world under its lock; with ``type_``, after the request's api-version is checked for it."""
    if type_:
        require_api_version(type_)
    w = world()
    with w.lock:
        yield w


def versioned_body(type_: str) -> dict:
    """The request's JSON object body, read once its api-version is known good for ``type_``."""
    require_api_version(type_)
    return parse_json_body()


def parse_json_body() -> dict:
    """The request's JSON object body; 400 InvalidRequestContent when it is not a JSON object."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid and could not be "
                       f"deserialized: '{exc}'.") from exc
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                       "the body must be a JSON object.")
    return body


# --- api-version ---------------------------------------------------------------------------------------------------


def require_api_version(namespace_or_type: str) -> str:
    """Check the `api-version` query parameter for a provider namespace or `Namespace/type`; return it.

    Raises ArmError like ARM: 400 MissingApiVersionParameter when absent; for Microsoft.Resources paths 400
    InvalidApiVersionParameter; for other providers 400 NoRegisteredProviderFound listing the supported versions.
    """
    version = request.args.get("api-version")
    namespace, rtype = namespace_or_type.partition("/")[::2]
    if not version:
        raise ArmError(400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all requests.")
    supported = API_VERSIONS.get(namespace.lower(), ())
    if version in supported:
        return version
    listed = ", ".join(sorted(supported, reverse=True))
    if namespace.lower() == "microsoft.resources":
        raise ArmError(400, "InvalidApiVersionParameter",
                       f"The api-version '{version}' is invalid. The supported versions are '{listed}'.")
    type_name = rtype.rsplit("/", 1)[-1] if rtype else namespace
    raise ArmError(400, "NoRegisteredProviderFound",
                   f"No registered resource provider found for location '{world().location}' and API version "
                   f"'{version}' for type '{type_name}'. The supported api-versions are '{listed}'. The supported "
                   f"locations are 'westeurope, northeurope, eastus, eastus2, westus2'.")


# --- long-running operations ---------------------------------------------------------------------------------------


def operation_urls(op: Operation) -> tuple[str, str]:
    """(Location URL, Azure-AsyncOperation URL) of the generic status endpoints for `op`."""
    api = request.args.get("api-version", "")
    prefix = f"{base_url()}/subscriptions/{world().subscription_id}/providers/{op.namespace}/locations/{op.location}"
    query = f"?api-version={api}" if api else ""
    return f"{prefix}/operationResults/{op.id}{query}", f"{prefix}/operationStatuses/{op.id}{query}"


def lro_response(op: Operation, status_code: int, body: Any = None, location: bool = True, azure_async: bool = True,
                 retry_after: int = 1, location_url: Optional[str] = None, async_url: Optional[str] = None,
                 etag: Optional[str] = None) -> Response:
    """The first response of a long-running operation: 201/202 (or 200) with polling headers.

    Providers with their own URL shapes pass `location_url` / `async_url`; otherwise the generic
    `/subscriptions/{sub}/providers/{ns}/locations/{loc}/operationResults|operationStatuses/{id}` endpoints are used.
    """
    gen_loc, gen_async = operation_urls(op)
    headers: dict[str, str] = {"Retry-After": str(int(retry_after))}
    if location:
        headers["Location"] = location_url or gen_loc
    if azure_async:
        headers["Azure-AsyncOperation"] = async_url or gen_async
    if body is None:
        return empty_response(status_code, headers)
    return json_response(body, status_code, etag=etag, headers=headers)


def operation_result_response(op: Operation, retry_after: int = 1) -> Response:
    """What a Location URL returns: 202 while running; then the operation's result, the resource, or 204."""
    w = world()
    if not op.done:
        loc = operation_urls(op)[0]
        return empty_response(202, {"Location": loc, "Retry-After": str(retry_after)})
    if op.status == "Failed":
        err = op.error or {"code": "InternalServerError", "message": "The operation failed."}
        return arm_error(400 if err.get("code") != "InternalServerError" else 500, err.get("code", "Failed"),
                         err.get("message", "The operation failed."), err.get("details"))
    if op.result is not None:
        status, body = op.result(w)
        return json_response(public(body), status) if body is not None else empty_response(status)
    current = w.get(op.resource_id)
    if current is None:
        return empty_response(204)
    return json_response(public(current), 200)


ops_bp = Blueprint("arm_operations", __name__)


def _lookup_op(op_id: str) -> Operation:
    w = world()
    op = w.operations.get(op_id)
    if op is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
    return op


@ops_bp.get("/subscriptions/<sub>/providers/<namespace>/locations/<loc>/operationStatuses/<op_id>")
def operation_status(sub: str, namespace: str, loc: str, op_id: str) -> Response:
    """Azure-AsyncOperation polling: `{"status": "InProgress|Succeeded|Failed", ...}`."""
    w = world()
    with w.lock:
        op = _lookup_op(op_id)
        headers = {} if op.done else {"Retry-After": "1"}
        return json_response(op.to_status(w), 200, headers=headers)


@ops_bp.get("/subscriptions/<sub>/providers/<namespace>/locations/<loc>/operationResults/<op_id>")
def operation_result(sub: str, namespace: str, loc: str, op_id: str) -> Response:
    """Location polling: 202 while in progress, then the final result."""
    w = world()
    with w.lock:
        return operation_result_response(_lookup_op(op_id))


def resource_id_from_path() -> str:
    """The ARM id addressed by the current request (canonical path, without a trailing slash)."""
    return request.path.rstrip("/")


def parse_id(resource_id: str) -> dict[str, str]:
    """Split an ARM id into subscription, resourceGroup, namespace, type (full, `/`-joined) and name."""
    parts = [p for p in resource_id.split("/") if p]
    out: dict[str, str] = {}
    lowered = [p.lower() for p in parts]
    if "subscriptions" in lowered:
        out["subscription"] = parts[lowered.index("subscriptions") + 1]
    if "resourcegroups" in lowered:
        out["resource_group"] = parts[lowered.index("resourcegroups") + 1]
    if "providers" in lowered:
        idx = len(lowered) - 1 - lowered[::-1].index("providers")
        rest = parts[idx + 1:]
        if rest:
            out["namespace"] = rest[0]
            types = rest[1::2]
            names = rest[2::2]
            out["type"] = "/".join([rest[0], *types])
            if names:
                out["name"] = names[-1]
    return out


def paged(values: Iterable[dict]) -> dict[str, Any]:
    """ARM's list envelope."""
    return {"value": [public(v) for v in values]}
