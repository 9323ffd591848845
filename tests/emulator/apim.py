"""Microsoft.ApiManagement in the local Azure: services, identities, hostnames, named values, loggers, policies, APIs,
certificates and backends.

Shapes follow the 2024-05-01 spec examples and the live azure-cli recordings (api-version 2021-08-01) under
``../shared/reference/arm-examples``; where they disagree the recording (real traffic) wins:

- service ``PUT`` (create) → **201** with the body (``provisioningState: Created``, ``targetProvisioningState:
  Activating``), a quoted ``ETag`` header and ``Location: …/service/{name}/operationresults/{id}``; from api-version
  2022-08-01 on also ``Azure-AsyncOperation`` (the same URL plus ``&asyncResponse``, as in the spec examples). The
  Location URL answers 202 while running and then 200 with the resource; the async URL answers a status body.
  ``PATCH`` → 202 without a body; ``DELETE`` → 202 with the body (``targetProvisioningState: Deleting``).
- Writes to a service that is still transitioning (Created/Activating/Updating/Deleting) get **409**.
- Real responses carry explicit ``null`` fields (``zones``, ``certificates``, ``identity`` when there is none, …).
- named value ``PUT``/``PATCH`` → ``location: …/namedValues/{id}?…&asyncId=…&asyncCode=201`` (200 for updates); that
  URL answers 202 while running, then the asyncCode with the entity. With api-version 2021-08-01 (the recording) a
  PUT answers **202 with an empty body**; with 2024-05-01 it answers 201/200 with the entity in provisioningState
  InProgress, as the spec examples show (azure-mgmt-apimanagement 5.x rejects a 202 there). ``PATCH`` is 202.
  Secret values never
  appear on GET or list (``listValue`` returns them).
- loggers answer synchronously; their credentials come back masked as ``{{Logger-Credentials-<id>}}``.
- policies are stored as sent and returned normalised (2-space indentation, ``\\r\\n`` line ends, ``>`` escaped in
  text) unless ``?format=rawxml`` asks for the raw text.

- certificates answer synchronously (ApiManagementCreateCertificateWithKeyVault: 201/200 with subject, thumbprint,
  expiry and ``keyVault.lastStatus``); APIM fetches a Key Vault secret during the PUT and a failed fetch is a 400
  with nothing stored. ``refreshSecret`` (ApiManagementRefreshCertificate) fetches again and answers 200.
- backends are stored as sent (only ``credentials.certificateIds`` matters here: which certificates they use).

Key Vault references (hostname certificates, named values, certificates) are read through :mod:`emulator.resolve`.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any, Callable, Optional

from flask import Blueprint, Response, request
from lxml import etree

from emulator import arm, pfx, resolve, resources
from emulator.world import Operation, World

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
_DEFAULT_CUSTOM_PROPERTIES = {
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30": "False",
    "Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2": "False",
}

SERVICE = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ApiManagement/service/<name>"


# ======================================================================================================================
# small helpers
# ======================================================================================================================

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


def _not_found(what: str) -> arm.ArmError:
    # APIM's own 404 wording for entities inside a service ("Api not found.", "Logger not found.").
    return arm.ArmError(404, "ResourceNotFound", f"{what} not found.")


def _validation(message: str, target: Optional[str] = None, details_message: Optional[str] = None) -> arm.ArmError:
    """APIM's ValidationError envelope: a summary plus one detail naming the offending field."""
    details = None
    if target:
        details = [{"code": "ValidationError", "target": target, "message": details_message or message}]
        message = "One or more fields contain incorrect values:"
    return arm.ArmError(400, "ValidationError", message, details)


def _require_rg(w: World, sub: str, rg: str) -> None:
    if w.get(f"/subscriptions/{sub}/resourceGroups/{rg}") is None:
        raise arm.ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def _service_or_404(w: World, sub: str, rg: str, name: str) -> dict:
    _require_rg(w, sub, rg)
    svc = w.get(service_id(sub, rg, name))
    if svc is None:
        raise arm.not_found(SERVICE_TYPE, name, rg)
    return svc


def _online_service(w: World, sub: str, rg: str, name: str) -> dict:
    """The service for an entity operation; its management API only answers once the service is activated."""
    svc = _service_or_404(w, sub, rg, name)
    state = svc["properties"].get("provisioningState")
    if state in NOT_ONLINE or svc["properties"].get("targetProvisioningState") in ("Activating", "Deleting"):
        raise _busy(svc)
    return svc


def _busy(svc: dict) -> arm.ArmError:
    # Wording not confirmed against the live service; the status (409) and the retry advice are what clients act on.
    props = svc["properties"]
    state = props.get("targetProvisioningState") or props.get("provisioningState")
    return arm.ArmError(409, "Conflict", f"The API Management service '{svc['name']}' is transitioning at this "
                        f"moment (state: {state}). Please try the request again later.")


def _check_if_match(stored_etag: Optional[str], required: bool = False) -> None:
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


# ======================================================================================================================
# identity
# ======================================================================================================================

def _normalise_identity_type(kind: Optional[str]) -> str:
    raw = (kind or "None").replace(" ", "").lower()
    return {"none": "None", "systemassigned": "SystemAssigned", "userassigned": "UserAssigned",
            "systemassigned,userassigned": "SystemAssigned, UserAssigned"}.get(raw, "")


def _user_identity(w: World, res_id: str) -> dict:
    uami = w.get(res_id)
    if uami is None or uami.get("type", "").lower() != "microsoft.managedidentity/userassignedidentities":
        # ARM's wording when the identity a resource refers to does not exist.
        raise arm.ArmError(400, "FailedIdentityOperation",
                           f"Identity operation for resource '{request.path}' failed with error 'Failed to perform "
                           f"resource identity operation. Status: 'NotFound'. Response: '{{\"error\":{{\"code\":"
                           f"\"NotFound\",\"message\":\"Resource '{res_id}' was not found.\"}}}}'.'.")
    return uami


def _check_user_assigned(requested: dict) -> None:
    for res_id, value in requested.items():
        if value and (value.get("principalId") or value.get("clientId")):
            raise arm.ArmError(400, "InvalidIdentityValues",
                               f"Invalid value for the identities '{res_id}'. The 'UserAssignedIdentities' property "
                               "keys should only be empty json objects or null; principalId and clientId are "
                               "read-only.")


