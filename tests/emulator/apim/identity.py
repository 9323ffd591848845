"""Managed identities of an API Management service: the identity block of a service PUT/PATCH, and the check that
refuses to remove an identity a hostname, Key Vault named value or logger still uses."""

from __future__ import annotations

from typing import Any, Optional

from flask import request

from emulator import arm, resolve
from emulator.apim.base import LOGGER_TYPE, MAX_USER_ASSIGNED, NV_TYPE, validation
from emulator.world import World


def normalise_identity_type(kind: Optional[str]) -> str:
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
    kind = normalise_identity_type(requested.get("type"))
    if not kind:
        raise validation(f"The identity type '{requested.get('type')}' is not supported. Use SystemAssigned, "
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
            raise validation("At least one user-assigned identity is required for identity type "
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
        raise validation(f"An API Management service can have at most {MAX_USER_ASSIGNED} user-assigned "
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


def check_identity_removal(w: World, svc: dict, new_identity: Optional[dict], hostnames: list[dict]) -> None:
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
