#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_logger_info
short_description: Read the loggers of an API Management service
version_added: 0.1.0
description:
  - Returns one logger or all loggers of an API Management service (Event Hub, Application Insights, Azure Monitor).
  - Stored connection strings and instrumentation keys are never returned; C(credentials.connection_string_set)
    says whether one is stored.
  - Never fails because something does not exist; the list is then empty.
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
    description: Identifier of one logger. Without it, every logger of the service is returned.
    type: str
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.apim_logger
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Loggers that send to Event Hubs with a managed identity
  azure_apim.identity.apim_logger_info:
    resource_group: rg-apim
    service_name: apim-contoso
  register: found

- name: Show them
  ansible.builtin.debug:
    msg: "{{ found.loggers | selectattr('credentials.identity_client_id') | map(attribute='name') | list }}"
"""

RETURN = r"""
loggers:
  description: The loggers found (empty when none).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Resource ID.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/loggers/eh-logger
    name:
      description: Identifier.
      type: str
      sample: eventhub-logger
    logger_type:
      description: V(azureEventHub), V(applicationInsights) or V(azureMonitor).
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
      description: Event hub name, endpoint address and identity client ID where Azure shows them.
      type: dict
      sample: {name: apim-logs, endpoint_address: evhns-contoso.servicebus.windows.net,
               identity_client_id: SystemAssigned, connection_string_set: false}
    etag:
      description: Entity tag (only when one logger is read).
      type: str
      sample: '"AAAAAAAAX1A="'
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: always
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_loggers import find_loggers
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    name=dict(type="str"),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Look the loggers up."""
    return {"changed": False, "loggers": find_loggers(module)}


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