def build_identity(w: World, svc_name: str, current: Optional[dict], requested: Optional[dict],
                   merge: bool) -> Optional[dict]:
    """The identity block after a PUT (``merge=False``) or PATCH (``merge=True``) asking for ``requested``."""
    if requested is None:
        return current if merge else None
    kind = _normalise_identity_type(requested.get("type"))
    if not kind:
        raise _validation(f"The identity type '{requested.get('type')}' is not supported. Use SystemAssigned, "
                          "UserAssigned, 'SystemAssigned, UserAssigned' or None.", "identity.type")
    if kind == "None":
        return None
    out: dict[str, Any] = {"type": kind, "tenantId": w.tenant_id}
    if "SystemAssigned" in kind:
        old_pid = (current or {}).get("principalId")
        if not old_pid:
            old_pid = w.new_principal(svc_name, "ManagedIdentity")["object_id"]
        out["principalId"] = old_pid
    if "UserAssigned" in kind:
        out["userAssignedIdentities"] = _build_user_assigned(w, current, requested, merge)
        if not out["userAssignedIdentities"]:
            raise _validation("At least one user-assigned identity is required for identity type "
                              f"'{kind}'.", "identity.userAssignedIdentities")
    return out


def _build_user_assigned(w: World, current: Optional[dict], requested: dict, merge: bool) -> dict:
    wanted = requested.get("userAssignedIdentities") or {}
    _check_user_assigned(wanted)
    result: dict[str, dict] = {}
    if merge:
        result.update((current or {}).get("userAssignedIdentities") or {})
    for res_id, value in wanted.items():
        existing = next((k for k in result if k.lower() == res_id.lower()), None)
        if value is None:
            if existing:
                del result[existing]
            continue
        uami = _user_identity(w, res_id)
        result.pop(existing, None) if existing else None
        result[uami["id"]] = {"principalId": uami["properties"]["principalId"],
                              "clientId": uami["properties"]["clientId"]}
    if len(result) > MAX_USER_ASSIGNED:
        raise _validation(f"An API Management service can have at most {MAX_USER_ASSIGNED} user-assigned "
                          f"identities; the request has {len(result)}.", "identity.userAssignedIdentities")
    return result


def _identity_label(w: World, svc: dict, client_id: Optional[str]) -> str:
    if not client_id or client_id == "SystemAssigned":
        return "SystemAssigned"
    return client_id


def identities_in_use(w: World, svc: dict, hostnames: list[dict]) -> list[tuple[str, str]]:
    """(identity client id or 'SystemAssigned', what uses it) for hostnames, KV named values and MI loggers."""
    used: list[tuple[str, str]] = []
    for host in hostnames:
        if host.get("keyVaultId"):
            used.append((_identity_label(w, svc, host.get("identityClientId")),
                         f"hostname configuration '{host.get('hostName')}'"))
    for nv in w.children(svc["id"], NV_TYPE):
        kv = nv["properties"].get("keyVault")
        if kv:
            used.append((_identity_label(w, svc, kv.get("identityClientId")), f"named value '{nv['name']}'"))
    for logger in w.children(svc["id"], LOGGER_TYPE):
        client = (logger.get("_credentials") or {}).get("identityClientId")
        if client:
            used.append((_identity_label(w, svc, client), f"logger '{logger['name']}'"))
    return used


def _check_identity_removal(w: World, svc: dict, new_identity: Optional[dict], hostnames: list[dict]) -> None:
    probe = dict(svc, identity=new_identity)
    for label, user in identities_in_use(w, svc, hostnames):
        client = None if label == "SystemAssigned" else label
        if resolve.find_identity(w, probe, client) is None:
            # Documented behaviour ("disabling the identity fails while a Key Vault certificate uses it"); the exact
            # wording of the live error is not published, this one names the blocker.
            raise arm.ArmError(400, "InvalidOperation",
                               f"Cannot remove or change managed identity '{label}' of API Management service "
                               f"'{svc['name']}': it is used by {user} to access Azure Key Vault. Point it to "
                               "another identity (or use an inline certificate) first.")


# ======================================================================================================================
# hostname configurations
# ======================================================================================================================

def builtin_hostname(name: str, default_ssl: bool = True) -> dict:
    """The ``<name>.azure-api.net`` Proxy hostname every service has."""
    return {"type": "Proxy", "hostName": f"{name.lower()}.azure-api.net", "encodedCertificate": None,
            "keyVaultId": None, "certificatePassword": None, "negotiateClientCertificate": False,
            "certificate": None, "defaultSslBinding": default_ssl, "identityClientId": None,
            "certificateSource": "BuiltIn", "certificateStatus": None}


def _hostname_error(host: dict, res: resolve.Resolution, svc: dict) -> arm.ArmError:
    """Render a failed Key Vault read of a hostname certificate the way APIM reports it."""
    if res.step == "identity":
        return _validation(res.message, "identityClientId")
    if res.step == "uri":
        return arm.ArmError(400, "InvalidParameters", res.message)
    if res.step == "content":
        return arm.ArmError(400, "InvalidParameters", res.message)
    ident = res.identity
    kind = ident.kind if ident else "SystemAssigned"
    return arm.ArmError(400, "InvalidOperation",
                        f"Failed to access KeyVault Secret {host['keyVaultId']} using Managed Service Identity "
                        f"(http://aka.ms/apimmsi) of Api Management service. Check if Managed Identity of Type: "
                        f"{kind}, ClientId: {ident.client_id if ident else ''} and ObjectId: "
                        f"{ident.principal_id if ident else ''} has GET permissions on secrets in the KeyVault "
                        f"Access Policies. (Key Vault answered {res.code}/{res.inner_code or res.code}.)")


def _keyvault_hostname(w: World, svc: dict, host: dict, previous: Optional[dict]) -> dict:
    out = dict(builtin_hostname(svc["name"]), **{k: host.get(k) for k in ("type", "hostName", "keyVaultId")})
    out.update(certificateSource="KeyVault", identityClientId=host.get("identityClientId"))
    same = previous and previous.get("keyVaultId") == host["keyVaultId"] and \
        previous.get("identityClientId") == host.get("identityClientId") and previous.get("certificate")
    if same:
        out.update(certificate=previous["certificate"], certificateStatus=previous.get("certificateStatus"))
        return out
    res = resolve.resolve_secret(w, svc, host["keyVaultId"], host.get("identityClientId"), want_certificate=True)
    if not res.ok:
        raise _hostname_error(host, res, svc)
    out.update(certificate=res.certificate.as_arm(), certificateStatus="Completed")
    return out


def _inline_hostname(svc: dict, host: dict) -> dict:
    out = dict(builtin_hostname(svc["name"]), type=host["type"], hostName=host["hostName"])
    try:
        info = pfx.read_pfx_b64(host["encodedCertificate"], host.get("certificatePassword"))
    except pfx.PfxError as exc:
        raise arm.ArmError(400, "InvalidParameters", f"Invalid certificate for hostname '{host['hostName']}': "
                           f"{exc}. Check the certificate and its password.") from exc
    out.update(certificate=info.as_arm(), certificateSource="Custom", certificateStatus="Completed")
    out["_encodedCertificate"] = "<kept privately>"
    return out


