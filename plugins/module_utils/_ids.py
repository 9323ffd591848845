# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""ARM resource ids and Key Vault secret URIs: parse, build, normalise, compare."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from ._errors import AzureApimError

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: Optional[str]) -> bool:
    """True for a bare GUID (8-4-4-4-12 hex digits): object ids, client ids, role definition names."""
    return bool(value) and bool(_GUID.match(str(value)))


ID_SHAPE = "/subscriptions/<subscription>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>[/<subtype>/<name>...]"

# Key Vault DNS suffixes of the public and sovereign clouds; other hosts are accepted too so the
# local Azure (and private endpoints) work, the vault name being the host's first label.
KEYVAULT_DNS_SUFFIXES = ("vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net")


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM id; ``types`` are the (type, name) pairs under the last provider namespace."""

    subscription: Optional[str]
    resource_group: Optional[str]
    namespace: Optional[str]
    types: Tuple[Tuple[str, str], ...]
    parent_scope: str = ""  # for extension resources: the scope the last provider hangs off

    @property
    def name(self) -> Optional[str]:
        """Name of the innermost resource (or the group / subscription for scope ids)."""
        if self.types:
            return self.types[-1][1]
        return self.resource_group or self.subscription

    @property
    def resource_type(self) -> Optional[str]:
        """Full type, e.g. ``Microsoft.ManagedIdentity/userAssignedIdentities``."""
        if not self.namespace:
            return None
        return "/".join([self.namespace] + [pair[0] for pair in self.types])

    def __str__(self) -> str:
        parts: List[str] = [self.parent_scope.rstrip("/")] if self.parent_scope else []
        if not self.parent_scope:
            if self.subscription:
                parts.append("/subscriptions/" + self.subscription)
            if self.resource_group:
                parts.append("/resourceGroups/" + self.resource_group)
        if self.namespace:
            parts.append("/providers/" + self.namespace)
            parts.extend("/{0}/{1}".format(t, n) for t, n in self.types)
        return "".join(parts) or "/"


def malformed(value: object, expected: str = ID_SHAPE, why: str = "") -> AzureApimError:
    """The error for an id that does not have the expected shape."""
    return AzureApimError(
        "Malformed Azure resource id {0!r}{1}; expected {2}".format(value, ": " + why if why else "", expected),
        code="MalformedResourceId",
    )


def parse_resource_id(value: str, expected_type: Optional[str] = None) -> ResourceId:
    """Parse an ARM id; with ``expected_type`` also check its type (case-insensitive)."""
    if not isinstance(value, str) or not value.strip().startswith("/"):
        raise malformed(value, why="an id starts with '/subscriptions/'")
    segments = value.strip().strip("/").split("/")
    if any(s == "" for s in segments):
        raise malformed(value, why="empty path segment")
    rid = _walk(value, segments)
    if expected_type and (rid.resource_type or "").lower() != expected_type.lower():
        raise malformed(value, _shape_for(expected_type), "it is a {0}".format(rid.resource_type or "scope"))
    return rid


def _shape_for(resource_type: str) -> str:
    namespace, *types = resource_type.split("/")
    tail = "".join("/{0}/<{1}>".format(t, "name") for t in types)
    return "/subscriptions/<subscription>/resourceGroups/<group>/providers/{0}{1}".format(namespace, tail)


def _walk(value: str, seg: List[str]) -> ResourceId:
    i, sub, group = 0, None, None
    if seg[0].lower() == "subscriptions":
        if len(seg) < 2:
            raise malformed(value, why="subscription id missing")
        sub, i = seg[1], 2
        if i < len(seg) and seg[i].lower() == "resourcegroups":
            if i + 1 >= len(seg):
                raise malformed(value, why="resource group name missing")
            group, i = seg[i + 1], i + 2
    elif seg[0].lower() != "providers":
        raise malformed(value, why="it must start with /subscriptions/ or /providers/")
    namespace, types, scope_end = None, [], i
    while i < len(seg):
        if seg[i].lower() != "providers" or i + 1 >= len(seg):
            raise malformed(value, why="expected 'providers/<Namespace>' at {0!r}".format(seg[i]))
        scope_end, namespace, types, i = i, seg[i + 1], [], i + 2
        while i < len(seg) and seg[i].lower() != "providers":
            if i + 1 >= len(seg):
                raise malformed(value, why="type {0!r} has no name".format(seg[i]))
            types.append((seg[i], seg[i + 1]))
            i += 2
        if not types:
            raise malformed(value, why="provider {0!r} has no resource type".format(namespace))
    parent = "/" + "/".join(seg[:scope_end]) if namespace and scope_end > (4 if group else 2 if sub else 0) else ""
    return ResourceId(sub, group, namespace, tuple(types), parent)


def build_resource_id(subscription: str, resource_group: str, namespace: str, *type_name: str) -> str:
    """Build ``/subscriptions/../resourceGroups/../providers/<ns>/<type>/<name>...`` from alternating type/name."""
    if len(type_name) % 2:
        raise ValueError("type_name must alternate type and name")
    tail = "".join("/{0}".format(p) for p in type_name)
    return "/subscriptions/{0}/resourceGroups/{1}/providers/{2}{3}".format(subscription, resource_group, namespace, tail)


def normalize_resource_id(value: Optional[str]) -> Optional[str]:
    """Comparison key for an ARM id: lower case, one leading slash, no trailing slash or doubled slashes."""
    if value is None:
        return None
    parts = [p for p in str(value).strip().split("/") if p]
    return "/" + "/".join(parts).lower()


def same_resource_id(a: Optional[str], b: Optional[str]) -> bool:
    """ARM ids are case-insensitive; trailing slashes do not matter."""
    return normalize_resource_id(a) == normalize_resource_id(b)


def resolve_resource_id(name_or_id: str, subscription: str, resource_group: str, resource_type: str) -> str:
    """Accept a bare name (resolved in ``resource_group``) or a full id (checked to be of ``resource_type``)."""
    if name_or_id.strip().startswith("/"):
        return str(parse_resource_id(name_or_id, resource_type))
    if "/" in name_or_id:
        raise malformed(name_or_id, _shape_for(resource_type), "give a bare name or a full id")
    namespace, *types = resource_type.split("/")
    pairs: List[str] = []
    for t in types:
        pairs += [t, name_or_id]
    return build_resource_id(subscription, resource_group, namespace, *pairs)


@dataclass(frozen=True)
class SecretUri:
    """A Key Vault secret identifier."""

    vault_name: str
    vault_url: str  # https://<vault>.<suffix> (lower case, no trailing slash)
    name: str
    version: Optional[str]

    @property
    def versionless(self) -> str:
        """URI without a version: APIM then follows the latest version (rotation)."""
        return "{0}/secrets/{1}".format(self.vault_url, self.name)

    @property
    def uri(self) -> str:
        """Normalised URI, with the version when one was given."""
        return self.versionless + ("/" + self.version if self.version else "")


SECRET_SHAPE = "https://<vault-name>.vault.azure.net/secrets/<secret-name>[/<version>]"


def parse_secret_uri(value: str) -> SecretUri:
    """Parse a Key Vault secret identifier; a ``/certificates/`` URL is refused with the ``/secrets/`` form to use."""
    parts = urlsplit(str(value).strip())
    path = [p for p in parts.path.split("/") if p]
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise AzureApimError("Malformed Key Vault secret URI {0!r}; expected {1}".format(value, SECRET_SHAPE),
                             code="MalformedSecretUri")
    host = parts.hostname.lower()
    vault_url = "https://" + host + (":{0}".format(parts.port) if parts.port else "")
    if path and path[0].lower() == "certificates" and len(path) in (2, 3):
        fixed = "{0}/secrets/{1}".format(vault_url, "/".join(path[1:]))
        raise AzureApimError(
            "{0!r} is a Key Vault certificate URL; API Management reads certificates through their secret. "
            "Use {1!r} instead".format(value, fixed),
            code="CertificateUrlNotSecret",
        )
    if len(path) not in (2, 3) or path[0].lower() != "secrets":
        raise AzureApimError("Malformed Key Vault secret URI {0!r}; expected {1}".format(value, SECRET_SHAPE),
                             code="MalformedSecretUri")
    if host.replace(".", "").isdigit() or "." not in host:
        raise AzureApimError("Key Vault secret URI {0!r} has no vault name in its host; expected {1}".format(
            value, SECRET_SHAPE), code="MalformedSecretUri")
    return SecretUri(host.split(".")[0], vault_url, path[1], path[2] if len(path) == 3 else None)


def split_secret_ref(ref: str) -> Tuple[str, Optional[str]]:
    """``(name, version)`` of a secret given as a secret URI (parsed by ``parse_secret_uri``) or as a bare name."""
    if str(ref).strip().lower().startswith("https://"):
        uri = parse_secret_uri(ref)
        return uri.name, uri.version
    return ref, None


def vault_dns_suffix(vault_url: str) -> Optional[str]:
    """The public/sovereign Key Vault DNS suffix of a vault URL, or None for any other host (local Azure)."""
    host = (urlsplit(vault_url).hostname or "").lower()
    for suffix in KEYVAULT_DNS_SUFFIXES:
        if host.endswith("." + suffix):
            return suffix
    return None


def same_secret_uri(a: Optional[str], b: Optional[str]) -> bool:
    """Secret URIs equal after normalisation (case, trailing slash, default port)."""
    if not a or not b:
        return a == b
    # Key Vault object names and versions are case-insensitive.
    return parse_secret_uri(a).uri.lower() == parse_secret_uri(b).uri.lower()


def same_secret_id(wanted: Optional[str], current: Optional[str]) -> bool:
    """Secret ids equal after normalisation: host and name case, trailing slash, default port.

    The version takes part as given: a pinned version differs from the versionless id that follows rotation.
    """
    if not wanted or not current:
        return not wanted and not current
    return _secret_key(wanted) == _secret_key(current)


def _secret_key(value: str) -> str:
    try:
        uri = parse_secret_uri(value).uri.lower()
    except AzureApimError:  # a foreign, unparsable value: compare it as text
        return value.strip().rstrip("/").lower()
    return uri.replace(":443/", "/", 1)  # the default HTTPS port names the same vault
