# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Comparison, merging and redaction helpers on plain dicts and keyed lists."""
from __future__ import annotations

import copy
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

from ._ids import normalize_resource_id

REDACTED = "********"

Equal = Callable[[Any, Any], bool]


def drop_none(value: Any) -> Any:
    """Copy of ``value`` without None entries in dicts (None means "not set by the user")."""
    if isinstance(value, Mapping):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def ci_equal(a: Any, b: Any) -> bool:
    """Case-insensitive equality for strings, plain equality otherwise."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def exact(a: Any, b: Any) -> bool:
    """Whole-value equality: for dicts the user gives completely (a full tag set), not as a subset."""
    return (a or {}) == (b or {}) if isinstance(a, Mapping) or isinstance(b, Mapping) else a == b


def same_items(a: Any, b: Any) -> bool:
    """Lists compared ignoring order only (case and repeats count), e.g. the tags of a named value."""
    return sorted(a or []) == sorted(b or [])


def ci_set_equal(a: Any, b: Any) -> bool:
    """Lists of names compared as sets, case-insensitively (duplicates and order ignored), e.g. permissions."""
    return {str(v).lower() for v in a or []} == {str(v).lower() for v in b or []}


def id_equal(a: Any, b: Any) -> bool:
    """ARM id equality (case, trailing slashes ignored)."""
    if isinstance(a, str) and isinstance(b, str):
        return normalize_resource_id(a) == normalize_resource_id(b)
    return a == b


def differences(
    desired: Any,
    current: Any,
    *,
    comparators: Optional[Mapping[str, Equal]] = None,
    path: str = "",
) -> List[str]:
    """Paths where ``current`` does not match ``desired``; only keys present in ``desired`` are looked at.

    Dicts compare as subsets (keys absent from ``desired`` are untouched), lists and scalars exactly.
    ``comparators`` maps a key name (or dotted path) to an equality function, e.g. ``{"id": id_equal}``.
    """
    comparators = comparators or {}
    if isinstance(desired, Mapping):
        if not isinstance(current, Mapping):
            return [path or "."]
        found: List[str] = []
        for key, value in desired.items():
            sub = "{0}.{1}".format(path, key) if path else str(key)
            eq = comparators.get(sub) or comparators.get(str(key))
            if eq is not None:
                if not eq(value, current.get(key)):
                    found.append(sub)
                continue
            found.extend(differences(value, current.get(key), comparators=comparators, path=sub))
        return found
    return [] if desired == current else [path or "."]


def deep_merge(base: Optional[Mapping[str, Any]], overlay: Mapping[str, Any]) -> Dict[str, Any]:
    """``base`` with ``overlay`` applied (dicts merged recursively, other values replaced); inputs untouched."""
    result: Dict[str, Any] = copy.deepcopy(dict(base or {}))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def merge_tags(current: Optional[Mapping[str, str]], wanted: Optional[Mapping[str, str]], purge: bool) -> Optional[Dict[str, str]]:
    """Desired tags: None = leave tags alone; ``purge`` replaces them, otherwise ``wanted`` is added to the current ones."""
    if wanted is None:
        return None
    if purge:
        return dict(wanted)
    merged = dict(current or {})
    merged.update(wanted)
    return merged


def redact(value: Any, secret_keys: Iterable[str]) -> Any:
    """Deep copy with the value of every key named in ``secret_keys`` replaced by a mask (any depth)."""
    keys = {k.lower() for k in secret_keys}
    if not keys:
        return copy.deepcopy(value)
    return _redact(value, keys)


def _redact(value: Any, keys: set) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if str(k).lower() in keys and v is not None else _redact(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, keys) for v in value]
    return value


def same_identity_client(wanted: Optional[str], current: Optional[str]) -> bool:
    """identityClientId: None (and the literal "SystemAssigned") mean the system-assigned identity."""
    def norm(value: Optional[str]) -> str:
        text = str(value or "").strip().lower()
        return "" if text in ("", "systemassigned") else text

    return norm(wanted) == norm(current)
