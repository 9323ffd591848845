#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: user_assigned_identity
short_description: Create, update or delete a user-assigned managed identity
version_added: 0.1.0
description:
  - Creates, updates the tags of, or deletes a user-assigned managed identity
    (C(Microsoft.ManagedIdentity/userAssignedIdentities)).
  - API Management can use such an identity to read Key Vault secrets and certificates and to call other services.
    Attach it to a service with the C(azure_apim.identity.apim_identity) module.
  - Options left unset are left as they are in Azure.
options:
  resource_group:
    description: Resource group of the identity.
    type: str
    required: true
  name:
    description:
      - Name of the identity.
      - Required unless O(identities) lists several.
    type: str
  location:
    description:
      - Azure region of the identity, for example V(westeurope). Used on creation only; an identity cannot move.
      - Defaults to the resource group's region, which is then read before the create. With O(location) set, an
        apply reads only the identity before creating it; check mode still reads the resource group, so that it
        predicts a create that would fail because the group does not exist.
    type: str
  tags:
    description:
      - Tags to set. Tags not listed are kept unless O(purge_tags=true).
    type: dict
  purge_tags:
    description:
      - Remove tags that are not in O(tags). Only applies when O(tags) is given.
    type: bool
    default: false
  state:
    description: Whether the identity should exist.
    type: str
    choices: [present, absent]
    default: present
  identities:
    description:
      - Several identities of the resource group in one task, instead of O(name). Every entry is checked before
        the first request; the entries are then handled in order in one module run.
      - An option an entry leaves unset takes the value of the task's option of the same name (or its default).
      - The first entry that fails ends the task; the error names it, and RV(identities) lists what the entries
        before it did.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the identity.
        type: str
        required: true
      resource_group:
        description: Resource group of the identity; defaults to O(resource_group).
        type: str
      location:
        description: See O(location).
        type: str
      tags:
        description: See O(tags).
        type: dict
      purge_tags:
        description: See O(purge_tags).
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
seealso:
  - name: Use managed identities in Azure API Management
    description: The Microsoft Learn article this collection automates.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Create the identity API Management will use for Key Vault
  azure_apim.identity.user_assigned_identity:
    resource_group: rg-apim
    name: id-apim-keyvault
    location: westeurope
    tags:
      owner: platform
  register: apim_uai

- name: Show its principal id (for role assignments)
  ansible.builtin.debug:
    msg: "{{ apim_uai.identity.principal_id }}"

- name: Both identities of a service in one task
  azure_apim.identity.user_assigned_identity:
    resource_group: rg-apim
    location: westeurope
    identities:
      - name: id-apim-keyvault
      - name: id-apim-logs
        tags:
          owner: observability

- name: Keep exactly these tags
  azure_apim.identity.user_assigned_identity:
    resource_group: rg-apim
    name: id-apim-keyvault
    tags:
      owner: platform
    purge_tags: true

- name: Delete the identity
  azure_apim.identity.user_assigned_identity:
    resource_group: rg-apim
    name: id-apim-keyvault
    state: absent
"""

RETURN = r"""
planned:
  description:
    - Check mode only, when the task plans a change.
    - The identities this task is about to create, in the shape of the O(assume) option; the collection's roles pass it to the
      later tasks of the run as O(assume) (see the README, "Check mode plans the whole article").
  returned: check mode, when changed
  type: dict
  sample: {identities: [{identity: /subscriptions/.../userAssignedIdentities/id-apim}]}
identity:
  description:
    - The identity after the task ({} when it is absent). In check mode, the predicted state; the client, principal
      and tenant IDs Azure assigns on creation are then null (the resource ID is predicted).
  returned: when O(name) is set
  type: dict
  contains:
    id:
      description: Resource ID; use it in the C(user_assigned_identities) option of C(azure_apim.identity.apim_identity).
      type: str
      sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-kv
    name:
      description: Name of the identity.
      type: str
      sample: id-apim-keyvault
    resource_group:
      description: Resource group of the identity.
      type: str
      sample: rg-apim
    location:
      description: Region.
      type: str
      sample: westeurope
    tags:
      description: Tags.
      type: dict
      sample: {owner: platform}
    client_id:
      description: Client (application) ID; the value APIM settings such as C(identityClientId) expect.
      type: str
      sample: 11111111-1111-1111-1111-111111111111
    principal_id:
      description: Object ID of the service principal; grant roles and access policies to it.
      type: str
      sample: 22222222-2222-2222-2222-222222222222
    tenant_id:
      description: Tenant of the identity.
      type: str
      sample: 33333333-3333-3333-3333-333333333333
identities:
  description:
    - With O(identities), one entry per identity handled, in the order of the list (on failure, the entries before
      the failing one). Each entry holds RV(identity) and C(changed) for that identity.
  returned: when O(identities) is set
  type: list
  elements: dict
  sample:
    - changed: true
      identity: {name: id-apim-keyvault, resource_group: rg-apim, location: westeurope, tags: {}}
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._items import ItemList
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._plan import planned
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ensure
from ansible_collections.azure_apim.identity.plugins.module_utils._user_assigned_identities import (
    desired_state, spec_for,
)

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    name=dict(type="str"),
    location=dict(type="str"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the identity's state and return the module result."""
    params = module.params
    outcome = ensure(spec_for(module), params["state"], lambda current: desired_state(params, current),
                     check_mode=module.check_mode, deadline=module.deadline)
    result = outcome.result("identity")
    if module.check_mode and outcome.changed and outcome.before is None and outcome.after:
        # the hand-over to later tasks of this check run (see _plan.py): this identity is about to exist
        result["planned"] = planned(identities=[{"identity": outcome.after["id"]}])
    return result


ITEMS = ItemList("identities", ("name", "resource_group", "location", "tags", "purge_tags", "state"),
                 key=lambda params: "{0}/{1}".format(params["resource_group"], params["name"]), noun="identity")
ARGUMENT_SPEC.update(identities=ITEMS.sub_spec(ARGUMENT_SPEC, required=("name",)))
MODULE_KWARGS: Dict[str, Any] = dict(required_one_of=[["name", "identities"]], mutually_exclusive=[["name", "identities"]])


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run_items(run, ITEMS)


if __name__ == "__main__":
    main()
