#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_keyvault_preflight
short_description: Check that an API Management identity can read a key vault's secrets, and say how to fix what cannot work
version_added: 0.1.0
description:
  - A read-only "doctor" for the article's Key Vault requirements. For a service, one of its identities and a
    vault (and optionally one secret), it reports
  - the vault's permission model and whether the identity can read secrets now (access policy or role assignment);
  - the firewall fit (with the firewall on, only the system-assigned identity with the trusted-services bypass passes);
  - the tenant match of identity and vault;
  - for a service in a virtual network, the subnet's Microsoft.KeyVault service endpoint and NSG rules blocking
    TCP 443 to the AzureKeyVault or AzureActiveDirectory service tags;
  - for a secret, whether it exists and is enabled, its content type (V(application/x-pkcs12) for certificates),
    and whether the URI is versionless (needed to follow rotation).
  - Each finding has a severity, what is wrong and how to fix it (which module or role). The task fails when a
    finding reaches O(fail_on); the findings are then in the failure result too.
options:
  service_name:
    description: API Management service.
    type: str
    required: true
  service_resource_group:
    description: Resource group of O(service_name).
    type: str
    required: true
  identity:
    description: V(system) or the name, resource id or client id of an attached user-assigned identity.
    type: str
    default: system
  vault:
    description: Name or resource id of the vault, or a secret URI (which also sets O(secret_name) when that is not given).
    type: str
    required: true
  vault_resource_group:
    description: Resource group of the vault (otherwise searched in the subscription).
    type: str
  secret_name:
    description: Secret to check, by name or secret URI.
    type: str
  certificate:
    description: The secret holds a certificate for a custom domain (content type must be V(application/x-pkcs12)).
    type: bool
    default: false
  fail_on:
    description: Fail the task when a finding of this severity or worse exists; V(never) only reports.
    type: str
    choices: [never, info, warning, error]
    default: error
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.keyvault_access
  - module: azure_apim.identity.apim_subnet_service_endpoint
  - module: azure_apim.identity.apim_nsg_outbound_rules
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Can the service read its custom-domain certificate?
  azure_apim.identity.apim_keyvault_preflight:
    service_name: apim-contoso
    service_resource_group: rg-apim
    vault: https://kv-contoso.vault.azure.net/secrets/api-contoso-com
    certificate: true

- name: Report only
  azure_apim.identity.apim_keyvault_preflight:
    service_name: apim-contoso
    service_resource_group: rg-apim
    identity: id-apim-keyvault
    vault: kv-contoso
    fail_on: never
  register: doctor
"""

RETURN = r"""
ok:
  description: True when no finding reaches O(fail_on) (always true with V(never)).
  returned: always
  type: bool
  sample: true
findings:
  description: What would stop API Management from reading the vault (empty on a healthy setup).
  returned: always
  type: list
  elements: dict
  contains:
    code:
      description: Stable identifier of the finding.
      type: str
      sample: NoSecretAccess
    severity:
      description: V(error), V(warning) or V(info).
      type: str
      sample: error
    message:
      description: What is wrong.
      type: str
      sample: principal 2222 cannot read secrets of vault 'kv-contoso'
    fix:
      description: How to fix it (module or role to use).
      type: str
      sample: azure_apim.identity.keyvault_access
permission_model:
  description: The vault's permission model.
  returned: always
  type: str
  sample: access_policy
access:
  description: The access report (can_read_secrets, grants, firewall, tenant_match); null when the identity is not enabled.
  returned: always
  type: dict
  sample: {can_read_secrets: true, firewall: {enabled: false, passes: true}, tenant_match: true}
network:
  description: Virtual network mode, subnet, Key Vault service endpoint presence and blocking NSG rules per service tag.
  returned: always
  type: dict
  sample: {mode: External, service_endpoint: true, blocking_rules: {AzureKeyVault: null, AzureActiveDirectory: null}}
secret:
  description: Secret metadata (exists, content_type, secret_uri, current_version, ...); null without O(secret_name).
  returned: always
  type: dict
  sample: {exists: true, content_type: application/x-pkcs12, is_pkcs12: true}
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import SEVERITIES, preflight
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    service_name=dict(type="str", required=True),
    service_resource_group=dict(type="str", required=True),
    identity=dict(type="str", default="system"),
    vault=dict(type="str", required=True),
    vault_resource_group=dict(type="str"),
    secret_name=dict(type="str"),
    certificate=dict(type="bool", default=False),
    fail_on=dict(type="str", choices=["never", "info", "warning", "error"], default="error"),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Diagnose; fail when a finding reaches fail_on."""
    params = module.params
    secret = params["secret_name"]
    if not secret and "/secrets/" in params["vault"].lower():
        secret = params["vault"]
    report = preflight(module, params["service_resource_group"], params["service_name"], params["identity"],
                       params["vault"], params["vault_resource_group"], secret, params["certificate"])
    threshold = None if params["fail_on"] == "never" else SEVERITIES.index(params["fail_on"])
    blocking = [f for f in report["findings"] if threshold is not None and SEVERITIES.index(f["severity"]) >= threshold]
    result = dict(report, changed=False, ok=not blocking)
    if blocking:
        raise AzureApimError("Key Vault preflight found {0} problem(s): {1}".format(
            len(blocking), "; ".join("{0} (fix: {1})".format(f["message"], f["fix"]) for f in blocking)),
            code="PreflightFailed", **{k: v for k, v in result.items() if k != "changed"})
    return result


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
