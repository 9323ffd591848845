"""Shared by every APIM entity family: the blueprint, the types, the service lookups APIM makes before any entity
operation, and the error envelopes it answers with."""

from __future__ import annotations

import base64
import uuid
from typing import Optional

from flask import Blueprint, request

from emulator import arm, resources
from emulator.world import World

bp = Blueprint("apim", __name__)
arm.register_segments("listValue", "refreshSecret", "tenant", "checkNameAvailability", takes_name=False)

NAMESPACE = "Microsoft.ApiManagement"
SERVICE_TYPE = "Microsoft.ApiManagement/service"
NV_TYPE = "Microsoft.ApiManagement/service/namedValues"
LOGGER_TYPE = "Microsoft.ApiManagement/service/loggers"
API_TYPE = "Microsoft.ApiManagement/service/apis"
OPERATION_TYPE = "Microsoft.ApiManagement/service/apis/operations"
MAX_USER_ASSIGNED = 10
ASYNC_HEADER_FROM = "2022-08-01"  # older api-versions (the 2021-08-01 recording) only send Location
NV_BODY_FROM = "2023-03-01"  # named-value PUT answers 201/200 with a body from here on, 202 without one before
TRANSITIONING = ("Created", "Activating", "Updating", "Deleting")
NOT_ONLINE = ("Created", "Activating", "Deleting")
DEFAULT_SENDER = "apimgmt-noreply@mail.windowsazure.com"
HOSTNAME_TYPES = ("Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi")
_DISPLAY_LOCATIONS = {
    "westeurope": "West Europe", "northeurope": "North Europe", "westus": "West US", "westus2": "West US 2",
    "westus3": "West US 3", "eastus": "East US", "eastus2": "East US 2", "centralus": "Central US",
    "uksouth": "UK South", "ukwest": "UK West", "francecentral": "France Central", "germanywestcentral":
    "Germany West Central", "swedencentral": "Sweden Central", "switzerlandnorth": "Switzerland North",
}

SERVICE = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ApiManagement/service/<name>"


def service_id(sub: str, rg: str, name: str) -> str:
    """The ARM id of an API Management service."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{SERVICE_TYPE}/{name}"


def new_etag() -> str:
    """APIM's ETag style: base64 of 8 bytes, e.g. ``AAAAAADmodU=``."""
    return base64.b64encode(uuid.uuid4().bytes[:8]).decode()


def display_location(location: str) -> str:
    """APIM returns the display name of the region (``westus`` → ``West US``)."""
    return _DISPLAY_LOCATIONS.get(str(location).replace(" ", "").lower(), location)


def api_version() -> str:
    """The request's api-version (validated by the route)."""
    return request.args.get("api-version", "")


def retry_after(w: World, azure_s: float) -> str:
    """Retry-After for a poll ``azure_s`` Azure seconds away: whole seconds in real time, fractions when scaled."""
    scale = float(w.config.get("time_scale", 1.0) or 1.0)
    real = max(0.0, min(azure_s, 10.0)) * scale
    if scale >= 1.0:
        return str(max(1, int(round(real))))
    return f"{max(real, 0.01):.3f}"


def not_found(what: str) -> arm.ArmError:
    # APIM's own 404 wording for entities inside a service ("Api not found.", "Logger not found.").
    return arm.ArmError(404, "ResourceNotFound", f"{what} not found.")


def validation(message: str, target: Optional[str] = None, details_message: Optional[str] = None) -> arm.ArmError:
    """APIM's ValidationError envelope: a summary plus one detail naming the offending field."""
    details = None
    if target:
        details = [{"code": "ValidationError", "target": target, "message": details_message or message}]
        message = "One or more fields contain incorrect values:"
    return arm.ArmError(400, "ValidationError", message, details)


def service_or_404(w: World, sub: str, rg: str, name: str) -> dict:
    return resources.resource_or_404(w, sub, rg, service_id(sub, rg, name), SERVICE_TYPE, name)


def online_service(w: World, sub: str, rg: str, name: str) -> dict:
    """The service for an entity operation; its management API only answers once the service is activated."""
    svc = service_or_404(w, sub, rg, name)
    state = svc["properties"].get("provisioningState")
    if state in NOT_ONLINE or svc["properties"].get("targetProvisioningState") in ("Activating", "Deleting"):
        raise busy(svc)
    return svc


def busy(svc: dict) -> arm.ArmError:
    # Wording not confirmed against the live service; the status (409) and the retry advice are what clients act on.
    props = svc["properties"]
    state = props.get("targetProvisioningState") or props.get("provisioningState")
    return arm.ArmError(409, "Conflict", f"The API Management service '{svc['name']}' is transitioning at this "
                        f"moment (state: {state}). Please try the request again later.")


def check_if_match(stored_etag: Optional[str], required: bool = False) -> None:
    """If-Match handling: ``*`` or the current ETag (quoted or not) passes; anything else is 412."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise arm.ArmError(400, "ValidationError", "The If-Match header is required for this operation.")
        return
    wanted = [h.strip().strip('"') for h in header.split(",")]
    if "*" in wanted or (stored_etag and stored_etag.strip('"') in wanted):
        return
    raise arm.ArmError(412, "PreconditionFailed", "The entity has been modified since it was read (ETag mismatch). "
                       "Read it again and retry the request.")
