"""Access policies of a vault: ``accessPolicies/{add|replace|remove}`` (add merges permissions per object id, replace
swaps the entry's permissions, remove takes permissions away and drops an entry left empty); at most 1024."""

from __future__ import annotations

from flask import Response

from emulator import arm
from emulator.keyvault.vaults import (ACCESS_POLICY_TYPE, MAX_ACCESS_POLICIES, VAULT, VAULT_TYPE, access_policy_limit,
                                      bad_request, bp, system_data, validate_access_policies, vault_id, vault_or_404,
                                      vault_write)


def _policy_key(policy: dict) -> tuple[str, str, str]:
    return (str(policy.get("tenantId", "")).lower(), str(policy.get("objectId", "")).lower(),
            str(policy.get("applicationId") or "").lower())


def _merge_perms(old: list[str], new: list[str]) -> list[str]:
    seen = {p.lower() for p in old}
    return list(old) + [p for p in new if p.lower() not in seen and not seen.add(p.lower())]


def _remove_perms(old: list[str], gone: list[str]) -> list[str]:
    drop = {p.lower() for p in gone}
    return [p for p in old if p.lower() not in drop]


def apply_access_policy_change(policies: list[dict], kind: str, changes: list[dict]) -> list[dict]:
    """The vault's access policies after an ``accessPolicies/{kind}`` operation."""
    result = [dict(p, permissions=dict(p.get("permissions") or {})) for p in policies]
    for change in changes:
        key = _policy_key(change)
        match = next((p for p in result if _policy_key(p) == key), None)
        perms = change.get("permissions") or {}
        if kind == "add":
            if match is None:
                result.append({**change, "permissions": {k: list(v) for k, v in perms.items()}})
            else:
                for cat, values in perms.items():
                    match["permissions"][cat] = _merge_perms(match["permissions"].get(cat) or [], values or [])
        elif kind == "replace":
            if match is None:
                result.append({**change, "permissions": {k: list(v) for k, v in perms.items()}})
            else:
                match["permissions"] = {k: list(v) for k, v in perms.items()}
        elif match is not None:  # remove
            for cat, values in perms.items():
                match["permissions"][cat] = _remove_perms(match["permissions"].get(cat) or [], values or [])
            if not any(match["permissions"].get(cat) for cat in match["permissions"]):
                result.remove(match)
    return result


@bp.put(VAULT + "/accessPolicies/<kind>")
def update_access_policy(sub: str, rg: str, name: str, kind: str) -> Response:
    """Vaults_UpdateAccessPolicy (``add``, ``replace`` or ``remove``)."""
    body = arm.versioned_body(VAULT_TYPE)
    kind_l = kind.lower()
    if kind_l not in ("add", "replace", "remove"):
        raise bad_request(f"The value '{kind}' is not valid for operationKind; expected add, replace or remove.")
    changes = validate_access_policies((body.get("properties") or {}).get("accessPolicies"))
    w = arm.world()
    with vault_write(w, vault_id(sub, rg, name), name):
        with w.lock:
            vault = vault_or_404(w, sub, rg, name)
            after = apply_access_policy_change(vault["properties"].get("accessPolicies") or [], kind_l, changes)
            if len(after) > MAX_ACCESS_POLICIES:
                raise access_policy_limit()
            vault["properties"]["accessPolicies"] = after
            vault["systemData"] = system_data(vault.get("systemData", {}).get("createdAt", w.iso()), w.iso())
            return arm.json_response({"id": f"{vault['id']}/accessPolicies/", "type": ACCESS_POLICY_TYPE,
                                      "properties": {"accessPolicies": changes}}, 200)