def _hostname_entry(w: World, svc: dict, host: dict, previous: Optional[dict]) -> dict:
    if host.get("type") not in HOSTNAME_TYPES or not host.get("hostName"):
        raise _validation("Each hostname configuration needs a type (" + ", ".join(HOSTNAME_TYPES) +
                          ") and a hostName.", "hostnameConfigurations")
    if host.get("keyVaultId"):
        out = _keyvault_hostname(w, svc, host, previous)
    elif host.get("encodedCertificate"):
        out = _inline_hostname(svc, host)
    elif previous and previous.get("certificate") and previous.get("certificateSource") in ("Custom", "Managed"):
        out = dict(previous)  # sending back what GET returned keeps the uploaded certificate
    else:
        raise arm.ArmError(400, "InvalidParameters", f"A certificate is required for hostname "
                           f"'{host['hostName']}': set keyVaultId or encodedCertificate.")
    out["negotiateClientCertificate"] = bool(host.get("negotiateClientCertificate", False))
    out["defaultSslBinding"] = bool(host.get("defaultSslBinding", False))
    return out


def build_hostnames(w: World, svc: dict, requested: Optional[list], current: list[dict]) -> list[dict]:
    """The hostname list after a write; the built-in Proxy hostname is always kept."""
    if requested is None:
        return current
    builtin = f"{svc['name'].lower()}.azure-api.net"
    by_host = {(h.get("type"), str(h.get("hostName", "")).lower()): h for h in current}
    custom = [_hostname_entry(w, svc, h, by_host.get((h.get("type"), str(h.get("hostName", "")).lower())))
              for h in requested if str(h.get("hostName", "")).lower() != builtin]
    seen = set()
    for h in custom:
        key = (h["type"], h["hostName"].lower())
        if key in seen:
            raise _validation(f"Hostname '{h['hostName']}' is configured twice.", "hostnameConfigurations")
        seen.add(key)
    default_taken = any(h["type"] == "Proxy" and h["defaultSslBinding"] for h in custom)
    return [builtin_hostname(svc["name"], default_ssl=not default_taken)] + custom


# ======================================================================================================================
# service bodies
# ======================================================================================================================

def _validate_service_create(body: dict) -> None:
    props = body.get("properties") or {}
    missing = [f for f, v in (("location", body.get("location")), ("sku", body.get("sku")),
                              ("properties.publisherEmail", props.get("publisherEmail")),
                              ("properties.publisherName", props.get("publisherName"))) if not v]
    if missing:
        raise _validation(f"'{missing[0]}' is required.", missing[0])
    if not (body.get("sku") or {}).get("name"):
        raise _validation("'sku.name' is required.", "sku.name")


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
        "systemData": _system_data(w),
    }


def _system_data(w: World, created: Optional[dict] = None) -> dict:
    from flask import g, has_app_context

    caller = (g.get("caller") or {}) if has_app_context() else {}
    who = caller.get("app_id") or caller.get("object_id") or "local-azure"
    now = w.iso()
    base = created or {"createdBy": who, "createdByType": "Application", "createdAt": now}
    return {**{k: base[k] for k in ("createdBy", "createdByType", "createdAt") if k in base},
            "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now}


def _activate(svc: dict) -> None:
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
        _validate_service_create(body)
    if body.get("sku"):
        new["sku"] = {"name": body["sku"].get("name", svc["sku"]["name"]),
                      "capacity": int(body["sku"].get("capacity", svc["sku"]["capacity"]))}
    if body.get("tags") is not None or not merge:
        new["tags"] = body.get("tags") or {}
    new["identity"] = build_identity(w, svc["name"], svc.get("identity"), body.get("identity"), merge) \
        if ("identity" in body or not merge) else svc.get("identity")
    hostnames = build_hostnames(w, new, props_in.get("hostnameConfigurations"),
                                svc["properties"].get("hostnameConfigurations") or [])
    _check_identity_removal(w, svc, new["identity"], hostnames)
    new["properties"]["hostnameConfigurations"] = hostnames
    return new


def _retire_system_identity(w: World, before: Optional[dict], after: Optional[dict]) -> None:
    """Removing the system-assigned identity deletes its service principal from Entra ID."""
    old = (before or {}).get("principalId")
    if old and old != (after or {}).get("principalId"):
        w.remove_principal(old)


def seed_service(w: World, rg: str, spec: dict) -> dict:
    """Seeding hook for the admin interface: an activated service (state Succeeded) shaped like ``GET`` returns it.

    ``spec``: name, location, sku (name), capacity, publisher_email, publisher_name, tags, and
    identity ``{type, user_assigned: [name or ARM id, ...]}``.
    """
    name = spec["name"]
    body = {"location": spec.get("location") or w.location, "tags": spec.get("tags") or {},
            "sku": {"name": spec.get("sku", "Developer"), "capacity": int(spec.get("capacity", 1))},
            "properties": {"publisherEmail": spec.get("publisher_email", "admin@contoso.com"),
                           "publisherName": spec.get("publisher_name", "Contoso")}}
    svc = new_service_body(w, w.subscription_id, rg, name, body)
    _activate(svc)
    svc["properties"].update(provisioningState="Succeeded", targetProvisioningState="")
    identity = _seed_identity(w, name, spec.get("identity"))
    svc.pop("identity")
    if identity:
        svc["identity"] = identity  # absent in the stored state when none; GET renders it as null
    svc["properties"]["hostnameConfigurations"] += [_seed_hostname(w, svc, h) for h in spec.get("hostnames", [])]
    stored = w.put(svc["id"], svc)
    for nv in spec.get("named_values", []):
        _seed_named_value(w, stored, nv)
    return stored


def _seed_hostname(w: World, svc: dict, spec: dict) -> dict:
    """A Key Vault hostname as GET shows it once APIM fetched the certificate: ``{host_name, key_vault_id,
    identity_client_id, expires_in_days, subject}`` (no vault needed: the fetch happened in the past)."""
    expiry = time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                           time.gmtime(w.wallclock() + float(spec.get("expires_in_days", 365)) * 86400))
    host = dict(builtin_hostname(svc["name"], default_ssl=False), type=spec.get("type", "Proxy"),
                hostName=spec["host_name"], keyVaultId=spec["key_vault_id"],
                identityClientId=spec.get("identity_client_id"), certificateSource="KeyVault",
                certificateStatus="Completed")
    host["certificate"] = {"expiry": expiry, "thumbprint": uuid.uuid5(uuid.NAMESPACE_DNS, spec["host_name"]).hex[:40]
                           .upper(), "subject": spec.get("subject", "CN=" + spec["host_name"])}
    return host


