#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_named_value
short_description: Manage a named value of API Management, plain or backed by a Key Vault secret
version_added: 0.1.0
description:
  - Creates, updates or deletes a named value of an API Management service.
  - "A named value holds either a plain value (O(value), optionally O(is_secret)) or a reference to a Key Vault
    secret (O(key_vault_secret_id)) that API Management reads with one of its managed identities (O(identity))."
  - A Key Vault named value is always secret. API Management reports whether it could read the secret in
    C(keyVault.lastStatus); this module returns it as RV(named_value.key_vault.last_status) and can refresh the
    secret and wait until the read succeeds (O(wait_for_secret)).
  - The value of a secret named value is never read back from Azure, so a changed O(value) of a secret named
    value is only sent when O(update_secret=always).
  - Updates send the entity's ETag (C(If-Match)); when another writer changed the named value in the meantime the
    module reads it again and re-applies only its own changes, so the other writer's tags are kept.
  - Options left unset are left as they are in Azure.
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
    description:
      - Identifier of the named value (the last segment of its resource ID).
      - Required unless O(named_values) lists the named values.
    type: str
  display_name:
    description:
      - Name used to reference the value in policies, as C({{display_name}}). Letters, digits, V(-), V(.) and
        V(_) only.
      - Defaults to O(name) when the named value is created.
    type: str
  value:
    description:
      - The plain value. Mutually exclusive with O(key_vault_secret_id).
      - Required to create a plain named value.
    type: str
  is_secret:
    description:
      - Whether a plain value is secret (hidden in the portal and on reads; C(secret) in the REST API).
      - Defaults to V(false) when a plain named value is created. Key Vault named values are always secret.
    type: bool
  update_secret:
    description:
      - When to send O(value) of a secret named value. Azure never returns secret values, so the module cannot
        tell whether it differs.
      - V(on_create) sends it only when the named value is created (or turned from Key Vault into a plain value);
        re-runs report no change.
      - V(always) sends it on every run and always reports a change (use it to rotate the value).
    type: str
    choices: [always, on_create]
    default: on_create
  key_vault_secret_id:
    description:
      - Key Vault secret identifier, for example V(https://kv-contoso.vault.azure.net/secrets/backend-key).
        Without a version API Management follows the latest version (it re-reads every four hours).
      - A C(/certificates/) URL is refused with the C(/secrets/) URL to use instead.
      - Mutually exclusive with O(value).
    type: str
  identity:
    description:
      - The identity of the service that reads the secret, used with O(key_vault_secret_id).
      - V(system) for the system-assigned identity, or a user-assigned identity attached to the service, by name
        (in the service's resource group), resource ID or client ID. Its client ID is sent as C(identityClientId).
      - The identity needs read access to the secret first (an access policy with secrets C(get), or the role
        C(Key Vault Secrets User)); the C(apim_keyvault_access) role of this collection grants either.
      - The service is read to check this identity is enabled only when the task writes (or, for a user-assigned
        identity, to compare its client ID); an unchanged named value with the system-assigned identity costs no
        read of the service.
    type: str
    default: system
  tags:
    description:
      - Tags of the named value (a list of strings, used to filter the list). Tags not listed are kept unless
        O(purge_tags=true).
    type: list
    elements: str
  purge_tags:
    description: Remove tags that are not in O(tags). Only applies when O(tags) is given.
    type: bool
    default: false
  refresh_secret:
    description:
      - Ask API Management to read the Key Vault secret again now (after any change this task makes). Reports a
        change. Without it, API Management re-reads the secret every four hours.
    type: bool
    default: false
  wait_for_secret:
    description:
      - For a Key Vault named value, wait until API Management has read the secret (C(lastStatus) V(Success)),
        refreshing it every O(wait_interval) seconds, and fail with the Key Vault error when O(timeout) passes.
      - New Azure RBAC role assignments can take about 10 minutes to take effect; keep O(timeout) above that.
      - Without it, a failing C(lastStatus) is reported as a warning.
    type: bool
    default: false
  wait_interval:
    description: Seconds between two refreshes while O(wait_for_secret) waits.
    type: int
    default: 30
  state:
    description: Whether the named value should exist.
    type: str
    choices: [present, absent]
    default: present
  named_values:
    description:
      - Several named values of the service in one task, instead of O(name). The task reads the service once,
        checks every entry before the first write, then handles the entries in order.
      - Each entry takes the per-named-value options below; an option an entry leaves unset takes the value of the
        task's option of the same name (or its default), so common settings such as O(identity) or O(state) can be
        given once.
      - The first entry that fails ends the task; the error names it, and RV(named_values) lists what the entries
        before it did.
    type: list
    elements: dict
    suboptions:
      name:
        description: Identifier of the named value, unique in the list. See O(name).
        type: str
        required: true
      display_name:
        description: See O(display_name).
        type: str
      value:
        description: See O(value).
        type: str
      is_secret:
        description: See O(is_secret).
        type: bool
      update_secret:
        description: See O(update_secret).
        type: str
        choices: [always, on_create]
      key_vault_secret_id:
        description: See O(key_vault_secret_id).
        type: str
      identity:
        description: See O(identity).
        type: str
      tags:
        description: See O(tags).
        type: list
        elements: str
      purge_tags:
        description: See O(purge_tags).
        type: bool
      refresh_secret:
        description: See O(refresh_secret).
        type: bool
      wait_for_secret:
        description: See O(wait_for_secret).
        type: bool
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
attributes:
  idempotent:
    details: Not idempotent with O(update_secret=always) or O(refresh_secret=true), which always write.
seealso:
  - module: azure_apim.identity.apim_named_value_info
  - name: Use named values in Azure API Management policies
    description: Microsoft's guide to named values, including Key Vault secrets.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-properties
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: A named value read from Key Vault with the system-assigned identity, waiting until APIM can read it
  azure_apim.identity.apim_named_value:
    resource_group: rg-apim
    service_name: apim-contoso
    name: backend-api-key
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/backend-api-key
    identity: system
    wait_for_secret: true
    timeout: 900
  register: backend_key

- name: The same with a user-assigned identity attached to the service
  azure_apim.identity.apim_named_value:
    resource_group: rg-apim
    service_name: apim-contoso
    name: partner-api-key
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/partner-api-key
    identity: id-apim-keyvault

- name: A plain secret value, rotated on every run
  azure_apim.identity.apim_named_value:
    resource_group: rg-apim
    service_name: apim-contoso
    name: legacy-token
    value: "{{ legacy_token }}"
    is_secret: true
    update_secret: always

- name: Key Vault named values in one task (one module run, the service read once)
  azure_apim.identity.apim_named_value:
    resource_group: rg-apim
    service_name: apim-contoso
    identity: system
    named_values:
      - {name: nv-01, key_vault_secret_id: "https://kv-contoso.vault.azure.net/secrets/nv-01"}
      - {name: nv-02, key_vault_secret_id: "https://kv-contoso.vault.azure.net/secrets/nv-02"}

- name: A list with per-entry settings; unset entry options take the task's value
  azure_apim.identity.apim_named_value:
    resource_group: rg-apim
    service_name: apim-contoso
    identity: id-apim-keyvault
    named_values:
      - name: backend-api-key
        key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/backend-api-key
      - name: partner-api-key
        key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/partner-api-key
        identity: system
      - name: legacy-token
        state: absent

- name: Remove a named value
  azure_apim.identity.apim_named_value:
    resource_group: rg-apim
    service_name: apim-contoso
    name: legacy-token
    state: absent
"""

RETURN = r"""
named_value:
  description:
    - The named value after the task ({} when absent). In check mode, the predicted state. Values are never
      returned.
  returned: when O(name) is set
  type: dict
  contains:
    id:
      description: Resource ID.
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim/namedValues/backend-key
    name:
      description: Identifier of the named value.
      type: str
      sample: backend-api-key
    display_name:
      description: Name used in policies.
      type: str
      sample: backend-api-key
    secret:
      description: Whether the value is secret.
      type: bool
      sample: true
    tags:
      description: Tags.
      type: list
      elements: str
      sample: [backend]
    key_vault:
      description: The Key Vault reference; null for a plain value.
      type: dict
      contains:
        secret_identifier:
          description: The Key Vault secret identifier.
          type: str
          sample: https://kv-contoso.vault.azure.net/secrets/backend-api-key
        identity_client_id:
          description: Client ID of the user-assigned identity used, or V(SystemAssigned).
          type: str
          sample: SystemAssigned
        last_status:
          description: Outcome of API Management's last read of the secret.
          type: dict
          sample: {code: Success, message: null, time_stamp_utc: "2026-01-01T00:00:00+00:00"}
    provisioning_state:
      description: Provisioning state.
      type: str
      sample: Succeeded
    etag:
      description: Entity tag of the named value.
      type: str
      sample: '"AAAAAAAAX1A="'
last_status:
  description:
    - Outcome of API Management's last read of the Key Vault secret (V(code) is V(Success) or the Key Vault
      error, V(message) explains it); null for plain values.
  returned: when O(name) is set
  type: dict
  sample: {code: Forbidden, message: "Caller is not authorized to perform action on resource.", time_stamp_utc: null}
secret_refreshes:
  description: How many times the task asked API Management to read the Key Vault secret again.
  returned: when O(name) is set
  type: int
  sample: 0
named_values:
  description:
    - With O(named_values), one entry per named value handled, in the order of the list (on failure, the entries
      before the failing one). Each entry holds RV(named_value), RV(last_status), RV(secret_refreshes) and
      C(changed) for that named value.
  returned: when O(named_values) is set
  type: list
  elements: dict
  sample:
    - changed: false
      named_value: {name: backend-api-key, display_name: backend-api-key, secret: true}
      last_status: {code: Success, message: null, time_stamp_utc: "2026-01-01T00:00:00+00:00"}
      secret_refreshes: 0
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_named_values import (
    ensure_named_value, validate,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._items import ItemList
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    name=dict(type="str"),
    display_name=dict(type="str"),
    value=dict(type="str", no_log=True),
    is_secret=dict(type="bool"),
    update_secret=dict(type="str", choices=["always", "on_create"], default="on_create"),
    key_vault_secret_id=dict(type="str"),
    identity=dict(type="str", default="system"),
    tags=dict(type="list", elements="str"),
    purge_tags=dict(type="bool", default=False),
    refresh_secret=dict(type="bool", default=False),
    wait_for_secret=dict(type="bool", default=False),
    wait_interval=dict(type="int", default=30),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
ITEM_OPTIONS = ("name", "display_name", "value", "is_secret", "update_secret", "key_vault_secret_id", "identity",
                "tags", "purge_tags", "refresh_secret", "wait_for_secret", "state")


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the named value and return the module result."""
    return ensure_named_value(module)


ITEMS = ItemList("named_values", ITEM_OPTIONS, key=lambda params: params["name"], validate=validate,
                 noun="named value")
ARGUMENT_SPEC.update(named_values=ITEMS.sub_spec(ARGUMENT_SPEC, required=("name",)))
MODULE_KWARGS: Dict[str, Any] = dict(required_one_of=[["name", "named_values"]],
                                     mutually_exclusive=[["name", "named_values"]])


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run_items(run, ITEMS)


if __name__ == "__main__":
    main()
