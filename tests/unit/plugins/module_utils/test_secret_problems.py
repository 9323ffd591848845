"""One vocabulary for a Key Vault secret API Management cannot use (_secret_access.secret_problems)."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._secret_access import secret_problems

PFX = {"exists": True, "enabled": True, "content_type": "application/x-pkcs12"}


@pytest.mark.parametrize("meta, certificate, codes", [
    (PFX, True, []),
    (dict(PFX, content_type="Application/X-PKCS12"), True, []),
    ({"exists": False}, True, ["SecretNotFound"]),
    (dict(PFX, enabled=False), True, ["SecretDisabled"]),
    (dict(PFX, content_type="text/plain"), True, ["NotACertificate"]),
    (dict(PFX, content_type=None, enabled=False), True, ["SecretDisabled", "NotACertificate"]),
    (dict(PFX, content_type="text/plain"), False, []),
])
def test_secret_problems(meta, certificate, codes):
    found = secret_problems(meta, "api-cert", "kv", certificate)
    assert [p["code"] for p in found] == codes
    assert all(p["message"] and p["fix"] for p in found)
