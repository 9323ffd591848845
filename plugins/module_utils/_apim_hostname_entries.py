# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The hostname entries of an API Management service as plain dicts (adapter): keys, normalisation, comparison,
the delta merge that keeps every entry a task does not name, and the SDK model of an entry. No Azure call."""
from __future__ import annotations

import copy
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ._compare import same_identity_client
from ._errors import AzureApimError
from ._ids import SecretUri, parse_secret_uri, same_secret_id
from ._pfx import days_until, parse_iso_time
from ._plan import UNKNOWN
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED, TransientKind

HOSTNAME_TYPES = ("Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi")
SOURCE_BUILTIN = "BuiltIn"
SOURCE_KEYVAULT = "KeyVault"
SOURCE_CUSTOM = "Custom"
# The default domains APIM assigns (public, China and US Government clouds); they cannot carry custom certificates.
BUILTIN_SUFFIXES = (".azure-api.net", ".azure-api.cn", ".azure-api.us")
EXPIRY_WARNING_DAYS = 30
SECRET_KEYS = ("encoded_certificate", "certificate_password")
# Settings of an entry the module compares; None in the desired entry means "leave as it is".
OPTIONAL_FLAGS = ("default_ssl_binding", "negotiate_client_certificate")

Entry = Dict[str, Any]
Delta = List[Entry]

# A hostname write re-runs read -> merge -> write while APIM is busy and after a 412 (see _retry).
RERUN_ON: Tuple[TransientKind, ...] = (APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED)


# ----------------------------------------------------------------------------------------------------------------
# keys, normalisation, comparison
# ----------------------------------------------------------------------------------------------------------------

def canonical_type(value: str) -> str:
    """The hostname type as APIM spells it (input is case-insensitive)."""
    for known in HOSTNAME_TYPES:
        if known.lower() == str(value).strip().lower():
            return known
    raise AzureApimError("Unknown hostname type {0!r}; use one of {1}".format(value, ", ".join(HOSTNAME_TYPES)),
                         code="InvalidHostnameType")


def entry_key(entry: Entry) -> Tuple[str, str]:
    """An entry's identity in the list: (type, host name), both case-insensitive."""
    return str(entry.get("type") or "").lower(), str(entry.get("host_name") or "").strip().rstrip(".").lower()


def is_builtin(entry: Entry) -> bool:
    """The default ``<service>.azure-api.net`` entry (never removed, never changed by this module)."""
    if str(entry.get("certificate_source") or "") == SOURCE_BUILTIN:
        return True
    return str(entry.get("host_name") or "").lower().endswith(BUILTIN_SUFFIXES)


def entry_satisfied(wanted: Entry, current: Optional[Entry]) -> bool:
    """True when ``current`` already is what ``wanted`` asks for (or is absent when ``wanted`` is an absence)."""
    if wanted.get("absent"):
        return current is None
    if current is None:
        return False
    if wanted.get("restore"):
        return True
    for flag in OPTIONAL_FLAGS:
        if wanted.get(flag) is not None and bool(wanted[flag]) != bool(current.get(flag)):
            return False
    if wanted.get("certificate_source") == SOURCE_CUSTOM:
        thumb = ((current.get("certificate") or {}).get("thumbprint") or "").upper()
        return current.get("certificate_source") == SOURCE_CUSTOM and thumb == wanted["thumbprint"].upper()
    return (current.get("certificate_source") == SOURCE_KEYVAULT or bool(current.get("key_vault_id"))) and \
        same_secret_id(wanted.get("key_vault_id"), current.get("key_vault_id")) and \
        same_identity_client(wanted.get("identity_client_id"), current.get("identity_client_id"))


def find_entry(entries: Iterable[Entry], key: Tuple[str, str]) -> Optional[Entry]:
    """The entry with this key, or None."""
    for entry in entries or []:
        if entry_key(entry) == key:
            return entry
    return None


