"""The desired-vs-current engine and the comparison helpers."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._compare import (
    REDACTED, ci_set_equal, deep_merge, differences, exact, id_equal, merge_tags, redact, same_items,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._lro import OperationStillRunning
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline
from ansible_collections.azure_apim.identity.plugins.module_utils._state import (
    ResourceSpec, checked_before_write, ensure, first_then_fresh,
)


class Store:
    """An in-memory resource that records every call (a write is anything but read)."""

    def __init__(self, resource=None, ignore=()):
        self.resource = resource
        self.calls = []
        self.ignore = ignore  # keys Azure silently drops

    def read(self):
        self.calls.append("read")
        return None if self.resource is None else dict(self.resource)

    def create(self, wanted):
        self.calls.append("create")
        self.resource = {k: v for k, v in wanted.items() if k not in self.ignore}
        return dict(self.resource)

    def update(self, current, wanted, paths):
        self.calls.append(("update", tuple(paths)))
        self.resource = deep_merge(current, {k: v for k, v in wanted.items() if k not in self.ignore})
        return dict(self.resource)

    def delete(self, current):
        self.calls.append("delete")
        self.resource = None

    def writes(self):
        return [c for c in self.calls if c != "read"]

    def spec(self, **kwargs):
        return ResourceSpec(what="thing t1", read=self.read, create=self.create, update=self.update, delete=self.delete,
                            **kwargs)


def run(store, state="present", desired=None, check=False, **spec_kwargs):
    return ensure(store.spec(**spec_kwargs), state, desired or {}, check_mode=check, deadline=Deadline(60))


@pytest.mark.parametrize("initial, state, desired, changed", [
    (None, "present", {"a": 1}, True),
    ({"a": 1, "b": 2}, "present", {"a": 1}, False),
    ({"a": 1}, "present", {"a": 2}, True),
    ({"a": 1}, "absent", {}, True),
    (None, "absent", {}, False),
])
def test_check_mode_predicts_with_zero_writes(initial, state, desired, changed):
    store = Store(initial)
    outcome = run(store, state, desired, check=True)
    assert outcome.changed is changed
    assert store.writes() == []
    applied = run(Store(initial), state, desired)
    assert applied.changed is changed
    assert outcome.after == applied.after  # the prediction is what applying gives


def test_unset_options_are_untouched():
    store = Store({"a": 1, "b": {"x": 1, "y": 2}})
    outcome = run(store, desired={"a": None, "b": {"x": 1, "y": None}})
    assert outcome.changed is False and store.writes() == []
    run(store, desired={"a": None, "b": {"x": 5}})
    assert store.resource == {"a": 1, "b": {"x": 5, "y": 2}}
    assert store.writes() == [("update", ("b.x",))]


def test_desired_can_depend_on_current():
    store = Store({"tags": {"foreign": "1"}})
    run(store, desired=lambda current: {"tags": merge_tags(current["tags"], {"ours": "2"}, purge=False)},
        comparators={"tags": exact})
    assert store.resource["tags"] == {"foreign": "1", "ours": "2"}


def test_diff_and_result_redact_secrets():
    store = Store({"name": "nv", "value": "old-secret", "nested": {"password": "pw"}})
    outcome = run(store, desired={"value": "new-secret"})
    result = outcome.result("named_value", secret_keys=("value", "password"))
    text = repr(result)
    for secret in ("old-secret", "new-secret", "pw"):
        assert secret not in text
    assert result["diff"]["before"]["value"] == REDACTED and result["named_value"]["nested"]["password"] == REDACTED
    assert result["changed"] is True


def test_verify_fails_when_azure_ignores_the_change():
    store = Store({"type": "None"}, ignore=("type",))
    with pytest.raises(AzureApimError) as caught:
        run(store, desired={"type": "SystemAssigned"})
    assert caught.value.code == "VerificationFailed" and "type" in caught.value.msg


def test_verify_does_not_print_secret_paths():
    store = Store({"value": "a"}, ignore=("value",))
    with pytest.raises(AzureApimError) as caught:
        run(store, desired={"value": "b"}, secret_keys=("value",))
    assert "(secret values)" in caught.value.msg


@pytest.mark.parametrize("initial, desired, calls", [
    (None, {"a": 1}, ["read", "create"]),
    ({"a": 1}, {"a": 2}, ["read", ("update", ("a",))]),
])
def test_verify_with_response_spares_the_second_read(initial, desired, calls):
    store = Store(initial)
    outcome = run(store, desired=desired, verify_with_response=True)
    assert store.calls == calls
    assert outcome.after == store.resource
    default = Store(initial)
    run(default, desired=desired)
    assert default.calls == calls + ["read"]


def test_verify_with_response_still_catches_an_ignored_change():
    store = Store({"type": "None"}, ignore=("type",))
    with pytest.raises(AzureApimError) as caught:
        run(store, desired={"type": "SystemAssigned"}, verify_with_response=True)
    assert caught.value.code == "VerificationFailed"
    assert store.calls == ["read", ("update", ("type",))]


def test_verify_with_response_rereads_when_the_write_returns_nothing():
    store = Store({"a": 1})
    store.update = lambda current, wanted, paths: store.calls.append("update-no-body") or store.resource.update(wanted)
    run(store, desired={"a": 2}, verify_with_response=True)
    assert store.calls == ["read", "update-no-body", "read"]


def test_waits_for_running_operation_before_writing():
    store = Store({"a": 1, "provisioning_state": "Updating"})
    with pytest.raises(OperationStillRunning):
        ensure(store.spec(), "present", {"a": 2}, check_mode=False, deadline=Deadline(0))
    assert store.writes() == []


def test_comparators_make_id_case_irrelevant():
    rid = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x"
    store = Store({"identity_id": rid})
    assert run(store, desired={"identity_id": rid.upper() + "/"}, comparators={"identity_id": id_equal}).changed is False


@pytest.mark.parametrize("desired, current, paths", [
    ({"a": 1}, {"a": 1, "b": 2}, []),
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}, []),
    ({"a": {"b": 1}}, {"a": {"b": 2}}, ["a.b"]),
    ({"a": [1, 2]}, {"a": [2, 1]}, ["a"]),
    ({"a": {"b": 1}}, {"a": None}, ["a"]),
    ({"a": 1, "b": 2}, {}, ["a", "b"]),
])
def test_differences(desired, current, paths):
    assert differences(desired, current) == paths


def test_merge_tags_and_redact():
    assert merge_tags({"a": "1"}, None, purge=True) is None
    assert merge_tags({"a": "1"}, {"b": "2"}, purge=False) == {"a": "1", "b": "2"}
    assert merge_tags({"a": "1"}, {"b": "2"}, purge=True) == {"b": "2"}
    assert redact([{"Secret": "x", "other": None}], ["secret"]) == [{"Secret": REDACTED, "other": None}]


def test_busy_service_reruns_the_whole_cycle_and_keeps_the_other_writers_change():
    """Scenario: 409 because another writer is changing the resource; re-read, merge, write."""
    store = Store({"entries": {"theirs-old": 1}})
    attempts = []

    def update(current, wanted, paths):
        attempts.append(dict(current))
        if len(attempts) == 1:
            store.resource = {"entries": {"theirs-old": 1, "theirs-new": 2}}  # the other writer wins the race
            raise AzureApimError("busy", status=409, code="PessimisticConcurrencyConflict")
        store.resource = deep_merge(current, wanted)

    spec = store.spec()
    spec.update = update
    slept = []
    outcome = ensure(spec, "present", lambda current: {"entries": dict(current["entries"], ours=3)},
                     check_mode=False, deadline=Deadline(60), sleep=slept.append)
    assert store.resource == {"entries": {"theirs-old": 1, "theirs-new": 2, "ours": 3}}
    assert len(attempts) == 2 and attempts[1]["entries"].get("theirs-new") == 2 and len(slept) == 1
    assert outcome.before == {"entries": {"theirs-old": 1, "theirs-new": 2}}


def test_conflicts_that_are_not_transient_fail_at_once():
    store = Store({"a": 1})

    def update(current, wanted, paths):
        raise AzureApimError("locked", status=409, code="ScopeLocked")

    spec = store.spec()
    spec.update = update
    with pytest.raises(AzureApimError, match="locked"):
        ensure(spec, "present", {"a": 2}, check_mode=False, deadline=Deadline(60), sleep=lambda s: None)


@pytest.mark.parametrize("stored, ok", [
    ({"tags": {"a": "1"}}, True),   # Azure applied the change before losing the status URL
    ({"tags": {"a": "0"}}, False),  # it did not: the error says what the resource holds
    (None, False),                  # the resource is gone
])
def test_lost_status_url_is_judged_by_what_the_resource_holds(stored, ok):
    holder = {"value": {"tags": {"a": "0"}}}

    def update(current, wanted, paths):
        holder["value"] = stored
        raise AzureApimError("Azure accepted the update, then lost track of the operation", status=404,
                             code="OperationStatusLost")

    spec = ResourceSpec(what="thing", read=lambda: holder["value"], update=update, settle=False)
    if ok:
        outcome = ensure(spec, "present", {"tags": {"a": "1"}}, check_mode=False, deadline=Deadline(60))
        assert outcome.changed and outcome.after == {"tags": {"a": "1"}}
        return
    with pytest.raises(AzureApimError) as caught:
        ensure(spec, "present", {"tags": {"a": "1"}}, check_mode=False, deadline=Deadline(60))
    assert caught.value.code == "OperationStatusLost" and "re-run" in caught.value.msg
    assert caught.value.extra.get("holds") == stored


@pytest.mark.parametrize("a, b, equal", [
    (["Get", "list"], ["list", "get"], True),
    (["get", "get"], ["GET"], True),
    (["get"], ["get", "list"], False),
    (None, [], True),
])
def test_ci_set_equal(a, b, equal):
    assert ci_set_equal(a, b) is equal


@pytest.mark.parametrize("a, b, equal", [
    (["b", "a"], ["a", "b"], True),
    (["a"], ["A"], False),
    (["a", "a"], ["a"], False),
    (None, [], True),
])
def test_same_items(a, b, equal):
    assert same_items(a, b) is equal


# -- write-only values (ResourceSpec.resend) and checked_before_write ---------------------------------------------

@pytest.mark.parametrize("resend, check, writes, changed", [
    (None, False, [], False),                                    # nothing differs, nothing to resend: no write
    (lambda current, wanted: [], False, [], False),              # the hook declines
    (lambda current, wanted: ["value"], False, [("update", ("value",))], True),  # sent again, only that path
    (lambda current, wanted: ["value"], True, [], True),         # check mode predicts it, writes nothing
])
def test_write_only_values_are_resent_only_when_the_spec_asks(resend, check, writes, changed):
    store = Store({"name": "nv", "secret": True, "value": None})
    outcome = run(store, desired={"name": "nv", "value": "s3cret"}, check=check, resend=resend,
                  comparators={"value": lambda wanted, have: have is None or wanted == have})
    assert store.writes() == writes and outcome.changed is changed
    if writes:
        assert outcome.changed_paths == ["value"]


def test_resend_is_not_asked_when_something_else_differs():
    asked = []
    store = Store({"name": "nv", "value": None})
    run(store, desired={"name": "other", "value": "s"}, resend=lambda c, w: asked.append(1) or ["value"],
        comparators={"value": lambda wanted, have: have is None or wanted == have})
    assert asked == [] and store.writes() == [("update", ("name",))]


@pytest.mark.parametrize("initial, desired, checks", [
    ({"a": 1}, {"a": 1}, 0),   # no-op: the check (e.g. a service read) is skipped
    ({"a": 1}, {"a": 2}, 1),   # an update is coming
    (None, {"a": 1}, 1),       # a create is coming
])
def test_checked_before_write_runs_the_check_only_before_a_write(initial, desired, checks):
    ran = []
    store = Store(initial)
    spec = store.spec()
    ensure(spec, "present", checked_before_write(spec, lambda current: desired, lambda: ran.append(1)),
           check_mode=True, deadline=Deadline(60))
    assert len(ran) == checks


@pytest.mark.parametrize("first, reads", [({"v": 1}, 1), (None, 2)])
def test_first_then_fresh_answers_the_callers_read_once(first, reads):
    store = Store({"v": 2})
    read = first_then_fresh(first, store.read)
    answers = [read(), read()]
    assert answers[-1] == {"v": 2} and answers[0] == (first or {"v": 2})
    assert store.calls.count("read") == reads
