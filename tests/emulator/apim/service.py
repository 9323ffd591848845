"""API Management service bodies: what a create stores, what activation adds, what an update (PUT or PATCH) turns a
service into."""

from __future__ import annotations

from typing import Optional

from flask import g, has_app_context

from emulator.apim.base import DEFAULT_SENDER, SERVICE_TYPE, display_location, new_etag, service_id, validation
from emulator.apim.hostnames import build_hostnames, builtin_hostname
from emulator.apim.identity import build_identity, check_identity_removal
from emulator.world import World

_DEFAULT_CUSTOM_PROPERTIES = {
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2": "False",
}


def validate_service_create(body: dict) -> None:
    props = body.get("properties") or {}
    missing = [f for f, v in (("location", body.get("location")), ("sku", body.get("sku")),
                              ("properties.publisherEmail", props.get("publisherEmail")),
                              ("properties.publisherName", props.get("publisherName"))) if not v]
    if missing:
        raise validation(f"'{missing[0]}' is required.", missing[0])
    if not (body.get("sku") or {}).get("name"):
        raise validation("'sku.name' is required.", "sku.name")


def new_service_body(w: World, sub: str, rg: str, name: str, body: dict) -> dict:
    """A service body right after a create request: Created, activating, URLs not yet assigned."""
    props = body.get("properties") or {}
    sku = {"name": body["sku"]["name"], "capacity": int(body["sku"].get("capacity", 1))}
    host = f"{name.lower()}.azure-api.net"
    return {
        "id": service_id(sub, rg, name), "name": name, "type": SERVICE_TYPE, "tags": body.get("tags") or {},
        "location": display_location(body["location"]), "etag": new_etag(),
        "properties": {
            "publisherEmail": props["publisherEmail"], "publisherName": props["publisherName"],
            "notificationSenderEmail": props.get("notificationSenderEmail") or DEFAULT_SENDER,
            "provisioningState": "Created", "targetProvisioningState": "Activating", "createdAtUtc": w.iso(),
            "gatewayUrl": f"https://{host}", "gatewayRegionalUrl": None, "portalUrl": None,
            "developerPortalUrl": None, "managementApiUrl": None, "scmUrl": None,
            "hostnameConfigurations": [builtin_hostname(name)], "publicIPAddresses": None,
            "privateIPAddresses": None, "additionalLocations": props.get("additionalLocations"),
            "virtualNetworkConfiguration": props.get("virtualNetworkConfiguration"),
            "customProperties": props.get("customProperties"),
            "virtualNetworkType": props.get("virtualNetworkType") or "None", "certificates": None,
            "disableGateway": bool(props.get("disableGateway", False)),
            "apiVersionConstraint": props.get("apiVersionConstraint") or {"minApiVersion": None},
            "publicIpAddressId": props.get("publicIpAddressId"),
            "publicNetworkAccess": props.get("publicNetworkAccess") or "Enabled",
            "privateEndpointConnections": None,
            "platformVersion": "mtv1" if sku["name"] == "Consumption" else "stv2",
        },
        "sku": sku, "identity": None, "zones": body.get("zones"),
        "systemData": system_data(w),
    }


def system_data(w: World, created: Optional[dict] = None) -> dict:
    caller = (g.get("caller") or {}) if has_app_context() else {}
    who = caller.get("app_id") or caller.get("object_id") or "local-azure"
    now = w.iso()
    base = created or {"createdBy": who, "createdByType": "Application", "createdAt": now}
    return {**{k: base[k] for k in ("createdBy", "createdByType", "createdAt") if k in base},
            "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now}


def activate(svc: dict) -> None:
    """What the service gains once activated: URLs, public IP, default security settings."""
    props, name = svc["properties"], svc["name"].lower()
    region = svc["location"].replace(" ", "").lower()
    consumption = svc["sku"]["name"] == "Consumption"
    if not consumption:
        props.update(gatewayRegionalUrl=f"https://{name}-{region}-01.regional.azure-api.net",
                     portalUrl=f"https://{name}.portal.azure-api.net",
                     developerPortalUrl=f"https://{name}.developer.azure-api.net",
                     managementApiUrl=f"https://{name}.management.azure-api.net",
                     scmUrl=f"https://{name}.scm.azure-api.net",
                     publicIPAddresses=[f"20.{len(name) % 200}.{sum(map(ord, name)) % 250}.10"])
    if props.get("customProperties") is None:
        props["customProperties"] = dict(_DEFAULT_CUSTOM_PROPERTIES)
    if consumption:
        props.setdefault("enableClientCertificate", False)  # a Consumption-tier setting


_UPDATABLE = ("publisherEmail", "publisherName", "notificationSenderEmail", "customProperties",
              "virtualNetworkType", "virtualNetworkConfiguration", "additionalLocations", "disableGateway",
              "apiVersionConstraint", "publicNetworkAccess", "publicIpAddressId", "enableClientCertificate",
              "natGatewayState", "developerPortalStatus", "legacyPortalStatus", "certificates")


def apply_update(w: World, svc: dict, body: dict, merge: bool) -> dict:
    """The service as it will be once a PUT (``merge=False``) or PATCH finishes; raises on invalid requests."""
    props_in = body.get("properties") or {}
    new = {**svc, "properties": dict(svc["properties"])}
    for key in _UPDATABLE:
        if key in props_in:
            new["properties"][key] = props_in[key]
    if not merge:
        validate_service_create(body)
    if body.get("sku"):
        new["sku"] = {"name": body["sku"].get("name", svc["sku"]["name"]),
                      "capacity": int(body["sku"].get("capacity", svc["sku"]["capacity"]))}
    if body.get("tags") is not None or not merge:
        new["tags"] = body.get("tags") or {}
    new["identity"] = build_identity(w, svc["name"], svc.get("identity"), body.get("identity"), merge) \
        if ("identity" in body or not merge) else svc.get("identity")
    hostnames = build_hostnames(w, new, props_in.get("hostnameConfigurations"),
                                svc["properties"].get("hostnameConfigurations") or [])
    check_identity_removal(w, svc, new["identity"], hostnames)
    new["properties"]["hostnameConfigurations"] = hostnames
    return new


def retire_system_identity(w: World, before: Optional[dict], after: Optional[dict]) -> None:
    """Removing the system-assigned identity deletes its service principal from Entra ID."""
    old = (before or {}).get("principalId")
    if old and old != (after or {}).get("principalId"):
        w.remove_principal(old)
