"""How API Management reads a Key Vault secret through one of its managed identities.

API Management fetches a custom-domain certificate (``hostnameConfigurations[].keyVaultId``) or a Key Vault named
value (``keyVault.secretIdentifier``) itself, with a token for one of its identities. Each step below is a check the
real services make, in this order:

1. the identity exists on the service: no ``identityClientId`` means the system-assigned identity; otherwise the
   client id of the system-assigned identity or of one of the attached user-assigned identities;
2. the vault behind the URI exists (APIM resolves ``https://<vault>.vault.azure.net``);
3. the identity may read the secret under the vault's permission model: an access policy for its object id with
   ``secrets: get`` (effective at once), or, when ``enableRbacAuthorization`` is true, a role assignment granting
   ``Microsoft.KeyVault/vaults/secrets/getSecret/action`` at the vault or secret scope (or above), effective only after
   Azure RBAC has propagated it;
4. the vault firewall: with ``networkAcls.defaultAction: Deny`` (or public access disabled) only trusted Microsoft
   services get through, i.e. APIM's *system-assigned* identity, and only when ``bypass`` includes ``AzureServices``
   (user-assigned identities are never treated as a trusted service);
5. the secret (and version, when the URI names one) exists and is enabled;
6. for certificates, the secret is a PKCS#12 blob (content type ``application/x-pkcs12``) APIM can read.

The result carries the Key Vault data-plane error APIM ran into (code, inner code and message shaped like Key Vault's),
so that callers can render it as APIM does: a 400 for hostnames, ``keyVault.lastStatus`` for named values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlparse

from . import pfx

SECRET_READ_PERMISSION = "get"
TRUSTED_SERVICES_BYPASS = "AzureServices"
_SECRET_PATH = re.compile(r"^/(?P<kind>secrets|certificates|keys)/(?P<name>[^/]+)(?:/(?P<version>[^/]*))?/?$",
                          re.IGNORECASE)


@dataclass
class Identity:
    """The identity APIM uses for one Key Vault read."""

    kind: str  # "SystemAssigned" or "UserAssigned"
    principal_id: str
    client_id: str
    resource_id: Optional[str] = None


@dataclass
class Resolution:
    """Outcome of one read. ``ok`` is True only when every step passed."""

    ok: bool
    code: str = "Success"
    message: str = ""
    inner_code: Optional[str] = None
    step: str = "done"
    identity: Optional[Identity] = None
    secret_uri: str = ""
    vault_id: Optional[str] = None
    secret_id: Optional[str] = None
    version: Optional[str] = None
    content_type: Optional[str] = None
    value: Optional[str] = field(default=None, repr=False)
    certificate: Optional[pfx.CertificateInfo] = None


@dataclass(frozen=True)
class SecretUri:
    """A parsed Key Vault object URI."""

    vault_host: str
    kind: str
    name: str
    version: Optional[str]


def parse_secret_uri(uri: str) -> Optional[SecretUri]:
    """Split ``https://<vault>.vault.azure.net/secrets/<name>[/<version>]``; None when it is not such a URI."""
    parsed = urlparse(uri or "")
    match = _SECRET_PATH.match(parsed.path or "")
    if parsed.scheme.lower() != "https" or not parsed.hostname or not match:
        return None
    return SecretUri(parsed.hostname.lower(), match["kind"].lower(), match["name"], match["version"] or None)


# --- step 1: identity --------------------------------------------------------------------------------------------

def find_identity(world: Any, service: dict, identity_client_id: Optional[str]) -> Optional[Identity]:
    """The service identity APIM would use for ``identity_client_id`` (None: the system-assigned one)."""
    ident = service.get("identity") or {}
    kind = (ident.get("type") or "None").replace(" ", "").lower()
    if "systemassigned" in kind and ident.get("principalId"):
        system = Identity("SystemAssigned", ident["principalId"],
                          _client_id_of(world, ident["principalId"]))
        if not identity_client_id or identity_client_id.lower() == (system.client_id or "").lower():
            return system
    if not identity_client_id:
        return None
    for res_id, entry in (ident.get("userAssignedIdentities") or {}).items():
        if (entry or {}).get("clientId", "").lower() == identity_client_id.lower():
            return Identity("UserAssigned", entry.get("principalId", ""), entry["clientId"], res_id)
    return None


