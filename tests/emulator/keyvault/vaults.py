"""Key Vault vaults: ids, validation, bodies, the write lock (parallel writes get 409 ConflictError) and the vault
routes."""

from __future__ import annotations

import ipaddress
import threading
import time
from typing import Any, Optional

from flask import Blueprint, Response

from emulator import arm, resources
from emulator.world import World

bp = Blueprint("keyvault", __name__)
arm.register_segments("checkNameAvailability", takes_name=False)

NAMESPACE = "Microsoft.KeyVault"
VAULT_TYPE = "Microsoft.KeyVault/vaults"
SECRET_TYPE = "Microsoft.KeyVault/vaults/secrets"
ACCESS_POLICY_TYPE = "Microsoft.KeyVault/vaults/accessPolicies"
VAULT_DNS_SUFFIX = "vault.azure.net"
MAX_ACCESS_POLICIES = 1024
RBAC_DEFAULT_FROM = "2026-02-01"  # first api-version whose create defaults enableRbacAuthorization to true
DEFAULT_WRITE_LOCK_MS = 25.0  # wall-clock hold of a vault's write lock; config key `keyvault_write_lock_ms`

PERMISSIONS: dict[str, frozenset[str]] = {
    "keys": frozenset(x.lower() for x in (
        "all", "encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify", "get", "list", "create", "update",
        "import", "delete", "backup", "restore", "recover", "purge", "release", "rotate", "getrotationpolicy",
        "setrotationpolicy")),
    "secrets": frozenset(("all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge")),
    "certificates": frozenset(x.lower() for x in (
        "all", "get", "list", "delete", "create", "import", "update", "managecontacts", "getissuers", "listissuers",
        "setissuers", "deleteissuers", "manageissuers", "recover", "purge", "backup", "restore")),
    "storage": frozenset(x.lower() for x in (
        "all", "get", "list", "delete", "set", "update", "regeneratekey", "recover", "purge", "backup", "restore",
        "setsas", "listsas", "getsas", "deletesas")),
}


VAULT = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>"


_vault_locks: dict[str, threading.Lock] = {}


_vault_locks_guard = threading.Lock()


def vault_id(sub: str, rg: str, name: str) -> str:
    """The ARM id of a vault."""
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{VAULT_TYPE}/{name}"


def vault_uri(name: str) -> str:
    """``https://<name>.vault.azure.net/`` (lower-case, trailing slash, as the service returns it)."""
    return f"https://{name.lower()}.{VAULT_DNS_SUFFIX}/"


def unix_time(w: World) -> int:
    return int(w.wallclock())


def vault_or_404(w: World, sub: str, rg: str, name: str) -> dict:
    return resources.resource_or_404(w, sub, rg, vault_id(sub, rg, name), VAULT_TYPE, name)


def bad_request(message: str, code: str = "BadRequest") -> arm.ArmError:
    return arm.ArmError(400, code, message)


def normalise_network_acls(acls: Optional[dict]) -> Optional[dict]:
    """What the service stores for ``networkAcls``: /32 on bare IPv4 rules, lower-cased subnet ids."""
    if acls is None:
        return None
    out = dict(acls)
    out.setdefault("bypass", "AzureServices")
    out.setdefault("defaultAction", "Allow")
    rules = []
    for rule in acls.get("ipRules") or []:
        value = str(rule.get("value", ""))
        try:
            if "/" not in value and isinstance(ipaddress.ip_address(value), ipaddress.IPv4Address):
                value += "/32"
        except ValueError:
            pass  # the service keeps values it cannot parse as they are (see the networkAcls example)
        rules.append({**rule, "value": value})
    out["ipRules"] = rules
    out["virtualNetworkRules"] = [{**r, "id": str(r.get("id", "")).lower()}
                                  for r in acls.get("virtualNetworkRules") or []]
    return out


def validate_access_policies(policies: Any, where: str = "properties.accessPolicies") -> list[dict]:
    """Check shape and permission names like the service does; returns the list unchanged."""
    if not isinstance(policies, list):
        raise bad_request(f"Invalid value found at {where}: an array is required.")
    for i, policy in enumerate(policies):
        if not isinstance(policy, dict) or not policy.get("objectId") or not policy.get("tenantId"):
            raise bad_request(f"Invalid value found at {where}[{i}]: tenantId and objectId are required.")
        for kind, perms in (policy.get("permissions") or {}).items():
            allowed = PERMISSIONS.get(kind)
            if allowed is None:
                raise bad_request(f"Invalid value found at {where}[{i}].permissions: '{kind}' is not a "
                                  "permission category.")
            for j, perm in enumerate(perms or []):
                if str(perm).lower() not in allowed:
                    raise bad_request(f"Invalid value found at {where}[{i}].permissions.{kind}[{j}]: {perm}")
    return policies


