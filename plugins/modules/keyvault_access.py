#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: keyvault_access
short_description: Grant or revoke one principal's access to the secrets of a key vault
version_added: 0.1.0
description:
  - Lets one principal (usually an identity of an API Management service) read secrets and certificates of one
    key vault, or takes that access away, under the vault's permission model.
  - The permission model is read from the vault (C(enableRbacAuthorization)); the module never changes it.
  - On an access-policy vault only the C(accessPolicies/add), C(replace) or C(remove) operation is sent, carrying
    this principal's single entry. The vault itself is never written, so other principals' policies cannot be
    lost, even when someone changes them while the task runs. Removal sends back the entry exactly as stored.
    Key Vault's C(409 ConflictError) (another change in progress) is retried from a fresh read.
  - On an Azure RBAC vault a role assignment is made at the vault, or at one secret (O(secret_name)), with the
    deterministic name, adoption and retries of M(azure_apim.identity.role_assignment). For an identity of an API
    Management service (O(service_name)) a new assignment's description names the service and the identity, so
    M(azure_apim.identity.apim_identity_info) can find it once that principal is gone (C(orphaned_grants)).
  - When the vault's firewall is on (C(networkAcls.defaultAction=Deny)), API Management can only pass as a trusted
    Microsoft service, which requires its system-assigned identity and the C(AzureServices) bypass. A user-assigned
    identity is then refused before anything is written, unless O(allow_user_assigned_behind_firewall=true).
