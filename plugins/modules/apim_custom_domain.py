#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_custom_domain
short_description: Bind custom domains of an API Management service to TLS certificates from Key Vault
version_added: 0.1.0
description:
  - Manages hostname configurations (custom domains) of an API Management service, each keyed by its type and
    host name. Give one with the top-level options (O(host_name), O(type), ...), or a list with O(hostnames).
    Every other hostname of the service, including the built-in C(<service>.azure-api.net) one, is kept as it is.
  - With O(hostnames) every entry is checked before anything is written and all of them are applied with one
    update of the service, which matters because API Management takes 15 minutes or more for each update.
  - The certificate comes from a Key Vault secret that API Management fetches with one of its managed identities
    (the system-assigned one, or a user-assigned one), as in the article "Use managed identities in Azure API
    Management". An inline PFX is the alternative, for example to free an identity before removing it.
  - Before any write the module refuses, naming the fix (and with O(hostnames), every refused entry), a
    C(/certificates/) URL, a secret that does not exist or
    is not of content type C(application/x-pkcs12), an identity that is not enabled on the service, an identity
    without access to the vault under its permission model, and a user-assigned identity behind the vault firewall.
  - Writes PATCH only C(hostnameConfigurations), guarded by the service's ETag, wait until Azure has applied them
    (this takes 15 minutes or more in Azure), check the service the operation ended with, and merge again when a
    concurrent writer dropped an entry. An unchanged list costs one read of the service.
  - A versionless secret id lets API Management pick up a renewed certificate within four hours; a versioned id pins
    the certificate and the module warns that automatic rotation is off.
