# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Shared capability: can API Management read this Key Vault secret?

The grants (access policy or Azure RBAC), the vault's firewall, the network path from the service's subnet and the
secret itself, reported as findings (``apim_keyvault_preflight``) or as an access report (``secret_access``) that
the custom-domain and certificate capabilities check before they write.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

# keyvault_access's capability is this file: the grant itself lives in _access (shared with role_assignment).
from ._access import (  # pylint: disable=unused-import
    PRINCIPAL_KWARGS, PRINCIPAL_OPTIONS, grant, principal_from_params, resolve_planned,
)
from ._apim import ApimServices
from ._authz import SECRET_READ_ACTION, AuthorizationService
from ._errors import AzureApimError
from ._ids import SecretUri, parse_secret_uri, split_secret_ref
from ._keyvault import PKCS12, TRUSTED_SERVICES_FIX, VaultService, firewall_fit, secret_metadata
from ._kv_propagation import young_rbac_grants
from ._network import NetworkService, blocking_rule, has_endpoint
from ._plan import Assumptions, identity_key, is_unknown, service_key

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


# One vocabulary for a secret API Management cannot use (preflight findings and refusals before a write).
SECRET_NOT_FOUND = "SecretNotFound"
SECRET_DISABLED = "SecretDisabled"
NOT_A_CERTIFICATE = "NotACertificate"


def _access_policy_grants(vault: Dict[str, Any], principal_id: str) -> List[Dict[str, Any]]:
    grants = []
    for policy in vault.get("access_policies") or []:
        if str(policy.get("object_id") or "").lower() != principal_id.lower():
            continue
        secrets = [p.lower() for p in policy["permissions"].get("secrets") or []]
        if "get" in secrets or "all" in secrets:
            grants.append({"kind": "access_policy", "object_id": policy["object_id"],
                           "application_id": policy.get("application_id"),
                           "secret_permissions": policy["permissions"].get("secrets")})
    return grants


def _rbac_grants(module: AzureApimModule, vault: Dict[str, Any], principal_id: str, secret: Optional[str]) -> List[Dict[str, Any]]:
    scope = vault["id"] + ("/secrets/" + secret if secret else "")
    found = AuthorizationService(module).grants(principal_id, scope, SECRET_READ_ACTION)
    return [{"kind": "role_assignment", "name": a["name"], "scope": a["scope"], "role_name": a.get("role_name"),
             "role_definition_id": a["role_definition_id"], "created_on": a.get("created_on")} for a in found]


def secret_access(module: AzureApimModule, vault: Any, identity: Dict[str, Any], secret: Optional[str] = None) -> Dict[str, Any]:
    """Can ``identity`` read secrets of ``vault`` now, and would API Management get through the vault's firewall?

    Arguments:
      ``vault``: a vault dict from VaultService, an ARM id, a vault name (searched in the subscription), or a secret
      URI (its host names the vault; the secret name then also scopes the RBAC check unless ``secret`` is given).
      ``identity``: a dict from ``_apim.resolve_identity`` (``kind`` system|user, ``principal_id``, ``tenant_id``)
      or any ``{"principal_id", "tenant_id"}`` (``kind`` None = not an APIM identity).
      ``secret``: optional secret name; role assignments scoped to that one secret then count too.

    Returns a plain dict:
      ``vault``: ``{id, name, resource_group, tenant_id, vault_uri}``;
      ``permission_model``: ``access_policy`` or ``rbac`` (the model Key Vault enforces; the other kind of grant is
      ignored by the vault and not counted);
      ``principal_id``, ``identity_kind``;
      ``can_read_secrets``: True when an access policy with secret ``get`` (access-policy vaults), or a role
      assignment whose role's dataActions include ``secrets/getSecret/action`` at the vault, secret or a parent
      scope (RBAC vaults), exists now. RBAC grants take minutes to reach the data plane after creation;
      ``grants``: the entries or assignments that give that access;
      ``firewall``: ``{enabled, default_action, bypass, public_network_access, trusted_services_bypass, passes,
      reason}``: with the firewall on, API Management passes only with bypass AzureServices and its system identity;
      ``tenant_match``: the identity's tenant equals the vault's tenant (None when the identity's tenant is unknown);
      ``ok``: can read, firewall passes and tenant matches; ``problems``: ``[{code, message, hint}]`` for each failure.
    Raises AzureApimError (VaultNotFound) when the vault does not exist; never writes.
    """
    service = VaultService(module)
    if isinstance(vault, str) and vault.lower().startswith("https://") and "/secrets/" in vault.lower() and not secret:
        secret = parse_secret_uri(vault).name
    vault_dict = vault if isinstance(vault, dict) else service.require(vault)
    principal = str(identity.get("principal_id") or "")
    if is_unknown(principal):
        grants: List[Dict[str, Any]] = []  # an identity a check run plans to create has no grant yet
    elif vault_dict["permission_model"] == "rbac":
        grants = _rbac_grants(module, vault_dict, principal, secret)
    else:
        grants = _access_policy_grants(vault_dict, principal)
    firewall = firewall_fit(vault_dict, identity.get("kind"))
    tenant = identity.get("tenant_id")
    tenant_match = None if not tenant else str(tenant).lower() == str(vault_dict.get("tenant_id") or "").lower()
    report = {
        "vault": {k: vault_dict.get(k) for k in ("id", "name", "resource_group", "tenant_id", "vault_uri")},
        "permission_model": vault_dict["permission_model"],
        "principal_id": principal,
        "identity_kind": identity.get("kind"),
        "can_read_secrets": bool(grants),
        "grants": grants,
        "firewall": firewall,
        "tenant_match": tenant_match,
    }
    report["problems"] = _problems(report, vault_dict)
    report["ok"] = not report["problems"]
    return report


