"""Long-running operations of the local Azure (what ARM's Location and Azure-AsyncOperation URLs report on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from emulator.world import World


@dataclass
class Operation:
    """A long-running operation: completes lazily when `World.tick()` sees its due time has passed."""

    id: str
    resource_id: str
    started: float
    due: float
    on_done: Optional[Callable[["World"], Optional[dict]]] = None
    error: Optional[dict] = None
    status: str = "InProgress"
    ended: Optional[float] = None
    namespace: str = "Microsoft.Resources"
    location: str = "westeurope"
    # What the Location URL returns once done: (status, body) or None for "GET the resource" / 204.
    result: Optional[Callable[["World"], tuple[int, Any]]] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True once the operation reached a terminal status."""
        return self.status in ("Succeeded", "Failed", "Canceled")

    def to_status(self, world: "World") -> dict[str, Any]:
        """The Azure-AsyncOperation status body ARM returns for this operation."""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.id.rsplit("/", 1)[-1],
            "status": self.status,
            "startTime": world.iso(self.started),
        }
        if self.ended is not None:
            body["endTime"] = world.iso(self.ended)
        if self.status == "Failed" and self.error:
            body["error"] = self.error
        return body
