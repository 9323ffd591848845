"""Microsoft.ServiceBus, modelled just enough to exist, be read, and serve as a role-assignment scope (a namespace,
its queues and topics)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from emulator import simple
from emulator.world import World

bp = Blueprint("servicebus", __name__)

SB_NS = "Microsoft.ServiceBus/namespaces"
SB_QUEUE = "Microsoft.ServiceBus/namespaces/queues"
SB_TOPIC = "Microsoft.ServiceBus/namespaces/topics"


def _namespace_properties(name: str, w: World) -> dict[str, Any]:
    return {"provisioningState": "Succeeded", "status": "Active", "createdAt": w.iso(), "updatedAt": w.iso(),
            "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/", "disableLocalAuth": False,
            "publicNetworkAccess": "Enabled", "minimumTlsVersion": "1.2"}


NAMESPACES = simple.Tracked(SB_NS, {"name": "Standard", "tier": "Standard"}, _namespace_properties)
QUEUES = simple.Child(SB_QUEUE)
TOPICS = simple.Child(SB_TOPIC)


def create_servicebus_namespace(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a Service Bus namespace with `queues` and `topics`."""
    body = NAMESPACES.seed(w, rg, spec, location)
    for child in (QUEUES, TOPICS):
        for name in spec.get(child.segment, []):
            child.seed(w, body["id"], name)
    return body


simple.routes(bp, NAMESPACES, QUEUES, TOPICS)
