# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of apim_logger and apim_logger_info: the desired state and ResourceSpec of one Event Hub logger
that authenticates with a service identity (or a connection string, kept secret)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ._access import ServiceIdentity
from ._apim_entities import SYSTEM_ASSIGNED, Loggers
from ._compare import ci_equal, id_equal
from ._errors import AzureApimError
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._state import ResourceSpec, checked_before_write, ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

EVENTHUB = "azureEventHub"
HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)
CONNECTION_STRING_MARKERS = ("endpoint=", "sharedaccesskey", ";")


def validate_endpoint(module: AzureApimModule) -> Optional[str]:
    """The namespace FQDN, or a clear refusal. A connection string given here is masked in every output."""
    value = module.params["endpoint_address"]
    if value is None:
        return None
    text = value.strip()
    if any(marker in text.lower() for marker in CONNECTION_STRING_MARKERS):
        module.module.no_log_values.add(value)
        raise AzureApimError(
            "endpoint_address looks like an Event Hubs connection string; it takes the namespace host name only",
            code="InvalidParameters",
            hint="put the connection string in 'connection_string' (kept secret), or give endpoint_address as "
                 "'<namespace>.servicebus.windows.net' to authenticate with the managed identity")
    host = re.sub(r"^(sb|https)://", "", text, flags=re.IGNORECASE).rstrip("/")
    if host != text or not HOSTNAME.match(host):
        raise AzureApimError(
            "endpoint_address {0!r} is not the host name of an Event Hubs namespace".format(value),
            code="InvalidParameters",
            hint="give the fully qualified namespace name only, for example 'evhns-contoso.servicebus.windows.net'")
    return host.lower()


def validate(module: AzureApimModule) -> Optional[str]:
    """Refuse contradictory input before anything is read or written; returns the normalised endpoint."""
    params = module.params
    endpoint = validate_endpoint(module)
    if params["state"] == "absent":
        return endpoint
    if endpoint and params["connection_string"]:
        raise AzureApimError("Logger {0}: both 'endpoint_address' and 'connection_string' are set".format(
            params["name"]), code="InvalidParameters",
            hint="use endpoint_address (+ identity) for managed identity, or connection_string, not both")
    if not endpoint and not params["connection_string"]:
        raise AzureApimError("Logger {0}: no credentials given".format(params["name"]), code="InvalidParameters",
                             hint="set endpoint_address (managed identity) or connection_string")
    return endpoint


def desired_state(params: Dict[str, Any], endpoint: Optional[str], client_id: Optional[str]) -> Dict[str, Any]:
    """What the logger must look like; a masked connection string is never compared."""
    if endpoint:
        credentials = {"name": params["event_hub_name"], "endpoint_address": endpoint,
                       "identity_client_id": client_id or SYSTEM_ASSIGNED, "connection_string_set": False}
    else:
        credentials = {"name": params["event_hub_name"], "connection_string_set": True}
    return {"logger_type": EVENTHUB, "description": params["description"], "is_buffered": params["is_buffered"],
            "resource_id": params["resource_id"], "credentials": credentials}


def same_hub(wanted: Any, have: Any) -> bool:
    """Azure hides the event hub name of a connection-string logger (None): it cannot differ as far as we see."""
    return have is None or wanted == have


def request_body(params: Dict[str, Any], wanted: Dict[str, Any], current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The whole logger for a PUT: wanted values, current ones where the user set nothing, real credentials."""
    base = current or {}
    creds = wanted["credentials"]
    if params["connection_string"]:
        credentials = {"name": params["event_hub_name"], "connectionString": params["connection_string"]}
    else:
        credentials = {"name": params["event_hub_name"], "endpointAddress": creds["endpoint_address"],
                       "identityClientId": creds["identity_client_id"]}
    return {"logger_type": EVENTHUB, "credentials": credentials,
            "description": wanted.get("description", base.get("description")),
            "is_buffered": wanted.get("is_buffered", base.get("is_buffered")),
            "resource_id": wanted.get("resource_id", base.get("resource_id"))}


def resend_credentials(params: Dict[str, Any]) -> Callable[[Dict[str, Any], Dict[str, Any]], List[str]]:
    """update_credentials=always: an existing connection-string logger is written again (Azure returns the
    connection string masked, so it cannot be compared)."""
    def resend(current: Dict[str, Any], wanted: Dict[str, Any]) -> List[str]:
        if params["connection_string"] and params["update_credentials"] == "always":
            return ["credentials.connection_string"]
        return []

    return resend


def spec_for(module: AzureApimModule, loggers: Loggers) -> ResourceSpec:
    """How to read and write the logger of the parameters."""
    params, name = module.params, module.params["name"]

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        base = current or {"id": None, "name": name, "is_buffered": True, "etag": None, "description": None,
                           "resource_id": None}
        result = dict(base, **wanted)
        result["credentials"] = dict({"name": None, "endpoint_address": None, "identity_client_id": None},
                                     **wanted["credentials"])
        if result["credentials"].get("connection_string_set"):
            # Azure answers a connection-string logger with the masked string only, no event hub name
            # (Microsoft's ApiManagementCreateEHLogger example): the prediction shows what the apply will.
            result["credentials"]["name"] = None
        return result

    return ResourceSpec(
        what="logger {0} of service {1}".format(name, params["service_name"]),
        read=lambda: loggers.get(name),
        create=lambda wanted: loggers.put(name, request_body(params, wanted, None), None),
        update=lambda current, wanted, paths: loggers.put(name, request_body(params, wanted, current),
                                                          current.get("etag")),
        delete=lambda current: loggers.delete(name, current.get("etag")),
        predict=predict,
        comparators={"endpoint_address": ci_equal, "identity_client_id": ci_equal, "resource_id": id_equal,
                     "credentials.name": same_hub},
        settle=False,  # logger writes are synchronous; loggers have no provisioningState
        verify_with_response=True,  # the PUT answers with the logger as stored
        resend=resend_credentials(params),
        # 412: the logger changed since it was read (the PUT carries its ETag): read, merge, write again
        rerun_on=(APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED),
    )


def ensure_logger(module: AzureApimModule) -> Dict[str, Any]:
    """apim_logger: ensure the logger and return the module result."""
    params = module.params
    endpoint = validate(module)
    identity = ServiceIdentity(module, params["resource_group"], params["service_name"], params["identity"])
    loggers = Loggers(module, params["resource_group"], params["service_name"])
    spec = spec_for(module, loggers)
    # An absent logger (or service) reads as None: nothing to delete, and no service read is needed; the service
    # is read only when a write is coming or a user-assigned identity's client id is needed to compare (the system
    # identity's is known: "SystemAssigned").
    desired = checked_before_write(
        spec, lambda current: desired_state(params, endpoint, identity.client_id() if endpoint else None),
        lambda: identity.ready_for_write(bool(endpoint)))
    outcome = ensure(spec, params["state"], desired, check_mode=module.check_mode, deadline=module.deadline)
    return outcome.result("logger")


def find_loggers(module: AzureApimModule) -> List[Dict[str, Any]]:
    """apim_logger_info: the one logger asked for (or none), else all of the service."""
    params = module.params
    loggers = Loggers(module, params["resource_group"], params["service_name"])
    if params["name"]:
        found = loggers.get(params["name"])
        return [found] if found else []
    return loggers.list()
