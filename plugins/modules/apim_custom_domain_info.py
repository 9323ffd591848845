#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_custom_domain_info
short_description: Read the hostname configurations (custom domains) of an API Management service
version_added: 0.1.0
description:
  - Returns the hostname configurations of an API Management service, including the built-in
    C(*.azure-api.net) one, with their certificate source, status, expiry, thumbprint and subject.
  - Never fails because the service or a host name does not exist; the list is then empty.
options:
  resource_group:
    description: Resource group of the API Management service.
    type: str
    required: true
  service_name:
    description: Name of the API Management service.
    type: str
    required: true
  type:
    description: Only hostnames of this type.
    type: str
    choices: [Proxy, Portal, Management, Scm, DeveloperPortal, ConfigurationApi]
  host_name:
    description: Only this host name (case-insensitive).
    type: str
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.apim_custom_domain
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Read every hostname of the service
  azure_apim.identity.apim_custom_domain_info:
    resource_group: rg-apim
    service_name: apim-contoso
  register: domains

- name: List the certificates that expire within 30 days
  ansible.builtin.debug:
    msg: "{{ domains.hostname_configurations | selectattr('expires_in_days', 'ne', None)
             | selectattr('expires_in_days', 'lt', 30) | map(attribute='host_name') | list }}"
"""

RETURN = r"""
hostname_configurations:
  description: The hostname configurations found (empty when none match or the service does not exist).
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: Endpoint type.
      type: str
      sample: Proxy
    host_name:
      description: Host name.
      type: str
      sample: api.contoso.com
    key_vault_id:
      description: Key Vault secret id of the certificate (null unless the source is Key Vault).
      type: str
      sample: https://kv-contoso.vault.azure.net/secrets/api-contoso-com
    identity_client_id:
      description: Client id of the user-assigned identity fetching it; null means the system-assigned one.
      type: str
      sample: 11111111-1111-1111-1111-111111111111
    certificate_source:
      description: V(KeyVault), V(Custom), V(Managed) or V(BuiltIn).
      type: str
      sample: KeyVault
    certificate_status:
      description: Status of the last certificate fetch.
      type: str
      sample: Completed
    certificate:
      description: Expiry, thumbprint and subject of the certificate served.
      type: dict
      sample: {expiry: "2027-01-01T07:00:00+00:00", thumbprint: EA276907917CB5E1D4A1F2F1E6D0C0B8A7A5D690,
               subject: CN=api.contoso.com}
    expires_in_days:
      description: Whole days until the certificate expires (null when unknown).
      type: int
      sample: 364
    versioned_secret:
      description: True when the secret id pins a version (automatic rotation off).
      type: bool
      sample: false
    default_ssl_binding:
      description: Default certificate for clients without SNI.
      type: bool
      sample: false
    negotiate_client_certificate:
      description: Whether client certificates are always requested.
      type: bool
      sample: false
    built_in:
      description: True for the built-in C(*.azure-api.net) hostname.
      type: bool
      sample: true
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: always
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_hostnames as hn
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    type=dict(type="str", choices=list(hn.HOSTNAME_TYPES)),
    host_name=dict(type="str"),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Read the service's hostname list and filter it."""
    p = module.params
    service = hn.HostnameService(module, p["resource_group"], p["service_name"]).read()
    entries = [hn.public_entry(e) for e in (service or {}).get("hostname_configurations") or []]
    if p["type"]:
        entries = [e for e in entries if e["type"] == p["type"]]
    if p["host_name"]:
        wanted = p["host_name"].strip().rstrip(".").lower()
        entries = [e for e in entries if hn.entry_key(e)[1] == wanted]
    return {"changed": False, "hostname_configurations": entries}


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
