# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The desired-vs-current engine every module uses: read, compare, predict (check mode), apply, re-read, verify."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from ._compare import Equal, deep_merge, differences, drop_none, redact
from ._errors import AzureApimError
from ._lro import is_transitional, provisioning_state, wait_until_settled
from ._plan import unknown_after_write
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, Deadline, TransientKind, retry_transient

Resource = Dict[str, Any]
Desired = Union[Mapping[str, Any], Callable[[Optional[Resource]], Mapping[str, Any]]]


@dataclass
class ResourceSpec:
    """How to manage one resource. Every callable works on plain dicts (see the per-service helpers).

    ``read()`` returns the resource or None when absent (404 only). ``create(desired)`` and
    ``update(current, desired, changed_paths)`` perform the write and wait for it; ``delete(current)``
    removes it. ``predict(current, desired)`` gives the check-mode view of the result (default: merge).
    """

    what: str
    read: Callable[[], Optional[Resource]]
    create: Optional[Callable[[Resource], Any]] = None
    update: Optional[Callable[[Resource, Resource, List[str]], Any]] = None
    delete: Optional[Callable[[Resource], Any]] = None
    predict: Optional[Callable[[Optional[Resource], Resource], Resource]] = None
    comparators: Mapping[str, Equal] = field(default_factory=dict)
    secret_keys: Iterable[str] = ()
    settle: bool = True  # wait for a running operation before writing (adopt in-flight work)
    # Errors after which the whole read -> merge -> write cycle runs again (never the stale write alone).
    rerun_on: Sequence[TransientKind] = (APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING)
    # A synchronous ARM PUT/PATCH answers with the resource as stored; when create/update return that plain dict,
    # verify it instead of reading the resource again (one GET less per write). Long-running writes keep re-reading.
    verify_with_response: bool = False
    # Write-only values (a secret named value, a logger's connection string: Azure never returns them, so nothing
    # can compare them). When everything else matches, ``resend(current, wanted)`` names the paths to write anyway
    # (the user asked for the value to be set on every run); an empty list means no write.
    resend: Optional[Callable[[Resource, Resource], List[str]]] = None


@dataclass
class Outcome:
    """What happened: before/after views of the resource and whether anything changed."""

    changed: bool
    before: Optional[Resource]
    after: Optional[Resource]
    changed_paths: List[str] = field(default_factory=list)

    def result(self, key: str, secret_keys: Iterable[str] = ()) -> Dict[str, Any]:
        """Module result: ``changed``, ``<key>`` (the resource or {}), ``diff`` — secrets redacted."""
        secret_keys = list(secret_keys)
        return {
            "changed": self.changed,
            key: redact(self.after or {}, secret_keys),
            "diff": {"before": redact(self.before or {}, secret_keys), "after": redact(self.after or {}, secret_keys)},
        }


