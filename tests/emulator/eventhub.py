"""Microsoft.EventHub, modelled just enough to exist, be read, and serve as a role-assignment scope and as the target
of an APIM logger (a namespace and its event hubs)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from emulator import simple
from emulator.world import World

bp = Blueprint("eventhub", __name__)

EH_NS = "Microsoft.EventHub/namespaces"
EH_HUB = "Microsoft.EventHub/namespaces/eventhubs"


def _namespace_properties(name: str, w: World) -> dict[str, Any]:
    return {"provisioningState": "Succeeded", "status": "Active", "createdAt": w.iso(), "updatedAt": w.iso(),
            "serviceBusEndpoint": f"https://{name}.servicebus.windows.net:443/", "kafkaEnabled": True,
            "disableLocalAuth": False, "publicNetworkAccess": "Enabled", "minimumTlsVersion": "1.2"}


NAMESPACES = simple.Tracked(EH_NS, {"name": "Standard", "tier": "Standard", "capacity": 1}, _namespace_properties)
HUBS = simple.Child(EH_HUB, {"partitionCount": 2, "messageRetentionInDays": 1, "partitionIds": ["0", "1"]})


def create_eventhub_namespace(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed an Event Hubs namespace with `hubs: [name, ...]`."""
    body = NAMESPACES.seed(w, rg, spec, location)
    for hub in spec.get("hubs", []):
        HUBS.seed(w, body["id"], hub)
    return body


simple.routes(bp, NAMESPACES, HUBS)
