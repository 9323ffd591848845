"""Azure Resource Manager's request throttling: a token bucket per subscription, calling principal and kind of
request (reads, writes, deletes), as Microsoft documents it ("Understand how Azure Resource Manager throttles
requests"): a bucket of 250 reads refilled at 25 per second, 200 writes and 200 deletes refilled at 10 per second.

Every ARM response carries what is left in ``x-ms-ratelimit-remaining-subscription-reads`` / ``-writes`` /
``-deletes``. With ``throttle_enforce`` set in the config, a request that finds its bucket empty is answered 429
``SubscriptionRequestsThrottled`` with ``Retry-After`` (seconds until a token is back) and costs nothing. Buckets run on
wall-clock time (never scaled): clients sleep in real seconds. Sizes and rates are config keys, so tests and the bench
can make the limit reachable with a few hundred requests.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Optional

from emulator.world import World

HEADERS = {"reads": "x-ms-ratelimit-remaining-subscription-reads",
           "writes": "x-ms-ratelimit-remaining-subscription-writes",
           "deletes": "x-ms-ratelimit-remaining-subscription-deletes"}

_lock = threading.Lock()


def kind_of(method: str, is_write: bool) -> str:
    """reads | writes | deletes."""
    if method.upper() == "DELETE":
        return "deletes"
    return "writes" if is_write else "reads"


def _buckets(w: World) -> dict:
    if not hasattr(w, "_throttle_buckets"):
        w._throttle_buckets = {}  # type: ignore[attr-defined]
    return w._throttle_buckets  # type: ignore[attr-defined]


def _limits(w: World, kind: str) -> tuple[float, float]:
    return float(w.config[f"throttle_{kind}_bucket"]), float(w.config[f"throttle_{kind}_refill_per_s"])


def take(w: World, subscription: str, principal: str, kind: str) -> tuple[bool, int, Optional[int]]:
    """Spend one token: (allowed, remaining after, Retry-After seconds when refused)."""
    size, rate = _limits(w, kind)
    now = time.monotonic()
    with _lock:
        key = (subscription.lower(), principal, kind)
        tokens, stamp = _buckets(w).get(key, (size, now))
        tokens = min(size, tokens + (now - stamp) * rate)
        if tokens < 1 and w.config.get("throttle_enforce"):
            _buckets(w)[key] = (tokens, now)
            return False, 0, max(1, math.ceil((1 - tokens) / rate)) if rate > 0 else 60
        tokens = max(0.0, tokens - 1)
        _buckets(w)[key] = (tokens, now)
        return True, int(tokens), None


def reset(w: World) -> None:
    """Full buckets (a reset world, or a config change)."""
    with _lock:
        _buckets(w).clear()


def subscription_of(path: str) -> Optional[str]:
    """The subscription a path addresses, None for tenant-level requests."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else None