def _validate_vault_put(body: dict) -> None:
    props = body.get("properties")
    if not body.get("location"):
        raise bad_request("The 'location' property is required.", "LocationRequired")
    if not isinstance(props, dict):
        raise bad_request("The 'properties' object is required.")
    if not props.get("tenantId"):
        raise bad_request("The parameter 'properties.tenantId' is required.")
    sku = props.get("sku") or {}
    if str(sku.get("name", "")).lower() not in ("standard", "premium") or sku.get("family") != "A":
        raise bad_request("The parameter 'properties.sku' must be {\"family\": \"A\", \"name\": "
                          "\"standard\"|\"premium\"}.")
    if "accessPolicies" in props and props["accessPolicies"] is not None:
        validate_access_policies(props["accessPolicies"])
    if len(props.get("accessPolicies") or []) > MAX_ACCESS_POLICIES:
        raise access_policy_limit()


def access_policy_limit() -> arm.ArmError:
    return bad_request(f"The number of access policies in the vault exceeds the maximum of {MAX_ACCESS_POLICIES}.",
                       "AccessPolicyLimitExceeded")


def new_vault_body(w: World, sub: str, rg: str, name: str, body: dict, api_version: str = "2026-02-01",
                   state: str = "RegisteringDns") -> dict:
    """A vault body as the service stores it for a create request ``body`` (also used for seeding)."""
    props = dict(body.get("properties") or {})
    if props.get("enableRbacAuthorization") is None:
        props["enableRbacAuthorization"] = api_version >= RBAC_DEFAULT_FROM
    props.setdefault("accessPolicies", [])
    if props["accessPolicies"] is None:
        props["accessPolicies"] = []
    props.setdefault("enabledForDeployment", False)
    props.setdefault("enabledForDiskEncryption", False)
    props.setdefault("enabledForTemplateDeployment", False)
    props.setdefault("enableSoftDelete", True)
    props.setdefault("softDeleteRetentionInDays", 90)
    props.setdefault("publicNetworkAccess", "Enabled")
    if "networkAcls" in props:
        props["networkAcls"] = normalise_network_acls(props["networkAcls"])
    props["vaultUri"] = vault_uri(name)
    props["provisioningState"] = state
    now = w.iso()
    return {
        "id": vault_id(sub, rg, name),
        "name": name,
        "type": VAULT_TYPE,
        "location": str(body.get("location", "")).replace(" ", "").lower(),
        "tags": body.get("tags") or {},
        "systemData": system_data(now, now),
        "properties": props,
    }


def system_data(created: str, modified: str) -> dict:
    from flask import g

    who = (g.get("caller") or {}).get("app_id") or (g.get("caller") or {}).get("object_id") or "local-azure"
    return {"createdBy": who, "createdByType": "Application", "createdAt": created,
            "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": modified}


def _replace_vault(w: World, current: dict, body: dict) -> dict:
    """PUT on an existing vault: properties are replaced as sent; identity fields are kept."""
    props = dict(body.get("properties") or {})
    old = current["properties"]
    if props.get("enableRbacAuthorization") is None:
        props["enableRbacAuthorization"] = old.get("enableRbacAuthorization", False)
    props["accessPolicies"] = props.get("accessPolicies") or []
    for key in ("enableSoftDelete", "softDeleteRetentionInDays", "publicNetworkAccess"):
        props.setdefault(key, old.get(key))
    if "networkAcls" in props:
        props["networkAcls"] = normalise_network_acls(props["networkAcls"])
    props["vaultUri"] = old["vaultUri"]
    props["provisioningState"] = old.get("provisioningState", "Succeeded")
    updated = dict(current, properties=props, tags=body.get("tags") or {})
    updated["systemData"] = system_data(current.get("systemData", {}).get("createdAt", w.iso()), w.iso())
    return updated


def _patch_vault(w: World, current: dict, body: dict) -> dict:
    """PATCH: top-level properties that are sent replace the stored ones; the rest stays."""
    props = dict(current["properties"])
    for key, val in (body.get("properties") or {}).items():
        if key in ("vaultUri", "provisioningState") or val is None:
            continue
        if key == "accessPolicies":
            validate_access_policies(val)
            if len(val) > MAX_ACCESS_POLICIES:
                raise access_policy_limit()
        props[key] = normalise_network_acls(val) if key == "networkAcls" else val
    updated = dict(current, properties=props)
    if body.get("tags") is not None:
        updated["tags"] = body["tags"]
    updated["systemData"] = system_data(current.get("systemData", {}).get("createdAt", w.iso()), w.iso())
    return updated