options:
  vault:
    description:
      - Name or resource id of the key vault, or a secret URI (C(https://<vault>.vault.azure.net/secrets/<name>)).
      - A name without O(vault_resource_group) is looked up among the subscription's vaults.
    type: str
    required: true
  vault_resource_group:
    description: Resource group of the vault (faster than a subscription-wide lookup).
    type: str
  principal_id:
    description: Object id of the principal. Mutually exclusive with O(service_name).
    type: str
  principal_tenant_id:
    description:
      - Tenant of O(principal_id). Defaults to the vault's tenant. Must equal the vault's tenant.
    type: str
  service_name:
    description: API Management service whose identity gets access. Requires O(service_resource_group).
    type: str
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
  identity:
    description:
      - Which identity of O(service_name). V(system) for the system-assigned identity, or the name (in
        O(service_resource_group)), resource id or client id of an attached user-assigned identity.
    type: str
    default: system
  permission_model:
    description:
      - V(auto) follows the vault. V(access_policy) or V(rbac) assert the model and fail when the vault uses the other.
    type: str
    choices: [auto, access_policy, rbac]
    default: auto
  secret_permissions:
    description: Secret permissions of the access policy (access-policy vaults).
    type: list
    elements: str
    choices: [all, get, list, set, delete, backup, restore, recover, purge]
    default: [get, list]
  certificate_permissions:
    description:
      - Certificate permissions of the access policy; left as they are when not given.
      - On an Azure RBAC vault they choose the role, never ignored. Read permissions only (V(get), V(list),
        V(getissuers), V(listissuers)) with the default O(role) assign V(Key Vault Certificate User), with a warning.
        Any other permission, or another O(role), is refused before anything is written.
    type: list
    elements: str
    choices: [all, get, list, delete, create, import, update, managecontacts, getissuers, listissuers, setissuers,
              deleteissuers, manageissuers, recover, purge, backup, restore]
  key_permissions:
    description: Key permissions of the access policy; left as they are when not given.
    type: list
    elements: str
    choices: [all, encrypt, decrypt, wrapKey, unwrapKey, sign, verify, get, list, create, update, import, delete,
              backup, restore, recover, purge, release, rotate, getrotationpolicy, setrotationpolicy]
  permissions_mode:
    description:
      - V(additive) adds the listed permissions to the principal's entry and keeps any others it has.
      - V(exact) makes each listed kind (secrets, certificates, keys) hold exactly the listed permissions.
    type: str
    choices: [additive, exact]
    default: additive
  role:
    description:
      - Role to assign on an RBAC vault (display name, GUID or id). V(Key Vault Certificate User) also lets the
        principal read certificates.
      - API Management reads custom-domain certificates, APIM certificates and named values through the Key Vault
        B(secrets) endpoint, so V(Key Vault Secrets User) is enough for all three.
    type: str
    default: Key Vault Secrets User
  secret_name:
    description: On an RBAC vault, assign the role on this one secret instead of the whole vault.
    type: str
  allow_user_assigned_behind_firewall:
    description:
      - Downgrade the refusal of a user-assigned identity on a firewalled vault to a warning (the grant is made,
        but API Management will not get through the firewall with that identity).
    type: bool
    default: false
  preflight:
    description:
      - Also report, in RV(preflight), what M(azure_apim.identity.apim_keyvault_preflight) would report with
        C(fail_on=never) just before the grant, from the same reads (no secret is checked). Saves the separate
        preflight module run; the role C(azure_apim.identity.apim_keyvault_access) uses it.
      - Needs O(service_name). The findings never fail the task.
    type: bool
    default: false
  state:
    description: Whether the principal should have the access.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.keyvault_access_info
  - module: azure_apim.identity.apim_keyvault_preflight
  - name: Configure Key Vault access using a managed identity
    description: The section of the article this module automates.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Let the service's system identity read secrets (access policy or RBAC, whatever the vault uses)
  azure_apim.identity.keyvault_access:
    vault: kv-contoso
    vault_resource_group: rg-apim
    service_name: apim-contoso
    service_resource_group: rg-apim

- name: A user-assigned identity, certificates too, exactly these permissions
  azure_apim.identity.keyvault_access:
    vault: kv-contoso
    service_name: apim-contoso
    service_resource_group: rg-apim
    identity: id-apim-keyvault
    permission_model: access_policy
    secret_permissions: [get, list]
    certificate_permissions: [get, list]
    permissions_mode: exact

- name: RBAC vault, one secret only
  azure_apim.identity.keyvault_access:
    vault: https://kv-contoso-rbac.vault.azure.net/secrets/backend-key
    secret_name: backend-key
    service_name: apim-contoso
    service_resource_group: rg-apim

- name: Revoke
  azure_apim.identity.keyvault_access:
    vault: kv-contoso
    service_name: apim-contoso
    service_resource_group: rg-apim
    state: absent
"""

RETURN = r"""
preflight:
  description:
    - With O(preflight=true), the report of M(azure_apim.identity.apim_keyvault_preflight) as things stood before the
      grant, in that module's shape (C(findings), C(permission_model), C(vault), C(identity), C(access), C(network),
      C(secret) null).
  returned: when O(preflight=true)
  type: dict
  sample: {findings: [], permission_model: access_policy, network: {mode: None}}
planned:
  description:
    - Check mode only, when the task plans a change.
    - The secret access this task is about to grant, in the shape of the O(assume) option; the collection's roles pass it to the
      later tasks of the run as O(assume) (see the README, "Check mode plans the whole article").
  returned: check mode, when changed
  type: dict
  sample: {secret_access: [{vault: kv-contoso, service: rg-apim/apim-contoso, identity: system}]}
permission_model:
  description: The vault's permission model.
  returned: always
  type: str
  sample: access_policy
vault:
  description: The vault.
  returned: always
  type: dict
  sample: {id: /subscriptions/0000/resourceGroups/rg-apim/providers/Microsoft.KeyVault/vaults/kv-contoso, name: kv-contoso}
principal:
  description: The principal that was resolved.
  returned: always
  type: dict
  sample: {kind: system, principal_id: 22222222-2222-2222-2222-222222222222, tenant_id: 33333333-3333-3333-3333-333333333333}
firewall:
  description:
    - Whether API Management can pass the vault's firewall with this identity (C(passes)) and why not (C(reason)).
  returned: always
  type: dict
  sample: {enabled: true, default_action: Deny, bypass: AzureServices, trusted_services_bypass: true, passes: true, reason: null}
access_policy:
  description: The principal's access-policy entry after the task ({} when absent or on an RBAC vault).
  returned: always
  type: dict
  sample: {tenant_id: 3333, object_id: 2222, application_id: null, permissions: {secrets: [get, list], keys: [], certificates: [], storage: []}}
role_assignment:
  description: The role assignment after the task on an RBAC vault ({} otherwise); see M(azure_apim.identity.role_assignment).
  returned: always
  type: dict
  sample: {name: 3f2a0c7e-5d1b-5c3e-8f4a-2b6d9e0c1a7b, role_name: Key Vault Secrets User, adopted: false}
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._plan import identity_key, planned, service_key
from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import (
    PRINCIPAL_KWARGS, PRINCIPAL_OPTIONS, grant_with_preflight, principal_from_params,
)

ARGUMENT_SPEC = dict(
    vault=dict(type="str", required=True),
    vault_resource_group=dict(type="str"),
    principal_tenant_id=dict(type="str"),
    permission_model=dict(type="str", choices=["auto", "access_policy", "rbac"], default="auto"),
    secret_permissions=dict(type="list", elements="str", default=["get", "list"],
                            choices=["all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge"]),
    certificate_permissions=dict(type="list", elements="str", choices=[
        "all", "get", "list", "delete", "create", "import", "update", "managecontacts", "getissuers", "listissuers",
        "setissuers", "deleteissuers", "manageissuers", "recover", "purge", "backup", "restore"]),
    key_permissions=dict(type="list", elements="str", choices=[
        "all", "encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify", "get", "list", "create", "update",
        "import", "delete", "backup", "restore", "recover", "purge", "release", "rotate", "getrotationpolicy",
        "setrotationpolicy"]),
    permissions_mode=dict(type="str", choices=["additive", "exact"], default="additive"),
    role=dict(type="str", default="Key Vault Secrets User"),
    secret_name=dict(type="str"),
    allow_user_assigned_behind_firewall=dict(type="bool", default=False),
    preflight=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    **PRINCIPAL_OPTIONS,
)
MODULE_KWARGS: Dict[str, Any] = dict(PRINCIPAL_KWARGS)


def wanted_permissions(params: Dict[str, Any]) -> Dict[str, Any]:
    """The access-policy permissions the user asked for (kinds not given are left alone)."""
    kinds = {"secrets": params["secret_permissions"], "certificates": params["certificate_permissions"],
             "keys": params["key_permissions"]}
    return {kind: values for kind, values in kinds.items() if values is not None}


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Resolve the principal and the vault, refuse what cannot work, then grant or revoke."""
    params = module.params
    if params["preflight"] and not params["service_name"]:
        raise AzureApimError("preflight needs service_name: it checks what stands between an API Management "
                             "service and the vault", code="InvalidParameter",
                             hint="give service_name and service_resource_group, or set preflight: false")
    principal = principal_from_params(module)
    result = grant_with_preflight(module, principal, params["vault"], params["vault_resource_group"],
                                  params["preflight"], permission_model=params["permission_model"],
                                  permissions=wanted_permissions(params), mode=params["permissions_mode"],
                                  role=params["role"], secret_name=params["secret_name"],
                                  allow_user=params["allow_user_assigned_behind_firewall"], state=params["state"])
    if module.check_mode and result.get("changed") and params["state"] == "present" and params["service_name"]:
        # the hand-over to later tasks of this check run (see _plan.py): this identity is about to read the vault
        result["planned"] = planned(secret_access=[{
            "vault": result["vault"]["name"], "identity": identity_key(principal["kind"], principal["resource_id"]),
            "service": service_key(params["service_resource_group"], params["service_name"])}])
    return result


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
