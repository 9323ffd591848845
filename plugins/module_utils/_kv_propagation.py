# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Waiting for Azure RBAC to propagate before API Management reads Key Vault through its identity.

A new role assignment (Key Vault Secrets User on an RBAC vault) is visible in ARM at once, but the Key Vault data
plane honours it only after Azure RBAC has propagated it: Microsoft documents "up to 10 minutes". Until then API
Management's own read of the secret fails with Key Vault's 403 ForbiddenByRbac, which APIM reports as a 400 on the
hostname write ("Failed to access KeyVault Secret ...") or as a failing ``keyVault.lastStatus`` on a named value.

Every module that makes APIM read Key Vault through an identity uses :func:`until_accepted`: the caller has
confirmed a grant exists (``_secret_access.secret_access``); when one of those grants is an RBAC role assignment
younger than the propagation window, the attempt is repeated with backoff until the service accepts the
reference or the task deadline passes. Access-policy grants are effective at once and are never waited for.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar

from ._errors import AzureApimError, message_of, status_of
from ._retry import Deadline, backoff_delays

T = TypeVar("T")

# Azure RBAC: "role assignment changes can take up to 10 minutes to take effect" (Microsoft Learn, Azure RBAC
# troubleshooting). Grants older than this are effective; a refusal then is a real one, not a delay.
RBAC_PROPAGATION_WINDOW_S = 600.0
# Pauses between attempts: start short (propagation often completes within a minute), never above 60 s.
FIRST_PAUSE_S = 5.0
MAX_PAUSE_S = 60.0

# How APIM words a hostname write whose Key Vault read failed (400, code InvalidOperation or BadRequest), and the
# Key Vault inner code it may quote.
_REFUSAL_FRAGMENTS = ("failed to access keyvault secret", "forbiddenbyrbac")


def _parse_time(value: Any) -> Optional[dt.datetime]:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    if "." in text:  # ARM sends 7 fractional digits; Python < 3.11 accepts at most 6
        head, tail = text.split(".", 1)
        digits = "".join(c for c in tail if c.isdigit())
        text = head + "." + digits[:6].ljust(6, "0") + tail[len(digits):]
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def young_rbac_grants(grants: Iterable[Dict[str, Any]], now: Optional[dt.datetime] = None,
                      window: float = RBAC_PROPAGATION_WINDOW_S) -> List[Dict[str, Any]]:
    """The role-assignment grants (from ``secret_access``) created less than ``window`` seconds ago, each with
    ``granted_at`` (ISO text). A grant whose creation time is unknown counts as effective."""
    now = now or dt.datetime.now(dt.timezone.utc)
    young = []
    for grant in grants:
        if grant.get("kind") != "role_assignment":
            continue
        created = _parse_time(grant.get("created_on"))
        if created is not None and (now - created).total_seconds() < window:
            young.append(dict(grant, granted_at=created.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return young


def is_keyvault_refusal(err: BaseException) -> bool:
    """True when API Management refused a write because it could not read the Key Vault secret."""
    if status_of(err) not in (400, 403):
        return False
    text = message_of(err).lower()
    return any(fragment in text for fragment in _REFUSAL_FRAGMENTS)


def propagation_timeout(what: str, grants: List[Dict[str, Any]], deadline: Deadline, attempts: int,
                        last: Optional[BaseException]) -> AzureApimError:
    """The deadline error: when the grant was made, that Azure takes up to 10 minutes, and to re-run."""
    granted = ", ".join(sorted({str(g.get("granted_at")) for g in grants}))
    return AzureApimError(
        "{0}: API Management still cannot read the Key Vault secret after {1:.0f} s ({2} attempts); the role "
        "assignment was granted at {3}, Azure RBAC can take up to 10 minutes to take effect, re-run the task "
        "later. Last answer: {4}".format(what, deadline.elapsed(), attempts, granted,
                                         (message_of(last) if last else "none")[:400]),
        status=status_of(last) if last else None, code="RbacPropagationPending",
        hint="re-run the task when 10 minutes have passed since the grant, or raise 'timeout' to wait in the task",
        granted_at=granted, role_assignments=[g.get("name") for g in grants])


def until_accepted(attempt: Callable[[], Tuple[bool, T]], grants: List[Dict[str, Any]], deadline: Deadline,
                   what: str, *, sleep: Callable[[float], None] = time.sleep, delays: Any = None,
                   on_wait: Optional[Callable[[float], None]] = None, wait_anyway: bool = False,
                   give_up: Optional[Callable[[int, Optional[BaseException]], AzureApimError]] = None) -> T:
    """Run ``attempt`` (returns ``(accepted, value)``; a Key Vault refusal may also be raised) until API
    Management accepts the Key Vault reference.

    ``grants`` are the young RBAC grants (:func:`young_rbac_grants`). Without any, and unless ``wait_anyway`` (the
    user asked to wait, e.g. named values' ``wait_for_secret``), the first answer is final: the refusal is raised,
    or ``value`` returned. Otherwise a refusal is retried with backoff while the deadline allows; then
    :func:`propagation_timeout` is raised when a young grant explains the wait, else ``give_up(attempts, last)``.
    """
    delays = delays if delays is not None else backoff_delays(FIRST_PAUSE_S, MAX_PAUSE_S)
    attempts = 0
    while True:
        attempts += 1
        last: Optional[BaseException] = None
        try:
            accepted, value = attempt()
        except AzureApimError as err:
            if not is_keyvault_refusal(err):
                raise
            accepted, value, last = False, None, err  # type: ignore[assignment]
        if accepted:
            return value  # type: ignore[return-value]
        if not grants and not wait_anyway:
            if last is not None:
                raise last
            return value  # type: ignore[return-value]
        pause = next(delays)
        if deadline.remaining() <= pause:
            if grants or give_up is None:
                raise propagation_timeout(what, grants, deadline, attempts, last)
            raise give_up(attempts, last)
        if on_wait is not None:
            on_wait(pause)
        sleep(pause)
