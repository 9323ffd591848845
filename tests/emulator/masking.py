"""Secret masking: what never leaves the local Azure in a request log entry, a state snapshot or a summary."""

from __future__ import annotations

from typing import Any

# Keys whose values are secrets wherever they appear in a request body, a log entry or a state snapshot.
SECRET_KEYS = frozenset(
    k.lower()
    for k in (
        "value",
        "secret",
        "password",
        "client_secret",
        "clientSecret",
        "connectionString",
        "certificatePassword",
        "encodedCertificate",
        "_value",
        "access_token",
        "client_assertion",
        "identity_header",
    )
)
MASK = "***"


# Lists whose items carry a non-secret `value` (Key Vault / Storage firewall IP rules).
_PLAIN_VALUE_LISTS = frozenset({"iprules"})


def mask_secrets(data: Any, _plain_value: bool = False) -> Any:
    """Return a deep copy of `data` with every secret-named key's value replaced by a mask.

    A `value` key holding a list or dict (ARM's list envelope) is walked into, not masked; so are the `value`s of
    firewall `ipRules`, which are addresses, not secrets.
    """
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, val in data.items():
            lowered = key.lower() if isinstance(key, str) else ""
            secret = lowered in SECRET_KEYS and not (_plain_value and lowered == "value")
            if secret and not isinstance(val, (dict, list)):
                out[key] = MASK if val not in (None, "") else val
            else:
                out[key] = mask_secrets(val, lowered in _PLAIN_VALUE_LISTS)
        return out
    if isinstance(data, list):
        return [mask_secrets(item, _plain_value) for item in data]
    return data
