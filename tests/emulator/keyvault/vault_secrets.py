"""Management-plane secrets of a vault: metadata only (``contentType``, ``attributes``, ``secretUri``,
``secretUriWithVersion``), never the value; each ``PUT`` with a value makes a new version."""

from __future__ import annotations

import uuid
from typing import Optional

from flask import Response

from emulator import arm
from emulator.keyvault.vaults import SECRET_TYPE, VAULT, bad_request, bp, unix_time, vault_or_404
from emulator.world import World


def _new_version() -> str:
    return uuid.uuid4().hex


def store_secret(w: World, vault: dict, name: str, value: str, content_type: Optional[str] = None,
                 enabled: bool = True, tags: Optional[dict] = None) -> dict:
    """Write a new version of a secret (creating the secret if needed); returns the stored body.

    The value lives only in the private ``_value`` / ``_versions`` bookkeeping and never leaves through ARM.
    """
    sid = f"{vault['id']}/secrets/{name}"
    current = w.get(sid)
    version, now = _new_version(), unix_time(w)
    base = vault["properties"]["vaultUri"]
    versions = dict((current or {}).get("_versions") or {})
    versions[version] = {"value": value, "contentType": content_type, "enabled": enabled, "version": version,
                         "created": now}
    created = ((current or {}).get("properties") or {}).get("attributes", {}).get("created", now)
    body = {
        "id": sid,
        "name": name,
        "type": SECRET_TYPE,
        "location": vault.get("location"),
        "tags": tags if tags is not None else (current or {}).get("tags", {}),
        "properties": {
            "attributes": {"enabled": enabled, "created": created, "updated": now},
            "secretUri": f"{base}secrets/{name}",
            "secretUriWithVersion": f"{base}secrets/{name}/{version}",
        },
        "_value": value,
        "_versions": versions,
        "_current": version,
    }
    if content_type is not None:
        body["properties"]["contentType"] = content_type
    return w.put(sid, body)


def _secret_update(w: World, vault: dict, name: str, body: dict, replace: bool) -> tuple[dict, bool]:
    props = body.get("properties") or {}
    current = w.get(f"{vault['id']}/secrets/{name}")
    if current is None and props.get("value") is None:
        raise bad_request("The parameter 'properties.value' is required when creating a secret.")
    old_props = (current or {}).get("properties") or {}
    content_type = props.get("contentType", None if replace else old_props.get("contentType"))
    enabled = (props.get("attributes") or {}).get("enabled", old_props.get("attributes", {}).get("enabled", True))
    if props.get("value") is not None:
        stored = store_secret(w, vault, name, props["value"], content_type, enabled, body.get("tags"))
    else:  # metadata-only change of the current version
        stored = current
        stored["properties"]["attributes"] = dict(old_props.get("attributes") or {}, enabled=enabled,
                                                  updated=unix_time(w))
        if content_type is not None:
            stored["properties"]["contentType"] = content_type
        ver = stored["_versions"][stored["_current"]]
        ver.update(enabled=enabled, contentType=content_type)
        if body.get("tags") is not None:
            stored["tags"] = body["tags"]
    return stored, current is None


@bp.get(VAULT + "/secrets/<secret>")
def get_secret(sub: str, rg: str, name: str, secret: str) -> Response:
    """Secrets_Get (metadata only)."""
    with arm.locked(SECRET_TYPE) as w:
        vault = vault_or_404(w, sub, rg, name)
        stored = w.get(f"{vault['id']}/secrets/{secret}")
        if stored is None:
            raise arm.not_found(SECRET_TYPE, f"{name}/{secret}", rg)
        return arm.json_response(arm.public(stored))


@bp.put(VAULT + "/secrets/<secret>")
def put_secret(sub: str, rg: str, name: str, secret: str) -> Response:
    """Secrets_CreateOrUpdate: 201 on create, 200 on update; the response carries no value."""
    body = arm.versioned_body(SECRET_TYPE)
    with arm.locked() as w:
        vault = vault_or_404(w, sub, rg, name)
        stored, created = _secret_update(w, vault, secret, body, replace=True)
        return arm.json_response(arm.public(stored), 201 if created else 200)


@bp.patch(VAULT + "/secrets/<secret>")
def patch_secret(sub: str, rg: str, name: str, secret: str) -> Response:
    """Secrets_Update."""
    body = arm.versioned_body(SECRET_TYPE)
    with arm.locked() as w:
        vault = vault_or_404(w, sub, rg, name)
        if w.get(f"{vault['id']}/secrets/{secret}") is None:
            raise arm.not_found(SECRET_TYPE, f"{name}/{secret}", rg)
        stored = _secret_update(w, vault, secret, body, replace=False)[0]
        return arm.json_response(arm.public(stored), 200)


@bp.get(VAULT + "/secrets")
def list_secrets(sub: str, rg: str, name: str) -> Response:
    """Secrets_List."""
    with arm.locked(SECRET_TYPE) as w:
        vault = vault_or_404(w, sub, rg, name)
        return arm.json_response(arm.paged(w.children(vault["id"], SECRET_TYPE)))