def _conflict(name: str) -> arm.ArmError:
    # Key Vault's own wording names its internal resource type; ours names the vault.
    return arm.ArmError(409, "ConflictError",
                        "A conflict occurred that prevented the operation from completing. The operation failed "
                        f"because the Key Vault '{name}' changed from the point the operation began. This can happen "
                        "if parallel operations are being performed on the Key Vault. To prevent this error, "
                        "serialize the operations so that only one operation is performed on the Key Vault at a time.")


class vault_write:  # noqa: N801 - used as a context manager, reads like a statement
    """Hold a vault's write lock for the duration of a write plus a short commit window; busy → 409 ConflictError."""

    def __init__(self, w: World, vid: str, name: str) -> None:
        self.w, self.name = w, name
        with _vault_locks_guard:
            self.lock = _vault_locks.setdefault(vid.lower(), threading.Lock())

    def __enter__(self) -> "vault_write":
        if not self.lock.acquire(blocking=False):
            raise _conflict(self.name)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            hold = float(self.w.config.get("keyvault_write_lock_ms", DEFAULT_WRITE_LOCK_MS) or 0)
            if hold > 0 and exc[0] is None:
                time.sleep(hold / 1000.0)
        finally:
            self.lock.release()


@bp.get(VAULT)
def get_vault(sub: str, rg: str, name: str) -> Response:
    """Vaults_Get."""
    with arm.locked(VAULT_TYPE) as w:
        return arm.json_response(arm.public(vault_or_404(w, sub, rg, name)))


@bp.put(VAULT)
def put_vault(sub: str, rg: str, name: str) -> Response:
    """Vaults_CreateOrUpdate: 200 (RegisteringDns on create, then Succeeded after `keyvault_provisioning_s`)."""
    api = arm.require_api_version(VAULT_TYPE)
    body = arm.parse_json_body()
    w = arm.world()
    vid = vault_id(sub, rg, name)
    with vault_write(w, vid, name):
        with w.lock:
            resources.group_or_404(w, sub, rg)
            _validate_vault_put(body)
            current = w.get(vid)
            if current is None:
                stored = w.put(vid, new_vault_body(w, sub, rg, name, body, api))
                w.start_operation(vid, w.config.get("keyvault_provisioning_s", 2.0), on_done=_dns_registered(vid))
            else:
                stored = w.put(vid, _replace_vault(w, current, body))
            return arm.json_response(arm.public(stored), 200)


def _dns_registered(vid: str):
    def done(w: World) -> None:
        vault = w.get(vid)
        if vault is not None and vault["properties"].get("provisioningState") == "RegisteringDns":
            vault["properties"]["provisioningState"] = "Succeeded"
    return done


@bp.patch(VAULT)
def patch_vault(sub: str, rg: str, name: str) -> Response:
    """Vaults_Update."""
    body = arm.versioned_body(VAULT_TYPE)
    w = arm.world()
    with vault_write(w, vault_id(sub, rg, name), name):
        with w.lock:
            current = vault_or_404(w, sub, rg, name)
            stored = w.put(current["id"], _patch_vault(w, current, body))
            return arm.json_response(arm.public(stored), 200)


@bp.delete(VAULT)
def delete_vault(sub: str, rg: str, name: str) -> Response:
    """Vaults_Delete: 200, or 204 when there was nothing to delete."""
    with arm.locked(VAULT_TYPE) as w:
        resources.group_or_404(w, sub, rg)
        removed = w.delete(vault_id(sub, rg, name))
        return arm.empty_response(200 if removed is not None else 204)


@bp.get("/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults")
def list_vaults_rg(sub: str, rg: str) -> Response:
    """Vaults_ListByResourceGroup."""
    with arm.locked(VAULT_TYPE) as w:
        resources.group_or_404(w, sub, rg)
        return arm.json_response(arm.paged(w.list(VAULT_TYPE, under=f"/subscriptions/{sub}/resourceGroups/{rg}")))


@bp.get("/subscriptions/<sub>/providers/Microsoft.KeyVault/vaults")
def list_vaults_sub(sub: str) -> Response:
    """Vaults_ListBySubscription."""
    with arm.locked(VAULT_TYPE) as w:
        return arm.json_response(arm.paged(w.list(VAULT_TYPE, under=f"/subscriptions/{sub}")))


@bp.post("/subscriptions/<sub>/providers/Microsoft.KeyVault/checkNameAvailability")
def check_name(sub: str) -> Response:
    """Vaults_CheckNameAvailability: vault names are global (their DNS name)."""
    return resources.name_availability(VAULT_TYPE, "The vault name '{name}' is already in use.", {})