def _seed_named_value(w: World, svc: dict, spec: dict) -> None:
    """A Key Vault named value with a recorded ``lastStatus``: ``{name, key_vault_secret_id, identity_client_id,
    last_status}`` (a code such as Success or SecretNotFound)."""
    body = _nv_body(w, svc, spec["name"], {"displayName": spec["name"], "keyVault": {
        "secretIdentifier": spec["key_vault_secret_id"], "identityClientId": spec.get("identity_client_id")}}, None)
    code = spec.get("last_status", "Success")
    status: dict[str, Any] = {"code": code, "timeStampUtc": w.iso()}
    if code != "Success":
        status["message"] = f"Key Vault answered {code} for {spec['key_vault_secret_id']}."
    body["properties"]["keyVault"]["lastStatus"] = status
    body["properties"]["provisioningState"] = "Succeeded"
    w.put(body["id"], body)


def _seed_identity(w: World, name: str, spec: Optional[dict]) -> Optional[dict]:
    kind = _normalise_identity_type((spec or {}).get("type"))
    if kind in ("", "None"):
        return None
    out: dict[str, Any] = {"type": kind, "tenantId": w.tenant_id}
    if "SystemAssigned" in kind:
        principal = w.new_principal(name, "ManagedIdentity")
        principal["created_at"] = -1e9  # seeded identities are long replicated
        out["principalId"] = principal["object_id"]
    if "UserAssigned" in kind:
        out["userAssignedIdentities"] = {}
        for ref in spec.get("user_assigned", []):
            uami = w.get(ref) if ref.startswith("/") else next(
                (i for i in w.list("Microsoft.ManagedIdentity/userAssignedIdentities") if i["name"] == ref), None)
            if uami is None:
                raise KeyError(f"user-assigned identity {ref!r} is not in the world")
            props = uami["properties"]
            out["userAssignedIdentities"][uami["id"]] = {"principalId": props["principalId"],
                                                         "clientId": props["clientId"]}
    return out


# ======================================================================================================================
# service LRO plumbing
# ======================================================================================================================

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
        _activate(svc)
        svc["properties"].update(provisioningState="Succeeded", targetProvisioningState="")
        svc["etag"] = new_etag()
    return done


def _finish_update(sid: str, target: dict) -> Callable[[World], None]:
    def done(w: World) -> None:
        svc = w.get(sid)
        if svc is None:
            return
        _retire_system_identity(w, svc.get("identity"), target.get("identity"))
        target["properties"].update(provisioningState="Succeeded", targetProvisioningState="")
        target["etag"] = new_etag()
        target["systemData"] = svc.get("systemData")
        w.put(sid, {k: v for k, v in target.items() if k != "_operation"})
    return done


def _finish_delete(sid: str) -> Callable[[World], None]:
    def done(w: World) -> None:
        svc = w.delete(sid)
        if svc:
            _retire_system_identity(w, svc.get("identity"), None)
    return done


# ======================================================================================================================
# service routes
# ======================================================================================================================

def _service_response(svc: dict, status: int, headers: Optional[dict] = None) -> Response:
    body = arm.public(svc)
    body.setdefault("identity", None)  # the live service always sends the key (null when there is no identity)
    return arm.json_response(body, status, etag=svc.get("etag"), headers=headers)


@bp.get(SERVICE)
def get_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_Get."""
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
        return _service_response(_service_or_404(w, sub, rg, name), 200)


@bp.put(SERVICE)
def put_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_CreateOrUpdate: 201 + LRO on create; 200 (Updating) + LRO on update."""
    arm.require_api_version(SERVICE_TYPE)
    body = arm.parse_json_body()
    w = arm.world()
    with w.lock:
        _require_rg(w, sub, rg)
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
    _validate_service_create(body)
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
        raise _busy(current)
    _check_if_match(current.get("etag"))
    with _principals_rolled_back(w):
        target = apply_update(w, current, body, merge)
    target["systemData"] = _system_data(w, current.get("systemData"))
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
    arm.require_api_version(SERVICE_TYPE)
    body = arm.parse_json_body()
    w = arm.world()
    with w.lock:
        return _update_service(w, _service_or_404(w, sub, rg, name), body, merge=True)


@bp.delete(SERVICE)
def delete_service(sub: str, rg: str, name: str) -> Response:
    """ApiManagementService_Delete: 202 with the body (targetProvisioningState Deleting), 204 when absent."""
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
        _require_rg(w, sub, rg)
        svc = w.get(service_id(sub, rg, name))
        if svc is None:
            return arm.empty_response(204)
        if svc["properties"].get("targetProvisioningState") == "Deleting":
            op = w.operations[svc["_operation"]]
            return _service_response(svc, 202, _lro_headers(w, svc, op, max(0.0, op.due - w.now())))
        if svc["properties"].get("provisioningState") in TRANSITIONING:
            raise _busy(svc)
        svc["properties"]["targetProvisioningState"] = "Deleting"
        duration = float(w.config.get("apim_delete_s", 10.0))
        op = _start(w, svc, duration, _finish_delete(svc["id"]), "delete")
        return _service_response(svc, 202, _lro_headers(w, svc, op, duration))


@bp.get(SERVICE + "/operationResults/<op_id>")
def service_operation_result(sub: str, rg: str, name: str, op_id: str) -> Response:
    """Polling URL of service operations: status body with ``asyncResponse``, else 202 → final result."""
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
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
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
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
        _require_rg(arm.world(), sub, rg)
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
    arm.require_api_version(SERVICE_TYPE)
    name = str(arm.parse_json_body().get("name", ""))
    w = arm.world()
    with w.lock:
        taken = any(s["name"].lower() == name.lower() for s in w.list(SERVICE_TYPE))
    if taken:
        return arm.json_response({"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": f"{name} is already in use"})
    return arm.json_response({"nameAvailable": True, "reason": "Valid", "message": ""})


# ======================================================================================================================
# named values
# ======================================================================================================================

NV = SERVICE + "/namedValues/<nv>"
_DISPLAY_NAME = re.compile(r"^[A-Za-z0-9-._]+$")


def _nv_id(svc: dict, nv: str) -> str:
    return f"{svc['id']}/namedValues/{nv}"


def _nv_or_404(w: World, svc: dict, nv: str) -> dict:
    stored = w.get(_nv_id(svc, nv))
    if stored is None or stored.get("_pending"):
        raise _not_found("Property")  # APIM still calls named values "properties" in its messages
    return stored


def _nv_public(nv: dict) -> dict:
    body = arm.public(nv)
    props = body["properties"]
    if props.get("secret"):
        props.pop("value", None)
    return body


