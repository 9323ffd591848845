"""APIs and their operations, minimal: they exist so that API and operation policy scopes exist.

Writes here are synchronous and take no If-Match; an update keeps the stored entity (and its operations and policies)
and replaces its properties. Deleting an API deletes its operations and policies with it.
"""

from __future__ import annotations

from typing import Optional

from emulator.apim import children
from emulator.apim.base import API_TYPE, OPERATION_TYPE, SERVICE, validation
from emulator.world import World

API = SERVICE + "/apis/<api>"
OPERATION = API + "/operations/<operation>"

APIS = children.Family("apis", API_TYPE, "Api", honours_if_match=False, replace=False)
OPERATIONS = children.Family("operations", OPERATION_TYPE, "Operation", honours_if_match=False, replace=False)


def api_or_404(w: World, svc: dict, api: str) -> dict:
    return APIS.get_or_404(w, svc, api)


def operation_or_404(w: World, api: dict, operation: str) -> dict:
    return OPERATIONS.get_or_404(w, api, operation)


def in_api(w: World, kw: dict[str, str], write: bool) -> dict:
    """The parent of operations: the API, in a service that exists (reads) or is online (writes)."""
    return api_or_404(w, children.in_service(w, kw, write), kw["api"])


def _api_body(_w: World, _svc: dict, props: dict, _old: Optional[dict]) -> dict:
    """Api_CreateOrUpdate: displayName and path are required."""
    if not props.get("displayName") or props.get("path") is None:
        raise validation("'displayName' and 'path' are required.", "displayName")
    return {"properties": {
        "displayName": props["displayName"], "path": props["path"], "apiRevision": "1",
        "description": props.get("description"), "serviceUrl": props.get("serviceUrl"),
        "protocols": props.get("protocols") or ["https"],
        "subscriptionRequired": props.get("subscriptionRequired", True), "isCurrent": True}}


def _operation_body(_w: World, _api: dict, props: dict, _old: Optional[dict]) -> dict:
    """ApiOperation_CreateOrUpdate: displayName, method and urlTemplate are required."""
    if not props.get("displayName") or not props.get("method") or not props.get("urlTemplate"):
        raise validation("'displayName', 'method' and 'urlTemplate' are required.", "method")
    return {"properties": {
        "displayName": props["displayName"], "method": props["method"].upper(),
        "urlTemplate": props["urlTemplate"], "description": props.get("description"),
        "templateParameters": props.get("templateParameters") or [], "responses": props.get("responses") or []}}


children.register(APIS, API, "api", build=_api_body)
children.register(OPERATIONS, OPERATION, "operation", parent=in_api, build=_operation_body,
                  methods=("GET", "DELETE", "PUT"))