def delta_satisfied(delta: Delta, current: Optional[Sequence[Entry]]) -> bool:
    """Comparator for ResourceSpec: every instruction of the delta already holds in the current list."""
    return all(entry_satisfied(item, find_entry(current or [], entry_key(item))) for item in delta or [])


# ----------------------------------------------------------------------------------------------------------------
# building the delta and applying it
# ----------------------------------------------------------------------------------------------------------------

def keyvault_entry(type_: str, host_name: str, secret: SecretUri, identity: Dict[str, Any],
                   default_ssl_binding: Optional[bool], negotiate: Optional[bool]) -> Entry:
    """Our entry for a Key Vault certificate fetched by ``identity`` (from ``_apim.resolve_identity``)."""
    return {
        "type": canonical_type(type_), "host_name": host_name.strip(), "key_vault_id": _secret_key_form(secret),
        # The system-assigned identity is designated by leaving identityClientId out (the article's template).
        "identity_client_id": identity.get("client_id") if identity.get("kind") == "user" else None,
        "certificate_source": SOURCE_KEYVAULT, "default_ssl_binding": default_ssl_binding,
        "negotiate_client_certificate": negotiate,
    }


def inline_entry(type_: str, host_name: str, pfx_b64: str, password: Optional[str], info: Dict[str, Any],
                 default_ssl_binding: Optional[bool], negotiate: Optional[bool]) -> Entry:
    """Our entry for an inline (uploaded) PFX; ``info`` is what :func:`read_pfx_info` found in it."""
    return {
        "type": canonical_type(type_), "host_name": host_name.strip(), "encoded_certificate": pfx_b64,
        "certificate_password": password, "certificate_source": SOURCE_CUSTOM, "thumbprint": info["thumbprint"],
        "certificate": {k: info[k] for k in ("expiry", "thumbprint", "subject")},
        "default_ssl_binding": default_ssl_binding, "negotiate_client_certificate": negotiate,
    }


def _secret_key_form(secret: SecretUri) -> str:
    # The default HTTPS port and a trailing slash name the same secret; send the plain form.
    return secret.uri.replace(":443/", "/", 1)


def absent_entry(type_: str, host_name: str) -> Entry:
    """The instruction "this entry must not exist"."""
    return {"type": canonical_type(type_), "host_name": host_name.strip(), "absent": True}


def exclusive_removals(current: Sequence[Entry], ours: Iterable[Tuple[str, str]], keep: Iterable[str]) -> Delta:
    """Absences for every custom entry other than ours (their keys) and those whose host name is in ``keep``."""
    kept = {str(h).strip().rstrip(".").lower() for h in keep or []}
    own = set(ours)
    return [absent_entry(e["type"], e["host_name"]) for e in current or []
            if not is_builtin(e) and entry_key(e) not in own and entry_key(e)[1] not in kept]


def _merged(current: Optional[Entry], wanted: Entry) -> Entry:
    """What APIM will hold for an entry: the wanted certificate source over the current entry (unset flags kept)."""
    if wanted.get("restore"):
        out = {k: v for k, v in wanted.items() if k != "restore"}
    else:
        out = dict(current or {})
        out.update(type=wanted["type"], host_name=wanted["host_name"], certificate_source=wanted["certificate_source"])
        if wanted["certificate_source"] == SOURCE_KEYVAULT:
            same_cert = current is not None and same_secret_id(wanted.get("key_vault_id"), current.get("key_vault_id"))
            out.update(key_vault_id=wanted["key_vault_id"], identity_client_id=wanted.get("identity_client_id"),
                       encoded_certificate=None, certificate_password=None)
            if not same_cert:
                out["certificate"] = None  # APIM fetches the new certificate; it is known after the write
        else:
            out.update(key_vault_id=None, identity_client_id=None, certificate=wanted.get("certificate"),
                       encoded_certificate=wanted.get("encoded_certificate"),
                       certificate_password=wanted.get("certificate_password"))
    for flag in OPTIONAL_FLAGS:
        if wanted.get(flag) is not None:
            out[flag] = wanted[flag]
        out[flag] = bool(out.get(flag))
    return out