options:
  resource_group:
    description: Resource group of the API Management service.
    type: str
    required: true
  service_name:
    description: Name of the API Management service.
    type: str
    required: true
  hostnames:
    description:
      - Several hostnames at once, each with the options of the single form (O(hostnames[].host_name) required).
        Not together with any of those top-level options.
      - Validated together (the same type and host name twice, or two Proxy entries with
        O(hostnames[].default_ssl_binding=true), are refused before anything is read) and written with one update.
      - With O(exclusive=true), exactly the listed hostnames, those of O(keep_host_names) and the built-in one remain.
    type: list
    elements: dict
    suboptions:
      type:
        description: Endpoint the host name serves. Together with O(hostnames[].host_name) it identifies the entry.
        type: str
        choices: [Proxy, Portal, Management, Scm, DeveloperPortal, ConfigurationApi]
        default: Proxy
      host_name:
        description: The custom host name.
        type: str
        required: true
      key_vault_secret_id:
        description: Key Vault secret identifier of the certificate, as O(key_vault_secret_id).
        type: str
      key_vault:
        description: The vault holding the certificate, as O(key_vault).
        type: str
      secret_name:
        description: Name of the certificate's secret in O(hostnames[].key_vault), as O(secret_name).
        type: str
      secret_version:
        description: Pin this version of O(hostnames[].secret_name), as O(secret_version).
        type: str
      identity:
        description: Which identity of the service fetches the certificate, as O(identity).
        type: str
      certificate:
        description: Inline base64 PFX, as O(certificate). Never shown in output, diffs or logs.
        type: str
      certificate_path:
        description: Path of an inline PFX file, as O(certificate_path).
        type: path
      certificate_password:
        description: Password of the inline PFX. Never shown in output, diffs or logs.
        type: str
      default_ssl_binding:
        description: As O(default_ssl_binding).
        type: bool
      negotiate_client_certificate:
        description: As O(negotiate_client_certificate).
        type: bool
      state:
        description: Whether this hostname configuration should exist.
        type: str
        choices: [present, absent]
        default: present
  type:
    description: Endpoint the host name serves. Together with O(host_name) it identifies the entry.
    type: str
    choices: [Proxy, Portal, Management, Scm, DeveloperPortal, ConfigurationApi]
    default: Proxy
  host_name:
    description:
      - The custom host name, for example V(api.contoso.com).
      - Required unless O(hostnames) is given.
    type: str
  key_vault_secret_id:
    description:
      - Key Vault secret identifier of the certificate, C(https://<vault>.vault.azure.net/secrets/<name>[/<version>]).
      - Use the secret form; a C(/certificates/) URL is refused with the C(/secrets/) URL to use instead.
      - Case, a trailing slash and the default port do not matter. Without a version, API Management follows
        renewals; going from a versioned id back to the versionless one is a change (it turns rotation on again).
    type: str
  key_vault:
    description:
      - The vault holding the certificate, by name or resource ID. With O(secret_name) it builds the secret id;
        with O(key_vault_secret_id) it says where the vault is (needed when it is in another subscription).
    type: str
  secret_name:
    description: Name of the certificate's secret in O(key_vault) (the certificate name).
    type: str
  secret_version:
    description: Pin this version of O(secret_name); automatic rotation is then off.
    type: str
  identity:
    description:
      - Which identity of the service fetches the certificate from Key Vault. V(system) for the system-assigned
        identity (used when this option is not set), or the name (in O(resource_group)), resource ID or client ID of an
        attached user-assigned identity; the module sends its client ID as C(identityClientId).
      - A vault behind its firewall can only be read with V(system) and trusted Microsoft services allowed.
    type: str
  certificate:
    description:
      - Inline certificate instead of Key Vault, the base64 encoding of a PFX (PKCS#12) file with the private key.
      - Never shown in output, diffs or logs. Idempotence compares the certificate's thumbprint.
    type: str
  certificate_path:
    description: Like O(certificate), but the path of the PFX file on the host running the module.
    type: path
  certificate_password:
    description: Password of the inline PFX. Never shown in output, diffs or logs.
    type: str
  default_ssl_binding:
    description:
      - Use this certificate for clients that send no SNI (Proxy only). Only one Proxy hostname can be the default;
        setting it clears the flag on the others. Unset leaves the current value.
    type: bool
  negotiate_client_certificate:
    description: Always ask clients for a certificate on this host name. Unset leaves the current value.
    type: bool
  exclusive:
    description:
      - Also remove every custom hostname of the service that is neither this task's (O(host_name), or those of
        O(hostnames)) nor listed in O(keep_host_names), in the same write. The built-in C(*.azure-api.net)
        hostname is never removed.
    type: bool
    default: false
  keep_host_names:
    description: Host names O(exclusive=true) keeps (case-insensitive).
    type: list
    elements: str
    default: []
  state:
    description: Whether the hostname configuration should exist.
    type: str
    choices: [present, absent]
    default: present
  timeout:
    description:
      - Seconds this task may take in total, including waiting for Azure to apply the change (APIM hostname changes
        take 15 minutes or more). When it passes, the task fails saying the operation continues in Azure; re-running
        the task waits for it.
    type: int
    default: 3600
extends_documentation_fragment:
  - azure_apim.identity.azure
  - azure_apim.identity.attributes
  - azure_apim.identity.attributes.all
notes:
  - The identity needs secret C(get) (and C(list)) permission on an access-policy vault, or a role such as
    C(Key Vault Secrets User) on an RBAC vault; grant it with C(azure_apim.identity.keyvault_access) first.
  - A new Azure RBAC role assignment can take up to 10 minutes to take effect. When the grant is younger than that and
    API Management still cannot read the certificate, the hostname write is retried with backoff until it is
    accepted or O(timeout) passes; the task then fails with the time of the grant, and a re-run later completes.
  - The Azure credential running the task must be allowed to read the vault's management plane (vault, secret
    metadata, access policies or role assignments); the secret value is never read.
  - API Management refuses to remove an identity that still fetches a certificate. Switch the hostname to an inline
    certificate (O(certificate)) or another identity first.
seealso:
  - module: azure_apim.identity.apim_custom_domain_info
  - name: Use managed identities in Azure API Management
    description: The Microsoft Learn article this collection automates.
    link: https://learn.microsoft.com/azure/api-management/api-management-howto-use-managed-service-identity
author:
  - azure_apim.identity maintainers (@azure-apim)
