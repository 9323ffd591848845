# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Key Vault (management plane) as plain dicts, and "can this APIM identity read secrets from this vault?".

Vaults are read and access policies written through the generic ARM client with a pinned api-version, so an
access-policy entry is kept exactly as Key Vault stores it (permission spelling, applicationId, unknown fields):
removal must send back the stored entry, and the SDK's enum handling would rewrite it.

Public contract used by other capabilities (custom domains, named values):

- :class:`VaultService` ``(module)``: ``get``, ``find``, ``require``, ``secret``, ``update_access_policy``.
- :func:`secret_access` ``(module, vault, identity, secret=None)``: the access report (see its docstring).
- :func:`secret_metadata` ``(module, vault, secret_name)``: a secret's management-plane metadata.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._arm import API_VERSIONS
from ._authz import SECRET_READ_ACTION, AuthorizationService
from ._errors import AzureApimError
from ._ids import parse_resource_id, parse_secret_uri
from ._plan import is_unknown

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
        "id": body.get("id"),
        "name": body.get("name"),
        "resource_group": parse_resource_id(body["id"]).resource_group if body.get("id") else None,
        "location": body.get("location"),
        "tags": dict(body.get("tags") or {}),
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

    def __init__(self, module: Any) -> None:
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


def secret_metadata(module: Any, vault: Any, secret_name: str) -> Dict[str, Any]:
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


def _rbac_grants(module: Any, vault: Dict[str, Any], principal_id: str, secret: Optional[str]) -> List[Dict[str, Any]]:
    scope = vault["id"] + ("/secrets/" + secret if secret else "")
    found = AuthorizationService(module).grants(principal_id, scope, SECRET_READ_ACTION)
    return [{"kind": "role_assignment", "name": a["name"], "scope": a["scope"], "role_name": a.get("role_name"),
             "role_definition_id": a["role_definition_id"], "created_on": a.get("created_on")} for a in found]


def secret_access(module: Any, vault: Any, identity: Dict[str, Any], secret: Optional[str] = None) -> Dict[str, Any]:
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


# -- one principal's access-policy entry (keyvault_access) ---------------------------------------------------------

def _perm_set(values: Optional[List[str]]) -> set:
    return {str(v).lower() for v in values or []}


def permissions_equal(wanted: Any, current: Any) -> bool:
    """Permissions compare per kind, as case-insensitive sets, only for the kinds in ``wanted``."""
    current = current or {}
    return all(_perm_set(values) == _perm_set(current.get(kind)) for kind, values in (wanted or {}).items())


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


def access_policy_spec(service: VaultService, vault_ref: str, resource_group: Optional[str], object_id: str,
                       tenant_id: str, mode: str, vault: Optional[Dict[str, Any]] = None) -> Any:
    """A ResourceSpec for one principal's access-policy entry on a vault (see _state.ensure).

    Only ``accessPolicies/{add|replace|remove}`` with this one entry is sent; each cycle re-reads the vault, so a
    policy another writer added meanwhile is never lost, and Key Vault's 409 ConflictError re-runs the cycle.
    ``vault``, when given, is the vault the caller has just read: the first cycle uses it instead of reading it
    again; re-runs and the read after a write always read afresh.
    """
    from ._retry import KEYVAULT_CONFLICT, THROTTLED
    from ._state import ResourceSpec

    holder: Dict[str, Any] = {}
    fresh = [vault] if vault is not None else []

    def read() -> Optional[Dict[str, Any]]:
        holder["vault"] = fresh.pop() if fresh else service.require(vault_ref, resource_group)
        return find_policy(holder["vault"], object_id)

    def create(wanted: Dict[str, Any]) -> None:
        vault = holder["vault"]
        if len(vault["access_policies"]) >= MAX_ACCESS_POLICIES:
            raise AzureApimError("Key vault {0!r} already holds {1} access policies, Key Vault's maximum".format(
                vault["name"], len(vault["access_policies"])), code="AccessPolicyLimitExceeded",
                hint="remove unused access policies, or move the vault to the Azure RBAC permission model")
        service.update_access_policy(vault, "add", policy_entry(tenant_id, object_id, wanted["permissions"]))

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> None:
        if mode == "exact":
            entry = policy_entry(tenant_id, object_id, wanted["permissions"], base=current["raw"])
            service.update_access_policy(holder["vault"], "replace", entry)
        else:
            service.update_access_policy(holder["vault"], "add",
                                         policy_entry(current["raw"].get("tenantId") or tenant_id, object_id,
                                                      wanted["permissions"]))

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        base = public_policy(current) or {"tenant_id": tenant_id, "object_id": object_id, "application_id": None,
                                          "permissions": {kind: [] for kind in PERMISSION_KINDS}}
        return dict(base, permissions=dict(base["permissions"], **wanted["permissions"]))

    return ResourceSpec(
        what="access policy of {0} on key vault {1}".format(object_id, vault_ref),
        read=read, create=create, update=update, predict=predict,
        # Removal sends the entry back exactly as Key Vault stored it, so every permission in it goes.
        delete=lambda current: service.update_access_policy(holder["vault"], "remove", current["raw"]),
        comparators={"permissions": permissions_equal, "object_id": lambda a, b: str(a).lower() == str(b).lower()},
        settle=False, rerun_on=(KEYVAULT_CONFLICT, THROTTLED),
    ), holder  # holder["vault"]: the vault as last read


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