def _validate_nv(w: World, svc: dict, nv_name: str, props: dict) -> None:
    display = props.get("displayName")
    if not display or len(display) > 256 or not _DISPLAY_NAME.match(display):
        raise _validation("'displayName' is required and may contain only letters, digits, '-', '.' and '_'.",
                          "displayName")
    if props.get("keyVault") and props.get("value") is not None:
        raise _validation("Specify either a value or a keyVault reference, not both.", "value")
    if not props.get("keyVault") and props.get("value") in (None, ""):
        raise _validation("'value' is required when no keyVault reference is given.", "value")
    if len(str(props.get("value") or "")) > 4096:
        raise _validation("'value' may be at most 4096 characters long.", "value")
    for other in w.children(svc["id"], NV_TYPE):
        if other["name"].lower() != nv_name.lower() and \
                other["properties"].get("displayName", "").lower() == display.lower():
            raise _validation(f"A named value with display name '{display}' already exists.", "displayName")


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


def _nv_body(w: World, svc: dict, nv_name: str, props: dict, old: Optional[dict]) -> dict:
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
    body = {"id": _nv_id(svc, nv_name), "type": NV_TYPE, "name": nv_name, "properties": out,
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
    return (f"{arm.base_url()}{_nv_id(svc, nv_name)}{suffix}?api-version={api_version()}"
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
    arm.require_api_version(NV_TYPE)
    body = arm.parse_json_body()
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        old = w.get(_nv_id(svc, nv))
        if old is not None and old.get("_pending"):
            old = None
        if merge and old is None:
            raise _not_found("Property")
        _check_if_match((old or {}).get("_etag"))
        props = dict(body.get("properties") or {})
        if merge:
            props = {**_nv_props_for_merge(old), **{k: v for k, v in props.items() if v is not None}}
            if props.get("keyVault") and "value" in (body.get("properties") or {}):
                props.pop("keyVault")
            elif (body.get("properties") or {}).get("keyVault"):
                props.pop("value", None)
        _validate_nv(w, svc, nv, props)
        target = _nv_body(w, svc, nv, props, old)
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
    nv = _nv_or_404(w, svc, nv_name)
    return arm.json_response(_nv_public(nv), code, etag=nv["_etag"])


@bp.get(NV)
def get_named_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_Get (also the polling URL of writes when ``asyncId`` is present)."""
    arm.require_api_version(NV_TYPE)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        polled = _async_result(w, svc, nv)
        if polled is not None:
            return polled
        stored = _nv_or_404(w, svc, nv)
        return arm.json_response(_nv_public(stored), 200, etag=stored["_etag"])


@bp.delete(NV)
def delete_named_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_Delete: 200, or 204 when it did not exist."""
    arm.require_api_version(NV_TYPE)
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        stored = w.get(_nv_id(svc, nv))
        if stored is None or stored.get("_pending"):
            return arm.empty_response(204)
        _check_if_match(stored.get("_etag"))
        w.delete(stored["id"])
        return arm.empty_response(200)


@bp.get(SERVICE + "/namedValues")
def list_named_values(sub: str, rg: str, name: str) -> Response:
    """NamedValue_ListByService (with ``count``; secret values omitted)."""
    arm.require_api_version(NV_TYPE)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        items = [_nv_public(nv) for nv in w.children(svc["id"], NV_TYPE) if not nv.get("_pending")]
        return arm.json_response({"value": items, "count": len(items)})


@bp.post(NV + "/listValue")
def list_value(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_ListValue: the secret value, with the entity's ETag."""
    arm.require_api_version(NV_TYPE)
    w = arm.world()
    with w.lock:
        stored = _nv_or_404(w, _service_or_404(w, sub, rg, name), nv)
        if "_value" not in stored:
            status = (stored["properties"].get("keyVault") or {}).get("lastStatus") or {}
            raise arm.ArmError(400, "ValidationError", "The Key Vault secret of this named value could not be "
                               f"read (last status: {status.get('code', 'unknown')}). Fix access and call "
                               "refreshSecret.")
        return arm.json_response({"value": stored["_value"]}, 200, etag=stored["_etag"])


@bp.post(NV + "/refreshSecret")
def refresh_secret(sub: str, rg: str, name: str, nv: str) -> Response:
    """NamedValue_RefreshSecret: 202, then the entity with a fresh ``keyVault.lastStatus``."""
    arm.require_api_version(NV_TYPE)
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        stored = _nv_or_404(w, svc, nv)
        if not stored["properties"].get("keyVault"):
            raise _validation("Only Key Vault named values can be refreshed.", "keyVault")

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
    arm.require_api_version(NV_TYPE)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        polled = _async_result(w, svc, nv, suffix="/refreshSecret")
        if polled is None:
            raise arm.ArmError(405, "MethodNotAllowed", "refreshSecret is a POST operation.")
        return polled


@bp.get(SERVICE + "/tenant/operationResults/<async_id>")
def tenant_operation_result(sub: str, rg: str, name: str, async_id: str) -> Response:
    """The Azure-AsyncOperation URL of entity writes: ``{"status": InProgress|Succeeded|Failed, ...}``."""
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        op = _async_op(w, svc, async_id)
        body = op.to_status(w)
        body["id"] = f"{svc['id']}/tenant/operationResults/{async_id}"
        body["name"] = async_id
        headers = {} if op.done else {"Retry-After": retry_after(w, op.due - w.now())}
        return arm.json_response(body, 200, headers=headers)


# ======================================================================================================================
# loggers
# ======================================================================================================================

LOGGER = SERVICE + "/loggers/<logger>"
LOGGER_TYPES = ("azureEventHub", "applicationInsights", "azureMonitor")


def _logger_credentials(w: World, svc: dict, logger_type: str, creds: dict) -> tuple[dict, dict]:
    """(private credentials, what GET shows) for a logger; secrets become ``{{Logger-Credentials-<id>}}``."""
    if logger_type == "azureMonitor":
        return {}, {}
    shown: dict[str, Any] = {}
    if logger_type == "azureEventHub":
        if not creds.get("name"):
            raise _validation("'credentials.name' (the event hub) is required for an azureEventHub logger.",
                              "credentials")
        if creds.get("connectionString"):
            shown["connectionString"] = "{{Logger-Credentials-%s}}" % uuid.uuid4().hex[:24]
        elif creds.get("endpointAddress") and creds.get("identityClientId"):
            client = creds["identityClientId"]
            if resolve.find_identity(w, svc, None if client == "SystemAssigned" else client) is None:
                raise _validation("credentials", "identityClientId",
                                  f"Can not find Managed Identity with provided IdentityClientId : {client}. "
                                  "For more information please see aka.ms/apimmsi.")
            shown.update(name=creds["name"], endpointAddress=creds["endpointAddress"], identityClientId=client)
        else:
            raise _validation("An azureEventHub logger needs credentials.connectionString, or "
                              "credentials.endpointAddress with credentials.identityClientId.", "credentials")
    else:
        if not (creds.get("instrumentationKey") or creds.get("connectionString")):
            raise _validation("An applicationInsights logger needs credentials.instrumentationKey or "
                              "credentials.connectionString.", "credentials")
        key = "connectionString" if creds.get("connectionString") else "instrumentationKey"
        shown[key] = "{{Logger-Credentials-%s}}" % uuid.uuid4().hex[:24]
    return dict(creds), shown


def _logger_or_404(w: World, svc: dict, logger: str) -> dict:
    stored = w.get(f"{svc['id']}/loggers/{logger}")
    if stored is None:
        raise _not_found("Logger")
    return stored


@bp.put(LOGGER)
def put_logger(sub: str, rg: str, name: str, logger: str) -> Response:
    """Logger_CreateOrUpdate: 201 on create, 200 on update (synchronous)."""
    arm.require_api_version(LOGGER_TYPE)
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        lid = f"{svc['id']}/loggers/{logger}"
        old = w.get(lid)
        _check_if_match((old or {}).get("_etag"))
        if props.get("loggerType") not in LOGGER_TYPES:
            raise _validation(f"'loggerType' must be one of {', '.join(LOGGER_TYPES)}.", "loggerType")
        private, shown = _logger_credentials(w, svc, props["loggerType"], props.get("credentials") or {})
        out = {"loggerType": props["loggerType"], "description": props.get("description"),
               "credentials": shown, "isBuffered": bool(props.get("isBuffered", True)),
               "resourceId": props.get("resourceId")}
        body = {"id": lid, "type": LOGGER_TYPE, "name": logger, "properties": out, "_etag": new_etag(),
                "_credentials": private}
        w.put(lid, body)
        return arm.json_response(arm.public(body), 200 if old else 201, etag=body["_etag"])


@bp.get(LOGGER)
def get_logger(sub: str, rg: str, name: str, logger: str) -> Response:
    """Logger_Get."""
    arm.require_api_version(LOGGER_TYPE)
    w = arm.world()
    with w.lock:
        stored = _logger_or_404(w, _service_or_404(w, sub, rg, name), logger)
        return arm.json_response(arm.public(stored), 200, etag=stored["_etag"])


@bp.delete(LOGGER)
def delete_logger(sub: str, rg: str, name: str, logger: str) -> Response:
    """Logger_Delete."""
    arm.require_api_version(LOGGER_TYPE)
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        stored = w.get(f"{svc['id']}/loggers/{logger}")
        if stored is None:
            return arm.empty_response(204)
        _check_if_match(stored.get("_etag"))
        w.delete(stored["id"])
        return arm.empty_response(200)


@bp.get(SERVICE + "/loggers")
def list_loggers(sub: str, rg: str, name: str) -> Response:
    """Logger_ListByService."""
    arm.require_api_version(LOGGER_TYPE)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        items = arm.paged(w.children(svc["id"], LOGGER_TYPE))["value"]
        return arm.json_response({"value": items, "count": len(items)})


# ======================================================================================================================
# APIs and operations (minimal: they exist so that API/operation policy scopes exist)
# ======================================================================================================================

API = SERVICE + "/apis/<api>"
OPERATION = API + "/operations/<operation>"


def _api_or_404(w: World, svc: dict, api: str) -> dict:
    stored = w.get(f"{svc['id']}/apis/{api}")
    if stored is None:
        raise _not_found("Api")
    return stored


def _operation_or_404(w: World, api: dict, operation: str) -> dict:
    stored = w.get(f"{api['id']}/operations/{operation}")
    if stored is None:
        raise _not_found("Operation")
    return stored


@bp.put(API)
def put_api(sub: str, rg: str, name: str, api: str) -> Response:
    """Api_CreateOrUpdate (synchronous here): displayName and path are required."""
    arm.require_api_version(API_TYPE)
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        aid = f"{svc['id']}/apis/{api}"
        old = w.get(aid)
        if not props.get("displayName") or props.get("path") is None:
            raise _validation("'displayName' and 'path' are required.", "displayName")
        out = {"displayName": props["displayName"], "path": props["path"], "apiRevision": "1",
               "description": props.get("description"), "serviceUrl": props.get("serviceUrl"),
               "protocols": props.get("protocols") or ["https"], "subscriptionRequired": props.get(
                   "subscriptionRequired", True), "isCurrent": True}
        body = {"id": aid, "type": API_TYPE, "name": api, "properties": out, "_etag": new_etag()}
        w.put(aid, body) if old is None else old.update(properties=out, _etag=body["_etag"])
        stored = w.get(aid)
        return arm.json_response(arm.public(stored), 200 if old else 201, etag=stored["_etag"])


@bp.get(API)
def get_api(sub: str, rg: str, name: str, api: str) -> Response:
    """Api_Get."""
    arm.require_api_version(API_TYPE)
    w = arm.world()
    with w.lock:
        stored = _api_or_404(w, _service_or_404(w, sub, rg, name), api)
        return arm.json_response(arm.public(stored), 200, etag=stored["_etag"])


@bp.delete(API)
def delete_api(sub: str, rg: str, name: str, api: str) -> Response:
    """Api_Delete (its operations and policies go with it)."""
    arm.require_api_version(API_TYPE)
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        removed = w.delete(f"{svc['id']}/apis/{api}")
        return arm.empty_response(200 if removed else 204)


@bp.get(SERVICE + "/apis")
def list_apis(sub: str, rg: str, name: str) -> Response:
    """Api_ListByService."""
    arm.require_api_version(API_TYPE)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        items = arm.paged(w.children(svc["id"], API_TYPE))["value"]
        return arm.json_response({"value": items, "count": len(items)})


@bp.put(OPERATION)
def put_operation(sub: str, rg: str, name: str, api: str, operation: str) -> Response:
    """ApiOperation_CreateOrUpdate: displayName, method and urlTemplate are required."""
    arm.require_api_version(OPERATION_TYPE)
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        parent = _api_or_404(w, _online_service(w, sub, rg, name), api)
        oid = f"{parent['id']}/operations/{operation}"
        old = w.get(oid)
        if not props.get("displayName") or not props.get("method") or not props.get("urlTemplate"):
            raise _validation("'displayName', 'method' and 'urlTemplate' are required.", "method")
        out = {"displayName": props["displayName"], "method": props["method"].upper(),
               "urlTemplate": props["urlTemplate"], "description": props.get("description"),
               "templateParameters": props.get("templateParameters") or [], "responses": props.get("responses") or []}
        body = {"id": oid, "type": OPERATION_TYPE, "name": operation, "properties": out, "_etag": new_etag()}
        w.put(oid, body) if old is None else old.update(properties=out, _etag=body["_etag"])
        stored = w.get(oid)
        return arm.json_response(arm.public(stored), 200 if old else 201, etag=stored["_etag"])


@bp.get(OPERATION)
def get_operation(sub: str, rg: str, name: str, api: str, operation: str) -> Response:
    """ApiOperation_Get."""
    arm.require_api_version(OPERATION_TYPE)
    w = arm.world()
    with w.lock:
        parent = _api_or_404(w, _service_or_404(w, sub, rg, name), api)
        stored = _operation_or_404(w, parent, operation)
        return arm.json_response(arm.public(stored), 200, etag=stored["_etag"])


@bp.delete(OPERATION)
def delete_operation(sub: str, rg: str, name: str, api: str, operation: str) -> Response:
    """ApiOperation_Delete."""
    arm.require_api_version(OPERATION_TYPE)
    w = arm.world()
    with w.lock:
        parent = _api_or_404(w, _online_service(w, sub, rg, name), api)
        removed = w.delete(f"{parent['id']}/operations/{operation}")
        return arm.empty_response(200 if removed else 204)


# ======================================================================================================================
# policies (service, API and operation scope)
# ======================================================================================================================

POLICY_FORMATS = ("xml", "xml-link", "rawxml", "rawxml-link")
_BARE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);)")
_SELF_CLOSING = re.compile(r"(?<! )/>")


def normalise_policy(value: str, fmt: str) -> str:
    """Parse a policy document and render it the way APIM returns it (xml format).

    ``rawxml`` documents may carry unescaped ``&`` inside policy expressions; APIM accepts them and escapes them
    when it renders the document as XML. The root element must be ``<policies>``.
    """
    text = _BARE_AMPERSAND.sub("&amp;", value) if fmt.startswith("rawxml") else value
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise _validation(f"The policy document is not well-formed XML: {exc}", "value") from exc
    if root.tag != "policies":
        raise _validation("The root element of a policy document must be <policies>.", "value")
    etree.indent(root, space="  ")
    rendered = etree.tostring(root, encoding="unicode")
    return _SELF_CLOSING.sub(" />", rendered).replace("\n", "\r\n")


def _policy_scope(w: World, sub: str, rg: str, name: str, api: Optional[str], operation: Optional[str],
                  write: bool) -> tuple[str, str]:
    """(policy id, policy resource type) for a scope; 404 when the API or operation does not exist."""
    svc = _online_service(w, sub, rg, name) if write else _service_or_404(w, sub, rg, name)
    if api is None:
        return f"{svc['id']}/policies/policy", f"{SERVICE_TYPE}/policies"
    parent = _api_or_404(w, svc, api)
    if operation is None:
        return f"{parent['id']}/policies/policy", f"{API_TYPE}/policies"
    op = _operation_or_404(w, parent, operation)
    return f"{op['id']}/policies/policy", f"{OPERATION_TYPE}/policies"


def _policy_put(sub: str, rg: str, name: str, policy_id: str, api: Optional[str] = None,
                operation: Optional[str] = None) -> Response:
    arm.require_api_version(SERVICE_TYPE)
    if policy_id.lower() != "policy":
        raise _validation("The policy identifier must be 'policy'.", "policyId")
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        pid, ptype = _policy_scope(w, sub, rg, name, api, operation, write=True)
        fmt = props.get("format") or "xml"
        if fmt not in POLICY_FORMATS:
            raise _validation(f"'format' must be one of {', '.join(POLICY_FORMATS)}.", "format")
        if fmt.endswith("-link"):
            raise _validation("Policy links are not supported by the local Azure; send the document inline.",
                              "format")
        old = w.get(pid)
        _check_if_match((old or {}).get("_etag"))
        value = str(props.get("value") or "")
        body = {"id": pid, "type": ptype, "name": "policy",
                "properties": {"value": normalise_policy(value, fmt)}, "_etag": new_etag(), "_raw": value}
        w.put(pid, body)
        return arm.json_response(arm.public(body), 200 if old else 201, etag=body["_etag"])


def _policy_get(sub: str, rg: str, name: str, policy_id: str, api: Optional[str] = None,
                operation: Optional[str] = None) -> Response:
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
        pid = _policy_scope(w, sub, rg, name, api, operation, write=False)[0]
        stored = w.get(pid)
        if stored is None or policy_id.lower() != "policy":
            raise _not_found("Policy")
        body = arm.public(stored)
        fmt = request.args.get("format")
        if fmt == "rawxml":
            body["properties"] = {"format": "rawxml", "value": stored.get("_raw", body["properties"]["value"])}
        elif fmt:
            body["properties"] = {"format": fmt, "value": body["properties"]["value"]}
        return arm.json_response(body, 200, etag=stored["_etag"])


def _policy_delete(sub: str, rg: str, name: str, policy_id: str, api: Optional[str] = None,
                   operation: Optional[str] = None) -> Response:
    arm.require_api_version(SERVICE_TYPE)
    w = arm.world()
    with w.lock:
        pid = _policy_scope(w, sub, rg, name, api, operation, write=True)[0]
        stored = w.get(pid)
        if stored is None:
            return arm.empty_response(204)
        _check_if_match(stored.get("_etag"))
        w.delete(pid)
        return arm.empty_response(200)


def _register_policy_routes() -> None:
    scopes = {
        "service": (SERVICE + "/policies/<policy_id>", lambda kw: {}),
        "api": (API + "/policies/<policy_id>", lambda kw: {"api": kw.pop("api")}),
        "operation": (OPERATION + "/policies/<policy_id>",
                      lambda kw: {"api": kw.pop("api"), "operation": kw.pop("operation")}),
    }
    for scope, (rule, pick) in scopes.items():
        for method, handler in (("PUT", _policy_put), ("GET", _policy_get), ("DELETE", _policy_delete)):
            def view(_handler=handler, _pick=pick, **kw: str) -> Response:
                extra = _pick(kw)
                return _handler(kw["sub"], kw["rg"], kw["name"], kw["policy_id"], **extra)
            bp.add_url_rule(rule, endpoint=f"policy_{scope}_{method.lower()}", view_func=view, methods=[method])


_register_policy_routes()


# ======================================================================================================================
# certificates (service-level certificate entities, e.g. for backend client authentication); minimal: they exist so
# that a Key Vault certificate read with a managed identity shows up as a user of that identity
# ======================================================================================================================

CERT_TYPE = "Microsoft.ApiManagement/service/certificates"
CERT = SERVICE + "/certificates/<cert>"


def _certificate_properties(w: World, svc: dict, props: dict) -> dict:
    kv = props.get("keyVault")
    if kv:
        if resolve.find_identity(w, svc, kv.get("identityClientId")) is None:
            raise _validation("keyVault", "identityClientId", f"Can not find Managed Identity with provided "
                              f"IdentityClientId : {kv.get('identityClientId')}. For more information please see "
                              "aka.ms/apimmsi.")
        res = resolve.resolve_secret(w, svc, kv.get("secretIdentifier", ""), kv.get("identityClientId"),
                                     want_certificate=True)
        if not res.ok:
            raise arm.ArmError(400, "InvalidOperation", f"Failed to access KeyVault Secret "
                               f"{kv.get('secretIdentifier')} using Managed Service Identity: {res.message}")
        info = res.certificate.as_arm()
        status = {"code": "Success", "timeStampUtc": w.iso()}
        key_vault = {"secretIdentifier": kv.get("secretIdentifier"), "identityClientId": kv.get("identityClientId"),
                     "lastStatus": status}
    elif props.get("data"):
        try:
            info = pfx.read_pfx_b64(props["data"], props.get("password")).as_arm()
        except pfx.PfxError as exc:
            raise arm.ArmError(400, "InvalidParameters", f"Invalid certificate: {exc}.") from exc
        key_vault = None
    else:
        raise _validation("Either 'data' (with 'password') or 'keyVault' is required.", "properties")
    return {"subject": info["subject"], "thumbprint": info["thumbprint"], "expirationDate": info["expiry"],
            "keyVault": key_vault}


@bp.put(CERT)
def put_certificate(sub: str, rg: str, name: str, cert: str) -> Response:
    """Certificate_CreateOrUpdate: 201 on create, 200 on update (synchronous)."""
    arm.require_api_version(CERT_TYPE)
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        cid = f"{svc['id']}/certificates/{cert}"
        old = w.get(cid)
        _check_if_match((old or {}).get("_etag"))
        body = {"id": cid, "type": CERT_TYPE, "name": cert,
                "properties": _certificate_properties(w, svc, props), "_etag": new_etag()}
        w.put(cid, body)
        return arm.json_response(arm.public(body), 200 if old else 201, etag=body["_etag"])


@bp.get(CERT)
def get_certificate(sub: str, rg: str, name: str, cert: str) -> Response:
    """Certificate_Get."""
    return _child_get(sub, rg, name, CERT_TYPE, "certificates", cert, "Certificate")


@bp.delete(CERT)
def delete_certificate(sub: str, rg: str, name: str, cert: str) -> Response:
    """Certificate_Delete."""
    return _child_delete(sub, rg, name, CERT_TYPE, "certificates", cert)


@bp.get(SERVICE + "/certificates")
def list_certificates(sub: str, rg: str, name: str) -> Response:
    """Certificate_ListByService."""
    return _child_list(sub, rg, name, CERT_TYPE)


@bp.post(CERT + "/refreshSecret")
def refresh_certificate_secret(sub: str, rg: str, name: str, cert: str) -> Response:
    """Certificate_RefreshSecret: APIM fetches the Key Vault secret again through its identity (synchronous, 200
    with the certificate); a failed fetch is the same 400 as on create."""
    arm.require_api_version(CERT_TYPE)
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        stored = w.get(f"{svc['id']}/certificates/{cert}")
        if stored is None:
            raise _not_found("Certificate")
        kv = (stored["properties"].get("keyVault") or {})
        if not kv.get("secretIdentifier"):
            raise _validation("Certificate is not a KeyVault certificate.", "keyVault")
        props = _certificate_properties(w, svc, {"keyVault": {k: kv.get(k) for k in
                                                              ("secretIdentifier", "identityClientId")}})
        stored.update(properties=props)
        return arm.json_response(arm.public(stored), 200, etag=stored["_etag"])


# ======================================================================================================================
# backends (only what the certificate tests need: a backend's client certificates are ``credentials.certificateIds``)
# ======================================================================================================================

BACKEND_TYPE = "Microsoft.ApiManagement/service/backends"
BACKEND = SERVICE + "/backends/<backend>"


@bp.put(BACKEND)
def put_backend(sub: str, rg: str, name: str, backend: str) -> Response:
    """Backend_CreateOrUpdate (synchronous): url and protocol are required; properties are stored as sent."""
    arm.require_api_version(BACKEND_TYPE)
    props = dict(arm.parse_json_body().get("properties") or {})
    w = arm.world()
    with w.lock:
        svc = _online_service(w, sub, rg, name)
        bid = f"{svc['id']}/backends/{backend}"
        old = w.get(bid)
        _check_if_match((old or {}).get("_etag"))
        if not props.get("url") or not props.get("protocol"):
            raise _validation("'url' and 'protocol' are required.", "url")
        body = {"id": bid, "type": BACKEND_TYPE, "name": backend, "properties": props, "_etag": new_etag()}
        w.put(bid, body)
        return arm.json_response(arm.public(body), 200 if old else 201, etag=body["_etag"])


@bp.get(BACKEND)
def get_backend(sub: str, rg: str, name: str, backend: str) -> Response:
    """Backend_Get."""
    return _child_get(sub, rg, name, BACKEND_TYPE, "backends", backend, "Backend")


@bp.delete(BACKEND)
def delete_backend(sub: str, rg: str, name: str, backend: str) -> Response:
    """Backend_Delete."""
    return _child_delete(sub, rg, name, BACKEND_TYPE, "backends", backend)


@bp.get(SERVICE + "/backends")
def list_backends(sub: str, rg: str, name: str) -> Response:
    """Backend_ListByService."""
    return _child_list(sub, rg, name, BACKEND_TYPE)


# --- get / delete / list of a service's child entities (certificates, backends): one handler each -------------------


def _child_get(sub: str, rg: str, name: str, type_: str, segment: str, child: str, label: str) -> Response:
    """GET of ``<service>/<segment>/<child>``: 200 with its ETag, or the entity's 404."""
    arm.require_api_version(type_)
    w = arm.world()
    with w.lock:
        stored = w.get(f"{_service_or_404(w, sub, rg, name)['id']}/{segment}/{child}")
        if stored is None:
            raise _not_found(label)
        return arm.json_response(arm.public(stored), 200, etag=stored["_etag"])


def _child_delete(sub: str, rg: str, name: str, type_: str, segment: str, child: str) -> Response:
    """DELETE honouring If-Match: 200 when deleted, 204 when it was not there."""
    arm.require_api_version(type_)
    w = arm.world()
    with w.lock:
        stored = w.get(f"{_online_service(w, sub, rg, name)['id']}/{segment}/{child}")
        if stored is None:
            return arm.empty_response(204)
        _check_if_match(stored.get("_etag"))
        w.delete(stored["id"])
        return arm.empty_response(200)


def _child_list(sub: str, rg: str, name: str, type_: str) -> Response:
    """ListByService: one page with ``count``."""
    arm.require_api_version(type_)
    w = arm.world()
    with w.lock:
        svc = _service_or_404(w, sub, rg, name)
        items = arm.paged(w.children(svc["id"], type_))["value"]
        return arm.json_response({"value": items, "count": len(items)})
