# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Key Vault (management plane) as plain dicts (adapter: see docs/dev/architecture.md).

Vaults are read and access policies written through the generic ARM client with a pinned api-version, so an
access-policy entry is kept exactly as Key Vault stores it (permission spelling, applicationId, unknown fields):
removal must send back the stored entry, and the SDK's enum handling would rewrite it.

Public contract used by the capabilities (``_access``, ``_secret_access``, custom domains, named values):

- :class:`VaultService` ``(module)``: ``get``, ``find``, ``require``, ``secret``, ``update_access_policy``.
- :func:`secret_metadata` ``(module, vault, secret_name)``: a secret's management-plane metadata.

"Can this APIM identity read secrets from this vault?" is answered in ``_secret_access``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._arm import API_VERSIONS, tracked_resource
from ._compare import ci_set_equal
from ._errors import AzureApimError
from ._ids import parse_resource_id, parse_secret_uri

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

API_VERSION = "2023-07-01"
VAULT_TYPE = "Microsoft.KeyVault/vaults"
RESOURCES_API_VERSION = API_VERSIONS["Microsoft.Resources"]
MAX_ACCESS_POLICIES = 1024
PERMISSION_KINDS = ("keys", "secrets", "certificates", "storage")
TRUSTED_SERVICES = "azureservices"
PKCS12 = "application/x-pkcs12"
# How to turn the bypass on, named in every finding and error about it.
TRUSTED_SERVICES_FIX = (
    "enable 'Allow trusted Microsoft services to bypass this firewall' on the vault (networkAcls.bypass "
    "AzureServices): set apim_keyvault_access_allow_trusted_services: true (role apim_keyvault_access, "
    "site_allow_trusted_services in the site playbooks) or run azure_apim.identity.keyvault_network with "
    "trusted_services: true")
# The article's reason, reused in every refusal and finding about user-assigned identities behind the firewall.
FIREWALL_USER_ASSIGNED_REASON = (
    "when the Key Vault firewall is enabled, API Management can reach the vault only as a trusted Microsoft "
    "service, and only its system-assigned identity is treated as one; a user-assigned identity is blocked")


def policy_to_dict(entry: Dict[str, Any]) -> Dict[str, Any]:
    """An access-policy entry (ARM JSON) as a plain dict; ``raw`` keeps the entry exactly as stored."""
    perms = entry.get("permissions") or {}
    return {
        "tenant_id": entry.get("tenantId"),
        "object_id": entry.get("objectId"),
        "application_id": entry.get("applicationId"),
        "permissions": {kind: list(perms.get(kind) or []) for kind in PERMISSION_KINDS},
        "raw": entry,
    }


