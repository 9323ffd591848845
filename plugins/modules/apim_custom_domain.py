#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: apim_custom_domain
short_description: Bind a custom domain of an API Management service to a TLS certificate from Key Vault
version_added: 0.1.0
description:
  - Manages one hostname configuration (custom domain) of an API Management service, keyed by O(type) and
    O(host_name). Every other hostname of the service, including the built-in C(<service>.azure-api.net) one,
    is kept as it is.
  - The certificate comes from a Key Vault secret that API Management fetches with one of its managed identities
    (the system-assigned one, or a user-assigned one), as in the article "Use managed identities in Azure API
    Management". An inline PFX is the alternative, for example to free an identity before removing it.
  - Before any write the module refuses, naming the fix, a C(/certificates/) URL, a secret that does not exist or
    is not of content type C(application/x-pkcs12), an identity that is not enabled on the service, an identity
    without access to the vault under its permission model, and a user-assigned identity behind the vault firewall.
  - Writes PATCH only C(hostnameConfigurations), guarded by the service's ETag, wait until Azure has applied them
    (this takes 15 minutes or more in Azure), re-read, and merge again when a concurrent writer dropped an entry.
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
  type:
    description: Endpoint the host name serves. Together with O(host_name) it identifies the entry.
    type: str
    choices: [Proxy, Portal, Management, Scm, DeveloperPortal, ConfigurationApi]
    default: Proxy
  host_name:
    description: The custom host name, for example V(api.contoso.com).
    type: str
    required: true
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
        identity (used when this option is not set), or the name (in O(resource_group)) or resource ID of an
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
      - Also remove every custom hostname of the service that is neither this one nor listed in
        O(keep_host_names). The built-in C(*.azure-api.net) hostname is never removed.
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

import base64
from typing import Any, Dict, Optional

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim_hostnames as hn
from ansible_collections.azure_apim.identity.plugins.module_utils._apim import resolve_identity
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._ids import parse_secret_uri
from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ResourceSpec, ensure

