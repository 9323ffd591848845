"""Hostname configurations (custom domains) of an API Management service: the built-in Proxy hostname, Key Vault and
inline (PFX) certificates, and the errors APIM answers when it cannot read a certificate."""

from __future__ import annotations

from typing import Optional

from emulator import arm, pfx, resolve
from emulator.apim.base import HOSTNAME_TYPES, validation
from emulator.world import World


def builtin_hostname(name: str, default_ssl: bool = True) -> dict:
    """The ``<name>.azure-api.net`` Proxy hostname every service has."""
    return {"type": "Proxy", "hostName": f"{name.lower()}.azure-api.net", "encodedCertificate": None,
            "keyVaultId": None, "certificatePassword": None, "negotiateClientCertificate": False,
            "certificate": None, "defaultSslBinding": default_ssl, "identityClientId": None,
            "certificateSource": "BuiltIn", "certificateStatus": None}


def _hostname_error(host: dict, res: resolve.Resolution, svc: dict) -> arm.ArmError:
    """Render a failed Key Vault read of a hostname certificate the way APIM reports it."""
    if res.step == "identity":
        return validation(res.message, "identityClientId")
    if res.step == "uri":
        return arm.ArmError(400, "InvalidParameters", res.message)
    if res.step == "content":
        return arm.ArmError(400, "InvalidParameters", res.message)
    ident = res.identity
    kind = ident.kind if ident else "SystemAssigned"
    return arm.ArmError(400, "InvalidOperation",
                        f"Failed to access KeyVault Secret {host['keyVaultId']} using Managed Service Identity "
                        f"(http://aka.ms/apimmsi) of Api Management service. Check if Managed Identity of Type: "
                        f"{kind}, ClientId: {ident.client_id if ident else ''} and ObjectId: "
                        f"{ident.principal_id if ident else ''} has GET permissions on secrets in the KeyVault "
                        f"Access Policies. (Key Vault answered {res.code}/{res.inner_code or res.code}.)")


def _keyvault_hostname(w: World, svc: dict, host: dict, previous: Optional[dict]) -> dict:
    out = dict(builtin_hostname(svc["name"]), **{k: host.get(k) for k in ("type", "hostName", "keyVaultId")})
    out.update(certificateSource="KeyVault", identityClientId=host.get("identityClientId"))
    same = previous and previous.get("keyVaultId") == host["keyVaultId"] and \
        previous.get("identityClientId") == host.get("identityClientId") and previous.get("certificate")
    if same:
        out.update(certificate=previous["certificate"], certificateStatus=previous.get("certificateStatus"))
        return out
    res = resolve.resolve_secret(w, svc, host["keyVaultId"], host.get("identityClientId"), want_certificate=True)
    if not res.ok:
        raise _hostname_error(host, res, svc)
    out.update(certificate=res.certificate.as_arm(), certificateStatus="Completed")
    return out


def _inline_hostname(svc: dict, host: dict) -> dict:
    out = dict(builtin_hostname(svc["name"]), type=host["type"], hostName=host["hostName"])
    try:
        info = pfx.read_pfx_b64(host["encodedCertificate"], host.get("certificatePassword"))
    except pfx.PfxError as exc:
        raise arm.ArmError(400, "InvalidParameters", f"Invalid certificate for hostname '{host['hostName']}': "
                           f"{exc}. Check the certificate and its password.") from exc
    out.update(certificate=info.as_arm(), certificateSource="Custom", certificateStatus="Completed")
    out["_encodedCertificate"] = "<kept privately>"
    return out


def _hostname_entry(w: World, svc: dict, host: dict, previous: Optional[dict]) -> dict:
    if host.get("type") not in HOSTNAME_TYPES or not host.get("hostName"):
        raise validation("Each hostname configuration needs a type (" + ", ".join(HOSTNAME_TYPES) +
                         ") and a hostName.", "hostnameConfigurations")
    if host.get("keyVaultId"):
        out = _keyvault_hostname(w, svc, host, previous)
    elif host.get("encodedCertificate"):
        out = _inline_hostname(svc, host)
    elif previous and previous.get("certificate") and previous.get("certificateSource") in ("Custom", "Managed"):
        out = dict(previous)  # sending back what GET returned keeps the uploaded certificate
    else:
        raise arm.ArmError(400, "InvalidParameters", f"A certificate is required for hostname "
                           f"'{host['hostName']}': set keyVaultId or encodedCertificate.")
    out["negotiateClientCertificate"] = bool(host.get("negotiateClientCertificate", False))
    out["defaultSslBinding"] = bool(host.get("defaultSslBinding", False))
    return out


def build_hostnames(w: World, svc: dict, requested: Optional[list], current: list[dict]) -> list[dict]:
    """The hostname list after a write; the built-in Proxy hostname is always kept."""
    if requested is None:
        return current
    builtin = f"{svc['name'].lower()}.azure-api.net"
    by_host = {(h.get("type"), str(h.get("hostName", "")).lower()): h for h in current}
    custom = [_hostname_entry(w, svc, h, by_host.get((h.get("type"), str(h.get("hostName", "")).lower())))
              for h in requested if str(h.get("hostName", "")).lower() != builtin]
    seen = set()
    for h in custom:
        key = (h["type"], h["hostName"].lower())
        if key in seen:
            raise validation(f"Hostname '{h['hostName']}' is configured twice.", "hostnameConfigurations")
        seen.add(key)
    default_taken = any(h["type"] == "Proxy" and h["defaultSslBinding"] for h in custom)
    return [builtin_hostname(svc["name"], default_ssl=not default_taken)] + custom