def _acls_to_dict(acls: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    acls = acls or {}
    return {
        "default_action": acls.get("defaultAction") or "Allow",
        "bypass": acls.get("bypass") or "AzureServices",
        "ip_rules": [r.get("value") for r in acls.get("ipRules") or []],
        "virtual_network_rules": [r.get("id") for r in acls.get("virtualNetworkRules") or []],
    }


def vault_to_dict(body: Dict[str, Any]) -> Dict[str, Any]:
    """An ARM vault body as a plain dict (snake_case)."""
    props = body.get("properties") or {}
    rbac = bool(props.get("enableRbacAuthorization"))
    return {
        **tracked_resource(body),
        "tenant_id": props.get("tenantId"),
        "vault_uri": props.get("vaultUri"),
        "enable_rbac_authorization": rbac,
        "permission_model": "rbac" if rbac else "access_policy",
        "public_network_access": props.get("publicNetworkAccess") or "Enabled",
        "network_acls": _acls_to_dict(props.get("networkAcls")),
        # exactly as stored: a bypass change sends it back with only ``bypass`` replaced
        "network_acls_raw": props.get("networkAcls"),
        "access_policies": [policy_to_dict(p) for p in props.get("accessPolicies") or []],
        "provisioning_state": props.get("provisioningState"),
    }


def vault_path(subscription_id: str, resource_group: str, name: str) -> str:
    """ARM path of a vault."""
    return "/subscriptions/{0}/resourceGroups/{1}/providers/{2}/{3}".format(
        subscription_id, resource_group, VAULT_TYPE, name)


def find_policy(vault: Dict[str, Any], object_id: str, application_id: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The vault's access-policy entry for this object id (and application id, when compound), or None."""
    for policy in vault.get("access_policies") or []:
        if str(policy.get("object_id") or "").lower() != object_id.lower():
            continue
        if str(policy.get("application_id") or "").lower() == str(application_id or "").lower():
            return policy
    return None


def firewall_fit(vault: Dict[str, Any], identity_kind: Optional[str]) -> Dict[str, Any]:
    """Can APIM get through the vault's firewall with this identity kind ('system', 'user' or None = unknown)?

    With ``networkAcls.defaultAction: Deny`` (or public network access disabled), API Management passes only as a
    trusted Microsoft service: ``bypass`` must include AzureServices and the identity must be the system-assigned one.
    """
    acls = vault.get("network_acls") or {}
    public = str(vault.get("public_network_access") or "Enabled").lower()
    enabled = str(acls.get("default_action") or "Allow").lower() == "deny" or public == "disabled"
    bypass = TRUSTED_SERVICES in [b.strip().lower() for b in str(acls.get("bypass") or "").split(",")]
    reason = None
    if enabled and not bypass:
        reason = ("the vault firewall denies public traffic and 'Allow trusted Microsoft services to bypass this "
                  "firewall' is off (networkAcls.bypass is {0!r})".format(acls.get("bypass")))
    elif enabled and identity_kind == "user":
        reason = FIREWALL_USER_ASSIGNED_REASON
    return {"enabled": enabled, "default_action": acls.get("default_action"), "bypass": acls.get("bypass"),
            "public_network_access": vault.get("public_network_access"), "trusted_services_bypass": bypass,
            "passes": reason is None, "reason": reason}


class VaultService:
    """Key Vault management-plane reads and access-policy operations through an AzureApimModule."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module

    def _arm(self) -> Any:
        return self.module.arm()

    def get(self, resource_group: str, name: str) -> Optional[Dict[str, Any]]:
        """The vault, or None when it (or its resource group) does not exist."""
        body = self.module.read(self._arm().get, vault_path(self.module.subscription_id, resource_group, name),
                                API_VERSION, what="reading key vault {0}/{1}".format(resource_group, name))
        return vault_to_dict(body) if body else None

    def list(self, resource_group: Optional[str] = None) -> List[Dict[str, Any]]:
        """Vaults of a resource group, or of the subscription."""
        base = "/subscriptions/" + self.module.subscription_id
        if resource_group:
            base += "/resourceGroups/" + resource_group
        bodies = self.module.read(self._arm().list, base + "/providers/" + VAULT_TYPE, API_VERSION,
                                  what="listing key vaults") or []
        return [vault_to_dict(b) for b in bodies]

    def find(self, vault: str, resource_group: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """A vault by ARM id, by name (in ``resource_group``, else searched in the subscription), or by a secret URI.

        Vault names are globally unique, so a name (or the host of a secret URI) designates one vault; without a
        resource group it is looked up by name in the subscription (``_find_by_name``). None when no such vault is
        visible.
        """
        ref = vault.strip()
        if ref.lower().startswith("https://"):
            ref = parse_secret_uri(ref).vault_name if "/secrets/" in ref.lower() or "/certificates/" in ref.lower() \
                else ref[len("https://"):].split(".")[0]
        if ref.startswith("/"):
            rid = parse_resource_id(ref, VAULT_TYPE)
            if (rid.subscription or "").lower() != self.module.subscription_id.lower():
                return self._get_by_id(ref)
            return self.get(rid.resource_group, rid.name)
        if resource_group:
            return self.get(resource_group, ref)
        return self._find_by_name(ref)

    def _find_by_name(self, name: str) -> Optional[Dict[str, Any]]:
        """A vault by name alone: Resources_List filtered on the vault type and the name (one short answer, whatever
        the number of vaults in the subscription), then the vault itself. Where the name lives is remembered for
        the rest of the module run (several hostnames or entries of one vault look it up once); the vault is read
        each time, so a read after a write sees the write."""
        memo = getattr(self.module, "memo", None)
        memo = memo if isinstance(memo, dict) else {}
        key = ("key_vault_group", name.lower())
        if key not in memo:
            flt = "resourceType eq '{0}' and name eq '{1}'".format(VAULT_TYPE, name.replace("'", "''"))
            hits = self.module.read(self._arm().list, "/subscriptions/{0}/resources?$filter={1}".format(
                self.module.subscription_id, flt), RESOURCES_API_VERSION, what="looking up key vault " + name) or []
            match = next((h for h in hits if (h.get("name") or "").lower() == name.lower()), None)
            memo[key] = parse_resource_id(match["id"], VAULT_TYPE).resource_group if match else None
        return self.get(memo[key], name) if memo[key] else None

    def _get_by_id(self, vault_id: str) -> Optional[Dict[str, Any]]:
        body = self.module.read(self._arm().get, vault_id, API_VERSION, what="reading key vault " + vault_id)
        return vault_to_dict(body) if body else None

    def require(self, vault: str, resource_group: Optional[str] = None) -> Dict[str, Any]:
        """Like find(), but a missing vault is a clear error."""
        found = self.find(vault, resource_group)
        if found is None:
            where = "resource group {0!r}".format(resource_group) if resource_group else \
                "subscription {0}".format(self.module.subscription_id)
            raise AzureApimError("Key vault {0!r} was not found in {1}".format(vault, where), status=404,
                                 code="VaultNotFound",
                                 hint="check the vault name (and resource group / subscription), and that the "
                                      "automation identity may read it")
        return found

    def update_access_policy(self, vault: Dict[str, Any], kind: str, entry: Dict[str, Any]) -> None:
        """``accessPolicies/{add|replace|remove}`` with one entry (ARM JSON); never a PUT/PATCH of the vault."""
        if kind not in ("add", "replace", "remove"):
            raise AzureApimError("internal: access policy operation {0!r}".format(kind))
        path = "{0}/accessPolicies/{1}".format(vault["id"], kind)
        # Not replayed here: a 409 ConflictError re-runs the whole read -> compute -> write cycle (ResourceSpec.rerun_on).
        self.module.call(self._arm().request, "PUT", path, API_VERSION, {"properties": {"accessPolicies": [entry]}},
                         what="{0} access policy on key vault {1}".format(
                             {"add": "adding", "replace": "replacing", "remove": "removing"}[kind], vault["name"]))

    def set_bypass(self, vault: Dict[str, Any], bypass: str) -> Dict[str, Any]:
        """PATCH the vault's ``networkAcls`` with only ``bypass`` changed; returns the vault as the answer holds it.

        Vaults_Update replaces ``networkAcls`` as a whole, so the stored object goes back with every other field
        (default action, IP and virtual network rules, unknown fields) as read. Key Vault vaults carry no ETag and
        Vaults_Update takes no If-Match: the rules are read immediately before the write.
        """
        acls = dict(vault.get("network_acls_raw") or {"defaultAction": "Allow"}, bypass=bypass)
        body = self.module.call(self._arm().request, "PATCH", vault["id"], API_VERSION,
                                {"properties": {"networkAcls": acls}},
                                what="setting networkAcls.bypass on key vault {0}".format(vault["name"]))
        return vault_to_dict(body) if isinstance(body, dict) and body.get("id") else vault

    def secret(self, vault: Dict[str, Any], name: str) -> Optional[Dict[str, Any]]:
        """A secret's management-plane metadata, or None when the secret does not exist."""
        body = self.module.read(self._arm().get, "{0}/secrets/{1}".format(vault["id"], name), API_VERSION,
                                what="reading secret {0} of key vault {1}".format(name, vault["name"]))
        return _secret_to_dict(body) if body else None


def _secret_to_dict(body: Dict[str, Any]) -> Dict[str, Any]:
    props = body.get("properties") or {}
    attrs = props.get("attributes") or {}
    with_version = props.get("secretUriWithVersion")
    return {
        "exists": True,
        "id": body.get("id"),
        "name": body.get("name"),
        "content_type": props.get("contentType"),
        "enabled": attrs.get("enabled", True),
        "expires": attrs.get("exp"),
        "not_before": attrs.get("nbf"),
        "secret_uri": props.get("secretUri"),
        "secret_uri_with_version": with_version,
        "current_version": with_version.rstrip("/").rsplit("/", 1)[-1] if with_version else None,
        "is_pkcs12": str(props.get("contentType") or "").lower() == PKCS12,
    }


def secret_metadata(module: AzureApimModule, vault: Any, secret_name: str) -> Dict[str, Any]:
    """Management-plane metadata of one secret (the value is never read).

    ``vault``: a vault dict from VaultService, an ARM id, a name, or a secret URI. Returns ``{"exists": False,
    "name": ...}`` when the secret does not exist, else ``exists``, ``id``, ``name``, ``content_type``, ``enabled``,
    ``expires``, ``not_before``, ``secret_uri`` (versionless), ``secret_uri_with_version``, ``current_version`` and
    ``is_pkcs12`` (content type ``application/x-pkcs12``, which APIM requires for certificates). The management
    plane exposes only the current version; older versions are not listed. Raises VaultNotFound for a missing vault.
    """
    service = VaultService(module)
    vault_dict = vault if isinstance(vault, dict) else service.require(vault)
    found = service.secret(vault_dict, secret_name)
    return found if found is not None else {"exists": False, "name": secret_name}


# -- one principal's access-policy entry (keyvault_access) ---------------------------------------------------------

def _perm_set(values: Optional[List[str]]) -> set:
    return {str(v).lower() for v in values or []}


def permissions_equal(wanted: Any, current: Any) -> bool:
    """Permissions compare per kind, as case-insensitive sets, only for the kinds in ``wanted``."""
    current = current or {}
    return all(ci_set_equal(values, current.get(kind)) for kind, values in (wanted or {}).items())


def merged_permissions(current: Optional[Dict[str, Any]], wanted: Dict[str, List[str]], mode: str) -> Dict[str, List[str]]:
    """The permissions the entry should end with: ``additive`` keeps what is there, ``exact`` matches ``wanted``."""
    result: Dict[str, List[str]] = {}
    have = (current or {}).get("permissions") or {}
    for kind, values in wanted.items():
        if mode == "exact":
            result[kind] = list(values)
            continue
        merged = list(have.get(kind) or [])
        seen = _perm_set(merged)
        merged += [v for v in values if v.lower() not in seen]
        result[kind] = merged
    return result


def policy_entry(tenant_id: str, object_id: str, permissions: Dict[str, List[str]],
                 base: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """ARM JSON of an access-policy entry; ``base`` (a stored entry) keeps its other kinds and fields."""
    entry = dict(base or {"tenantId": tenant_id, "objectId": object_id})
    perms = dict(entry.get("permissions") or {})
    perms.update({kind: list(values) for kind, values in permissions.items()})
    entry["permissions"] = perms
    return entry


def public_policy(policy: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The entry as modules return it (no raw copy)."""
    return None if policy is None else {k: v for k, v in policy.items() if k != "raw"}


# -- keyvault_network: the trusted-services switch (networkAcls.bypass only) --------------------------------------

BYPASS_ON, BYPASS_OFF = "AzureServices", "None"


def network_view(vault: Dict[str, Any]) -> Dict[str, Any]:
    """The vault's firewall as keyvault_network returns it (``bypass`` is the only field it ever changes)."""
    acls = vault["network_acls"]
    return {"bypass": acls["bypass"], "default_action": acls["default_action"], "ip_rules": list(acls["ip_rules"]),
            "virtual_network_rules": list(acls["virtual_network_rules"]),
            "public_network_access": vault.get("public_network_access")}


def bypass_equal(wanted: Any, current: Any) -> bool:
    """``bypass`` is an enum Key Vault may return in any case."""
    return str(wanted or "").strip().lower() == str(current or "").strip().lower()


# -- keyvault_access: checks before any write, then the access-policy or RBAC engine -------------------------------


SECRETS_USER = ("key vault secrets user", "4633458b-17de-408a-b874-0445c86b69e6")
CERTIFICATE_USER = "Key Vault Certificate User"
# Certificate permissions a read-only role covers; Key Vault Certificate User grants exactly these reads (and the
# secret portion of a certificate, which API Management fetches through the secrets endpoint).
CERTIFICATE_READS = frozenset({"get", "list", "getissuers", "listissuers"})


def rbac_role(role: str, certificate_permissions: Optional[List[str]], vault_name: str) -> str:
    """The role to assign on an RBAC vault, given the access-policy style ``certificate_permissions`` (never ignored).

    Read-only certificate permissions with the default role become Key Vault Certificate User; anything else is
    refused with the role to use instead.
    """
    if not certificate_permissions:
        return role
    asked = {p.lower() for p in certificate_permissions}
    if asked - CERTIFICATE_READS:
        raise AzureApimError(
            "Key vault {0!r} uses Azure RBAC, where certificate permissions {1} have no read-only built-in role".format(
                vault_name, sorted(asked - CERTIFICATE_READS)), code="CertificatePermissionsOnRbacVault",
            hint="drop certificate_permissions and name the role instead (role: Key Vault Certificates Officer); "
                 "API Management itself only needs to read")
    if role.strip().rstrip("/").split("/")[-1].lower() not in SECRETS_USER:
        raise AzureApimError(
            "Key vault {0!r} uses Azure RBAC: certificate_permissions cannot be combined with role {1!r}".format(
                vault_name, role), code="CertificatePermissionsOnRbacVault",
            hint="drop certificate_permissions (the role decides what the identity may read on an RBAC vault)")
    return CERTIFICATE_USER


# -- apim_keyvault_preflight: read-only diagnosis ------------------------------------------------------------------
