# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Slow down before Azure Resource Manager throttles, not after.

ARM limits requests per subscription and calling principal with token buckets (Microsoft, "Understand how Azure
Resource Manager throttles requests"): reads refill at 25 per second, writes and deletes at 10 per second. Every
response says how many tokens are left in ``x-ms-ratelimit-remaining-subscription-reads`` / ``-writes`` /
``-deletes``; at zero ARM answers 429 and the retry policy has to wait out ``Retry-After``. This pipeline policy
remembers the last count per subscription and kind and, when it is below a floor, sleeps just long enough for the
bucket to refill to that floor before sending the next request of that kind. The pause never runs past the task's
deadline and is capped, so a wrong count cannot stall a task.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

HEADERS: Dict[str, str] = {"reads": "x-ms-ratelimit-remaining-subscription-reads",
                           "writes": "x-ms-ratelimit-remaining-subscription-writes",
                           "deletes": "x-ms-ratelimit-remaining-subscription-deletes"}
# Tokens ARM adds back per second (the documented defaults of its token buckets).
REFILL_PER_SECOND: Dict[str, float] = {"reads": 25.0, "writes": 10.0, "deletes": 10.0}
# Below this many remaining requests the next one waits: about one second of refill, which leaves room for the
# other processes of a run (forks) that spend from the same bucket.
FLOOR: Dict[str, int] = {"reads": 25, "writes": 10, "deletes": 10}
# The longest single pause (seconds): ARM's buckets refill fully within 20 s.
MAX_PAUSE = 10.0

_lock = threading.Lock()
# (ARM host, subscription, kind) -> (remaining tokens, monotonic time the count was seen). Shared by every client of
# the process: they all spend from the same buckets.
_last_seen: Dict[Tuple[str, str, str], Tuple[int, float]] = {}


def kind_of(method: str) -> str:
    """reads | writes | deletes, as ARM counts an HTTP method (POST actions count as writes)."""
    method = method.upper()
    if method == "DELETE":
        return "deletes"
    return "reads" if method in ("GET", "HEAD") else "writes"


def _key(url: str, kind: str) -> Optional[Tuple[str, str, str]]:
    """The bucket a request spends from; None for tenant-level requests (no subscription in the path)."""
    rest = url.split("://", 1)[-1]
    host, _sep, path = rest.partition("/")
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        return None
    return host.lower(), parts[1].lower(), kind


def pause_for(remaining: int, seen_at: float, now: float, kind: str) -> float:
    """Seconds to wait so that the bucket holds FLOOR tokens again (0 when it already does)."""
    refilled = remaining + (now - seen_at) * REFILL_PER_SECOND[kind]
    if refilled >= FLOOR[kind]:
        return 0.0
    return min(MAX_PAUSE, (FLOOR[kind] - refilled) / REFILL_PER_SECOND[kind])


def remember(url: str, method: str, headers: Any, now: float) -> None:
    """Record the remaining count a response reports for its bucket."""
    kind = kind_of(method)
    key = _key(url, kind)
    value = headers.get(HEADERS[kind]) if key else None
    if value is None:
        return
    try:
        remaining = int(value)
    except ValueError:
        return
    with _lock:
        _last_seen[key] = (remaining, now)


def planned_pause(url: str, method: str, now: float) -> float:
    """How long the next request to ``url`` should wait."""
    kind = kind_of(method)
    key = _key(url, kind)
    with _lock:
        seen = _last_seen.get(key) if key else None
    return 0.0 if seen is None else pause_for(seen[0], seen[1], now, kind)


def forget() -> None:
    """Drop every remembered count (tests)."""
    with _lock:
        _last_seen.clear()


def make_throttle_policy(deadline: Any = None, sleep: Callable[[float], None] = time.sleep,
                         clock: Callable[[], float] = time.monotonic) -> Any:
    """An azure-core per-retry policy that paces requests by ARM's remaining-request headers."""
    from azure.core.pipeline.policies import HTTPPolicy

    class ThrottleAwarePolicy(HTTPPolicy):
        """Waits before a request whose bucket is nearly empty; records the count every response reports."""

        pauses = 0
        paused_seconds = 0.0

        def send(self, request: Any) -> Any:
            http_request = request.http_request
            pause = planned_pause(http_request.url, http_request.method, clock())
            if deadline is not None:
                pause = deadline.cap(pause)
            if pause > 0:
                ThrottleAwarePolicy.pauses += 1
                ThrottleAwarePolicy.paused_seconds += pause
                sleep(pause)
            response = self.next.send(request)
            remember(http_request.url, http_request.method, response.http_response.headers, clock())
            return response

    return ThrottleAwarePolicy()
