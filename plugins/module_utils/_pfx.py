# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Inline PFX (PKCS#12) certificates: what API Management shows of them (subject, SHA-1 thumbprint, expiry).

Core: knows no Azure service; used by the custom-domain and certificate capabilities.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Dict, Optional

from ._errors import AzureApimError


def days_until(expiry: Any, now: Optional[dt.datetime] = None) -> Optional[int]:
    """Whole days from now until a certificate's expiry (negative when expired); None when unknown."""
    if not expiry:
        return None
    moment = expiry if isinstance(expiry, dt.datetime) else parse_iso_time(str(expiry))
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    delta = moment - (now or dt.datetime.now(dt.timezone.utc))
    return int(delta.total_seconds() // 86400)


def parse_iso_time(text: str) -> Optional[dt.datetime]:
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