def trusted_services_spec(service: VaultService, vault_ref: str, resource_group: Optional[str]) -> Any:
    """A ResourceSpec over one vault's ``networkAcls.bypass`` (see _state.ensure); every other rule stays as read.

    Each cycle re-reads the vault right before the PATCH (vaults have no ETag to condition the write on), and
    Key Vault's 409 ConflictError re-runs the cycle from a fresh read.
    """
    from ._retry import KEYVAULT_CONFLICT, THROTTLED
    from ._state import ResourceSpec

    holder: Dict[str, Any] = {}

    def read() -> Optional[Dict[str, Any]]:
        holder["vault"] = service.require(vault_ref, resource_group)
        return network_view(holder["vault"])

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> Dict[str, Any]:
        return network_view(service.set_bypass(holder["vault"], wanted["bypass"]))

    return ResourceSpec(what="the firewall of key vault {0}".format(vault_ref), read=read, update=update,
                        comparators={"bypass": bypass_equal}, settle=False, verify_with_response=True,
                        rerun_on=(KEYVAULT_CONFLICT, THROTTLED)), holder


# -- keyvault_access: checks before any write, then the access-policy or RBAC engine -------------------------------

def _check_model(vault: Dict[str, Any], asked: str) -> str:
    model = vault["permission_model"]
    if asked not in ("auto", model):
        raise AzureApimError(
            "Key vault {0!r} uses the {1} permission model, not {2}; a grant of the other kind would be ignored by "
            "the vault".format(vault["name"], model, asked), code="PermissionModelMismatch",
            hint="use permission_model: auto, or change the vault's model yourself (this module never does)")
    return model


def _check_tenant(vault: Dict[str, Any], principal: Dict[str, Any]) -> str:
    tenant = principal.get("tenant_id") or vault.get("tenant_id")
    if str(tenant).lower() != str(vault.get("tenant_id") or "").lower():
        raise AzureApimError(
            "The principal {0} belongs to tenant {1} but key vault {2!r} to tenant {3}; Key Vault only accepts "
            "principals of its own tenant".format(
                principal["principal_id"], tenant, vault["name"], vault.get("tenant_id")),
            code="TenantMismatch", hint="use a vault in the identity's tenant (identities do not follow a "
                                        "subscription moved to another directory; recreate them)")
    return str(tenant)


def _check_firewall(module: Any, vault: Dict[str, Any], principal: Dict[str, Any], allow_user: bool) -> Dict[str, Any]:
    fit = firewall_fit(vault, principal.get("kind"))
    if fit["passes"]:
        return fit
    if fit["enabled"] and principal.get("kind") == "user" and not allow_user:
        raise AzureApimError(
            "Refusing to grant user-assigned identity {0} on key vault {1!r}: {2}".format(
                principal.get("resource_id") or principal["principal_id"], vault["name"], FIREWALL_USER_ASSIGNED_REASON),
            code="FirewallBlocksUserAssigned",
            hint="use identity: system, or set allow_user_assigned_behind_firewall: true to grant anyway")
    module.warn("API Management will not reach key vault {0!r} through its firewall: {1}".format(
        vault["name"], fit["reason"]))
    return fit


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