def ensure(spec: ResourceSpec, state: str, desired: Desired, *, check_mode: bool, deadline: Deadline,
           sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Bring the resource to ``state`` ('present' or 'absent'); in check mode nothing is written.

    When a write meets another operation in progress (``spec.rerun_on``), the cycle starts again from a
    fresh read, so what another writer changed meanwhile is merged rather than overwritten.
    """
    if check_mode or not spec.rerun_on:
        return _ensure_once(spec, state, desired, check_mode, deadline)
    return retry_transient(lambda: _ensure_once(spec, state, desired, False, deadline), deadline, spec.rerun_on,
                           what="changing " + spec.what, sleep=sleep)


def _ensure_once(spec: ResourceSpec, state: str, desired: Desired, check_mode: bool, deadline: Deadline) -> Outcome:
    current = wait_until_settled(spec.read, deadline, spec.what) if spec.settle else spec.read()
    if state == "absent":
        return _ensure_absent(spec, current, check_mode, deadline)
    wanted = drop_none(dict(desired(current) if callable(desired) else desired))
    if current is None:
        return _create(spec, wanted, check_mode, deadline)
    return _update(spec, current, wanted, check_mode, deadline)


def _predict(spec: ResourceSpec, current: Optional[Resource], wanted: Resource) -> Resource:
    predicted = spec.predict(current, wanted) if spec.predict else deep_merge(current, wanted)
    return unknown_after_write(predicted, created=current is None)


def _create(spec: ResourceSpec, wanted: Resource, check_mode: bool, deadline: Deadline) -> Outcome:
    if check_mode:
        return Outcome(True, None, _predict(spec, None, wanted), ["."])
    if spec.create is None:
        raise AzureApimError("{0} does not exist and this module cannot create it".format(spec.what))
    written = _write(spec, wanted, deadline, lambda: spec.create(wanted))
    return Outcome(True, None, _verify(spec, wanted, deadline, written), ["."])


def _paths_to_write(spec: ResourceSpec, current: Resource, wanted: Mapping[str, Any]) -> List[str]:
    paths = differences(wanted, current, comparators=spec.comparators)
    if not paths and spec.resend is not None:
        paths = list(spec.resend(current, dict(wanted)))
    return paths


def _update(spec: ResourceSpec, current: Resource, wanted: Resource, check_mode: bool, deadline: Deadline) -> Outcome:
    paths = _paths_to_write(spec, current, wanted)
    if not paths:
        return Outcome(False, current, current)
    if check_mode:
        return Outcome(True, current, _predict(spec, current, wanted), paths)
    if spec.update is None:
        raise AzureApimError("{0} differs in {1} and this module cannot change that".format(spec.what, ", ".join(paths)))
    written = _write(spec, wanted, deadline, lambda: spec.update(current, wanted, paths))
    return Outcome(True, current, _verify(spec, wanted, deadline, written), paths)


# The status URL of an accepted long-running write answered 404 (see _lro.status_lost).
STATUS_LOST = "OperationStatusLost"


def _write(spec: ResourceSpec, wanted: Resource, deadline: Deadline, write: Callable[[], Any]) -> Any:
    """Run the write; when Azure lost the operation's status, read the resource and judge by what it holds: the
    requested values there are a success (verified as usual), anything else is reported with what it holds."""
    try:
        return write()
    except AzureApimError as err:
        if err.code != STATUS_LOST:
            raise
        after = wait_until_settled(spec.read, deadline, spec.what) if spec.settle else spec.read()
        missing = differences(wanted, after, comparators=spec.comparators) if after is not None else ["."]
        if not missing:
            return after
        shown = [p for p in missing if not _is_secret_path(p, spec.secret_keys)] or ["(secret values)"]
        raise AzureApimError(
            "{0} Re-reading {1} shows the change was not applied ({2} differ{3}); nothing else was changed; re-run "
            "the task".format(err.msg, spec.what, ", ".join(shown), "s" if len(shown) == 1 else "")
            if after is not None else
            "{0} Re-reading {1} finds nothing there; re-run the task".format(err.msg, spec.what),
            status=err.status, code=STATUS_LOST, request_id=err.request_id,
            holds=redact(after, spec.secret_keys) if after is not None else None) from err


def _ensure_absent(spec: ResourceSpec, current: Optional[Resource], check_mode: bool, deadline: Deadline) -> Outcome:
    if current is None:
        return Outcome(False, None, None)
    if not check_mode:
        if spec.delete is None:
            raise AzureApimError("{0} exists and this module cannot delete it".format(spec.what))
        spec.delete(current)
        remaining = wait_until_settled(spec.read, deadline, spec.what) if spec.settle else spec.read()
        if remaining is not None and not is_transitional(provisioning_state(remaining)):
            raise AzureApimError(
                "Azure accepted the delete of {0} but it still exists".format(spec.what),
                hint="re-run the task; if it persists a lock or a dependent resource may block the delete",
            )
    return Outcome(True, current, None, ["."])


def _after_write(spec: ResourceSpec, deadline: Deadline, written: Any) -> Optional[Resource]:
    if spec.verify_with_response and isinstance(written, dict):
        return written
    return wait_until_settled(spec.read, deadline, spec.what) if spec.settle else spec.read()


def _verify(spec: ResourceSpec, wanted: Resource, deadline: Deadline, written: Any = None) -> Resource:
    """Check the desired values are there after the write (Azure has been seen to ignore some): in the write's
    response when the spec allows it, else in a fresh read."""
    after = _after_write(spec, deadline, written)
    if after is None:
        raise AzureApimError("Azure accepted the write but {0} cannot be read back".format(spec.what),
                             hint="re-run the task; the resource may still be propagating")
    missing = differences(wanted, after, comparators=spec.comparators)
    if missing:
        shown = [p for p in missing if not _is_secret_path(p, spec.secret_keys)] or ["(secret values)"]
        raise AzureApimError(
            "Azure accepted the write but re-reading {0} does not show the requested {1}".format(spec.what, ", ".join(shown)),
            code="VerificationFailed",
            hint="re-run the task; if it persists Azure does not support this change on the resource",
        )
    return after


def needs_write(spec: ResourceSpec, current: Optional[Resource], wanted: Mapping[str, Any]) -> bool:
    """True when ensure(state='present') would write (or, in check mode, predict a write) for ``wanted``.

    Lets a desired-state function defer work only a write needs (reading the service to check an identity is
    enabled) until it knows a write is coming.
    """
    if current is None:
        return True
    return bool(_paths_to_write(spec, current, drop_none(dict(wanted))))


def first_then_fresh(first: Optional[Resource], read: Callable[[], Any]) -> Callable[[], Any]:
    """A read function that answers ``first`` (a read the caller has just made) once, then reads Azure again: the
    re-run of a cycle after a conflict, and the read after a write, must see fresh state. ``first`` None: it always
    reads. (Lookups that only resolve something, such as an identity, use the service memo instead.)"""
    pending = [first] if first is not None else []

    def read_once() -> Any:
        return pending.pop() if pending else read()

    return read_once


def checked_before_write(spec: ResourceSpec, build: Callable[[Optional[Resource]], Mapping[str, Any]],
                         before_write: Callable[[], Any]) -> Callable[[Optional[Resource]], Mapping[str, Any]]:
    """A desired-state function that runs ``before_write`` only when a write is coming (see needs_write): e.g.
    refuse a missing service or an identity the service does not have, without reading them on a no-op."""
    def desired(current: Optional[Resource]) -> Mapping[str, Any]:
        wanted = build(current)
        if needs_write(spec, current, wanted):
            before_write()
        return wanted

    return desired


def _is_secret_path(path: str, secret_keys: Iterable[str]) -> bool:
    keys = {k.lower() for k in secret_keys}
    return any(part.lower() in keys for part in path.split("."))
