# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of apim_named_value and apim_named_value_info: the desired state and ResourceSpec of one named value
(plain, secret, or a Key Vault reference read through a service identity), its secret's refresh and status."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ._access import ServiceIdentity
from ._apim_entities import (
    SYSTEM_ASSIGNED, NamedValues, describe_status, last_status, secret_readable, wait_for_secret,
)
from ._compare import ci_equal, redact, same_items
from ._errors import AzureApimError
from ._ids import parse_secret_uri, same_secret_uri
from ._plan import UNKNOWN
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._state import ResourceSpec, checked_before_write, ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

SECRET_KEYS = ("value",)
DISPLAY_NAME = re.compile(r"^[A-Za-z0-9._-]{1,256}$")


def validate(params: Dict[str, Any]) -> None:
    """Refuse contradictory input before anything is read or written."""
    if params["state"] == "absent":
        return
    if params["value"] is not None and params["key_vault_secret_id"]:
        raise AzureApimError(
            "Named value {0}: both 'value' and 'key_vault_secret_id' are set; a named value holds either a plain "
            "value or a Key Vault reference".format(params["name"]), code="InvalidParameters",
            hint="keep 'value' for a plain value or 'key_vault_secret_id' to read it from Key Vault, not both")
    if params["key_vault_secret_id"]:
        parse_secret_uri(params["key_vault_secret_id"])
        if params["is_secret"] is False:
            raise AzureApimError("Named value {0}: a Key Vault named value is always secret; 'is_secret: false' "
                                 "cannot apply".format(params["name"]), code="InvalidParameters",
                                 hint="remove 'is_secret' or set it to true")
    if params["display_name"] is not None and not DISPLAY_NAME.match(params["display_name"]):
        raise AzureApimError("display_name {0!r} is not valid".format(params["display_name"]),
                             code="InvalidParameters",
                             hint="use 1-256 letters, digits, '-', '.' or '_' (it is referenced as {{name}})")
    if params["value"] == "":
        raise AzureApimError("Named value {0}: 'value' is empty".format(params["name"]), code="InvalidParameters",
                             hint="give a non-empty value (API Management refuses empty values)")


def merged_tags(current: Optional[List[str]], wanted: Optional[List[str]], purge: bool) -> Optional[List[str]]:
    """Desired tags: None = leave alone; added to the current ones unless ``purge``."""
    if wanted is None:
        return None
    if purge:
        return list(dict.fromkeys(wanted))
    result = list(current or [])
    result.extend(tag for tag in wanted if tag not in result)
    return result


