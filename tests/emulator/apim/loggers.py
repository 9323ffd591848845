"""Loggers (Event Hubs, Application Insights, Azure Monitor): synchronous; credentials come back masked."""

from __future__ import annotations

import uuid
from typing import Any, Optional

from emulator import resolve
from emulator.apim import children
from emulator.apim.base import LOGGER_TYPE, SERVICE, validation
from emulator.world import World

LOGGER = SERVICE + "/loggers/<logger>"
LOGGER_TYPES = ("azureEventHub", "applicationInsights", "azureMonitor")


def _logger_credentials(w: World, svc: dict, logger_type: str, creds: dict) -> tuple[dict, dict]:
    """(private credentials, what GET shows) for a logger; secrets become ``{{Logger-Credentials-<id>}}``."""
    if logger_type == "azureMonitor":
        return {}, {}
    shown: dict[str, Any] = {}
    if logger_type == "azureEventHub":
        if not creds.get("name"):
            raise validation("'credentials.name' (the event hub) is required for an azureEventHub logger.",
                             "credentials")
        if creds.get("connectionString"):
            shown["connectionString"] = "{{Logger-Credentials-%s}}" % uuid.uuid4().hex[:24]
        elif creds.get("endpointAddress") and creds.get("identityClientId"):
            client = creds["identityClientId"]
            if resolve.find_identity(w, svc, None if client == "SystemAssigned" else client) is None:
                raise validation("credentials", "identityClientId",
                                 f"Can not find Managed Identity with provided IdentityClientId : {client}. "
                                 "For more information please see aka.ms/apimmsi.")
            shown.update(name=creds["name"], endpointAddress=creds["endpointAddress"], identityClientId=client)
        else:
            raise validation("An azureEventHub logger needs credentials.connectionString, or "
                             "credentials.endpointAddress with credentials.identityClientId.", "credentials")
    else:
        if not (creds.get("instrumentationKey") or creds.get("connectionString")):
            raise validation("An applicationInsights logger needs credentials.instrumentationKey or "
                             "credentials.connectionString.", "credentials")
        key = "connectionString" if creds.get("connectionString") else "instrumentationKey"
        shown[key] = "{{Logger-Credentials-%s}}" % uuid.uuid4().hex[:24]
    return dict(creds), shown


def _logger_properties(w: World, svc: dict, props: dict, _old: Optional[dict]) -> dict[str, Any]:
    """Logger_CreateOrUpdate (synchronous): the stored properties and the private credentials."""
    if props.get("loggerType") not in LOGGER_TYPES:
        raise validation(f"'loggerType' must be one of {', '.join(LOGGER_TYPES)}.", "loggerType")
    private, shown = _logger_credentials(w, svc, props["loggerType"], props.get("credentials") or {})
    out = {"loggerType": props["loggerType"], "description": props.get("description"),
           "credentials": shown, "isBuffered": bool(props.get("isBuffered", True)),
           "resourceId": props.get("resourceId")}
    return {"properties": out, "_credentials": private}


LOGGERS = children.Family("loggers", LOGGER_TYPE, "Logger")
children.register(LOGGERS, LOGGER, "logger", build=_logger_properties)
