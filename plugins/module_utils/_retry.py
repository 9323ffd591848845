# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Deadline per task, a Retry-After cap for azure-core, and named retries for Azure's domain-transient errors."""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, FrozenSet, Optional, Sequence, Tuple, TypeVar

from ._errors import AzureApimError, code_of, message_of, status_of

T = TypeVar("T")

DEFAULT_RETRY_AFTER_CAP = 60.0


class Deadline:
    """Wall-clock budget of one task (the ``timeout`` option); ``None`` means no limit."""

    def __init__(self, timeout: Optional[float], clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self._start = clock()

    def elapsed(self) -> float:
        """Seconds since the task started."""
        return self._clock() - self._start

    def remaining(self) -> float:
        """Seconds left (infinity without a timeout, never negative)."""
        if self.timeout is None:
            return math.inf
        return max(0.0, self.timeout - self.elapsed())

    def expired(self) -> bool:
        """True when no time is left."""
        return self.remaining() <= 0

    def cap(self, seconds: float) -> float:
        """``seconds`` shortened so a sleep never runs past the deadline."""
        return max(0.0, min(seconds, self.remaining()))


def capped_retry_after(value: Optional[float], cap: float, deadline: Optional[Deadline]) -> Optional[float]:
    """A server's Retry-After limited to ``cap`` and to the time left; None stays None."""
    if value is None:
        return None
    capped = min(float(value), cap)
    return deadline.cap(capped) if deadline is not None else max(0.0, capped)


def make_retry_policy(deadline: Optional[Deadline], cap: float = DEFAULT_RETRY_AFTER_CAP, **kwargs: Any) -> Any:
    """An azure-core RetryPolicy whose sleeps (Retry-After or backoff) honour ``cap`` and the deadline."""
    from azure.core.pipeline.policies import RetryPolicy

    class CappedRetryPolicy(RetryPolicy):
        """RetryPolicy that never sleeps longer than the cap nor past the task deadline."""

        def get_retry_after(self, response: Any) -> Optional[float]:
            return capped_retry_after(super().get_retry_after(response), cap, deadline)

        def get_backoff_time(self, settings: Any) -> float:
            backoff = min(super().get_backoff_time(settings), cap)
            return deadline.cap(backoff) if deadline is not None else backoff

        def is_retry(self, settings: Any, response: Any) -> bool:
            if deadline is not None and deadline.expired():
                return False
            return super().is_retry(settings, response)

        def is_exhausted(self, settings: Any) -> bool:
            # A transport error (connection refused or reset, read timeout) is retried without is_retry(): past the
            # deadline no further attempt starts, whatever retries are left.
            if deadline is not None and deadline.expired():
                return True
            return super().is_exhausted(settings)

        def _configure_timeout(self, request: Any, absolute_timeout: float, is_response_error: bool) -> None:
            # Called before every attempt. A server that accepts the connection and never answers would otherwise
            # hold the task for the transport's read timeout (300 s) past its deadline, and an address that never
            # accepts for its connection timeout (300 s): no attempt may wait longer than the time left plus grace.
            super()._configure_timeout(request, absolute_timeout, is_response_error)
            if deadline is not None and deadline.timeout is not None:
                bound_attempt(request.context, deadline)

    return CappedRetryPolicy(**kwargs)


# Bounds of one attempt's connect and read timeouts near the deadline: never below the floor (a slow but healthy
# answer still arrives), never more than the grace past the deadline. Both stay below the default LRO polling
# interval, so a task ends at most one poll interval after its timeout.
READ_TIMEOUT_FLOOR = 2.0
READ_TIMEOUT_GRACE = 2.0
# azure-core's transports connect and read for at most 300 s each by default.
DEFAULT_READ_TIMEOUT = 300.0


def attempt_limit(deadline: Deadline) -> float:
    """Longest one attempt may wait to connect, or for an answer, at this point of the task."""
    return max(READ_TIMEOUT_FLOOR, deadline.remaining() + READ_TIMEOUT_GRACE)


def bound_attempt(context: Any, deadline: Deadline) -> None:
    """Shorten the connect and read timeouts of the next attempt (a pipeline context) to ``attempt_limit``."""
    limit = attempt_limit(deadline)
    config = getattr(context.transport, "connection_config", None)
    for option, attribute in (("read_timeout", "read_timeout"), ("connection_timeout", "timeout")):
        current = context.options.get(option) or getattr(config, attribute, None) or DEFAULT_READ_TIMEOUT
        if isinstance(current, (int, float)):
            context.options[option] = min(float(current), limit)


RETRY_AFTER_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms", "Retry-After")


def make_retry_after_cap_policy(deadline: Optional[Deadline], cap: float = DEFAULT_RETRY_AFTER_CAP) -> Any:
    """A pipeline policy that shortens Retry-After headers in responses before anything reads them.

    azure-core's LRO polling sleeps for whatever Retry-After says (APIM has been seen to send
    minutes); placed after the RetryPolicy, this caps both retry and polling waits in one place.
    A value that is neither seconds nor an HTTP date is removed: azure-core would raise "Invalid HTTP
    date" on it and end the task; without the header the default backoff / polling interval applies.
    """
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class RetryAfterCapPolicy(SansIOHTTPPolicy):
        """Caps Retry-After (and its millisecond variants) to ``cap`` and to the time left."""

        def on_response(self, request: Any, response: Any) -> None:
            cap_retry_after_headers(response.http_response.headers, cap, deadline)

    return RetryAfterCapPolicy()


def cap_retry_after_headers(headers: Any, cap: float, deadline: Optional[Deadline]) -> None:
    """Rewrite the Retry-After headers of a response in place: capped, or removed when unparsable."""
    for name in RETRY_AFTER_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        scale = 1000.0 if name.lower().endswith("-ms") else 1.0
        seconds = parse_retry_after(value, scale)
        if seconds is None:
            del headers[name]
            continue
        capped = capped_retry_after(seconds, cap, deadline)
        if capped is not None and (capped < seconds or str(value).strip() != _plain(seconds * scale)):
            headers[name] = _plain(capped * scale)


def _plain(value: float) -> str:
    # Whole seconds as Azure sends them; a fraction (a cap at the time left, or the local Azure's scaled waits) is
    # kept to the millisecond: azure-core reads the header as a float, and rounding it up to a whole second made
    # every poll of a short operation notice its end up to a second late.
    rounded = round(float(value), 3)
    return str(int(rounded)) if rounded.is_integer() else "{0:.3f}".format(rounded).rstrip("0")


def parse_retry_after(value: Any, scale: float = 1.0) -> Optional[float]:
    """Seconds from a Retry-After value: a non-negative number (``scale`` units per second) or an HTTP date
    (one in the past gives 0). Anything else (garbage, NaN, infinity, negative numbers) gives None."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return _seconds_until(text)
    if math.isnan(number) or math.isinf(number) or number < 0:
        return None
    return number / scale


def _seconds_until(text: str) -> Optional[float]:
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 7231 dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


@dataclass(frozen=True)
class TransientKind:
    """A class of Azure error that goes away by itself and is safe to retry after a pause."""

    name: str
    statuses: FrozenSet[int]
    codes: FrozenSet[str] = field(default_factory=frozenset)  # lower-cased; empty = any code
    why: str = ""
    # Lower-cased fragments, one of which the message must contain; for generic codes such as "Conflict".
    messages: FrozenSet[str] = field(default_factory=frozenset)

    def matches(self, err: BaseException) -> bool:
        """True when ``err`` is of this kind."""
        if status_of(err) not in self.statuses:
            return False
        if self.codes and (code_of(err) or "").lower() not in self.codes:
            return False
        if self.messages:
            text = message_of(err).lower()
            return any(fragment in text for fragment in self.messages)
        return True


# APIM answers 409 while another operation on the same service or entity is running
# (PessimisticConcurrencyConflict, "Operation on the API is in progress"); generic ARM
# resource providers say AnotherOperationInProgress / OperationInProgress for the same thing.
APIM_OPERATION_IN_PROGRESS = TransientKind(
    "apim_operation_in_progress",
    frozenset({409}),
    frozenset({"pessimisticconcurrencyconflict", "anotheroperationinprogress", "operationinprogress", "serviceupdating"}),
    "API Management is busy with another operation",
)

# A write to the service itself while an earlier update is still running is answered 409 with the generic code
# Conflict ("The API Management service '...' is transitioning at this moment ... Please try the request again
# later"); only the message tells it apart from other conflicts, so the message is part of the match.
APIM_SERVICE_TRANSITIONING = TransientKind(
    "apim_service_transitioning",
    frozenset({409}),
    frozenset({"conflict"}),
    "API Management is still applying an earlier update to the service",
    frozenset({"transitioning", "try the request again later", "is being updated", "in progress"}),
)

# A new identity's service principal takes a while to replicate across Entra ID; until it has,
# role assignment creation answers 400 PrincipalNotFound.
PRINCIPAL_NOT_FOUND = TransientKind(
    "principal_not_found",
    frozenset({400, 404}),
    frozenset({"principalnotfound"}),
    "the new identity's service principal has not replicated in Entra ID yet",
)

# Key Vault rejects concurrent writes to the same vault (access policies, properties) with
# 409 ConflictError; the first writer wins and the others may simply retry.
KEYVAULT_CONFLICT = TransientKind(
    "keyvault_conflict",
    frozenset({409}),
    frozenset({"conflicterror", "conflict"}),
    "Key Vault is applying another change to the vault",
)

# azure-core retries 429 on every method only when the server sends Retry-After; a 429 without
# it on PATCH/POST surfaces as an error. Those requests are replayed here with backoff.
THROTTLED = TransientKind("throttled", frozenset({429}), frozenset(), "Azure throttled the requests")

# 412 Precondition Failed: a write carried the ETag (If-Match) of the read it was merged from and another writer
# changed the resource in between. Never a kind for retrying the same request: only for re-running the whole
# read -> merge -> write cycle (ResourceSpec.rerun_on), so the other writer's change is merged, not overwritten.
SERVICE_CHANGED = TransientKind(
    "resource_changed", frozenset({412}), frozenset(),
    "another writer changed the resource since it was read",
)

# Deliberately absent from DEFAULT_KINDS: 412 Precondition Failed (ETag race). Retrying the same write cannot
# succeed; the caller re-reads, re-merges and writes again.
# A single request is replayed only when it was rejected without effect and its body does not
# depend on what was read: throttling. "Busy" conflicts are handled a level up, by _state.ensure
# re-running read -> merge -> write, so another writer's change is merged instead of overwritten.
DEFAULT_KINDS: Tuple[TransientKind, ...] = (THROTTLED,)


def classify(err: BaseException, kinds: Sequence[TransientKind]) -> Optional[TransientKind]:
    """The first kind in ``kinds`` matching ``err``, else None."""
    for kind in kinds:
        if kind.matches(err):
            return kind
    return None


def backoff_delays(base: float = 2.0, cap: float = 30.0, rng: Callable[[], float] = random.random):
    """Endless full-jitter exponential delays: each in [base/2 .. min(cap, base*2**n)]."""
    attempt = 0
    while True:
        ceiling = min(cap, base * (2 ** attempt))
        yield max(base / 2.0, ceiling * rng())
        attempt += 1


def retry_transient(
    fn: Callable[[], T],
    deadline: Deadline,
    kinds: Sequence[TransientKind] = DEFAULT_KINDS,
    *,
    what: str = "the request",
    sleep: Callable[[float], None] = time.sleep,
    delays: Optional[Any] = None,
    on_retry: Optional[Callable[[TransientKind, BaseException, float], None]] = None,
) -> T:
    """Call ``fn``; retry it after a jittered pause while it fails with one of ``kinds`` and time is left."""
    delays = delays if delays is not None else backoff_delays()
    while True:
        try:
            return fn()
        except Exception as err:  # only errors of the given kinds are retried; the rest re-raised
            kind = classify(err, kinds)
            if kind is None:
                raise
            pause = next(delays)
            if deadline.remaining() <= pause:
                raise _gave_up(err, kind, deadline, what) from err
            if on_retry is not None:
                on_retry(kind, err, pause)
            sleep(pause)


def _gave_up(err: BaseException, kind: TransientKind, deadline: Deadline, what: str) -> AzureApimError:
    return AzureApimError(
        "{0} still failed after {1:.0f} s (the next retry would pass the task's timeout of {2:.0f} s) because {3} "
        "({4}): {5}".format(
            what[:1].upper() + what[1:], deadline.elapsed(), deadline.timeout or 0, kind.why, kind.name,
            getattr(err, "msg", None) or err,
        ),
        status=status_of(err),
        code=code_of(err),
        request_id=getattr(err, "request_id", None),
        hint="re-run the task later, or raise 'timeout' to wait longer",
    )


# Answers azure-core's retry policy would have retried had time been left: when the deadline stopped the retries,
# the deadline is the news (the last answer is shown after it).
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSPORT_ERROR_CODES = frozenset({"ServiceRequestError", "ServiceResponseError"})


def gave_up_at_deadline(err: AzureApimError) -> bool:
    return err.status in RETRIED_STATUSES or err.code in TRANSPORT_ERROR_CODES


def past_deadline(what: str, deadline: Any, err: AzureApimError) -> AzureApimError:
    """The task's timeout ended the retries of a request Azure kept failing (or never answered)."""
    return AzureApimError(
        "{0} did not succeed within the task's timeout of {1:.0f} s; the last answer was: {2}".format(
            what[:1].upper() + what[1:], deadline.timeout or 0, err.msg),
        status=err.status, code=err.code, request_id=err.request_id,
        hint="re-run the task (it reads before it writes, so a write that did arrive is not repeated), or raise "
             "'timeout' when Azure is this slow")