def desired_state(params: Dict[str, Any], client_id: Optional[str], current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Only what the user set; the value of a secret named value only where it may be sent (see update_secret)."""
    wanted: Dict[str, Any] = {
        "display_name": params["display_name"] or (None if current else params["name"]),
        "tags": merged_tags((current or {}).get("tags"), params["tags"], params["purge_tags"]),
    }
    if params["key_vault_secret_id"]:
        wanted.update(source="key_vault", secret=True, key_vault={
            "secret_identifier": params["key_vault_secret_id"], "identity_client_id": client_id or SYSTEM_ASSIGNED})
    elif params["value"] is not None:
        secret = params["is_secret"] if params["is_secret"] is not None else (current or {}).get("secret", False)
        wanted.update(source="value", secret=secret)
        if current is None or current.get("source") != "value" or not current.get("secret") or not secret \
                or params["update_secret"] == "always":
            wanted["value"] = params["value"]
    elif params["is_secret"] is not None:
        wanted["secret"] = params["is_secret"]
    return wanted


def same_key_vault(wanted: Any, have: Any) -> bool:
    """Key Vault references equal: secret URI normalised, client id without case."""
    if not isinstance(wanted, dict) or not isinstance(have, dict):
        return wanted == have
    return same_secret_uri(wanted["secret_identifier"], have.get("secret_identifier")) and \
        ci_equal(wanted["identity_client_id"], have.get("identity_client_id"))


def same_value(wanted: Any, have: Any) -> bool:
    """A secret value is not returned by Azure (None): it cannot differ as far as the module can tell."""
    return have is None or wanted == have


def changes_for(paths: List[str], wanted: Dict[str, Any]) -> Dict[str, Any]:
    """The PATCH body (as option names): only the properties that differ."""
    top = {path.split(".")[0] for path in paths}
    changes = {key: wanted[key] for key in ("display_name", "tags", "secret", "key_vault", "value")
               if key in top and key in wanted}
    if "source" in top:
        changes.update({k: wanted[k] for k in ("key_vault", "value", "secret") if k in wanted})
    if "value" in changes:
        changes["secret"] = wanted.get("secret")
    return changes


def with_source(found: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Adds ``source`` (value or key_vault) so that switching between the two is a visible change."""
    if found is not None:
        found["source"] = "key_vault" if found.get("key_vault") else "value"
    return found


def resend_value(params: Dict[str, Any]) -> Callable[[Dict[str, Any], Dict[str, Any]], List[str]]:
    """update_secret=always: the value of an existing secret named value is sent again (Azure never returns it, so
    it cannot be compared); desired_state only carries it when it may be sent."""
    def resend(current: Dict[str, Any], wanted: Dict[str, Any]) -> List[str]:
        if "value" in wanted and current.get("secret") and current.get("source") == "value" \
                and params["update_secret"] == "always":
            return ["value"]
        return []

    return resend


def spec_for(module: AzureApimModule, named_values: NamedValues) -> ResourceSpec:
    """How to read and write the named value of the parameters."""
    name = module.params["name"]

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        base = current or {"id": None, "name": name, "secret": False, "tags": [], "key_vault": None,
                           "provisioning_state": None, "etag": None}
        result = dict(base, **wanted)
        if wanted.get("source") == "value":
            result["key_vault"] = None
        elif result.get("key_vault"):
            # API Management reads the secret on the write: the outcome (and its time) is known after it
            result["key_vault"] = dict(result["key_vault"], last_status=UNKNOWN)
        return result

    return ResourceSpec(
        what="named value {0} of service {1}".format(name, module.params["service_name"]),
        read=lambda: with_source(named_values.get(name)),
        create=lambda wanted: named_values.create(name, wanted),
        update=lambda current, wanted, paths: named_values.update(name, current.get("etag"), changes_for(paths, wanted)),
        delete=lambda current: named_values.delete(name, current.get("etag")),
        predict=predict,
        comparators={"key_vault": same_key_vault, "value": same_value, "tags": same_items},
        secret_keys=SECRET_KEYS, resend=resend_value(module.params),
        # 412: the named value changed since it was read (the write carries its ETag): read, merge, write again
        rerun_on=(APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED),
    )


def handle_secret_status(module: AzureApimModule, named_values: NamedValues, result: Dict[str, Any]) -> int:
    """Refresh and wait for the Key Vault secret as asked; returns the number of refreshes."""
    params, name = module.params, module.params["name"]
    current = result["named_value"]
    if not current.get("key_vault") or params["state"] == "absent":
        return 0
    if module.check_mode:
        return 1 if params["refresh_secret"] else 0  # predicted; check mode sends nothing
    refreshes = 0
    if params["refresh_secret"]:
        named_values.refresh(name)
        refreshes += 1
    if params["wait_for_secret"]:
        # Unchanged and not refreshed: the named value the task has just read holds API Management's last read.
        fresh = current if not result["changed"] and not refreshes else None
        current, more = wait_for_secret(named_values, name, module.deadline, params["wait_interval"], current=fresh)
        refreshes += more
    elif refreshes:
        current = named_values.get(name)
    if not secret_readable(current) and last_status(current):
        module.warn("API Management cannot read the Key Vault secret of named value {0}: {1}".format(
            name, describe_status(current)))
    result["named_value"] = with_source(current)
    return refreshes


def ensure_named_value(module: AzureApimModule) -> Dict[str, Any]:
    """apim_named_value: ensure the named value (one item of ``named_values``) and return the module result."""
    params = module.params
    validate(params)
    identity = ServiceIdentity(module, params["resource_group"], params["service_name"], params["identity"])
    named_values = NamedValues(module, params["resource_group"], params["service_name"])
    spec = spec_for(module, named_values)
    key_vault = bool(params["key_vault_secret_id"])
    # An absent named value (or service) reads as None: nothing to delete, and no service read is needed; the
    # service is read only when a write is coming or a user-assigned identity's client id is needed to compare.
    desired = checked_before_write(
        spec, lambda current: desired_state(params, identity.client_id() if key_vault else None, current),
        lambda: identity.ready_for_write(key_vault))
    outcome = ensure(spec, params["state"], desired, check_mode=module.check_mode, deadline=module.deadline)
    result = outcome.result("named_value", SECRET_KEYS)
    refreshes = handle_secret_status(module, named_values, result)
    for view in (result["named_value"], result["diff"]["before"], result["diff"]["after"]):
        view.pop("source", None)
        view.pop("value", None)
    result["named_value"] = redact(result["named_value"], SECRET_KEYS)
    result.update(changed=result["changed"] or refreshes > 0, secret_refreshes=refreshes,
                  last_status=last_status(result["named_value"]))
    return result


def find_named_values(module: AzureApimModule) -> List[Dict[str, Any]]:
    """apim_named_value_info: the one named value asked for (or none), else all of the service; values left out
    (plain ones are returned by Azure, the module still does not show them)."""
    params = module.params
    named_values = NamedValues(module, params["resource_group"], params["service_name"])
    if params["name"]:
        found = named_values.get(params["name"])
        items = [found] if found else []
    else:
        items = named_values.list()
    for item in items:
        item.pop("value", None)
    return items