DEFAULT_TIMEOUT = 3600
ARGUMENT_SPEC = dict(
    resource_group=dict(type="str", required=True),
    service_name=dict(type="str", required=True),
    type=dict(type="str", choices=list(hn.HOSTNAME_TYPES), default="Proxy"),
    host_name=dict(type="str", required=True),
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
    exclusive=dict(type="bool", default=False),
    keep_host_names=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
MODULE_KWARGS: Dict[str, Any] = dict(
    default_timeout=DEFAULT_TIMEOUT,
    mutually_exclusive=[
        ["key_vault_secret_id", "secret_name"], ["certificate", "certificate_path"],
        ["key_vault_secret_id", "certificate", "certificate_path"], ["secret_name", "certificate", "certificate_path"],
        ["identity", "certificate", "certificate_path"],
    ],
    required_by={"secret_name": "key_vault", "secret_version": "secret_name"},
    required_if=[["state", "present", ["key_vault_secret_id", "secret_name", "certificate", "certificate_path"], True]],
)


def _inline_pfx(params: Dict[str, Any]) -> Optional[str]:
    if params["certificate"]:
        return params["certificate"]
    if not params["certificate_path"]:
        return None
    try:
        with open(params["certificate_path"], "rb") as handle:
            return base64.b64encode(handle.read()).decode("ascii")
    except OSError as err:
        message = "Cannot read certificate_path {0!r}: {1}".format(params["certificate_path"], err.strerror)
        raise AzureApimError(message, code="CertificateFileUnreadable",
                             hint="check the path on the host running the task")


def our_entry(module: AzureApimModule, service: Dict[str, Any]) -> hn.Entry:
    """This task's instruction, validated against Azure (refusals are raised here, before any write)."""
    p = module.params
    if hn.is_builtin({"host_name": p["host_name"]}):
        raise AzureApimError("{0} is the service's built-in hostname; its certificate is managed by Azure".format(
            p["host_name"]), code="BuiltInHostname", hint="bind a custom domain you own instead")
    if p["state"] == "absent":
        return hn.absent_entry(p["type"], p["host_name"])
    pfx = _inline_pfx(p)
    if pfx is not None:
        info = hn.read_pfx_info(pfx, p["certificate_password"])
        return hn.inline_entry(p["type"], p["host_name"], pfx, p["certificate_password"], info,
                               p["default_ssl_binding"], p["negotiate_client_certificate"])
    identity = resolve_identity(service, p["identity"] or "system", module.subscription_id)
    vault = None
    if p["key_vault_secret_id"]:
        secret = parse_secret_uri(p["key_vault_secret_id"])  # refuses a /certificates/ URL with the /secrets/ form
    else:
        secret, vault = hn.keyvault_secret_uri(module, None, p["key_vault"], p["secret_name"], p["secret_version"])
    entry = hn.keyvault_entry(p["type"], p["host_name"], secret, identity, p["default_ssl_binding"],
                              p["negotiate_client_certificate"])
    if not hn.entry_satisfied(entry, hn.find_entry(service["hostname_configurations"], hn.entry_key(entry))):
        # Only a change is checked against Key Vault: an idempotent run reads nothing there.
        if vault is None:
            secret, vault = hn.keyvault_secret_uri(module, p["key_vault_secret_id"], p["key_vault"], None, None)
        hn.refuse_keyvault_problems(module, service, identity, secret, vault)
    if secret.version:
        module.warn("{0} pins version {1} of the certificate: automatic rotation is off (API Management follows "
                    "renewals within 4 hours only for a versionless secret id)".format(p["host_name"], secret.version))
    return entry


def delta_for(module: AzureApimModule, service: Dict[str, Any]) -> hn.Delta:
    """Our entry plus, in exclusive mode, the removal of every other custom hostname not kept."""
    p = module.params
    ours = our_entry(module, service)
    delta = [ours]
    if p["exclusive"]:
        delta += hn.exclusive_removals(service["hostname_configurations"], hn.entry_key(ours), p["keep_host_names"])
    return delta


def spec_for(module: AzureApimModule, svc: hn.HostnameService, delta: hn.Delta) -> ResourceSpec:
    """The service's hostname list as the resource; the delta is compared, merged and written."""
    return ResourceSpec(
        what=svc.what,
        read=svc.read,
        update=lambda current, wanted, paths: hn.write_delta(svc, current, delta, module.warn),
        predict=lambda current, wanted: dict(
            current or {}, hostname_configurations=hn.apply_delta((current or {})["hostname_configurations"],
                                                                  delta)[0]),
        comparators={"hostname_configurations": hn.delta_satisfied},
        secret_keys=hn.SECRET_KEYS,
        rerun_on=hn.RERUN_ON,
    )


def result_for(module: AzureApimModule, changed: bool, before: Dict[str, Any], after: Dict[str, Any],
               delta: hn.Delta) -> Dict[str, Any]:
    """Module result: our entry, the whole list, what was removed and a diff of the list (no secrets)."""
    key = hn.entry_key(delta[0])
    entries = [hn.public_entry(e) for e in after.get("hostname_configurations") or []]
    ours = hn.find_entry(entries, key) or {}
    removed = [e["host_name"] for e in before.get("hostname_configurations") or []
               if hn.find_entry(entries, hn.entry_key(e)) is None]
    days = ours.get("expires_in_days")
    if days is not None and days < hn.EXPIRY_WARNING_DAYS:
        module.warn("The certificate of {0} expires in {1} days ({2})".format(
            ours["host_name"], days, (ours.get("certificate") or {}).get("expiry")))
    return {
        "changed": changed,
        "hostname": ours,
        "hostname_configurations": entries,
        "removed_host_names": removed,
        "diff": {"before": {"hostname_configurations": [hn.public_entry(e) for e in
                                                        before.get("hostname_configurations") or []]},
                 "after": {"hostname_configurations": entries}},
    }


def run(module: AzureApimModule) -> Dict[str, Any]:
    """Validate, then ensure the hostname list holds this task's entry (and only the kept ones when exclusive)."""
    p = module.params
    svc = hn.HostnameService(module, p["resource_group"], p["service_name"])
    delta = delta_for(module, svc.require())
    outcome = ensure(spec_for(module, svc, delta), "present", {"hostname_configurations": delta},
                     check_mode=module.check_mode, deadline=module.deadline)
    return result_for(module, outcome.changed, outcome.before or {}, outcome.after or {}, delta)


def main() -> None:
    """Module entry point."""
    AzureApimModule(ARGUMENT_SPEC, **MODULE_KWARGS).run(run)


if __name__ == "__main__":
    main()