def _problems(report: Dict[str, Any], vault: Dict[str, Any]) -> List[Dict[str, str]]:
    problems = []
    if report["tenant_match"] is False:
        problems.append({"code": "TenantMismatch", "message": "the identity belongs to another tenant than vault "
                         "{0!r} ({1})".format(vault["name"], vault.get("tenant_id")),
                         "hint": "use a vault in the identity's tenant; identities do not follow a moved subscription"})
    if not report["can_read_secrets"]:
        how = ("an access policy with secret permission 'get'" if report["permission_model"] == "access_policy"
               else "a role assignment such as 'Key Vault Secrets User' at the vault or secret scope")
        problems.append({"code": "NoSecretAccess", "message": "principal {0} cannot read secrets of vault {1!r}: it "
                         "has no {2}".format(report["principal_id"], vault["name"], how),
                         "hint": "grant it with azure_apim.identity.keyvault_access"})
    if not report["firewall"]["passes"]:
        problems.append({"code": "FirewallBlocks", "message": report["firewall"]["reason"],
                         "hint": "use the system-assigned identity; " + TRUSTED_SERVICES_FIX})
    return problems


SEVERITIES = ("info", "warning", "error")


def finding(code: str, severity: str, message: str, fix: str) -> Dict[str, str]:
    """One preflight finding: what is wrong and how to fix it."""
    return {"code": code, "severity": severity, "message": message, "fix": fix}


def _access_findings(report: Dict[str, Any], identity: Dict[str, Any]) -> List[Dict[str, str]]:
    found = []
    for problem in report["problems"]:
        if problem["code"] == "FirewallBlocks":
            fix = ("switch to identity: system" if identity.get("kind") == "user" and
                   report["firewall"]["trusted_services_bypass"] else
                   TRUSTED_SERVICES_FIX + " and use the system-assigned identity")
            found.append(finding("FirewallBlocks", "error", problem["message"], fix))
        elif problem["code"] == "NoSecretAccess":
            found.append(finding("NoSecretAccess", "error", problem["message"],
                                 "azure_apim.identity.keyvault_access (or the apim_keyvault_access role)"))
        else:
            found.append(finding(problem["code"], "error", problem["message"], problem["hint"]))
    return found


def secret_problems(meta: Dict[str, Any], name: str, vault_name: str, certificate: bool = True) -> List[Dict[str, str]]:
    """What stops API Management from using a secret (``meta`` from ``secret_metadata``), in one vocabulary for the
    preflight findings and the refusals before a custom-domain or certificate write: ``{code, message, fix}``."""
    if not meta.get("exists"):
        return [{"code": SECRET_NOT_FOUND, "message": "Secret {0!r} does not exist in key vault {1!r}".format(
            name, vault_name), "fix": "import the certificate into the vault first, or fix the secret name"}]
    found = []
    if meta.get("enabled") is False:
        found.append({"code": SECRET_DISABLED, "message": "Secret {0!r} of key vault {1!r} is disabled".format(
            name, vault_name), "fix": "enable the secret (or its current version) in Key Vault"})
    if certificate and str(meta.get("content_type") or "").lower() != PKCS12:
        found.append({"code": NOT_A_CERTIFICATE, "message": "Secret {0!r} of key vault {1!r} has content type {2!r}; "
                      "API Management needs a certificate secret of content type {3!r}".format(
                          name, vault_name, meta.get("content_type"), PKCS12),
                      "fix": "import the certificate as a Key Vault certificate (its secret then has content type "
                             "{0}), or upload a PFX as a secret with that content type".format(PKCS12)})
    return found


