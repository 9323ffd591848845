# -*- coding: utf-8 -*-
# Private to the azure_apim.identity collection: shared documentation of the connection options.
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    """Connection and authentication options shared by every module."""

    DOCUMENTATION = r"""
options:
  assume:
    description:
      - Check mode only, ignored by a real run. Prerequisites an earlier task of the same check run plans to create,
        so this task predicts its own change instead of failing on their absence (the plan across dependent steps).
      - Modules that plan such a prerequisite return it as RV(ignore:planned) in check mode; the collection's roles
        gather those in the facts C(apim_identity_planned) and C(apim_keyvault_access_planned) and pass
        them here.
      - Keys C(identities) (C({service, identity}) enabled on a service, or C({identity}) created) and
        C(secret_access) (C({vault, service, identity})); services are C(<resource group>/<name>), identities
        C(system) or a user-assigned identity's resource id.
      - An assumed prerequisite gives a warning naming it; values Azure assigns on creation (principal and client
        ids) show as C((known after apply)). A prerequisite not listed fails as it would in the apply.
    type: dict
  auth_source:
    description:
      - Where the identity comes from.
      - V(auto) uses, in this order, a service principal from the parameters or environment (client ID, secret and
        tenant; or a federated token file), a profile of the credentials file, a user-assigned managed identity when
        only O(client_id) is known, and finally the host's managed identity or the Azure CLI login.
      - An incomplete service principal (for example a secret without a tenant) fails instead of falling back to
        another identity. User name and password credentials (E(AZURE_AD_USER)) are not supported and fail.
      - Environment fallback E(ANSIBLE_AZURE_AUTH_SOURCE). When neither the option nor the variable is set, the
        collection behaves as V(auto); that is why no default is shown here (a default would hide the variable).
    type: str
    choices: [auto, env, credential_file, cli, msi, workload_identity]
  subscription_id:
    description:
      - The subscription to work in.
      - Environment fallback E(AZURE_SUBSCRIPTION_ID), or C(subscription_id) in the credentials profile.
    type: str
  client_id:
    description:
      - Application (client) ID of the service principal, or client ID of a user-assigned managed identity when
        O(auth_source=msi).
      - Environment fallback E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - Client secret of the service principal. Never shown in output.
      - Environment fallbacks E(AZURE_SECRET), then E(AZURE_CLIENT_SECRET).
    type: str
  tenant:
    description:
      - Entra ID tenant (directory) ID or primary domain.
      - Environment fallbacks E(AZURE_TENANT), then E(AZURE_TENANT_ID).
    type: str
  profile:
    description:
      - Section of the INI credentials file C(~/.azure/credentials) to read C(subscription_id), C(client_id),
        C(secret), C(tenant) and C(cloud_environment) from.
      - Module parameters win over the profile; the profile wins over environment variables.
      - Environment fallback E(AZURE_PROFILE). Without it the C([default]) section is used when no other identity
        is configured.
    type: str
  cloud_environment:
    description:
      - The Azure cloud. Sets the Resource Manager endpoint, the sign-in authority and the token scope.
      - Environment fallback E(AZURE_CLOUD_ENVIRONMENT). When neither is set, V(AzureCloud) is used.
      - Accepted values are V(AzureCloud), V(AzureChinaCloud) and V(AzureUSGovernment) (case-insensitive).
    type: str
  resource_manager_url:
    description:
      - Resource Manager endpoint overriding the cloud's, for example a private or local endpoint.
      - Environment fallback E(AZURE_RESOURCE_MANAGER_URL).
    type: str
  authority_host:
    description:
      - Entra ID authority overriding the cloud's. For a host that is not a public cloud's authority, instance
        discovery is turned off.
      - Environment fallback E(AZURE_AUTHORITY_HOST).
    type: str
  credential_scope:
    description:
      - Token scope for Resource Manager.
      - Environment fallback E(AZURE_CREDENTIAL_SCOPE). When neither is set, the scope is O(resource_manager_url)
        followed by C(/.default) if that is set, else the cloud's own scope.
      - Behind a proxy that forwards to the real Resource Manager, set this to the original endpoint's scope (for
        example C(https://management.azure.com/.default)); Resource Manager answers 401
        C(InvalidAuthenticationTokenAudience) to a token issued for the proxy's URL.
    type: str
  ca_bundle:
    description:
      - PEM file of certificate authorities to trust for HTTPS (sign-in and Resource Manager), for TLS-inspecting
        proxies or private endpoints. TLS verification cannot be turned off.
      - Environment fallbacks E(AZURE_CA_BUNDLE), then E(REQUESTS_CA_BUNDLE).
    type: path
notes:
  - The result key C(auth) names the credential type and where it came from (parameters, env,
    credential_file or ambient); it never contains a secret.
requirements:
  - python >= 3.9
  - azure-core >= 1.31.0
  - azure-identity >= 1.19.0
  - azure-mgmt-core >= 1.4.0
  - azure-mgmt-apimanagement >= 4.0.1
  - azure-mgmt-keyvault >= 10.3.1
  - azure-mgmt-authorization >= 4.0.0
  - azure-mgmt-msi >= 7.0.0
"""

    TIMEOUT = r"""
options:
  timeout:
    description:
      - Seconds the task may take in total, including waiting for Azure's long-running operations and retries.
      - When it runs out while Azure is still working, the task fails saying so; the operation continues in Azure
        and a re-run waits for it instead of writing again.
      - The sign-in counts too. A token endpoint (Entra ID, the host's managed identity endpoint, the workload
        identity exchange) that is slow or does not answer ends the task at its timeout with error code
        C(SignInTimeout), and the request that needed the token is not sent.
      - Whatever Azure does (slow operations, throttling, errors, answers that never come), a task ends at most one
        poll interval (5 seconds) after its timeout, and its message names the timeout.
    type: int
    default: 600
"""
