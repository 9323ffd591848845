# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Waiting for Azure long-running operations within the task deadline, and adopting in-flight ones."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional

from ._errors import AzureApimError, hint_for
from ._retry import Deadline

# provisioningState values that mean "an operation is still running on this resource". APIM goes
# Created -> Activating -> Succeeded on create, Updating on changes, Deleting/Terminating on delete;
# Key Vault shows RegisteringDns right after a create; named values report InProgress.
TRANSITIONAL_STATES = frozenset(
    {
        "accepted", "activating", "created", "creating", "deleting", "inprogress", "migrating",
        "provisioning", "registeringdns", "running", "terminating", "updating", "upgrading",
    }
)

# Re-reads while waiting for a running operation start quickly (short operations such as a named value or a
# Key Vault DNS registration finish in seconds) and back off to one read every 10 s (APIM changes take minutes).
FIRST_SETTLE_INTERVAL = 1.0
DEFAULT_SETTLE_INTERVAL = 10.0


class OperationStillRunning(AzureApimError):
    """The deadline passed while Azure was still working; the operation itself carries on."""


def provisioning_state(resource: Optional[Dict[str, Any]]) -> Optional[str]:
    """provisioning_state of a plain-dict resource (snake_case or ARM camelCase, top level or under properties)."""
    if not resource:
        return None
    for source in (resource, resource.get("properties") or {}):
        for key in ("provisioning_state", "provisioningState"):
            if source.get(key):
                return str(source[key])
    return None


def is_transitional(state: Optional[str]) -> bool:
    """True when the state says an operation is still running."""
    return (state or "").replace(" ", "").lower() in TRANSITIONAL_STATES


def still_running(what: str, state: Optional[str], deadline: Deadline) -> OperationStillRunning:
    """The timeout error, worded so the user knows nothing is lost and what to do."""
    return OperationStillRunning(
        "{0} is still {1} after {2:.0f} s; the operation continues in Azure; re-run the task to wait for it".format(
            what, state or "in progress", deadline.elapsed()
        ),
        code="OperationStillRunning",
        hint=hint_for(None, "OperationStillRunning", what),
        provisioning_state=state,
    )


def wait_poller(poller: Any, deadline: Deadline, what: str) -> Any:
    """Wait for an azure-core LROPoller within the deadline; return its result or raise OperationStillRunning."""
    remaining = deadline.remaining()
    poller.wait(None if remaining == float("inf") else remaining)
    if not poller.done():
        raise still_running(what, _poller_state(poller), deadline)
    return poller.result()


def _poller_state(poller: Any) -> Optional[str]:
    try:
        return poller.status()
    except Exception:  # status() is informational only; the message still makes sense without it
        return None


def wait_until_settled(
    read_fn: Callable[[], Optional[Dict[str, Any]]],
    deadline: Deadline,
    what: str,
    *,
    interval: float = DEFAULT_SETTLE_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    state_of: Callable[[Optional[Dict[str, Any]]], Optional[str]] = provisioning_state,
) -> Optional[Dict[str, Any]]:
    """Read the resource until no operation runs on it (modules call this before writing).

    Returns the settled resource, or None when it does not exist (or vanished while deleting).
    A resource in Failed state counts as settled: the module may write to repair it.
    """
    current = read_fn()
    delay = min(FIRST_SETTLE_INTERVAL, interval)
    while current is not None and is_transitional(state_of(current)):
        if deadline.remaining() <= 0:
            raise still_running(what, state_of(current), deadline)
        sleep(deadline.cap(delay))
        delay = min(delay * 2, interval)
        current = read_fn()
    return current


def polling_kwargs(interval: float) -> Dict[str, Any]:
    """Keyword arguments for SDK ``begin_*`` calls: poll at ``interval`` when the server sends no Retry-After.

    The SDK keeps building its own ARMPolling (with each operation's final-state-via option);
    Retry-After values are capped by the pipeline (see _retry.make_retry_after_cap_policy).
    """
    return {"polling_interval": interval}


def status_lost(what: str, err: AzureApimError) -> AzureApimError:
    """Azure accepted the write, then its operation-status URL answered 404: the operation record is gone (ARM keeps
    them for a limited time, and a front end may lose one), not the resource. The change may have been applied."""
    return AzureApimError(
        "Azure accepted {0}, then lost track of the operation (its status URL answered 404); the change may well "
        "have been applied".format(what),
        status=404, code="OperationStatusLost", request_id=err.request_id,
        hint="re-run the task: it reads the resource and reports or completes what is missing")