def _client_id_of(world: Any, principal_id: str) -> str:
    """The Entra application (client) id behind a managed identity's object id."""
    principal = (getattr(world, "principals", {}) or {}).get(principal_id) or {}
    return principal.get("app_id") or principal.get("client_id") or ""


# --- step 2: vault -----------------------------------------------------------------------------------------------

def find_vault(world: Any, vault_host: str) -> Optional[dict]:
    """The vault whose ``vaultUri`` has this host name."""
    for vault in world.list("Microsoft.KeyVault/vaults"):
        uri = (vault.get("properties") or {}).get("vaultUri") or ""
        if urlparse(uri).hostname and urlparse(uri).hostname.lower() == vault_host:
            return vault
    return None


# --- step 3: permission model ------------------------------------------------------------------------------------

def access_policy_allows(vault: dict, principal_id: str) -> bool:
    """True when an access policy for ``principal_id`` grants ``secrets: get`` (access policies apply at once)."""
    for policy in (vault.get("properties") or {}).get("accessPolicies") or []:
        if (policy.get("objectId") or "").lower() != principal_id.lower():
            continue
        secrets = [p.lower() for p in ((policy.get("permissions") or {}).get("secrets") or [])]
        if SECRET_READ_PERMISSION in secrets or "all" in secrets:
            return True
    return False


def rbac_allows(world: Any, principal_id: str, secret_scope: str) -> bool:
    """True when Azure RBAC (after its propagation delay) lets ``principal_id`` read the secret."""
    from . import authorization  # CORE's module; imported late so this file loads without it

    return bool(authorization.grants_secret_read(world, principal_id, secret_scope, world.now()))


# --- step 4: firewall --------------------------------------------------------------------------------------------

def firewall_allows(vault: dict, identity: Identity) -> bool:
    """Key Vault's network rules as seen by APIM calling from the Azure backbone (no client IP or subnet match)."""
    props = vault.get("properties") or {}
    acls = props.get("networkAcls") or {}
    closed = (acls.get("defaultAction") or "Allow").lower() == "deny" or \
        (props.get("publicNetworkAccess") or "Enabled").lower() == "disabled"
    if not closed:
        return True
    bypass = [b.strip().lower() for b in (acls.get("bypass") or "").split(",")]
    return identity.kind == "SystemAssigned" and TRUSTED_SERVICES_BYPASS.lower() in bypass


# --- step 5: secret ----------------------------------------------------------------------------------------------

def secret_version(secret: dict, version: Optional[str]) -> Optional[dict]:
    """The stored version (``{"value", "contentType", "enabled", ...}``) or None when it does not exist."""
    versions = secret.get("_versions") or {}
    if version:
        return versions.get(version) or versions.get(version.lower())
    current = secret.get("_current")
    if current and current in versions:
        return versions[current]
    props = secret.get("properties") or {}
    if "_value" not in secret:
        return None
    return {"value": secret["_value"], "contentType": props.get("contentType"),
            "enabled": (props.get("attributes") or {}).get("enabled", True),
            "version": (props.get("secretUriWithVersion") or "").rstrip("/").rsplit("/", 1)[-1] or None}


# --- the whole chain ---------------------------------------------------------------------------------------------

def _fail(res: Resolution, step: str, code: str, inner: Optional[str], message: str) -> Resolution:
    res.ok, res.step, res.code, res.inner_code, res.message = False, step, code, inner, message
    return res


def _caller(identity: Identity, tenant_id: str) -> str:
    return f"appid={identity.client_id};oid={identity.principal_id};iss=https://sts.windows.net/{tenant_id}/"


