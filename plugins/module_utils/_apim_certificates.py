# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""APIM certificates (``service/certificates``): from a Key Vault secret fetched with one of the service's identities,
or an uploaded PFX. The capability behind apim_certificate and apim_certificate_info.

Azure behaviour this relies on:

- Certificate_CreateOrUpdate is synchronous and API Management fetches a Key Vault secret during the call: when
  its identity cannot read the secret yet the call fails (400) and nothing is stored. A new Azure RBAC grant takes
  up to 10 minutes to reach Key Vault, so a refused fetch relying on a grant younger than that is sent again until
  the task's deadline (the shared wait of ``_kv_propagation``, as for hostnames and named values).
- A versionless secret identifier is re-read by API Management every four hours (rotation); a versioned one
  pins that version. ``refreshSecret`` asks for a fetch now.
- Backends name their client certificates in ``credentials.certificateIds`` (``/certificates/<name>``) or, in the
  older form, by thumbprint in ``credentials.certificate``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ._access import resolve_planned
from ._apim import ApimServices
from ._compare import same_identity_client
from ._apim_entities import SYSTEM_ASSIGNED, Certificates
from ._errors import AzureApimError
from ._ids import parse_secret_uri, same_secret_id
from ._kv_propagation import until_accepted
from ._pfx import read_pfx_info
from ._plan import UNKNOWN
from ._secret_access import keyvault_secret_uri, refuse_keyvault_problems
from ._retry import THROTTLED
from ._state import Outcome, ResourceSpec, ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

SECRET_KEYS = ("data", "password")


