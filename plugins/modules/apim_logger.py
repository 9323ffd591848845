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

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_loggers import ensure_logger
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

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


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the logger and return the module result."""
    return ensure_logger(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