def grant(module: Any, principal: Dict[str, Any], vault_ref: str, resource_group: Optional[str], *,
          permission_model: str, permissions: Dict[str, List[str]], mode: str, role: str,
          secret_name: Optional[str], allow_user: bool, state: str) -> Dict[str, Any]:
    """Grant (``state=present``) or revoke one principal's secret access on a vault; the keyvault_access result."""
    from ._authz import AuthorizationService, assignment_desired, assignment_spec, marked_description
    from ._state import ensure

    service = VaultService(module)
    vault = service.require(vault_ref, resource_group)
    model = _check_model(vault, permission_model)
    tenant = _check_tenant(vault, principal)
    fit = _check_firewall(module, vault, principal, allow_user) if state == "present" else firewall_fit(
        vault, principal.get("kind"))
    result: Dict[str, Any] = {"permission_model": model, "vault": {"id": vault["id"], "name": vault["name"]},
                              "principal": {k: principal.get(k) for k in ("kind", "principal_id", "tenant_id")},
                              "firewall": fit, "access_policy": {}, "role_assignment": {}}
    if model == "rbac":
        authz = AuthorizationService(module)
        scope = vault["id"] + ("/secrets/" + secret_name if secret_name else "")
        chosen = rbac_role(role, permissions.get("certificates"), vault["name"])
        if chosen != role:
            module.warn("Key vault {0!r} uses Azure RBAC: certificate_permissions {1} are granted as the role {2!r} "
                        "(it also reads secrets, as API Management does for certificates)".format(
                            vault["name"], permissions["certificates"], chosen))
        role_def = authz.resolve_role(chosen, scope)
        spec = assignment_spec(authz, scope, principal["principal_id"], role_def,
                               description=marked_description(principal))
        outcome = ensure(spec, state, assignment_desired(scope, principal["principal_id"], role_def),
                         check_mode=module.check_mode, deadline=module.deadline)
        result.update(outcome.result("role_assignment"))
        return result
    spec = access_policy_spec(service, vault["id"], None, principal["principal_id"], tenant, mode, vault=vault)[0]
    outcome = ensure(spec, state, lambda current: {"object_id": principal["principal_id"],
                                                   "permissions": merged_permissions(current, permissions, mode)},
                     check_mode=module.check_mode, deadline=module.deadline)
    outcome.before, outcome.after = public_policy(outcome.before), public_policy(outcome.after)
    result.update(outcome.result("access_policy"))
    return result


# -- apim_keyvault_preflight: read-only diagnosis ------------------------------------------------------------------

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


def _secret_findings(module: Any, vault: Dict[str, Any], secret_ref: str, certificate: bool) -> tuple:
    name, version = secret_ref, None
    if secret_ref.lower().startswith("https://"):
        uri = parse_secret_uri(secret_ref)
        name, version = uri.name, uri.version
    meta = secret_metadata(module, vault, name)
    found = []
    if not meta["exists"]:
        found.append(finding("SecretNotFound", "error", "secret {0!r} does not exist in vault {1!r}".format(
            name, vault["name"]), "create the secret (or import the certificate) in the vault, or fix the name"))
        return found, meta
    if meta["enabled"] is False:
        found.append(finding("SecretDisabled", "error", "secret {0!r} is disabled".format(name),
                             "enable the secret (or its current version) in Key Vault"))
    if version:
        found.append(finding("VersionedSecretUri", "warning", "the secret URI names version {0}; API Management "
                             "will not pick up rotated versions".format(version),
                             "use the versionless URI {0}".format(meta["secret_uri"])))
    if certificate and not meta["is_pkcs12"]:
        found.append(finding("NotPkcs12", "error", "secret {0!r} has content type {1!r}; API Management needs "
                             "application/x-pkcs12 for a certificate".format(name, meta["content_type"]),
                             "import the certificate into Key Vault as a certificate (PFX), not as a plain secret"))
    return found, meta


def _vnet_findings(module: Any, service: Dict[str, Any], firewall_on: bool) -> tuple:
    from ._network import NetworkService, blocking_rule, has_endpoint

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


def preflight(module: Any, service_group: str, service_name: str, identity_ref: str, vault_ref: str,
              vault_group: Optional[str], secret_ref: Optional[str], certificate: bool) -> Dict[str, Any]:
    """Everything that decides whether API Management can read from the vault, as findings; never writes."""
    from ._apim import ApimServices
    from ._plan import resolve_planned

    service = ApimServices(module).require(service_group, service_name)
    vault = VaultService(module).require(vault_ref, vault_group)
    findings: List[Dict[str, str]] = []
    try:
        identity = resolve_planned(module, service, identity_ref)
    except AzureApimError as err:
        findings.append(finding("IdentityNotEnabled", "error", err.msg, err.hint or ""))
        identity = None
    secret_name = None
    if secret_ref:
        secret_name = parse_secret_uri(secret_ref).name if secret_ref.lower().startswith("https://") else secret_ref
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
