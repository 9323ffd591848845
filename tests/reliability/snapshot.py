# Private to the azure_apim.identity test suite.
"""Views of the local Azure's state for the suite's checks: what a run owns vs. everything it must not touch."""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping, Optional

# Bookkeeping Azure changes on every write to a resource, whoever owns which part of it.
VOLATILE_PATHS = ("etag", "systemData", "properties.provisioningState", "properties.targetProvisioningState",
                  "_operation", "_etag")


# The local Azure's private bookkeeping of running operations (never returned by ARM, not state anyone owns).
BOOKKEEPING_KEYS = ("_async", "_operation")


def _drop_path(body: dict, path: str) -> None:
    parts = path.split(".")
    node: Any = body
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def foreign_view(state: Mapping[str, Any], owned: Iterable[str] = (),
                 shared: Optional[Mapping[str, Iterable[str]]] = None,
                 owned_principals: Iterable[str] = ()) -> dict[str, Any]:
    """The part of `state` a run must leave identical.

    `owned`: resource ids (and everything under them) the run manages. `shared`: resource id → dotted paths the run
    manages inside a resource it shares with others (e.g. a service's `identity`); the rest of that resource, minus
    Azure's volatile bookkeeping, is foreign. `owned_principals`: Entra object ids the run may create or remove.
    """
    owned_ids = [rid.lower().rstrip("/") for rid in owned]
    shared_paths = {rid.lower().rstrip("/"): list(paths) for rid, paths in (shared or {}).items()}
    resources = {}
    for rid, body in state.get("resources", {}).items():
        if any(rid == o or rid.startswith(o + "/") for o in owned_ids):
            continue
        view = copy.deepcopy(body)
        for key in BOOKKEEPING_KEYS:
            view.pop(key, None)
        if rid in shared_paths:
            for path in list(shared_paths[rid]) + list(VOLATILE_PATHS):
                _drop_path(view, path)
        resources[rid] = view
    skip = {p.lower() for p in owned_principals}
    principals = {oid: p for oid, p in state.get("principals", {}).items() if oid.lower() not in skip}
    return {"resources": resources, "principals": principals}


def diff_views(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two foreign views (empty when identical)."""
    out = []
    for section in ("resources", "principals"):
        left, right = before.get(section, {}), after.get(section, {})
        for key in sorted(set(left) | set(right)):
            if key not in right:
                out.append(f"{section}: {key} disappeared")
            elif key not in left:
                out.append(f"{section}: {key} appeared")
            elif left[key] != right[key]:
                out.append(f"{section}: {key} changed: {left[key]!r} -> {right[key]!r}"[:1500])
    return out


def resources_of_type(state: Mapping[str, Any], type_: str) -> dict[str, dict]:
    """Resources of one ARM type (case-insensitive), by id."""
    return {rid: body for rid, body in state.get("resources", {}).items()
            if str(body.get("type", "")).lower() == type_.lower()}


def find(state: Mapping[str, Any], type_: str, name: str) -> list[dict]:
    """Every resource of a type with this name (a list, so duplicates show)."""
    return [body for body in resources_of_type(state, type_).values()
            if str(body.get("name", "")).lower() == name.lower()]
