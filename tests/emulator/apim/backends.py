"""Backends, only what the certificate tests need: a backend's client certificates are
``credentials.certificateIds``."""

from __future__ import annotations

from typing import Optional

from emulator.apim import children
from emulator.apim.base import SERVICE, validation
from emulator.world import World

BACKEND_TYPE = "Microsoft.ApiManagement/service/backends"
BACKEND = SERVICE + "/backends/<backend>"


def _backend_body(_w: World, _svc: dict, props: dict, _old: Optional[dict]) -> dict:
    """Backend_CreateOrUpdate (synchronous): url and protocol are required; properties are stored as sent."""
    if not props.get("url") or not props.get("protocol"):
        raise validation("'url' and 'protocol' are required.", "url")
    return {"properties": props}


BACKENDS = children.Family("backends", BACKEND_TYPE, "Backend")
children.register(BACKENDS, BACKEND, "backend", build=_backend_body)