def _secret_findings(module: AzureApimModule, vault: Dict[str, Any], secret_ref: str, certificate: bool) -> tuple:
    name, version = split_secret_ref(secret_ref)
    meta = secret_metadata(module, vault, name)
    found = [finding(p["code"], "error", p["message"], p["fix"])
             for p in secret_problems(meta, name, vault["name"], certificate)]
    if meta["exists"] and version:
        warning = finding("VersionedSecretUri", "warning", "the secret URI names version {0}; API Management "
                          "will not pick up rotated versions".format(version),
                          "use the versionless URI {0}".format(meta["secret_uri"]))
        at = len(found) - 1 if found and found[-1]["code"] == NOT_A_CERTIFICATE else len(found)
        found.insert(at, warning)  # listed before the content-type finding, as ever
    return found, meta


def _vnet_findings(module: AzureApimModule, service: Dict[str, Any], firewall_on: bool) -> tuple:
    mode = str(service.get("virtual_network_type") or "None")
    summary: Dict[str, Any] = {"mode": mode, "subnet_id": service.get("subnet_id"), "service_endpoint": None,
                               "blocking_rules": {}}
    if mode.lower() == "none" or not service.get("subnet_id"):
        return [], summary
    network = NetworkService(module)
    subnet = network.get_subnet(service["subnet_id"])
    found = []
    if subnet is None:
        found.append(finding("SubnetNotFound", "error", "the service's subnet {0} does not exist".format(
            service["subnet_id"]), "check the service's virtual network configuration"))
        return found, summary
    summary["service_endpoint"] = has_endpoint(subnet, "Microsoft.KeyVault")
    if not summary["service_endpoint"]:
        found.append(finding("NoKeyVaultServiceEndpoint", "error" if firewall_on else "warning",
                             "subnet {0!r} has no Microsoft.KeyVault service endpoint".format(subnet["name"]),
                             "azure_apim.identity.apim_subnet_service_endpoint"))
    nsg = network.get_nsg(subnet["network_security_group_id"]) if subnet.get("network_security_group_id") else None
    for tag in ("AzureKeyVault", "AzureActiveDirectory"):
        rule = blocking_rule(nsg["rules"], tag) if nsg else None
        summary["blocking_rules"][tag] = rule["name"] if rule else None
        if rule:
            found.append(finding("NsgBlocks" + tag, "error", "outbound rule {0!r} (priority {1}) of NSG {2!r} "
                                 "blocks TCP 443 to {3}".format(rule["name"], rule["priority"], nsg["name"], tag),
                                 "azure_apim.identity.apim_nsg_outbound_rules with a priority below {0}".format(
                                     rule["priority"])))
    return found, summary


def preflight(module: AzureApimModule, service_group: str, service_name: str, identity_ref: str, vault_ref: str,
              vault_group: Optional[str], secret_ref: Optional[str], certificate: bool) -> Dict[str, Any]:
    """Everything that decides whether API Management can read from the vault, as findings; never writes."""
    # memo: when keyvault_access reports before its grant, the service it resolved the principal from serves here too
    service = ApimServices(module).require(service_group, service_name, memo=True)
    vault = VaultService(module).require(vault_ref, vault_group)
    findings: List[Dict[str, str]] = []
    try:
        identity = resolve_planned(module, service, identity_ref)
    except AzureApimError as err:
        findings.append(finding("IdentityNotEnabled", "error", err.msg, err.hint or ""))
        identity = None
    secret_name = None
    if secret_ref:
        secret_name = split_secret_ref(secret_ref)[0]
    access = secret_access(module, vault, identity, secret_name) if identity else None
    if access:
        findings += _access_findings(access, identity)
    vnet_found, vnet = _vnet_findings(module, service, firewall_fit(vault, None)["enabled"])
    findings += vnet_found
    secret = None
    if secret_ref:
        secret_found, secret = _secret_findings(module, vault, secret_ref, certificate)
        findings += secret_found
    return {"findings": findings, "permission_model": vault["permission_model"],
            "vault": {k: vault.get(k) for k in ("id", "name", "tenant_id")}, "identity": identity,
            "access": access, "network": vnet, "secret": secret}


def grant_with_preflight(module: AzureApimModule, principal: Dict[str, Any], vault_ref: str, vault_group: Optional[str],
                         report: bool, **grant_options: Any) -> Dict[str, Any]:
    """keyvault_access: the grant, and with ``report`` the preflight's findings as they stood before it.

    One module process answers both questions a role asks before API Management reads the vault (what stands in
    the way, then the grant), from one read of the service; the preflight never fails here, it only reports.
    """
    params = module.params
    found = preflight(module, params["service_resource_group"], params["service_name"], params["identity"],
                      vault_ref, vault_group, None, False) if report else None
    result = grant(module, principal, vault_ref, vault_group, **grant_options)
    if found is not None:
        result["preflight"] = found
    return result


