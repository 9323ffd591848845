#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_certificate_info
short_description: Read the certificates of an API Management service and the backends that use them
version_added: 0.1.0
description:
  - Lists a service's certificates (or one of them) with subject, thumbprint, expiry, the Key Vault secret and
    identity they are fetched with, API Management's last fetch status, and the backends that use each.
  - Returns an empty list when nothing matches (also when the service does not exist).
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
    description: Only this certificate.
    type: str
    aliases: [certificate_id]
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.azure.timeout
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.info_module
seealso:
  - module: azure_apim.identity.apim_certificate
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Certificates of the service
  azure_apim.identity.apim_certificate_info:
    resource_group: rg-apim
    service_name: apim-contoso
  register: certs
"""

RETURN = r"""
certificates:
  description: The certificates (an empty list when none match).
  returned: always
  type: list
  elements: dict
  sample:
    - name: backend-mtls
      subject: CN=backend.contoso.com
      thumbprint: 8E1F2A...
      expiration_date: '2027-06-30T12:00:00+00:00'
      key_vault: {secret_identifier: https://kv-contoso.vault.azure.net/secrets/backend-mtls,
                  identity_client_id: SystemAssigned, last_status: {code: Success}}
      backends: [orders-backend]
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils._apim_certificates import info
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    name=dict(type="str", aliases=["certificate_id"]),
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """List the certificates."""
    p = module.params
    return {"changed": False, "certificates": info(module, p["resource_group"], p["service_name"], p["name"])}


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC).run(run)


if __name__ == "__main__":
    main()
