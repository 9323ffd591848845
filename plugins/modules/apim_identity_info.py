#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_identity_info
short_description: Read the managed identities of API Management services
version_added: 0.1.0
description:
  - Returns the system-assigned and user-assigned identities of one API Management service, or of every service in a
    resource group, with the principal and client IDs other tasks need.
  - With O(include_dependents=true), also lists what uses each identity (custom hostnames with a Key Vault
    certificate, Key Vault named values, managed-identity loggers, Key Vault certificates), that is, what must change
    before that identity can be removed.
  - With O(orphaned_grants=true), also lists the grants the service left behind (read-only), that is role
    assignments and Key Vault access-policy entries of principals that were the service's identities and no longer exist. See
    RV(identities[].orphaned_grants) for how they are attributed to the service without any directory permission.
  - Never fails because something does not exist; the list is then empty.
options:
  resource_group:
    description: Resource group of the services.
    type: str
    required: true
  service_name:
    description: Name of one service. Without it, every service of O(resource_group) is returned.
    type: str
    aliases: [name]
  include_dependents:
    description: Also list what uses each identity (three more reads per service).
    type: bool
    default: false
  orphaned_grants:
    description:
      - Also list the grants left behind by principals that were this service's identities and are gone, and the
        access-policy entries of the current identities in the vaults the service references.
      - >-
        A role assignment counts as the service's when its description carries the marker this collection writes
        when it creates an assignment for a service's identity (C(azure_apim.identity grant for API Management
        service <service id>; identity: system) or C(...; identity: <user-assigned identity id>)), or when it has
        this collection's deterministic name for a principal such a marker ties to the service. Assignments made
        by others, or for other principals, are never listed.
      - A principal is gone when it was the system-assigned identity and is not the current one (disabling the
        identity deletes its principal; enabling it again creates a new one), or when it was a user-assigned
        identity whose resource no longer exists or was created again with a new principal.
      - Access-policy entries have no description; only entries of principals proven gone as above are listed, and
        only in the vaults of the service's subscription that its hostnames, named values and certificates
        reference.
      - Reads one list of the role assignments of the subscription (none per assignment; shared by every service
        of O(resource_group)), each service's named values, certificates and loggers, one list of the
        subscription's vaults (when a service references any), and each user-assigned identity a marker names
        that is no longer attached.
      - The marker is trusted as written. Anyone allowed to write role assignments could write it on an
        assignment of another principal; restrict C(Microsoft.Authorization/roleAssignments/write) as Azure
        recommends. Assignments made before this collection wrote the marker are not attributed.
      - Only role assignments that apply in O(subscription_id) (at, above or below it) and vaults of that
        subscription are looked at; grants a service's identity holds in other subscriptions are not listed.
      - M(azure_apim.identity.role_assignment) / M(azure_apim.identity.keyvault_access) with C(state=absent) and
        the principal id remove them, as the P(azure_apim.identity.apim_teardown#role) role does.
    type: bool
    default: false
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.apim_identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Read the identities of a service and what uses them
  azure_apim.identity.apim_identity_info:
    resource_group: rg-apim
    service_name: apim-contoso
    include_dependents: true
  register: apim_ids

- name: List the grants left behind by identities the service no longer has
  azure_apim.identity.apim_identity_info:
    resource_group: rg-apim
    service_name: apim-contoso
    orphaned_grants: true
  register: apim_orphans

- name: Show the system-assigned principal id
  ansible.builtin.debug:
    msg: "{{ apim_ids.identities[0].principal_id }}"
  when: apim_ids.identities | length > 0
"""

RETURN = r"""
identities:
  description: One entry per service found (empty when none).
  returned: always
  type: list
  elements: dict
  contains:
    service_name:
      description: Name of the service.
      type: str
      sample: apim-contoso
    resource_group:
      description: Resource group of the service.
      type: str
      sample: rg-apim
    service_id:
      description: Resource ID of the service.
      type: str
    provisioning_state:
      description: Provisioning state of the service.
      type: str
      sample: Succeeded
    type:
      description: C(None), C(SystemAssigned), C(UserAssigned) or C(SystemAssigned, UserAssigned).
      type: str
      sample: SystemAssigned
    principal_id:
      description: Object ID of the system-assigned identity (null without one).
      type: str
    tenant_id:
      description: Tenant of the identities.
      type: str
    user_assigned_identities:
      description: User-assigned identities by resource ID, each with its principal_id and client_id.
      type: dict
    user_assigned:
      description: The same user-assigned identities as a list of {id, name, principal_id, client_id}.
      type: list
      elements: dict
    dependents:
      description:
        - What uses the identities (kind V(hostname), V(named_value), V(logger) or V(certificate), its name, which
          identity, and how to stop using it). Only with O(include_dependents=true).
      type: list
      elements: dict
      sample:
        - kind: named_value
          name: backend-key
          identity: the system-assigned identity
          identity_client_id: null
          unblock: point the named value at another identity or make it a plain value, or delete it
    orphaned_grants:
      description:
        - Grants left behind by principals that were this service's identities and are gone. Only with
          O(orphaned_grants=true).
      type: dict
      contains:
        principals:
          description: The gone principals a marker ties to the service, with C(kind) (V(system) or V(user)),
            C(identity_id) (the user-assigned identity's resource ID) and C(reason).
          type: list
          elements: dict
          sample:
            - principal_id: 11111111-2222-3333-4444-555555555555
              kind: system
              identity_id: null
              reason: the service's system-assigned identity was disabled or replaced (a new principal)
        role_assignments:
          description:
            - The role assignments of those principals attributed to the service, as
              M(azure_apim.identity.role_assignment_info) returns them, with C(role_name) (built-in roles only),
              C(kind), C(identity_id) and C(reason).
          type: list
          elements: dict
        access_policies:
          description:
            - Access-policy entries of those principals in the vaults the service references, each with C(vault),
              C(vault_id), C(permission_model), C(object_id), C(tenant_id), C(application_id), C(permissions),
              C(kind) and C(identity_id).
          type: list
          elements: dict
    key_vault_access_policies:
      description:
        - Access-policy entries of the current identities in the vaults the service references (same shape as
          RV(identities[].orphaned_grants.access_policies)). Only with O(orphaned_grants=true).
      type: list
      elements: dict
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._orphans import identity_report

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", aliases=["name"]),
    include_dependents=dict(type="bool", default=False),
    orphaned_grants=dict(type="bool", default=False),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Read the services and return their identities."""
    return identity_report(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