def resolve_secret(world: Any, service: dict, uri: str, identity_client_id: Optional[str] = None,
                   want_certificate: bool = False) -> Resolution:
    """Run the checks above for one read of ``uri`` by ``service``; never raises for a modelled failure."""
    res = Resolution(ok=False, secret_uri=uri)
    parsed = parse_secret_uri(uri)
    if parsed is None or parsed.kind != "secrets":
        return _fail(res, "uri", "InvalidSecretUri", None, "ApiManagement service only accepts KeyVault Secrets type.")
    identity = find_identity(world, service, identity_client_id)
    if identity is None:
        return _fail(res, "identity", "IdentityNotFound", None,
                     f"Can not find Managed Identity with provided IdentityClientId : {identity_client_id or ''}. "
                     "For more information please see aka.ms/apimmsi.")
    res.identity = identity
    vault = find_vault(world, parsed.vault_host)
    if vault is None:
        # APIM cannot resolve the vault's DNS name; Key Vault itself never answers.
        return _fail(res, "vault", "VaultNotFound", None, f"No such host is known. ({parsed.vault_host}:443)")
    res.vault_id = vault["id"]
    res.secret_id = f"{vault['id']}/secrets/{parsed.name}"
    return _check_access(world, res, vault, parsed, want_certificate)


def _check_access(world: Any, res: Resolution, vault: dict, parsed: SecretUri, want_certificate: bool) -> Resolution:
    identity = res.identity
    props = vault.get("properties") or {}
    tenant = props.get("tenantId") or getattr(world, "tenant_id", "")
    where = f"Vault: {vault['name']};location={vault.get('location', '')}"
    if props.get("enableRbacAuthorization"):
        if not rbac_allows(world, identity.principal_id, res.secret_id):
            return _fail(res, "access", "Forbidden", "ForbiddenByRbac",
                         "Caller is not authorized to perform action on resource.\r\n"
                         "If role assignments, deny assignments or role definitions were changed recently, "
                         f"please observe propagation time.\r\nCaller: {_caller(identity, tenant)}\r\n"
                         "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n"
                         f"Resource: '{res.secret_id.lower()}'\r\nAssignment: (not found)\r\n"
                         f"DecisionReason: 'DeniedWithNoValidRBAC'\r\n{where}\r\n")
    elif not access_policy_allows(vault, identity.principal_id):
        return _fail(res, "access", "Forbidden", "AccessDenied",
                     f"The user, group or application '{_caller(identity, tenant)}' does not have secrets get "
                     f"permission on key vault '{vault['name']};location={vault.get('location', '')}'. "
                     "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287")
    if not firewall_allows(vault, identity):
        return _fail(res, "firewall", "Forbidden", "ForbiddenByFirewall",
                     "Client address is not authorized and caller is not a trusted service.\r\n"
                     f"Client address: 0.0.0.0\r\nCaller: {_caller(identity, tenant)}\r\n{where}")
    return _check_secret(world, res, parsed, want_certificate)


def _check_secret(world: Any, res: Resolution, parsed: SecretUri, want_certificate: bool) -> Resolution:
    secret = world.get(res.secret_id)
    stored = secret_version(secret, parsed.version) if secret else None
    if stored is None or stored.get("enabled") is False:
        what = f"{parsed.name}/{parsed.version}" if parsed.version else parsed.name
        code = "SecretNotFound" if stored is None else "SecretDisabled"
        return _fail(res, "secret", "NotFound" if stored is None else "Forbidden", code,
                     f"A secret with (name/id) {what} was not found in this key vault. If you recently deleted "
                     "this secret you may be able to recover it using the correct recovery command."
                     if stored is None else "Operation get is not allowed on a disabled secret.")
    res.value, res.content_type, res.version = stored.get("value"), stored.get("contentType"), stored.get("version")
    if want_certificate:
        return _check_certificate(res)
    res.ok, res.step = True, "done"
    return res


def _check_certificate(res: Resolution) -> Resolution:
    if (res.content_type or "").lower() != pfx.PKCS12_CONTENT_TYPE:
        return _fail(res, "content", "InvalidContentType", None,
                     f"Secret {res.secret_uri} has content type '{res.content_type or ''}'; API Management needs a "
                     f"certificate secret of content type '{pfx.PKCS12_CONTENT_TYPE}'.")
    try:
        res.certificate = pfx.read_pfx_b64(res.value or "")
    except pfx.PfxError:
        return _fail(res, "content", "InvalidCertificate", None,
                     f"Secret {res.secret_uri} does not hold a readable PKCS#12 certificate.")
    res.ok, res.step = True, "done"
    return res
