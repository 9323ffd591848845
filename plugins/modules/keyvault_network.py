#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: keyvault_network
short_description: Allow or disallow trusted Microsoft services through a key vault's firewall
version_added: 0.1.0
description:
  - Sets the key vault firewall option "Allow trusted Microsoft services to bypass this firewall"
    (C(networkAcls.bypass)), which API Management needs to read certificates and secrets from a vault whose
    firewall denies public traffic.
  - Only C(bypass) is ever changed. The default action, IP rules, virtual network rules and public network access
    are sent back exactly as read immediately before the write, and are never added, removed or reordered.
  - Key Vault vaults carry no ETag and their update takes no C(If-Match) header, so the write cannot be made
    conditional; the vault is read right before it, and Key Vault's C(409 ConflictError) re-runs the task from a
    fresh read.
  - A vault whose firewall is off (default action C(Allow)) is still changed when asked, so the setting is ready
    when someone turns the firewall on.
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
  trusted_services:
    description:
      - V(true) sets C(networkAcls.bypass) to C(AzureServices); V(false) sets it to C(None).
    type: bool
    required: true
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.keyvault_access
  - module: azure_apim.identity.apim_keyvault_preflight
  - name: Configure Key Vault access using a managed identity
    description: The article's requirement for vaults behind a firewall.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Let API Management (a trusted Microsoft service) through the vault firewall
  azure_apim.identity.keyvault_network:
    vault: kv-contoso
    vault_resource_group: rg-apim
    trusted_services: true
"""

RETURN = r"""
network_acls:
  description: The vault's firewall after the task; only C(bypass) is ever changed by this module.
  returned: always
  type: dict
  sample: {bypass: AzureServices, default_action: Deny, ip_rules: [203.0.113.7/32], virtual_network_rules: [],
           public_network_access: Enabled}
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._vault_access import ensure_trusted_services

ARGUMENT_SPEC = dict(
    vault=dict(type="str", required=True),
    vault_resource_group=dict(type="str"),
    trusted_services=dict(type="bool", required=True),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Set the vault's bypass, keeping every other firewall rule as it is."""
    return ensure_trusted_services(module)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
