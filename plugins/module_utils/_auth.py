# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Connection options, clouds and the choice of azure-identity credential (explicit, never a silent fallback)."""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from ._credentials import DeadlineTransport, FirstAvailable, requests_transport
from ._errors import AzureApimError
from ._retry import Deadline

AUTH_SOURCES = ("auto", "env", "credential_file", "cli", "msi", "workload_identity")

AUTH_ARGUMENT_SPEC: Dict[str, Dict[str, Any]] = {
    "auth_source": {"type": "str", "choices": list(AUTH_SOURCES)},
    "subscription_id": {"type": "str"},
    "client_id": {"type": "str"},
    "secret": {"type": "str", "no_log": True},
    "tenant": {"type": "str"},
    "profile": {"type": "str"},
    "cloud_environment": {"type": "str"},
    "resource_manager_url": {"type": "str"},
    "authority_host": {"type": "str"},
    "credential_scope": {"type": "str"},
    "ca_bundle": {"type": "path"},
}

# Environment fallbacks, first found wins: the names AWX injects for its Azure credential type
# first, then azure-identity's own names. Module parameters always win over all of them.
ENV_NAMES: Dict[str, Tuple[str, ...]] = {
    "auth_source": ("ANSIBLE_AZURE_AUTH_SOURCE",),
    "subscription_id": ("AZURE_SUBSCRIPTION_ID",),
    "client_id": ("AZURE_CLIENT_ID",),
    "secret": ("AZURE_SECRET", "AZURE_CLIENT_SECRET"),
    "tenant": ("AZURE_TENANT", "AZURE_TENANT_ID"),
    "profile": ("AZURE_PROFILE",),
    "cloud_environment": ("AZURE_CLOUD_ENVIRONMENT",),
    "resource_manager_url": ("AZURE_RESOURCE_MANAGER_URL",),
    "authority_host": ("AZURE_AUTHORITY_HOST",),
    "credential_scope": ("AZURE_CREDENTIAL_SCOPE",),
    "ca_bundle": ("AZURE_CA_BUNDLE", "REQUESTS_CA_BUNDLE"),
    "federated_token_file": ("AZURE_FEDERATED_TOKEN_FILE",),
    # AWX's Azure credential can also carry a user name and password; that sign-in is not supported,
    # and it must not be replaced silently by another identity.
    "ad_user": ("AZURE_AD_USER",),
}

# Keys a ~/.azure/credentials profile may hold (same names as azure.azcollection uses).
PROFILE_KEYS = ("subscription_id", "client_id", "secret", "tenant", "cloud_environment")
IDENTITY_KEYS = ("client_id", "secret", "tenant")


@dataclass(frozen=True)
class Cloud:
    """Endpoints of one Azure cloud."""

    name: str
    resource_manager_url: str
    authority_host: str
    credential_scope: str
    keyvault_dns_suffix: str


CLOUDS: Dict[str, Cloud] = {
    c.name.lower(): c
    for c in (
        Cloud("AzureCloud", "https://management.azure.com/", "https://login.microsoftonline.com",
              "https://management.azure.com/.default", "vault.azure.net"),
        Cloud("AzureChinaCloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn",
              "https://management.chinacloudapi.cn/.default", "vault.azure.cn"),
        Cloud("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us",
              "https://management.core.usgovcloudapi.net/.default", "vault.usgovcloudapi.net"),
    )
}
# azure.azcollection and the Azure CLI also accept these spellings.
CLOUD_ALIASES = {"azurepubliccloud": "azurecloud", "public": "azurecloud", "azurechina": "azurechinacloud",
                 "azureusgov": "azureusgovernment", "azureusgovernmentcloud": "azureusgovernment"}
PUBLIC_AUTHORITY_HOSTS = frozenset(urlsplit(c.authority_host).hostname for c in CLOUDS.values())


