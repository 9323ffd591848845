"""Retry-After in every shape Azure (or a proxy in front of it) has been seen to send: seconds, milliseconds, HTTP
dates, and garbage. Parsed, capped, never a crash."""
from __future__ import annotations

import email.utils
import time

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.azure_apim.identity.plugins.module_utils._retry import (
    Deadline, cap_retry_after_headers, parse_retry_after,
)

IDENTITY = r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/id"
OK_BODY = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
           "name": "id", "location": "westeurope", "properties": {"principalId": "p", "clientId": "c", "tenantId": "t"}}
THROTTLED = {"error": {"code": "TooManyRequests", "message": "slow"}}


class HttpDate(float):
    """An HTTP date ``offset`` seconds from now, rendered when the test runs (not when pytest collects it: under load
    collection can take long enough to make a date two minutes ahead look like one in the past)."""

    def __repr__(self) -> str:
        return "HttpDate({0:+.0f}s)".format(float(self))


def _render(value):
    if isinstance(value, HttpDate):
        return email.utils.formatdate(time.time() + float(value), usegmt=True)
    return value


def _http_date(offset: float) -> HttpDate:
    return HttpDate(offset)


@pytest.mark.parametrize("value, scale, low, high", [
    ("10", 1.0, 10, 10),
    (" 7 ", 1.0, 7, 7),
    ("1.5", 1.0, 1.5, 1.5),
    ("0", 1.0, 0, 0),
    ("2500", 1000.0, 2.5, 2.5),
    (_http_date(120), 1.0, 100, 120),
    (_http_date(-300), 1.0, 0, 0),  # a date in the past: retry now
    ("Fri, 04 Dec 2026 19:00:00", 1.0, 0, None),  # no zone: GMT, as RFC 7231 says
])
def test_parses_seconds_and_dates(value, scale, low, high):
    seconds = parse_retry_after(_render(value), scale)
    assert seconds is not None and seconds >= low
    assert high is None or seconds <= high


@pytest.mark.parametrize("value", ["", "   ", "soon", "-5", "nan", "inf", "-inf", "1e309", "Fri, 99 Foo 2026",
                                   "10 seconds", None, "Mon, 32 Dec 2026 25:61:00 GMT"])
def test_garbage_is_none(value):
    assert parse_retry_after(value) is None


@pytest.mark.parametrize("headers, cap, timeout, expected", [
    ({"Retry-After": "3600"}, 60.0, None, {"Retry-After": "60"}),
    ({"Retry-After": "30"}, 60.0, 10, {"Retry-After": "10"}),  # never past the deadline
    ({"Retry-After": "5"}, 60.0, None, {"Retry-After": "5"}),
    ({"Retry-After": "1.5"}, 60.0, None, {"Retry-After": "1.5"}),  # a fraction is kept, not rounded up
    ({"Retry-After": "0.250"}, 60.0, None, {"Retry-After": "0.25"}),
    ({"Retry-After": "tomorrow-ish"}, 60.0, None, {}),  # removed: the default backoff applies
    ({"Retry-After": "-1"}, 60.0, None, {}),
    ({"retry-after-ms": "120000"}, 60.0, None, {"retry-after-ms": "60000"}),
    ({"x-ms-retry-after-ms": "junk", "Retry-After": "4"}, 60.0, None, {"Retry-After": "4"}),
    ({"Retry-After": _http_date(3600)}, 60.0, None, {"Retry-After": "60"}),
])
def test_headers_are_capped_or_removed(headers, cap, timeout, expected):
    box = CaseInsensitiveDict({key: _render(value) for key, value in headers.items()})
    cap_retry_after_headers(box, cap, Deadline(timeout))
    assert sorted(box) == sorted(expected)
    for key, value in expected.items():  # the time left to a deadline is a few milliseconds under the timeout
        assert abs(float(box[key]) - float(value)) <= 0.05, (key, box[key], value)


@pytest.mark.parametrize("value", ["soon", "Fri, 99 Foo 2026", "nan", "-3"])
def test_pipeline_retries_with_default_backoff_on_garbage(make_module, transport, value):
    """azure-core alone raises "Invalid HTTP date" on such a header and the task ends; with our policy the request
    is retried after the default backoff."""
    transport.queue("GET", IDENTITY, [(429, {"Retry-After": value}, THROTTLED), (200, {}, OK_BODY)])
    module = make_module({"timeout": 600})
    assert module.read(module.client("msi").user_assigned_identities.get, "rg", "id").name == "id"
    assert len(transport.arm_requests()) == 2
    assert all(0 <= s <= 60 for s in transport.sleeps)


@pytest.mark.parametrize("timeout, low, high", [(20, 2, 22), (600, 0, 300), (1, 2, 3)])
def test_each_attempt_reads_no_longer_than_the_deadline_allows(make_module, transport, timeout, low, high):
    """The transport's default read timeout (300 s) would let a silent server hold a task past its timeout."""
    seen = []
    transport.add("GET", IDENTITY, lambda request, match: (200, {}, OK_BODY))
    module = make_module({"timeout": timeout})
    client = module.client("msi")
    original = transport.send

    def send(request, **kwargs):
        if "/subscriptions/" in request.url:  # the credential's token requests have their own pipeline
            seen.append(kwargs.get("read_timeout"))
        return original(request, **kwargs)

    transport.send = send
    module.read(client.user_assigned_identities.get, "rg", "id")
    assert seen and all(s is not None and low <= s <= high for s in seen), seen
