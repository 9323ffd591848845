"""Pacing by ARM's x-ms-ratelimit-remaining-subscription-* headers."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _throttle
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline

SUB = "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001"


@pytest.fixture(autouse=True)
def clean():
    _throttle.forget()
    yield
    _throttle.forget()


@pytest.mark.parametrize("method, kind", [("GET", "reads"), ("head", "reads"), ("PUT", "writes"),
                                          ("PATCH", "writes"), ("POST", "writes"), ("DELETE", "deletes")])
def test_kind_of(method, kind):
    assert _throttle.kind_of(method) == kind


@pytest.mark.parametrize("remaining, elapsed, expected", [
    (100, 0.0, 0.0),    # plenty left
    (25, 0.0, 0.0),     # at the floor
    (5, 0.0, 0.8),      # 20 tokens short at 25/s
    (5, 0.4, 0.4),      # part refilled since the count was seen
    (5, 2.0, 0.0),      # fully refilled since
    (0, 0.0, 1.0),
])
def test_pause_for_reads(remaining, elapsed, expected):
    assert _throttle.pause_for(remaining, 100.0, 100.0 + elapsed, "reads") == pytest.approx(expected)


def test_pause_is_capped():
    assert _throttle.pause_for(-10_000, 0.0, 0.0, "writes") == _throttle.MAX_PAUSE


def test_counts_are_per_subscription_and_kind():
    _throttle.remember(SUB + "/resourceGroups/rg?api-version=1", "GET", {_throttle.HEADERS["reads"]: "0"}, 10.0)
    assert _throttle.planned_pause(SUB + "/providers/x", "GET", 10.0) == pytest.approx(1.0)
    assert _throttle.planned_pause(SUB + "/providers/x", "PUT", 10.0) == 0.0
    other = SUB.replace("0001", "0002")
    assert _throttle.planned_pause(other + "/providers/x", "GET", 10.0) == 0.0
    assert _throttle.planned_pause("https://management.azure.com/providers/x", "GET", 10.0) == 0.0


@pytest.mark.parametrize("value", [None, "", "many"])
def test_missing_or_bad_header_is_ignored(value):
    headers = {} if value is None else {_throttle.HEADERS["writes"]: value}
    _throttle.remember(SUB + "/x", "PATCH", headers, 1.0)
    assert _throttle.planned_pause(SUB + "/x", "PATCH", 1.0) == 0.0


class _Response:
    def __init__(self, remaining):
        self.http_response = type("R", (), {"headers": {_throttle.HEADERS["reads"]: str(remaining)}})()


class _Next:
    def __init__(self, counts):
        self.counts = list(counts)

    def send(self, request):
        return _Response(self.counts.pop(0))


def _request(url=SUB + "/x", method="GET"):
    http = type("H", (), {"url": url, "method": method})()
    return type("P", (), {"http_request": http})()


def test_policy_sleeps_before_the_request_after_a_low_count_within_the_deadline():
    slept = []
    policy = _throttle.make_throttle_policy(Deadline(0.5, clock=lambda: 0.0), sleep=slept.append, clock=lambda: 50.0)
    policy.next = _Next([3, 40])
    policy.send(_request())
    assert slept == []
    policy.send(_request())
    assert slept == [pytest.approx(0.5)]  # 0.88 s wanted, the deadline leaves 0.5