@dataclass
class AuthSettings:
    """The resolved connection: which identity, where, and where each value came from."""

    kind: str  # client_secret | workload_identity | msi | cli | msi_or_cli
    source: str  # parameters | env | credential_file | ambient
    subscription_id: str
    cloud: Cloud
    resource_manager_url: str
    authority_host: str
    credential_scope: str
    disable_instance_discovery: bool
    client_id: Optional[str] = None
    tenant: Optional[str] = None
    secret: Optional[str] = field(default=None, repr=False)
    federated_token_file: Optional[str] = None
    ca_bundle: Optional[str] = None

    def describe(self) -> Dict[str, Any]:
        """What the result may show: never the secret."""
        info = {"credential": CREDENTIAL_CLASSES[self.kind], "source": self.source, "cloud": self.cloud.name,
                "resource_manager_url": self.resource_manager_url}
        if self.client_id:
            info["client_id"] = self.client_id
        return info


CREDENTIAL_CLASSES = {
    "client_secret": "ClientSecretCredential",
    "workload_identity": "WorkloadIdentityCredential",
    "msi": "ManagedIdentityCredential",
    "cli": "AzureCliCredential",
    "msi_or_cli": "ManagedIdentityCredential, then AzureCliCredential",
}


def _env_value(key: str, env: Mapping[str, str]) -> Optional[str]:
    for name in ENV_NAMES.get(key, ()):
        if env.get(name):
            return env[name]
    return None


def _layer(params: Mapping[str, Any], env: Mapping[str, str], keys) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """Values for ``keys`` from parameters, else the environment, with their origin."""
    values: Dict[str, Any] = {}
    origin: Dict[str, str] = {}
    for key in keys:
        if params.get(key) not in (None, ""):
            values[key], origin[key] = params[key], "parameters"
        elif _env_value(key, env):
            values[key], origin[key] = _env_value(key, env), "env"
    return values, origin


def resolve_cloud(name: Optional[str]) -> Cloud:
    """The cloud called ``name`` (case-insensitive); unknown names fail listing the valid ones."""
    key = (name or "AzureCloud").strip().lower()
    key = CLOUD_ALIASES.get(key, key)
    if key not in CLOUDS:
        raise AzureApimError(
            "Unknown cloud_environment {0!r}; valid names are {1}".format(name, ", ".join(c.name for c in CLOUDS.values())),
            code="UnknownCloud",
            hint="for a private or local endpoint keep a cloud name and set resource_manager_url and authority_host",
        )
    return CLOUDS[key]


