#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_certificate
short_description: An API Management certificate from Key Vault (through a managed identity) or an uploaded PFX
version_added: 0.1.0
description:
  - Manages one entry of a service's C(certificates) (client and CA certificates, for example for backend mutual
    TLS). With O(key_vault_secret_id), API Management fetches the certificate from Key Vault with one of its managed
    identities (C(keyVault.secretIdentifier) and C(identityClientId)); with O(certificate), a PFX is uploaded.
  - Before a write, a Key Vault certificate is checked the way M(azure_apim.identity.apim_custom_domain) checks one,
    the secret exists, is enabled and is a PKCS#12 certificate secret, the identity may read it, and the vault
    firewall lets API Management through. Each refusal names its fix and nothing is written.
  - API Management fetches the secret while the certificate is written. A grant that ARM already shows but Key
    Vault does not honour yet (Azure RBAC takes minutes to propagate) makes that fetch fail; the write is retried
    until it succeeds or O(timeout) passes.
  - A versionless O(key_vault_secret_id) lets API Management follow renewals (it re-reads the secret every four
    hours); a versioned one pins that version, with a warning.
  - Removal is refused while a backend of the service uses the certificate (C(credentials.certificateIds) or its
    thumbprint); the backends are named.
  - Updates and removal carry the certificate's ETag (C(If-Match)).
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
    description: Certificate id within the service (what backends reference as C(/certificates/<name>)).
    type: str
    required: true
    aliases: [certificate_id]
  key_vault_secret_id:
    description:
      - Secret identifier of the certificate in Key Vault, C(https://<vault>.vault.azure.net/secrets/<name>), best
        without a version. A C(/certificates/) URL is refused with the C(/secrets/) form to use.
      - Mutually exclusive with O(certificate).
    type: str
  identity:
    description:
      - Which identity of the service fetches the certificate. V(system) for the system-assigned identity, or the
        name (in O(resource_group)), resource ID or client ID of an attached user-assigned identity; its client ID
        is sent as C(identityClientId).
      - A vault behind its firewall can only be read with V(system) and trusted Microsoft services allowed.
    type: str
    default: system
  certificate:
    description:
      - Base64-encoded PFX to upload instead of a Key Vault reference. Compared by thumbprint (API Management never
        returns the data). Mutually exclusive with O(key_vault_secret_id).
    type: str
  certificate_password:
    description: Password of O(certificate).
    type: str
  refresh_secret:
    description:
      - Ask API Management to fetch the Key Vault secret again now (C(refreshSecret)), for example right after a
        renewal. Reported as a change. Ignored for an uploaded certificate and for one this task creates.
    type: bool
    default: false
  state:
    description: Whether the certificate should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
seealso:
  - module: azure_apim.identity.apim_certificate_info
  - module: azure_apim.identity.keyvault_access
  - module: azure_apim.identity.apim_custom_domain
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Backend client certificate from Key Vault, fetched with the system-assigned identity
  azure_apim.identity.apim_certificate:
    resource_group: rg-apim
    service_name: apim-contoso
    name: backend-mtls
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/backend-mtls

- name: The same through a user-assigned identity, given by client id
  azure_apim.identity.apim_certificate:
    resource_group: rg-apim
    service_name: apim-contoso
    name: backend-mtls
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/backend-mtls
    identity: 3f0c9a4e-1b2d-4c5e-8f6a-7b8c9d0e1f2a

- name: Pick up a renewed certificate now
  azure_apim.identity.apim_certificate:
    resource_group: rg-apim
    service_name: apim-contoso
    name: backend-mtls
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/backend-mtls
    refresh_secret: true
"""

RETURN = r"""
certificate:
  description: The certificate after the task ({} when absent). Never holds the PFX or its password.
  returned: always
  type: dict
  sample:
    id: /subscriptions/0000/resourceGroups/rg-apim/providers/Microsoft.ApiManagement/service/apim-contoso/certificates/backend-mtls
    name: backend-mtls
    subject: CN=backend.contoso.com
    thumbprint: 8E1F2A...
    expiration_date: '2027-06-30T12:00:00+00:00'
    key_vault:
      secret_identifier: https://kv-contoso.vault.azure.net/secrets/backend-mtls
      identity_client_id: SystemAssigned
      last_status: {code: Success, message: null, time_stamp_utc: '2026-12-04T19:00:00+00:00'}
secret_refreshed:
  description: Whether C(refreshSecret) was sent (or, in check mode, would be).
  returned: when state is present
  type: bool
  sample: false
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_certificates import run as ensure_certificate
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    name=dict(type="str", required=True, aliases=["certificate_id"]),
    key_vault_secret_id=dict(type="str"),
    identity=dict(type="str", default="system"),
    certificate=dict(type="str", no_log=True),
    certificate_password=dict(type="str", no_log=True),
    refresh_secret=dict(type="bool", default=False),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
MODULE_KWARGS: Dict[str, Any] = dict(
    mutually_exclusive=[("key_vault_secret_id", "certificate")],
    required_if=[("state", "present", ("key_vault_secret_id", "certificate"), True)],
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Ensure the certificate (see _apim_certificates.run)."""
    return ensure_certificate(module, module.params)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
