"""The state of the local Azure: resources, Entra principals, long-running operations and a scaled clock.

Operations are :class:`emulator.operation.Operation`; secret masking is :mod:`emulator.masking` (both names stay
importable from here).

Every request handler works on one `World` under `world.lock`. Resource bodies are stored exactly as ARM returns
them; keys starting with `_` are private bookkeeping that `arm.public()` strips before anything leaves the server.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
import threading
import time
import uuid
from typing import Any, Callable, Iterator, Optional

from emulator.masking import MASK, SECRET_KEYS, mask_secrets
from emulator.operation import Operation

__all__ = ["DEFAULT_CONFIG", "MASK", "SECRET_KEYS", "Operation", "World", "mask_secrets", "new_guid"]

# Durations are in "Azure seconds": how long the real service takes. `time_scale` maps them to wall-clock seconds
# (0.01 makes everything 100x faster), so tests can model a 10-minute RBAC propagation without waiting for it.
DEFAULT_CONFIG: dict[str, float] = {
    "time_scale": 1.0,
    "latency_ms": 0.0,
    "apim_create_s": 45.0,
    "apim_update_s": 15.0,
    "apim_delete_s": 10.0,
    "named_value_s": 2.0,
    "rbac_propagation_s": 600.0,
    "identity_replication_s": 30.0,
    "keyvault_provisioning_s": 2.0,
    "network_update_s": 2.0,
    # A resource provider registration (POST /providers/<ns>/register) takes a minute or two in Azure.
    "provider_registration_s": 120.0,
    # Wall-clock seconds (never scaled): azure-identity caches tokens by real time. Negative issues expired tokens.
    "token_lifetime_s": 3599.0,
    # Items per page of the API Management service lists (ARM pages long lists and links the next page with
    # nextLink); small values let tests prove clients follow the links.
    "list_page_size": 100.0,
    # ARM's token buckets per subscription, principal and kind (emulator/throttle.py); wall-clock seconds. The
    # remaining count is always sent in x-ms-ratelimit-remaining-subscription-* headers; 429s only with enforce=1.
    "throttle_enforce": 0.0,
    "throttle_reads_bucket": 250.0,
    "throttle_reads_refill_per_s": 25.0,
    "throttle_writes_bucket": 200.0,
    "throttle_writes_refill_per_s": 10.0,
    "throttle_deletes_bucket": 200.0,
    "throttle_deletes_refill_per_s": 10.0,
}


def new_guid() -> str:
    """A fresh lower-case GUID, as Azure generates for object ids, principal ids and operation ids."""
    return str(uuid.uuid4())


class World:
    """All state of the local Azure; every access goes through `lock`."""

    def __init__(self, tenant_id: Optional[str] = None, subscription_id: Optional[str] = None) -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id or new_guid()
        self._primary_subscription = subscription_id or new_guid()
        # A second subscription of the same tenant (fleets span subscriptions); seeded through
        # `second_subscription:` in a world file, `{subscription_id_2}` in strings. While a request addressed to it is
        # served (or while seeding it), `subscription_id` names it for that thread, so every provider builds ids,
        # operation URLs and role definition ids in the subscription the request named.
        self.second_subscription_id = new_guid()
        self._current = threading.local()
        self.config: dict[str, float] = dict(DEFAULT_CONFIG)
        self.resources: dict[str, dict] = {}
        self.principals: dict[str, dict] = {}
        self.operations: dict[str, Operation] = {}
        self.requests: list[dict] = []
        self.faults: list[dict] = []
        self.location = "westeurope"
        self.base_url = ""  # set by the server once bound (seeding uses it for the local OIDC issuer)
        self._real_base = time.monotonic()
        self._azure_base = 0.0
        self._epoch = time.time()
        self.automation: dict[str, Any] = {}
        self.hooks_on_reset: list[Callable[["World"], None]] = []
        # Every access token handed out (kept across resets): the secrets oracle of the test suite searches run
        # output for them. Only `/_admin/tokens` exposes them.
        self.issued_tokens: list[str] = []

    # --- clock -------------------------------------------------------------------------------------------------

    def now(self) -> float:
        """Azure seconds since the world started (the scaled clock)."""
        scale = self.config.get("time_scale", 1.0) or 1.0
        return self._azure_base + (time.monotonic() - self._real_base) / scale

    def rebase_clock(self) -> None:
        """Freeze the current Azure time before `time_scale` changes so the clock never jumps."""
        current = self.now()
        self._azure_base = current
        self._real_base = time.monotonic()

    def set_config(self, values: dict[str, Any]) -> dict[str, float]:
        """Update config values (durations, latency, time scale); `advance_s` moves the clock forward."""
        with self.lock:
            self.rebase_clock()
            for key, val in values.items():
                if key == "advance_s":
                    self._azure_base += float(val)
                elif key in DEFAULT_CONFIG:
                    self.config[key] = float(val)
                else:
                    raise KeyError(key)
            self.tick()
            return dict(self.config)

    def iso(self, azure_seconds: Optional[float] = None) -> str:
        """An ISO-8601 UTC timestamp for a point on the Azure clock (default: now)."""
        seconds = self.now() if azure_seconds is None else azure_seconds
        stamp = self._epoch + seconds
        frac = int((stamp % 1) * 10_000_000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{frac:07d}Z"

    def wallclock(self, azure_seconds: Optional[float] = None) -> float:
        """Unix time for a point on the Azure clock (used for token exp/iat)."""
        seconds = self.now() if azure_seconds is None else azure_seconds
        return self._epoch + seconds

    # --- resources ---------------------------------------------------------------------------------------------

    def get(self, resource_id: str) -> Optional[dict]:
        """The stored body for an ARM id (case-insensitive), or None."""
        return self.resources.get(resource_id.lower().rstrip("/"))

    def put(self, resource_id: str, body: dict) -> dict:
        """Store a resource body under its ARM id; returns the stored body."""
        self.resources[resource_id.lower().rstrip("/")] = body
        return body

    def delete(self, resource_id: str) -> Optional[dict]:
        """Remove a resource and everything nested under it; returns the removed body."""
        key = resource_id.lower().rstrip("/")
        removed = self.resources.pop(key, None)
        for other in [k for k in self.resources if k.startswith(key + "/")]:
            del self.resources[other]
        return removed

    def children(self, parent_id: str, type_: str) -> list[dict]:
        """Direct children of `parent_id` whose type is `type_` (e.g. `Microsoft.Network/virtualNetworks/subnets`)."""
        prefix = parent_id.lower().rstrip("/") + "/"
        depth = prefix.count("/") + 1
        return [
            body
            for key, body in self.resources.items()
            if key.startswith(prefix) and key.count("/") == depth and str(body.get("type", "")).lower() == type_.lower()
        ]

    def list(self, type_: str, under: str = "") -> list[dict]:
        """Every resource of `type_` whose id starts with the scope prefix `under`."""
        prefix = under.lower().rstrip("/")
        return [
            body
            for key, body in self.resources.items()
            if str(body.get("type", "")).lower() == type_.lower() and (not prefix or key.startswith(prefix + "/"))
        ]

    def iter_resources(self) -> Iterator[dict]:
        """All stored bodies (a snapshot list, safe to mutate the world while iterating)."""
        return iter(list(self.resources.values()))

    # --- Entra principals ----------------------------------------------------------------------------------------

    def new_principal(
        self,
        display_name: str,
        kind: str = "ManagedIdentity",
        client_secret: Optional[str] = None,
        object_id: Optional[str] = None,
        app_id: Optional[str] = None,
    ) -> dict:
        """Register an Entra service principal (an app registration or a managed identity) and return it.

        The returned dict has `principal_id` (= object id) and `client_id` (= app id) for convenience.
        """
        oid = object_id or new_guid()
        principal = {
            "object_id": oid,
            "principal_id": oid,
            "app_id": app_id or new_guid(),
            "display_name": display_name,
            "kind": kind,
            "created_at": self.now(),
            "client_secret": client_secret,
        }
        principal["client_id"] = principal["app_id"]
        self.principals[oid] = principal
        return principal

    def principal_by_app_id(self, app_id: str) -> Optional[dict]:
        """The principal whose application (client) id is `app_id`."""
        for principal in self.principals.values():
            if principal["app_id"].lower() == str(app_id).lower():
                return principal
        return None

    def remove_principal(self, object_id: str) -> None:
        """Delete a principal (a managed identity going away with its resource)."""
        self.principals.pop(object_id, None)

    # --- long-running operations ---------------------------------------------------------------------------------

    def start_operation(
        self,
        resource_id: str,
        duration_s: float,
        on_done: Optional[Callable[["World"], Optional[dict]]] = None,
        error: Optional[dict] = None,
        namespace: Optional[str] = None,
        result: Optional[Callable[["World"], tuple[int, Any]]] = None,
    ) -> Operation:
        """Start an operation that finishes `duration_s` Azure seconds from now.

        `on_done(world)` runs under the lock when it completes; returning an error dict (`{"code", "message"}`)
        fails the operation. A preset `error` fails it regardless.
        """
        op_id = new_guid()
        ns = namespace or _namespace_of(resource_id)
        now = self.now()
        op = Operation(
            id=op_id,
            resource_id=resource_id,
            started=now,
            due=now + max(0.0, float(duration_s)),
            on_done=on_done,
            error=error,
            namespace=ns,
            location=self.location,
            result=result,
        )
        self.operations[op_id] = op
        if duration_s <= 0:
            self.tick()
        return op

    def tick(self) -> None:
        """Complete every operation whose due time has passed, in due order."""
        with self.lock:
            now = self.now()
            due = [op for op in self.operations.values() if not op.done and op.due <= now]
            for op in sorted(due, key=lambda o: o.due):
                self._finish(op)

    def _finish(self, op: Operation) -> None:
        outcome = op.on_done(self) if op.on_done else None
        op.ended = op.due
        if op.error or outcome:
            op.status = "Failed"
            op.error = op.error or outcome
        else:
            op.status = "Succeeded"

    def pending_operations(self, resource_id: str) -> list[Operation]:
        """Operations still running on a resource (used for 409 'service is being updated' checks)."""
        key = resource_id.lower()
        return [op for op in self.operations.values() if not op.done and op.resource_id.lower() == key]

    # --- snapshots -----------------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for /_admin/state; secret values masked, private bookkeeping kept (it helps tests)."""
        with self.lock:
            self.tick()
            return {
                "tenant_id": self.tenant_id,
                "subscription_id": self._primary_subscription,
                "second_subscription_id": self.second_subscription_id,
                "now": self.now(),
                "config": dict(self.config),
                "resources": mask_secrets(copy.deepcopy(self.resources)),
                "principals": {
                    oid: {k: (MASK if k == "client_secret" and v else v) for k, v in p.items()}
                    for oid, p in self.principals.items()
                },
                "operations": {
                    op_id: {
                        "resource_id": op.resource_id,
                        "status": op.status,
                        "started": op.started,
                        "due": op.due,
                        "error": op.error,
                    }
                    for op_id, op in self.operations.items()
                },
            }

    def clear(self) -> None:
        """Drop every resource, principal, operation, logged request and fault rule; keep ids and config."""
        with self.lock:
            self.resources.clear()
            self.principals.clear()
            self.operations.clear()
            self.requests.clear()
            self.faults.clear()

    def load(self, world_dict: dict[str, Any]) -> dict[str, Any]:
        """Seed this world from a world description (see `emulator.admin.seed_world`); returns what was created."""
        from emulator import admin  # local import: seeding builds provider bodies, which import world

        with self.lock:
            return admin.seed_world(self, world_dict)

    # --- convenience ---------------------------------------------------------------------------------------------

    @property
    def subscription_id(self) -> str:
        """The subscription of the request this thread serves (the first one outside requests)."""
        return getattr(self._current, "subscription", None) or self._primary_subscription

    @subscription_id.setter
    def subscription_id(self, value: str) -> None:
        self._primary_subscription = value

    def subscriptions(self) -> tuple[str, str]:
        """Ids of the subscriptions this tenant holds (lower case)."""
        return self._primary_subscription.lower(), self.second_subscription_id.lower()

    def serve_subscription_of(self, path: Optional[str]) -> None:
        """Make `subscription_id` the second subscription for this thread when `path` addresses it; None resets."""
        parts = (path or "").strip("/").split("/")
        second = len(parts) > 1 and parts[0].lower() == "subscriptions" and \
            parts[1].lower() == self.second_subscription_id.lower()
        self._current.subscription = self.second_subscription_id if second else None

    @contextmanager
    def in_second_subscription(self) -> Iterator[None]:
        """Seeding helper: resources built inside land in the second subscription."""
        with self.lock:
            self._current.subscription = self.second_subscription_id
            try:
                yield
            finally:
                self._current.subscription = None

    def subscription_scope(self) -> str:
        """`/subscriptions/<id>`."""
        return f"/subscriptions/{self.subscription_id}"

    def rg_id(self, resource_group: str) -> str:
        """The ARM id of a resource group in this world's subscription."""
        return f"{self.subscription_scope()}/resourceGroups/{resource_group}"


def _namespace_of(resource_id: str) -> str:
    """The provider namespace in an ARM id (the segment after the last `providers`)."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" in lowered:
        idx = len(lowered) - 1 - lowered[::-1].index("providers")
        if idx + 1 < len(parts):
            return parts[idx + 1]
    return "Microsoft.Resources"
