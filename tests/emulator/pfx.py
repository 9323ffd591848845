"""PKCS#12 helpers for the local Azure: make self-signed certificates for seeding, read them back.

Key Vault stores a certificate's private part as a *secret* whose value is the base64 of a PKCS#12 (PFX) blob and
whose content type is ``application/x-pkcs12``. API Management reads that secret when a hostname points at it and
reports the certificate's ``expiry``, ``thumbprint`` (upper-case SHA-1 hex) and ``subject`` (``CN=...``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from typing import Optional

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PKCS12_CONTENT_TYPE = "application/x-pkcs12"
PEM_CONTENT_TYPE = "application/x-pem-file"


class PfxError(ValueError):
    """The value is not a readable PKCS#12 blob (bad base64, bad structure or wrong password)."""


@dataclass(frozen=True)
class CertificateInfo:
    """What API Management shows about a certificate it loaded."""

    subject: str
    thumbprint: str
    expiry: str
    not_before: str

    def as_arm(self) -> dict:
        """The ``certificate`` object of a hostname configuration, as ARM returns it."""
        return {"expiry": self.expiry, "thumbprint": self.thumbprint, "subject": self.subject}


def _subject_string(name: x509.Name) -> str:
    """Render a subject the way APIM shows it: most specific first, ``CN=api.contoso.com, O=Contoso``."""
    return ", ".join(attr.rfc4514_string() for rdn in reversed(name.rdns) for attr in rdn)


def _iso(moment: dt.datetime) -> str:
    """ARM's certificate expiry format, e.g. ``2037-01-01T07:00:00+00:00``."""
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()


def make_pfx(subject_cn: str, days: int = 365, password: Optional[str] = None,
             sans: Optional[list[str]] = None, not_before: Optional[dt.datetime] = None) -> bytes:
    """Create a self-signed server certificate and return it as PKCS#12 bytes.

    ``days`` may be negative to produce an already expired certificate (useful for failure tests).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    dns_names = sans if sans is not None else [subject_cn]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start if days >= 0 else start + dt.timedelta(days=days - 1))
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256())
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    return pkcs12.serialize_key_and_certificates(subject_cn.encode(), key, cert, None, encryption)


def make_pfx_b64(subject_cn: str, days: int = 365, password: Optional[str] = None) -> str:
    """Like :func:`make_pfx`, base64-encoded the way Key Vault stores a certificate's secret value."""
    return base64.b64encode(make_pfx(subject_cn, days=days, password=password)).decode("ascii")


def read_pfx(blob: bytes, password: Optional[str] = None) -> CertificateInfo:
    """Read the leaf certificate of a PKCS#12 blob."""
    try:
        _key, cert, _extra = pkcs12.load_key_and_certificates(blob, password.encode() if password else None)
    except (ValueError, TypeError) as exc:
        raise PfxError(f"not a valid PKCS#12 blob: {exc}") from exc
    if cert is None:
        raise PfxError("the PKCS#12 blob holds no certificate")
    return CertificateInfo(
        subject=_subject_string(cert.subject),
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - APIM shows SHA-1 thumbprints
        expiry=_iso(cert.not_valid_after_utc),
        not_before=_iso(cert.not_valid_before_utc),
    )


def read_pfx_b64(value: str, password: Optional[str] = None) -> CertificateInfo:
    """Read a base64 PKCS#12 value (a Key Vault certificate secret, or an inline ``encodedCertificate``)."""
    try:
        blob = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PfxError("the value is not base64") from exc
    return read_pfx(blob, password)
