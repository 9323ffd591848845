"""Seeding hook of the admin interface: an activated service (with hostnames and Key Vault named values) shaped the
way GET returns it."""

from __future__ import annotations

import time
import uuid
from typing import Any, Optional

from emulator.apim.hostnames import builtin_hostname
from emulator.apim.identity import normalise_identity_type
from emulator.apim.named_values import nv_body
from emulator.apim.service import activate, new_service_body
from emulator.world import World


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
    activate(svc)
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
    body = nv_body(w, svc, spec["name"], {"displayName": spec["name"], "keyVault": {
        "secretIdentifier": spec["key_vault_secret_id"], "identityClientId": spec.get("identity_client_id")}}, None)
    code = spec.get("last_status", "Success")
    status: dict[str, Any] = {"code": code, "timeStampUtc": w.iso()}
    if code != "Success":
        status["message"] = f"Key Vault answered {code} for {spec['key_vault_secret_id']}."
    body["properties"]["keyVault"]["lastStatus"] = status
    body["properties"]["provisioningState"] = "Succeeded"
    w.put(body["id"], body)


def _seed_identity(w: World, name: str, spec: Optional[dict]) -> Optional[dict]:
    kind = normalise_identity_type((spec or {}).get("type"))
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
