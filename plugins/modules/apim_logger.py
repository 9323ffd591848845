#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_logger
short_description: Manage an Event Hub logger of API Management that authenticates with a managed identity
version_added: 0.1.0
description:
  - Creates, updates or deletes an C(azureEventHub) logger of an API Management service, used by the C(log-to-eventhub)
    policy.
  - The logger authenticates to Event Hubs with a managed identity of the service (O(endpoint_address) and
    O(identity)), or with a shared access connection string (O(connection_string)).
  - The identity needs the C(Azure Event Hubs Data Sender) role on the namespace or the event hub; the
    C(apim_trusted_access) role grants it.
  - API Management never returns a stored connection string (it shows C({{Logger-Credentials-<id>}})), so a changed
    O(connection_string) is only sent when O(update_credentials=always); re-runs otherwise report no change.
  - The logger is written whole, so O(event_hub_name) and the credentials are needed whenever O(state=present).
    O(description), O(is_buffered) and O(resource_id) keep their current values when left unset.
options:
  resource_group:
    description: Resource group of the API Management service.
    type: str
    required: true
  service_name:
    description: Name of the API Management service.
    type: str
    required: true
  name:
    description: Identifier of the logger (referenced as C(logger-id) in the C(log-to-eventhub) policy).
    type: str
    required: true
  event_hub_name:
    description: Name of the event hub that receives the events. Required when O(state=present).
    type: str
  endpoint_address:
    description:
      - Fully qualified host name of the Event Hubs namespace, for example V(evhns-contoso.servicebus.windows.net).
      - Selects managed-identity authentication with O(identity). Mutually exclusive with O(connection_string).
      - A connection string is refused here (it would not be kept secret); use O(connection_string) for those.
    type: str
  identity:
    description:
      - The identity of the service used with O(endpoint_address). V(system) for the system-assigned identity
        (sent as C(identityClientId=SystemAssigned)), or a user-assigned identity attached to the service, by name
        (in the service's resource group), resource ID or client ID (its client ID is sent).
      - The service is read to check this identity is enabled only when the task writes (or, for a
        user-assigned identity, to compare its client ID); an unchanged logger with the system-assigned
        identity costs no read of the service.
    type: str
    default: system
  connection_string:
    description:
      - Shared access connection string of the event hub or namespace (C(Endpoint=sb://...;SharedAccessKeyName=...;
        SharedAccessKey=...)). Mutually exclusive with O(endpoint_address).
    type: str
  update_credentials:
    description:
      - When to send O(connection_string) to an existing logger. Azure returns it masked, so the module cannot
        tell whether it differs.
      - V(on_create) sends it only when the logger is created or its other settings change.
      - V(always) writes the logger on every run and always reports a change (use it to rotate keys).
    type: str
    choices: [always, on_create]
    default: on_create
  description:
    description: Description of the logger.
    type: str
  is_buffered:
    description: Whether records are buffered before they are published (Azure's default is V(true)).
    type: bool
  resource_id:
    description: Resource ID of the Event Hubs namespace or event hub, shown in the portal.
    type: str
  state:
    description: Whether the logger should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
attributes:
  idempotent:
    details: Not idempotent with O(update_credentials=always), which always writes.
seealso:
  - module: azure_apim.identity.apim_logger_info
  - name: Log events to Azure Event Hubs
    description: Microsoft's guide to Event Hub loggers, including managed identity credentials.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-log-event-hubs
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Event Hub logger using the system-assigned identity
  azure_apim.identity.apim_logger:
    resource_group: rg-apim
    service_name: apim-contoso
    name: eventhub-logger
    event_hub_name: apim-logs
    endpoint_address: evhns-contoso.servicebus.windows.net
    identity: system
    description: API requests to Event Hubs

- name: The same with a user-assigned identity
  azure_apim.identity.apim_logger:
    resource_group: rg-apim
    service_name: apim-contoso
    name: eventhub-logger-uai
    event_hub_name: apim-logs
    endpoint_address: evhns-contoso.servicebus.windows.net
    identity: id-apim-eventhubs

- name: A logger with a connection string (kept secret; sent on creation only)
  azure_apim.identity.apim_logger:
    resource_group: rg-apim
    service_name: apim-contoso
    name: legacy-logger
    event_hub_name: apim-logs
    connection_string: "{{ eventhub_connection_string }}"
"""

RETURN = r"""
logger:
  description: The logger after the task ({} when absent). In check mode, the predicted state.
  returned: always
  type: dict
  contains:
    id:
      description: Resource ID.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/loggers/eh-logger
    name:
      description: Identifier of the logger.
      type: str
      sample: eventhub-logger
    logger_type:
      description: Always V(azureEventHub) for loggers this module manages.
      type: str
      sample: azureEventHub
    description:
      description: Description.
      type: str
      sample: API requests to Event Hubs
    is_buffered:
      description: Whether records are buffered.
      type: bool
      sample: true
    resource_id:
      description: Resource ID shown in the portal.
      type: str
      sample: null
    credentials:
      description:
        - The credentials Azure shows. C(connection_string_set) says a connection string is
          stored; it is never returned.
      type: dict
      sample: {name: apim-logs, endpoint_address: evhns-contoso.servicebus.windows.net,
               identity_client_id: SystemAssigned, connection_string_set: false}
    etag:
      description: Entity tag.
      type: str
      sample: '"AAAAAAAAX1A="'
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

import re
from typing import Any, Callable, Dict, Optional

from ansible_collections.azure_apim.identity.plugins.module_utils._access import ServiceIdentity
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_entities import (
    SYSTEM_ASSIGNED, Loggers, retry_on_etag_mismatch,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._compare import ci_equal, id_equal
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ResourceSpec, ensure, needs_write

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    name=dict(type="str", required=True),
    event_hub_name=dict(type="str"),
    endpoint_address=dict(type="str"),
    identity=dict(type="str", default="system"),
    connection_string=dict(type="str", no_log=True),
    update_credentials=dict(type="str", choices=["always", "on_create"], default="on_create"),
    description=dict(type="str"),
    is_buffered=dict(type="bool"),
    resource_id=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
MODULE_KWARGS: Dict[str, Any] = dict(required_if=[("state", "present", ("event_hub_name",))])
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
    )


def rewrite_credentials(module: AzureApimModule, loggers: Loggers, result: Dict[str, Any], changed: bool) -> bool:
    """update_credentials=always: write an existing connection-string logger that ensure() saw as unchanged."""
    params = module.params
    if changed or params["state"] != "present" or not params["connection_string"] or \
            params["update_credentials"] != "always":
        return False
    if not module.check_mode:
        current = result["logger"]
        written = loggers.put(params["name"], request_body(params, {"credentials": {}}, current), current.get("etag"))
        result["logger"] = written or loggers.get(params["name"]) or current
    return True


def desired_for(module: AzureApimModule, spec: ResourceSpec, endpoint: Optional[str],
                identity: ServiceIdentity) -> Callable[[Optional[Dict[str, Any]]], Dict[str, Any]]:
    """The desired-state function: the service is read only when a write is coming or a user-assigned identity's
    client id is needed to compare (the system identity's is known: "SystemAssigned")."""
    params = module.params

    def desired(current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        wanted = desired_state(params, endpoint, identity.client_id() if endpoint else None)
        if needs_write(spec, current, wanted):
            identity.service()  # a missing service is reported as such, before any write
            if endpoint:
                identity.resolve()  # the identity must be enabled on the service
        return wanted

    return desired


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the logger and return the module result."""
    params = module.params
    endpoint = validate(module)
    identity = ServiceIdentity(module, params["resource_group"], params["service_name"], params["identity"])
    loggers = Loggers(module, params["resource_group"], params["service_name"])
    spec = spec_for(module, loggers)
    # An absent logger (or service) reads as None: nothing to delete, and no service read is needed.
    desired = desired_for(module, spec, endpoint, identity)
    outcome = retry_on_etag_mismatch(
        lambda: ensure(spec, params["state"], desired, check_mode=module.check_mode, deadline=module.deadline),
        spec.what)
    result = outcome.result("logger")
    if rewrite_credentials(module, loggers, result, outcome.changed):
        result["changed"] = True
    return result


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