def credentials_file_path(env: Mapping[str, str]) -> str:
    """Path of the INI credentials file (``~/.azure/credentials``; AZURE_CONFIG_DIR moves it like the CLI does)."""
    base = env.get("AZURE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".azure")
    return os.path.join(base, "credentials")


def read_profile(path: str, name: str, required: bool) -> Optional[Dict[str, str]]:
    """Section ``name`` of the credentials file; None when absent and not required."""
    parser = configparser.ConfigParser()
    try:
        read = parser.read(path, encoding="utf-8")
    except configparser.Error as err:
        raise AzureApimError("Cannot parse the Azure credentials file {0}: {1}".format(path, err.__class__.__name__))
    if not read or not parser.has_section(name):
        if not required:
            return None
        raise AzureApimError(
            "Profile {0!r} was requested but {1} has no [{0}] section".format(name, path),
            code="ProfileNotFound",
            hint="add the section (keys subscription_id, client_id, secret, tenant) or unset profile / AZURE_PROFILE",
        )
    return {k: v for k, v in parser.items(name) if k in PROFILE_KEYS and v}


def resolve_settings(params: Mapping[str, Any], env: Optional[Mapping[str, str]] = None) -> AuthSettings:
    """Decide identity, subscription and endpoints from parameters, environment and credentials file."""
    env = os.environ if env is None else env
    source = (params.get("auth_source") or _env_value("auth_source", env) or "auto").lower()
    if source not in AUTH_SOURCES:
        raise AzureApimError("auth_source {0!r} is not one of {1}".format(source, ", ".join(AUTH_SOURCES)))
    values, origin = _layer(params, env, [k for k in ENV_NAMES if k != "auth_source"])
    profile_values = _profile_for(source, values, env)
    if profile_values is not None:
        for key, value in profile_values.items():
            # A profile's values belong to the profile's identity: they beat the environment, not parameters.
            if origin.get(key) != "parameters":
                values[key], origin[key] = value, "credential_file"
    kind = _choose_kind(source, values, origin, profile_values is not None)
    return _build(kind, values, origin)


def _profile_for(source: str, values: Dict[str, Any], env: Mapping[str, str]) -> Optional[Dict[str, str]]:
    """The profile to use: named one (must exist), or [default] when nothing else names an identity."""
    path = credentials_file_path(env)
    if source == "credential_file":
        return read_profile(path, values.get("profile") or "default", required=True)
    if source != "auto":
        return None
    if values.get("profile"):
        return read_profile(path, values["profile"], required=True)
    if any(values.get(k) for k in IDENTITY_KEYS) or values.get("federated_token_file"):
        return None
    return read_profile(path, "default", required=False)


def _missing(values: Mapping[str, Any], keys) -> List[str]:
    return [k for k in keys if not values.get(k)]


_KEY_NAMES = {"client_id": "client_id (AZURE_CLIENT_ID)", "tenant": "tenant (AZURE_TENANT or AZURE_TENANT_ID)",
              "secret": "secret (AZURE_SECRET or AZURE_CLIENT_SECRET)",
              "federated_token_file": "AZURE_FEDERATED_TOKEN_FILE"}


def _incomplete(what: str, missing: List[str], origin: Mapping[str, str]) -> AzureApimError:
    given = sorted({origin[k] for k in origin if k in IDENTITY_KEYS + ("federated_token_file",)})
    return AzureApimError(
        "{0} is incomplete: {1} missing (values found in: {2}). No other identity is tried, so the task cannot act "
        "as someone else by accident".format(what, ", ".join(_KEY_NAMES.get(m, m) for m in missing), ", ".join(given) or "nowhere"),
        code="IncompleteCredentials",
        hint="set the missing option or environment variable, or choose auth_source explicitly",
    )


def _choose_kind(source: str, values: Dict[str, Any], origin: Dict[str, str], from_profile: bool) -> str:
    if source in ("env", "credential_file") or (source == "auto" and (values.get("secret") or from_profile)):
        if source == "env" and not values.get("secret") and values.get("federated_token_file"):
            return _require("workload_identity", values, origin)
        return _require("client_secret", values, origin)
    if source == "workload_identity" or (source == "auto" and values.get("federated_token_file")):
        return _require("workload_identity", values, origin)
    if source == "auto" and values.get("ad_user"):
        raise AzureApimError(
            "AZURE_AD_USER is set but user name and password sign-in is not supported (Entra ID blocks it for "
            "accounts with multi-factor authentication)",
            code="UnsupportedCredential",
            hint="use a service principal (client_id, secret, tenant) or a managed identity; unset AZURE_AD_USER",
        )
    if source == "auto" and values.get("tenant"):
        # A tenant only makes sense for a service principal; using a managed identity instead would
        # act as someone else than configured.
        raise _incomplete("The service principal", _missing(values, ("client_id", "secret")), origin)
    if source == "msi" or (source == "auto" and values.get("client_id")):
        # A client_id without a secret names a user-assigned managed identity (as azure-identity does).
        return "msi"
    if source == "cli":
        return "cli"
    return "msi_or_cli"


def _require(kind: str, values: Dict[str, Any], origin: Dict[str, str]) -> str:
    needed = {"client_secret": ("client_id", "tenant", "secret"),
              "workload_identity": ("client_id", "tenant", "federated_token_file")}[kind]
    missing = _missing(values, needed)
    if missing:
        raise _incomplete("The {0} configuration".format(CREDENTIAL_CLASSES[kind]), missing, origin)
    return kind


def _build(kind: str, values: Dict[str, Any], origin: Dict[str, str]) -> AuthSettings:
    cloud = resolve_cloud(values.get("cloud_environment"))
    arm = _url(values.get("resource_manager_url"), "resource_manager_url") or cloud.resource_manager_url
    authority = _url(values.get("authority_host"), "authority_host") or cloud.authority_host
    scope = values.get("credential_scope") or (
        arm.rstrip("/") + "/.default" if values.get("resource_manager_url") else cloud.credential_scope
    )
    if not values.get("subscription_id"):
        raise AzureApimError(
            "No subscription given: set the subscription_id option or the AZURE_SUBSCRIPTION_ID environment variable"
            " (or subscription_id in the credentials profile)",
            code="MissingSubscription",
        )
    identity_source = {origin.get(k) for k in ("client_id", "secret", "federated_token_file") if origin.get(k)}
    source = "ambient" if kind in ("cli", "msi_or_cli") or (kind == "msi" and not identity_source) else (
        "credential_file" if "credential_file" in identity_source else "parameters" if identity_source == {"parameters"} else "env")
    return AuthSettings(
        kind=kind, source=source, subscription_id=values["subscription_id"], cloud=cloud,
        resource_manager_url=arm, authority_host=authority, credential_scope=scope,
        disable_instance_discovery=urlsplit(authority).hostname not in PUBLIC_AUTHORITY_HOSTS,
        client_id=values.get("client_id"), tenant=values.get("tenant"), secret=values.get("secret"),
        federated_token_file=values.get("federated_token_file"), ca_bundle=values.get("ca_bundle"),
    )


def _url(value: Optional[str], option: str) -> Optional[str]:
    if not value:
        return None
    parts = urlsplit(value if "://" in value else "https://" + value)
    if parts.scheme != "https" or not parts.hostname:
        raise AzureApimError("{0} must be an https URL, got {1!r}".format(option, value), code="InvalidEndpoint")
    return "{0}://{1}{2}".format(parts.scheme, parts.netloc, parts.path.rstrip("/") + "/")


def build_credential(settings: AuthSettings, deadline: Optional[Deadline] = None, **transport_kwargs: Any) -> Any:
    """Instantiate the azure-identity credential for ``settings`` (no network until a token is asked for).

    With a ``deadline`` every token request (Entra ID token endpoint, managed identity endpoint, the workload
    identity exchange, MSAL's metadata reads) goes through a :class:`DeadlineTransport`: each attempt connects and
    reads for at most the time left plus a grace, retry pauses end at the deadline, and no attempt starts after it.
    """
    common: Dict[str, Any] = dict(transport_kwargs)
    if settings.ca_bundle:
        common["connection_verify"] = settings.ca_bundle
    if deadline is not None and deadline.timeout is not None and settings.kind != "cli":
        common["transport"] = DeadlineTransport(common.get("transport") or requests_transport(common), deadline)
    factory: Callable[[AuthSettings, Dict[str, Any]], Any] = _FACTORIES[settings.kind]
    return factory(settings, common)


def _authority_kwargs(settings: AuthSettings) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = {"authority": settings.authority_host.rstrip("/")}
    if settings.disable_instance_discovery:
        # A non-public authority (sovereign override, private or local Entra endpoint) is not in
        # Microsoft's instance-discovery list; MSAL would refuse it unless discovery is off.
        kwargs["disable_instance_discovery"] = True
    return kwargs


def _client_secret(settings: AuthSettings, common: Dict[str, Any]) -> Any:
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(settings.tenant, settings.client_id, settings.secret,
                                  **_authority_kwargs(settings), **common)


def _workload(settings: AuthSettings, common: Dict[str, Any]) -> Any:
    from azure.identity import WorkloadIdentityCredential

    return WorkloadIdentityCredential(tenant_id=settings.tenant, client_id=settings.client_id,
                                      token_file_path=settings.federated_token_file,
                                      **_authority_kwargs(settings), **common)


def _msi(settings: AuthSettings, common: Dict[str, Any]) -> Any:
    from azure.identity import ManagedIdentityCredential

    if settings.client_id:
        return ManagedIdentityCredential(client_id=settings.client_id, **common)
    return ManagedIdentityCredential(**common)


def _cli(settings: AuthSettings, common: Dict[str, Any]) -> Any:
    from azure.identity import AzureCliCredential

    return AzureCliCredential(tenant_id=settings.tenant) if settings.tenant else AzureCliCredential()


def _msi_or_cli(settings: AuthSettings, common: Dict[str, Any]) -> Any:
    return FirstAvailable([_msi(settings, common), _cli(settings, common)])


_FACTORIES = {"client_secret": _client_secret, "workload_identity": _workload, "msi": _msi, "cli": _cli,
              "msi_or_cli": _msi_or_cli}