def apply_delta(current: Sequence[Entry], delta: Delta) -> Tuple[List[Entry], bool]:
    """The new list: each instruction applied, every other entry kept in place; (list, changed)."""
    result = [copy.deepcopy(dict(e)) for e in current or []]
    changed = False
    for item in delta:
        existing = find_entry(result, entry_key(item))
        if entry_satisfied(item, existing):
            continue
        changed = True
        if item.get("absent"):
            result = [e for e in result if entry_key(e) != entry_key(item)]
            continue
        merged = _merged(existing, item)
        if existing is None:
            result.append(merged)
        else:
            result[result.index(existing)] = merged
        if merged.get("type") == "Proxy" and merged.get("default_ssl_binding"):
            _single_default(result, entry_key(merged))
    return result, changed


def _single_default(entries: List[Entry], default_key: Tuple[str, str]) -> None:
    # Only one Proxy hostname can be the default for clients that send no SNI; APIM clears the others.
    for entry in entries:
        if entry.get("type") == "Proxy" and entry_key(entry) != default_key:
            entry["default_ssl_binding"] = False


def predicted_entries(entries: List[Entry]) -> List[Entry]:
    """Check mode: a Key Vault entry whose certificate APIM fetches on the write shows it as UNKNOWN."""
    return [dict(e, certificate=UNKNOWN, certificate_status=UNKNOWN)
            if e.get("key_vault_id") and e.get("certificate") is None else e for e in entries]


def public_entry(entry: Entry) -> Entry:
    """An entry as the module returns it: no secret material, plus derived certificate facts."""
    out = {k: v for k, v in entry.items() if k not in SECRET_KEYS and k not in ("thumbprint", "absent")}
    out["built_in"] = is_builtin(entry)
    out["versioned_secret"] = bool(_secret_version(entry.get("key_vault_id")))
    cert = entry.get("certificate") or {}
    out["expires_in_days"] = cert if isinstance(cert, str) else days_until(cert.get("expiry"))
    return out


def _secret_version(value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    try:
        return parse_secret_uri(value).version
    except AzureApimError:
        return None


# ----------------------------------------------------------------------------------------------------------------
# Azure: read, PATCH, verify
# ----------------------------------------------------------------------------------------------------------------

def to_model(entry: Entry, models: Any) -> Any:
    """An entry as the SDK's HostnameConfiguration (sent back as read, or ours as wanted)."""
    cert = entry.get("certificate") or None
    cert_model = None
    if cert and cert.get("expiry") and cert.get("thumbprint") and cert.get("subject") and \
            entry.get("certificate_source") != SOURCE_KEYVAULT and not entry.get("encoded_certificate"):
        # Custom (uploaded) certificates are identified by what GET returned; APIM keeps the stored blob.
        cert_model = models.CertificateInformation(expiry=parse_iso_time(str(cert["expiry"])) or cert["expiry"],
                                                   thumbprint=cert["thumbprint"], subject=cert["subject"])
    return models.HostnameConfiguration(
        type=entry["type"], host_name=entry["host_name"], key_vault_id=entry.get("key_vault_id"),
        identity_client_id=entry.get("identity_client_id"), encoded_certificate=entry.get("encoded_certificate"),
        certificate_password=entry.get("certificate_password"),
        default_ssl_binding=entry.get("default_ssl_binding"),
        negotiate_client_certificate=entry.get("negotiate_client_certificate"),
        certificate=cert_model, certificate_source=entry.get("certificate_source"),
    )


def quoted_etag(etag: Optional[str]) -> Optional[str]:
    if not etag:
        return None
    return etag if etag.startswith('"') or etag.startswith('W/') else '"{0}"'.format(etag)