"""

EXAMPLES = r"""
- name: Proxy hostname with a certificate fetched by the system-assigned identity (the article's template)
  azure_apim.identity.apim_custom_domain:
    resource_group: rg-apim
    service_name: apim-contoso
    type: Proxy
    host_name: api.contoso.com
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/api-contoso-com
    default_ssl_binding: true
  register: domain

- name: Warn the team when the certificate expires soon
  ansible.builtin.debug:
    msg: "{{ domain.hostname.certificate.expiry }}"

- name: Developer portal hostname fetched by a user-assigned identity, vault and secret named separately
  azure_apim.identity.apim_custom_domain:
    resource_group: rg-apim
    service_name: apim-contoso
    type: DeveloperPortal
    host_name: developer.contoso.com
    key_vault: kv-contoso
    secret_name: developer-contoso-com
    identity: id-apim-keyvault

- name: Switch to an inline certificate, so the identity can be removed
  azure_apim.identity.apim_custom_domain:
    resource_group: rg-apim
    service_name: apim-contoso
    host_name: api.contoso.com
    certificate_path: /secure/api-contoso-com.pfx
    certificate_password: "{{ vault_pfx_password }}"

- name: Three hostnames with one update of the service (every entry is checked before anything is written)
  azure_apim.identity.apim_custom_domain:
    resource_group: rg-apim
    service_name: apim-contoso
    hostnames:
      - host_name: api.contoso.com
        key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/api-contoso-com
        default_ssl_binding: true
      - type: DeveloperPortal
        host_name: developer.contoso.com
        key_vault: kv-contoso
        secret_name: developer-contoso-com
        identity: id-apim-keyvault
      - type: Management
        host_name: management.contoso.com
        key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/management-contoso-com
  register: domains

- name: Show in how many days each certificate expires
  ansible.builtin.debug:
    msg: "{{ domains.hostnames | items2dict(key_name='host_name', value_name='expires_in_days') }}"

- name: Keep only these custom hostnames (the built-in one always stays)
  azure_apim.identity.apim_custom_domain:
    resource_group: rg-apim
    service_name: apim-contoso
    host_name: api.contoso.com
    key_vault_secret_id: https://kv-contoso.vault.azure.net/secrets/api-contoso-com
    exclusive: true
    keep_host_names: [developer.contoso.com]

- name: Remove a hostname
  azure_apim.identity.apim_custom_domain:
    resource_group: rg-apim
    service_name: apim-contoso
    type: Portal
    host_name: portal.contoso.com
    state: absent
"""

RETURN = r"""
hostname:
  description:
    - This task's hostname configuration after the task ({} when absent). In check mode the predicted entry; the
      certificate details of a new Key Vault certificate are then null (API Management fetches it on write).
    - With O(hostnames), the first listed entry (see RV(hostnames) for all of them).
  returned: always
  type: dict
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
      description: Key Vault secret id the certificate comes from (null for inline certificates).
      type: str
      sample: https://kv-contoso.vault.azure.net/secrets/api-contoso-com
    identity_client_id:
      description: Client id of the user-assigned identity that fetches it; null means the system-assigned one.
      type: str
      sample: 11111111-1111-1111-1111-111111111111
    certificate_source:
      description: V(KeyVault), V(Custom) (inline), V(Managed) or V(BuiltIn).
      type: str
      sample: KeyVault
    certificate_status:
      description: Status of the last certificate fetch, as API Management reports it.
      type: str
      sample: Completed
    certificate:
      description: The certificate API Management serves.
      type: dict
      contains:
        expiry:
          description: Expiry (ISO 8601).
          type: str
          sample: "2027-01-01T07:00:00+00:00"
        thumbprint:
          description: SHA-1 thumbprint.
          type: str
          sample: EA276907917CB5E1D4A1F2F1E6D0C0B8A7A5D690
        subject:
          description: Subject.
          type: str
          sample: CN=api.contoso.com
    expires_in_days:
      description: Whole days until the certificate expires; the task warns below 30.
      type: int
      sample: 364
    versioned_secret:
      description: True when the secret id pins a version (automatic rotation off).
      type: bool
      sample: false
    default_ssl_binding:
      description: Default certificate for clients without SNI.
      type: bool
      sample: true
    negotiate_client_certificate:
      description: Whether client certificates are always requested.
      type: bool
      sample: false
    built_in:
      description: True for the built-in C(*.azure-api.net) hostname.
      type: bool
      sample: false
hostnames:
  description:
    - With O(hostnames), each listed hostname configuration after the task, in the order listed ({} for an absent
      one). Same fields as RV(hostname).
  returned: when O(hostnames) is given
  type: list
  elements: dict
  sample:
    - {type: Proxy, host_name: api.contoso.com, certificate_source: KeyVault, built_in: false}
    - {type: DeveloperPortal, host_name: developer.contoso.com, certificate_source: KeyVault, built_in: false}
refused:
  description: When entries of O(hostnames) are refused, each one with its error code and message.
  returned: on failure with O(hostnames)
  type: list
  elements: dict
  sample:
    - {hostname: Portal portal.contoso.com, error_code: NoSecretAccess, msg: "..."}
hostname_configurations:
  description: Every hostname configuration of the service after the task (same fields as RV(hostname)).
  returned: always
  type: list
  elements: dict
  sample:
    - {type: Proxy, host_name: apim-contoso.azure-api.net, certificate_source: BuiltIn, built_in: true}
removed_host_names:
  description: Host names this task removed (or would remove in check mode).
  returned: always
  type: list
  elements: str
  sample: [old.contoso.com]
auth:
  description: Credential type used and where its settings came from (never a secret).
  returned: when Azure was called
  type: dict
  sample: {credential: ClientSecretCredential, source: env, cloud: AzureCloud}
"""

from typing import Any, Dict

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_hostnames as hn
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

DEFAULT_TIMEOUT = 3600
# The options of one hostname: top level for the single form, sub-options of each O(hostnames) entry.
ENTRY_OPTIONS: Dict[str, Dict[str, Any]] = dict(
    type=dict(type="str", choices=list(hn.HOSTNAME_TYPES), default="Proxy"),
    host_name=dict(type="str"),
    key_vault_secret_id=dict(type="str"),
    key_vault=dict(type="str", no_log=False),  # a vault name or id, not a key
    secret_name=dict(type="str"),
    secret_version=dict(type="str", no_log=False),  # a version id, not a secret
    identity=dict(type="str"),
    certificate=dict(type="str", no_log=True),
    certificate_path=dict(type="path"),
    certificate_password=dict(type="str", no_log=True),
    default_ssl_binding=dict(type="bool"),
    negotiate_client_certificate=dict(type="bool"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
SOURCES = ["key_vault_secret_id", "secret_name", "certificate", "certificate_path"]
ENTRY_MUTUALLY_EXCLUSIVE = [
    ["key_vault_secret_id", "secret_name"], ["certificate", "certificate_path"],
    ["key_vault_secret_id", "certificate", "certificate_path"], ["secret_name", "certificate", "certificate_path"],
    ["identity", "certificate", "certificate_path"],
]
ENTRY_REQUIRED_BY = {"secret_name": "key_vault", "secret_version": "secret_name"}
ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    hostnames=dict(type="list", elements="dict",
                   options=dict(ENTRY_OPTIONS, host_name=dict(type="str", required=True)),
                   mutually_exclusive=ENTRY_MUTUALLY_EXCLUSIVE, required_by=ENTRY_REQUIRED_BY,
                   required_if=[["state", "present", SOURCES, True]]),
    exclusive=dict(type="bool", default=False),
    keep_host_names=dict(type="list", elements="str", default=[]),
    **ENTRY_OPTIONS,
)
MODULE_KWARGS: Dict[str, Any] = dict(
    default_timeout=DEFAULT_TIMEOUT,
    # Mutual exclusion is checked before defaults are applied, so type/state defaults do not trip it.
    mutually_exclusive=ENTRY_MUTUALLY_EXCLUSIVE + [["hostnames", name] for name in ENTRY_OPTIONS],
    required_one_of=[["host_name", "hostnames"]],
    required_by=ENTRY_REQUIRED_BY,
    # "hostnames" satisfies the condition: each list entry has its own required_if.
    required_if=[["state", "present", SOURCES + ["hostnames"], True]],
)


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Validate every requested hostname, then ensure the list holds them (and only the kept ones when exclusive)
    with one write."""
    return hn.ensure_custom_domains(module, ENTRY_OPTIONS)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
