"""Service-level certificate entities (e.g. for backend client authentication). Minimal: they exist so that a Key
Vault certificate read with a managed identity shows up as a user of that identity."""

from __future__ import annotations

from typing import Optional

from flask import Response

from emulator import arm, pfx, resolve
from emulator.apim import children
from emulator.apim.base import SERVICE, bp, online_service, validation
from emulator.world import World

CERT_TYPE = "Microsoft.ApiManagement/service/certificates"
CERT = SERVICE + "/certificates/<cert>"


def _certificate_properties(w: World, svc: dict, props: dict) -> dict:
    kv = props.get("keyVault")
    if kv:
        if resolve.find_identity(w, svc, kv.get("identityClientId")) is None:
            raise validation("keyVault", "identityClientId", f"Can not find Managed Identity with provided "
                             f"IdentityClientId : {kv.get('identityClientId')}. For more information please see "
                             "aka.ms/apimmsi.")
        res = resolve.resolve_secret(w, svc, kv.get("secretIdentifier", ""), kv.get("identityClientId"),
                                     want_certificate=True)
        if not res.ok:
            raise arm.ArmError(400, "InvalidOperation", f"Failed to access KeyVault Secret "
                               f"{kv.get('secretIdentifier')} using Managed Service Identity: {res.message}")
        info = res.certificate.as_arm()
        status = {"code": "Success", "timeStampUtc": w.iso()}
        key_vault = {"secretIdentifier": kv.get("secretIdentifier"), "identityClientId": kv.get("identityClientId"),
                     "lastStatus": status}
    elif props.get("data"):
        try:
            info = pfx.read_pfx_b64(props["data"], props.get("password")).as_arm()
        except pfx.PfxError as exc:
            raise arm.ArmError(400, "InvalidParameters", f"Invalid certificate: {exc}.") from exc
        key_vault = None
    else:
        raise validation("Either 'data' (with 'password') or 'keyVault' is required.", "properties")
    return {"subject": info["subject"], "thumbprint": info["thumbprint"], "expirationDate": info["expiry"],
            "keyVault": key_vault}


def _certificate_body(w: World, svc: dict, props: dict, _old: Optional[dict]) -> dict:
    """Certificate_CreateOrUpdate (synchronous): APIM reads the certificate (inline or from Key Vault) while it
    answers."""
    return {"properties": _certificate_properties(w, svc, props)}


CERTIFICATES = children.Family("certificates", CERT_TYPE, "Certificate")
children.register(CERTIFICATES, CERT, "cert", build=_certificate_body)


@bp.post(CERT + "/refreshSecret")
def refresh_certificate_secret(sub: str, rg: str, name: str, cert: str) -> Response:
    """Certificate_RefreshSecret: APIM fetches the Key Vault secret again through its identity (synchronous, 200
    with the certificate); a failed fetch is the same 400 as on create."""
    with arm.locked(CERT_TYPE) as w:
        svc = online_service(w, sub, rg, name)
        stored = CERTIFICATES.get_or_404(w, svc, cert)
        kv = (stored["properties"].get("keyVault") or {})
        if not kv.get("secretIdentifier"):
            raise validation("Certificate is not a KeyVault certificate.", "keyVault")
        props = _certificate_properties(w, svc, {"keyVault": {k: kv.get(k) for k in
                                                              ("secretIdentifier", "identityClientId")}})
        stored.update(properties=props)
        return children.answer(CERTIFICATES, stored)
