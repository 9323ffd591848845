# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Custom-domain hostname configurations of an API Management service (plain dicts in and out).

APIM keeps all hostnames of a service in one list (``properties.hostnameConfigurations``) that is replaced as a
whole by every write. A task manages only the entries it names: it computes a small delta ("this entry must look
like this", "that one must be gone"), merges it into a freshly read list so every other entry survives,
PATCHes only ``hostnameConfigurations`` (guarded by the service ETag), waits, re-reads and re-merges when a
concurrent writer dropped something.
"""
from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ._apim import service_to_dict
from ._errors import AzureApimError, code_of, status_of
from ._ids import SecretUri, parse_secret_uri
from ._keyvault import VaultService, secret_metadata
from ._kv_propagation import young_rbac_grants
from ._lro import is_transitional, provisioning_state, wait_until_settled
from ._plan import UNKNOWN, Assumptions, identity_key, service_key
from ._retry import APIM_OPERATION_IN_PROGRESS, Deadline, TransientKind
from ._secret_access import secret_access

HOSTNAME_TYPES = ("Proxy", "Portal", "Management", "Scm", "DeveloperPortal", "ConfigurationApi")
SOURCE_BUILTIN = "BuiltIn"
SOURCE_KEYVAULT = "KeyVault"
SOURCE_CUSTOM = "Custom"
# The default domains APIM assigns (public, China and US Government clouds); they cannot carry custom certificates.
BUILTIN_SUFFIXES = (".azure-api.net", ".azure-api.cn", ".azure-api.us")
PKCS12 = "application/x-pkcs12"
EXPIRY_WARNING_DAYS = 30
SECRET_KEYS = ("encoded_certificate", "certificate_password")
# Settings of an entry the module compares; None in the desired entry means "leave as it is".
OPTIONAL_FLAGS = ("default_ssl_binding", "negotiate_client_certificate")

Entry = Dict[str, Any]
Delta = List[Entry]


class _ServiceTransitioning(TransientKind):
    """APIM's answer to a write while another operation on the service runs: 409 "Conflict" + "transitioning".

    The generic code "Conflict" is also used for real conflicts (a hostname in use elsewhere), so the message
    decides; those are not retried.
    """

    def matches(self, err: BaseException) -> bool:
        if status_of(err) != 409 or (code_of(err) or "").lower() not in self.codes:
            return False
        text = str(getattr(err, "msg", None) or err).lower()
        return "transitioning" in text or "in progress" in text or "try the request again later" in text


APIM_SERVICE_TRANSITIONING = _ServiceTransitioning(
    "apim_service_transitioning", frozenset({409}), frozenset({"conflict"}),
    "another operation on the API Management service is still running",
)

# The PATCH carries the ETag of the read it was merged from; 412 means another writer changed the service in
# between, so the whole read -> merge -> write cycle runs again (never the stale write).
SERVICE_CHANGED = TransientKind(
    "service_changed", frozenset({412}), frozenset(),
    "another writer changed the service's hostname list since it was read",
)

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


def same_identity_client(wanted: Optional[str], current: Optional[str]) -> bool:
    """identityClientId: None (and the literal "SystemAssigned") mean the system-assigned identity."""
    def norm(value: Optional[str]) -> str:
        text = str(value or "").strip().lower()
        return "" if text in ("", "systemassigned") else text

    return norm(wanted) == norm(current)


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
# certificates
# ----------------------------------------------------------------------------------------------------------------

def days_until(expiry: Any, now: Optional[dt.datetime] = None) -> Optional[int]:
    """Whole days from now until a certificate's expiry (negative when expired); None when unknown."""
    if not expiry:
        return None
    moment = expiry if isinstance(expiry, dt.datetime) else _parse_time(str(expiry))
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    delta = moment - (now or dt.datetime.now(dt.timezone.utc))
    return int(delta.total_seconds() // 86400)


def _parse_time(text: str) -> Optional[dt.datetime]:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def read_pfx_info(pfx_b64: str, password: Optional[str]) -> Dict[str, Any]:
    """Subject, SHA-1 thumbprint (as APIM shows it) and expiry of an inline PFX; clear errors, secrets never shown."""
    try:
        blob = base64.b64decode("".join(str(pfx_b64).split()), validate=True)
    except (binascii.Error, ValueError) as err:
        raise AzureApimError("The inline certificate is not base64-encoded PFX data", code="InvalidCertificate",
                             hint="pass the PFX file with certificate_path, or its base64 encoding in certificate") \
            from err
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import pkcs12
    except ImportError as err:  # pragma: no cover - cryptography comes with azure-identity
        raise AzureApimError("The Python package cryptography is needed to read inline certificates",
                             code="MissingDependency", hint="install the collection's requirements.txt") from err
    try:
        _key, cert, _chain = pkcs12.load_key_and_certificates(blob, password.encode() if password else None)
    except (ValueError, TypeError) as err:
        raise AzureApimError("The inline certificate cannot be opened: it is not a PKCS#12 (PFX) file or the "
                             "password is wrong", code="InvalidCertificate",
                             hint="check certificate / certificate_path and certificate_password") from err
    if cert is None or _key is None:
        raise AzureApimError("The inline PFX holds no certificate with its private key", code="InvalidCertificate",
                             hint="export the certificate together with its private key")
    expiry = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=dt.timezone.utc)
    subject = ", ".join(attr.rfc4514_string() for rdn in reversed(cert.subject.rdns) for attr in rdn)
    return {"subject": subject, "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(),  # nosec - APIM's id
            "expiry": expiry.replace(microsecond=0).isoformat()}


# ----------------------------------------------------------------------------------------------------------------
# Azure: read, PATCH, verify
# ----------------------------------------------------------------------------------------------------------------

def _to_model(entry: Entry, models: Any) -> Any:
    """An entry as the SDK's HostnameConfiguration (sent back as read, or ours as wanted)."""
    cert = entry.get("certificate") or None
    cert_model = None
    if cert and cert.get("expiry") and cert.get("thumbprint") and cert.get("subject") and \
            entry.get("certificate_source") != SOURCE_KEYVAULT and not entry.get("encoded_certificate"):
        # Custom (uploaded) certificates are identified by what GET returned; APIM keeps the stored blob.
        cert_model = models.CertificateInformation(expiry=_parse_time(str(cert["expiry"])) or cert["expiry"],
                                                   thumbprint=cert["thumbprint"], subject=cert["subject"])
    return models.HostnameConfiguration(
        type=entry["type"], host_name=entry["host_name"], key_vault_id=entry.get("key_vault_id"),
        identity_client_id=entry.get("identity_client_id"), encoded_certificate=entry.get("encoded_certificate"),
        certificate_password=entry.get("certificate_password"),
        default_ssl_binding=entry.get("default_ssl_binding"),
        negotiate_client_certificate=entry.get("negotiate_client_certificate"),
        certificate=cert_model, certificate_source=entry.get("certificate_source"),
    )


def _quoted(etag: Optional[str]) -> Optional[str]:
    if not etag:
        return None
    return etag if etag.startswith('"') or etag.startswith('W/') else '"{0}"'.format(etag)


class HostnameService:
    """Reads a service's hostname list and writes it back through an AzureApimModule."""

    def __init__(self, module: Any, resource_group: str, service_name: str) -> None:
        self.module = module
        self.resource_group = resource_group
        self.service_name = service_name
        self.what = "API Management service {0}/{1}".format(resource_group, service_name)

    @property
    def _ops(self) -> Any:
        return self.module.client("apim").api_management_service

    def read(self) -> Optional[Dict[str, Any]]:
        """The service as a plain dict (``hostname_configurations``, ``identity``, ``etag``…), None when absent."""
        model = self.module.read(self._ops.get, self.resource_group, self.service_name, what="reading " + self.what)
        if model is None:
            return None
        service = service_to_dict(model)
        service["etag"] = getattr(model, "etag", None)
        return service

    def require(self, settle: bool = False) -> Dict[str, Any]:
        """The service (once no operation runs on it when ``settle``), or a clear error when it does not exist."""
        service = self.settled() if settle else self.read()
        if service is None:
            raise AzureApimError(
                "API Management service {0!r} was not found in resource group {1!r} of subscription {2}".format(
                    self.service_name, self.resource_group, self.module.subscription_id),
                status=404, code="ServiceNotFound", hint="check resource_group and service_name")
        return service

    def patch(self, entries: Sequence[Entry], etag: Optional[str]) -> Optional[Dict[str, Any]]:
        """PATCH only ``hostnameConfigurations`` (the whole new list) and wait for APIM to apply it.

        Returns the service the operation ended with (the SDK's final GET of the service once the operation
        completed), or None when the operation gave no body.
        """
        from azure.mgmt.apimanagement import models

        body = models.ApiManagementServiceUpdateParameters(
            hostname_configurations=[_to_model(e, models) for e in entries])
        for attribute in body._attribute_map:  # pylint: disable=protected-access
            # The SDK model fills in defaults (disableGateway false, developerPortalStatus Enabled, ...) that a
            # PATCH would apply; only the hostname list may be sent.
            if attribute != "hostname_configurations":
                setattr(body, attribute, None)
        headers = {"If-Match": _quoted(etag)} if etag else {}
        model = self.module.lro(self._ops.begin_update, self.resource_group, self.service_name, body,
                                headers=headers, what="updating the hostnames of " + self.what)
        if model is None or not hasattr(model, "hostname_configurations"):
            return None
        service = service_to_dict(model)
        service["etag"] = getattr(model, "etag", None)
        return service

    def settled(self, known: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
        """The service once no operation runs on it: ``known`` (a service just returned by Azure) when it is
        already settled, else fresh reads."""
        if known is not None and not is_transitional(provisioning_state(known)):
            return known
        return wait_until_settled(self.read, self.module.deadline, self.what)


def write_delta(svc: HostnameService, current: Dict[str, Any], delta: Delta,
                warn: Callable[[str], None]) -> Dict[str, Any]:
    """Merge ``delta`` into ``current``'s list, PATCH, re-read; if a concurrent writer dropped an entry we sent
    (ours or a foreign one), merge it back and write again until everything is there or the deadline passes.

    Returns the settled service after the last write. 409 (busy) and 412 (ETag) propagate to the caller, whose
    whole read -> merge -> write cycle then runs again.
    """
    deadline: Deadline = svc.module.deadline
    pending = list(delta)
    while True:
        new_list, changed = apply_delta(current["hostname_configurations"], pending)
        written = svc.patch(new_list, current.get("etag")) if changed else None
        after = svc.settled(written)
        if after is None:
            raise AzureApimError("{0} disappeared while its hostnames were being changed".format(svc.what),
                                 code="ServiceNotFound")
        dropped = _dropped(new_list, after["hostname_configurations"], pending)
        if not dropped and delta_satisfied(pending, after["hostname_configurations"]):
            return after
        if deadline.expired():
            raise AzureApimError(
                "Another writer kept changing the hostnames of {0}; these are still missing: {1}".format(
                    svc.what, ", ".join(e["host_name"] for e in dropped) or "this task's entry"),
                code="ConcurrentHostnameChange", hint="re-run the task when the other automation has finished")
        warn("Another writer changed the hostnames of {0} during this task; merging again to restore {1}".format(
            svc.what, ", ".join(e["host_name"] for e in dropped) or "this task's entry"))
        known = {entry_key(p) for p in pending}
        pending += _restorable([e for e in dropped if entry_key(e) not in known], svc.what)
        current = after


def _dropped(sent: Sequence[Entry], now: Sequence[Entry], delta: Delta) -> List[Entry]:
    """Entries we sent that are no longer there (built-in and deliberately removed ones excepted)."""
    removed = {entry_key(d) for d in delta if d.get("absent")}
    return [e for e in sent if entry_key(e) not in removed and not is_builtin(e)
            and find_entry(now, entry_key(e)) is None]


def _restorable(dropped: Sequence[Entry], what: str) -> Delta:
    """Instructions that put dropped entries back; an uploaded certificate cannot be re-sent without its PFX."""
    restore: Delta = []
    for entry in dropped:
        if entry.get("certificate_source") == SOURCE_CUSTOM and not entry.get("encoded_certificate"):
            raise AzureApimError(
                "Hostname {0} (an uploaded certificate) was removed from {1} by another writer while this task "
                "ran; it cannot be restored without its PFX".format(entry["host_name"], what),
                code="ConcurrentHostnameChange", hint="upload it again, then re-run this task")
        restore.append(dict({k: v for k, v in entry.items() if k != "certificate"}, restore=True))
    return restore


# ----------------------------------------------------------------------------------------------------------------
# refusals before any write (Key Vault source)
# ----------------------------------------------------------------------------------------------------------------

def keyvault_secret_uri(module: Any, secret_id: Optional[str], vault_ref: Optional[str], secret_name: Optional[str],
                        secret_version: Optional[str]) -> Tuple[SecretUri, Dict[str, Any]]:
    """The secret URI (a ``/certificates/`` URL is refused with the ``/secrets/`` form) and the vault it lives in."""
    vaults = VaultService(module)
    if secret_id:
        secret = parse_secret_uri(secret_id)
        vault = vaults.require(vault_ref) if vault_ref else vaults.find(secret.vault_url)
        if vault is not None and (vault.get("name") or "").lower() != secret.vault_name.lower():
            raise AzureApimError("key_vault {0!r} is not the vault of {1!r}".format(vault_ref, secret_id),
                                 code="VaultMismatch", hint="drop key_vault or fix the secret id")
    else:
        vault = vaults.require(str(vault_ref))
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


def secret_named_by_current(current: Optional[Entry], vault_ref: Optional[str], secret_name: Optional[str],
                            secret_version: Optional[str]) -> Optional[SecretUri]:
    """The current entry's secret id when it already names ``vault_ref`` + ``secret_name`` (+ version), else None.

    Key Vault names are unique within a cloud, so the vault in the current URL is the one ``vault_ref`` names (by
    name or resource id): an unchanged hostname needs no vault lookup to build its secret id.
    """
    if not current or not current.get("key_vault_id") or not vault_ref or not secret_name:
        return None
    try:
        secret = parse_secret_uri(current["key_vault_id"])
    except AzureApimError:
        return None
    vault_name = str(vault_ref).strip().rstrip("/").rsplit("/", 1)[-1]
    if secret.vault_name.lower() != vault_name.lower() or secret.name.lower() != str(secret_name).lower():
        return None
    if (secret.version or "").lower() != str(secret_version or "").lower():
        return None
    return secret


def refuse_keyvault_problems(module: Any, service: Dict[str, Any], identity: Dict[str, Any], secret: SecretUri,
                             vault: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Raise, naming the fix, when APIM could not fetch this certificate: secret missing, disabled or not a PFX;
    identity without access under the vault's permission model; firewall; tenant.

    Returns the RBAC grants younger than Azure's propagation window (see _kv_propagation): the write must then be
    retried until the service accepts the reference."""
    meta = secret_metadata(module, vault, secret.name)
    if not meta.get("exists"):
        raise AzureApimError(
            "Secret {0!r} does not exist in key vault {1!r}".format(secret.name, vault["name"]), status=404,
            code="SecretNotFound", hint="import the certificate into the vault first, or fix the secret name")
    if meta.get("enabled") is False:
        raise AzureApimError("Secret {0!r} of key vault {1!r} is disabled".format(secret.name, vault["name"]),
                             code="SecretDisabled", hint="enable the certificate in Key Vault")
    if str(meta.get("content_type") or "").lower() != PKCS12:
        raise AzureApimError(
            "Secret {0!r} of key vault {1!r} has content type {2!r}; API Management needs a certificate secret of "
            "content type {3!r}".format(secret.name, vault["name"], meta.get("content_type"), PKCS12),
            code="NotACertificate",
            hint="import the certificate as a Key Vault certificate (its secret then has content type {0}), or "
                 "upload a PFX as a secret with that content type".format(PKCS12))
    report = secret_access(module, vault, identity, secret=secret.name)
    for problem in report.get("problems") or []:
        if problem["code"] == "NoSecretAccess" and _access_assumed(module, service, identity, vault):
            continue
        raise AzureApimError(
            "API Management service {0!r} could not fetch {1}: {2}".format(
                service["name"], secret.uri, problem["message"]),
            code=problem["code"], hint=_access_hint(problem, identity))
    return young_rbac_grants(report.get("grants") or [])


def _access_assumed(module: Any, service: Dict[str, Any], identity: Dict[str, Any], vault: Dict[str, Any]) -> bool:
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