def _vault_once(module: AzureApimModule, vaults: VaultService, ref: str) -> Optional[Dict[str, Any]]:
    """The vault a hostname or certificate names (name or resource id), read once per module run: these modules
    never change a vault, so every entry of one vault shares one lookup and one read."""
    memo = getattr(module, "memo", None)
    memo = memo if isinstance(memo, dict) else {}
    key = ("vault_of_secret", ref.strip().lower())
    if key not in memo:
        memo[key] = vaults.find(ref)
    return copy.deepcopy(memo[key])


def keyvault_secret_uri(module: AzureApimModule, secret_id: Optional[str], vault_ref: Optional[str], secret_name: Optional[str],
                        secret_version: Optional[str]) -> Tuple[SecretUri, Dict[str, Any]]:
    """The secret URI (a ``/certificates/`` URL is refused with the ``/secrets/`` form) and the vault it lives in."""
    vaults = VaultService(module)
    if secret_id:
        secret = parse_secret_uri(secret_id)
        vault = _vault_once(module, vaults, vault_ref or secret.vault_name)
        if vault is None and vault_ref:
            vaults.require(vault_ref)  # the VaultNotFound error naming where it was looked for
        if vault is not None and (vault.get("name") or "").lower() != secret.vault_name.lower():
            raise AzureApimError("key_vault {0!r} is not the vault of {1!r}".format(vault_ref, secret_id),
                                 code="VaultMismatch", hint="drop key_vault or fix the secret id")
    else:
        vault = _vault_once(module, vaults, str(vault_ref)) or vaults.require(str(vault_ref))
        base = str(vault.get("vault_uri") or "").rstrip("/")
        secret = parse_secret_uri("{0}/secrets/{1}{2}".format(base, secret_name,
                                                              "/" + secret_version if secret_version else ""))
    if vault is None:
        raise AzureApimError(
            "Key vault {0!r} of {1} was not found in subscription {2}".format(secret.vault_name, secret.uri,
                                                                              module.subscription_id),
            status=404, code="VaultNotFound",
            hint="pass key_vault with the vault's resource id when it lives in another subscription, and check the "
                 "automation identity may read it")
    return secret, vault


def refuse_keyvault_problems(module: AzureApimModule, service: Dict[str, Any], identity: Dict[str, Any], secret: SecretUri,
                             vault: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Raise, naming the fix, when APIM could not fetch this certificate: secret missing, disabled or not a PFX;
    identity without access under the vault's permission model; firewall; tenant.

    Returns the RBAC grants younger than Azure's propagation window (see _kv_propagation): the write must then be
    retried until the service accepts the reference."""
    meta = secret_metadata(module, vault, secret.name)
    for problem in secret_problems(meta, secret.name, vault["name"]):
        raise AzureApimError(problem["message"], status=404 if problem["code"] == SECRET_NOT_FOUND else None,
                             code=problem["code"], hint=problem["fix"])
    report = secret_access(module, vault, identity, secret=secret.name)
    for problem in report.get("problems") or []:
        if problem["code"] == "NoSecretAccess" and _access_assumed(module, service, identity, vault):
            continue
        raise AzureApimError(
            "API Management service {0!r} could not fetch {1}: {2}".format(
                service["name"], secret.uri, problem["message"]),
            code=problem["code"], hint=_access_hint(problem, identity))
    return young_rbac_grants(report.get("grants") or [])


def _access_assumed(module: AzureApimModule, service: Dict[str, Any], identity: Dict[str, Any], vault: Dict[str, Any]) -> bool:
    """Check mode only: an earlier task of the run plans the grant this certificate needs (see _plan.py)."""
    assumptions = Assumptions(module)
    if not assumptions.secret_access(vault["name"], service_key(service["resource_group"], service["name"]),
                                     identity_key(identity.get("kind"), identity.get("resource_id"))):
        return False
    assumptions.warn("read access of the {0} identity to the secrets of key vault {1!r}".format(
        "system-assigned" if identity.get("kind") == "system" else "user-assigned", vault["name"]))
    return True


def _access_hint(problem: Dict[str, Any], identity: Dict[str, Any]) -> str:
    if problem["code"] == "NoSecretAccess":
        return ("run azure_apim.identity.keyvault_access first for the {0} identity (secret get/list, or the "
                "Key Vault Secrets User role on an RBAC vault)".format(
                    "system-assigned" if identity.get("kind") == "system" else "user-assigned"))
    return str(problem.get("hint") or "")