def public(cert: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The certificate as modules return it (no ETag)."""
    return None if cert is None else {k: v for k, v in cert.items() if k != "etag"}


def key_vault_equal(wanted: Any, current: Any) -> bool:
    """Same secret identifier (normalised; the version counts) and same identity (None = SystemAssigned)."""
    if not wanted or not current:
        return not wanted and not current
    return same_secret_id(wanted.get("secret_identifier"), current.get("secret_identifier")) and \
        same_identity_client(wanted.get("identity_client_id"), current.get("identity_client_id"))


def inline_desired(pfx: str, password: Optional[str]) -> Dict[str, Any]:
    """An uploaded PFX: compared by thumbprint (APIM never returns the data); ``data``/``password`` only sent."""
    info = read_pfx_info(pfx, password)
    return {"thumbprint": info["thumbprint"], "key_vault": None, "_send": {"data": pfx, "password": password}}


def keyvault_desired(module: AzureApimModule, service: Dict[str, Any], secret_id: str, identity_ref: Optional[str]
                     ) -> Dict[str, Any]:
    """A Key Vault certificate: the secret identifier as given and the client id of the identity (by name, id or
    client id); warns about a versioned identifier."""
    # In check mode an identity that an earlier task of the run plans to enable (``assume``) stands in.
    identity = resolve_planned(module, service, identity_ref or "system")
    secret = parse_secret_uri(secret_id)  # refuses a /certificates/ URL with the /secrets/ form
    if secret.version:
        module.warn("The certificate pins version {0} of the secret: API Management will not pick up renewals "
                    "(use the versionless id {1})".format(secret.version, secret.versionless))
    return {"key_vault": {"secret_identifier": secret.uri,
                          "identity_client_id": identity["client_id"] or SYSTEM_ASSIGNED},
            "_identity": identity, "_secret": secret}


def refuse_before_write(module: AzureApimModule, service: Dict[str, Any], wanted: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Secret missing, disabled or not PKCS#12; identity without access; firewall: the custom domains' refusals.
    Returns the RBAC grants younger than Azure's propagation window (the write then waits for them)."""
    secret = wanted["_secret"]
    secret, vault = keyvault_secret_uri(module, secret.uri, None, None, None)
    return refuse_keyvault_problems(module, service, wanted["_identity"], secret, vault)


def put_waiting_for_grant(certs: Certificates, name: str, body: Dict[str, Any], etag: Optional[str],
                          deadline: Any, young: List[Dict[str, Any]],
                          sleep: Optional[Callable[[float], None]] = None) -> Dict[str, Any]:
    """PUT the certificate; while API Management's fetch is refused and a grant it relies on is younger than the
    RBAC propagation window, send it again (a refused PUT changes nothing) — the shared wait of _kv_propagation."""
    kwargs = {"sleep": sleep} if sleep else {}
    return until_accepted(lambda: (True, certs.put(name, body, etag, retry=(THROTTLED,))), young, deadline,
                          "writing certificate {0}".format(name), **kwargs)


def _body(wanted: Dict[str, Any]) -> Dict[str, Any]:
    if wanted.get("key_vault"):
        return {"key_vault": wanted["key_vault"]}
    return dict(wanted["_send"])


def certificate_spec(module: AzureApimModule, certs: Certificates, service: Dict[str, Any], name: str,
                     extra: Dict[str, Any]) -> ResourceSpec:
    """The ResourceSpec of one certificate; ``extra`` is the desired state's unsent part (refusal inputs)."""

    def write(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        return put_waiting_for_grant(certs, name, _body(dict(wanted, **extra)),
                                     (current or {}).get("etag"), module.deadline, extra.setdefault("_young", []))

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        # What API Management reads from the new PFX (fetched from Key Vault or uploaded) is known after apply.
        base = dict(current or {"id": None, "name": name, "etag": None})
        fetched = {"subject": UNKNOWN, "expiration_date": UNKNOWN, "thumbprint": UNKNOWN}
        predicted = dict(dict(base, **fetched), **wanted)
        if predicted.get("key_vault"):
            predicted["key_vault"] = dict(predicted["key_vault"], last_status=UNKNOWN)
        return predicted

    return ResourceSpec(
        what="certificate {0} of API Management service {1}".format(name, service["name"]),
        read=lambda: certs.get(name), create=lambda wanted: write(None, wanted),
        update=lambda current, wanted, paths: write(current, wanted),
        delete=lambda current: certs.delete(name, current.get("etag")), predict=predict,
        comparators={"key_vault": key_vault_equal}, settle=False, verify_with_response=True, rerun_on=())


def users_of(backends: List[Dict[str, Any]], name: str, thumbprint: Optional[str]) -> List[str]:
    """Backends whose credentials use certificate ``name`` (by id) or its thumbprint."""
    found = []
    for backend in backends:
        ids = [str(i).rstrip("/").rsplit("/", 1)[-1].lower() for i in backend["certificate_ids"]]
        prints = [str(t).lower() for t in backend["thumbprints"]]
        if name.lower() in ids or (thumbprint and thumbprint.lower() in prints):
            found.append(backend["name"])
    return sorted(found)


def refuse_removal_in_use(certs: Certificates, name: str, current: Optional[Dict[str, Any]]) -> None:
    """API Management keeps no link from a certificate to its backends: removing one they use breaks their mTLS."""
    if current is None:
        return
    users = users_of(certs.backends(), name, current.get("thumbprint"))
    if users:
        raise AzureApimError(
            "Certificate {0!r} is used by backend(s) {1}; it was not removed".format(name, ", ".join(users)),
            code="CertificateInUse",
            hint="remove it from those backends' credentials (certificateIds) first, or keep it")


def run(module: AzureApimModule, params: Dict[str, Any]) -> Dict[str, Any]:
    """apim_certificate: ensure the certificate, refuse what cannot work, refresh on request."""
    certs = Certificates(module, params["resource_group"], params["service_name"])
    name = params["name"]
    if params["state"] == "absent":
        return _absent(module, certs, name)
    service = ApimServices(module).require(params["resource_group"], params["service_name"], memo=True)
    if params["key_vault_secret_id"]:
        wanted = keyvault_desired(module, service, params["key_vault_secret_id"], params["identity"])
    else:
        wanted = inline_desired(params["certificate"], params["certificate_password"])
    sent = {k: v for k, v in wanted.items() if not k.startswith("_")}
    extra = {k: v for k, v in wanted.items() if k.startswith("_")}
    outcome = ensure(certificate_spec(module, certs, service, name, extra), "present",
                     _checked(module, service, sent, extra), check_mode=module.check_mode, deadline=module.deadline)
    refreshed = _refresh(module, certs, name, outcome, params["refresh_secret"] and bool(sent.get("key_vault")))
    return dict(_result(outcome), secret_refreshed=refreshed)


def _checked(module: AzureApimModule, service: Dict[str, Any], sent: Dict[str, Any],
             extra: Dict[str, Any]) -> Callable[[Optional[Dict[str, Any]]], Dict[str, Any]]:
    """The desired state, refusing first what APIM could not fetch. Only a change is checked against Key Vault
    (an unchanged certificate reads nothing there), in check mode too, so the check predicts the apply's refusal."""
    def desired(current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        if extra.get("_secret") is not None and not key_vault_equal(sent["key_vault"],
                                                                    (current or {}).get("key_vault")):
            extra.setdefault("_young", []).extend(refuse_before_write(module, service, extra))
        return sent

    return desired


def _refresh(module: AzureApimModule, certs: Certificates, name: str, outcome: Outcome, asked: bool) -> bool:
    """refreshSecret on request (a write: reported as a change; in check mode only predicted)."""
    if not asked or (outcome.changed and outcome.before is None):
        return False  # a new certificate has just been fetched
    outcome.changed = True
    if not module.check_mode:
        outcome.after = certs.refresh(name)
    return True


def _absent(module: AzureApimModule, certs: Certificates, name: str) -> Dict[str, Any]:
    current = certs.get(name)
    refuse_removal_in_use(certs, name, current)
    first = [current]  # the read just made answers the engine's first read; the one after the delete is fresh
    spec = ResourceSpec(what="certificate {0}".format(name),
                        read=lambda: first.pop() if first else certs.get(name),
                        delete=lambda cur: certs.delete(name, cur.get("etag")), settle=False, rerun_on=())
    return _result(ensure(spec, "absent", {}, check_mode=module.check_mode, deadline=module.deadline))


def _result(outcome: Outcome) -> Dict[str, Any]:
    outcome.before, outcome.after = public(outcome.before), public(outcome.after)
    return outcome.result("certificate", SECRET_KEYS)


def info(module: AzureApimModule, resource_group: str, service_name: str, name: Optional[str]) -> List[Dict[str, Any]]:
    """apim_certificate_info: one certificate or all of them, each with the backends that use it."""
    certs = Certificates(module, resource_group, service_name)
    if name:
        found = certs.get(name)
        listed = [found] if found else []
    else:
        listed = certs.list()
    backends = certs.backends() if listed else []
    return [dict(public(c) or {}, backends=users_of(backends, c["name"], c.get("thumbprint"))) for c in listed]
