# Private to the azure_apim.identity test suite.
"""Scenarios 21-22: tokens expiring during a run, and wrong credentials."""

from __future__ import annotations

import uuid

import pytest

from reliability.conftest import ORACLE
from reliability.snapshot import find, foreign_view
from reliability.worlds import FAST, RG, ids, rel_world

UAI = "user_assigned_identity"
UAI_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"


def _token_requests(run) -> list:
    return [e for e in run.requests if e["path"].endswith("/oauth2/v2.0/token")]


@pytest.mark.scenario(21, "expired token mid-run")
def test_token_expiring_during_the_run_is_renewed(rel, record):
    # Tokens live 4 s; every request takes 1.2 s: the first token expires while the module is still working.
    # (A lifetime shorter than one request would expire every token in flight, which no real token does.)
    rel.seed(rel_world(), **{**FAST, "token_lifetime_s": 4.0, "latency_ms": 1200.0})
    owned = [ids(rel.azure.subscription_id)["uai"] + "id-rel-token"]
    before = foreign_view(rel.state(), owned=owned)
    args = {"resource_group": RG, "name": "id-rel-token", "location": "westeurope", "tags": {"run": "long"}}
    runs = rel.quartet(UAI, args)
    apply = runs["apply"]

    assert len(_token_requests(apply)) >= 2, "the module must fetch a new token once the first one expired"
    arm = apply.requests.arm()
    for index, entry in enumerate(arm):  # a token ARM refused was replaced and the same request sent again
        if entry["status"] == 401:
            again = arm[index + 1]
            assert (again["method"], again["path"]) == (entry["method"], entry["path"]) and again["status"] < 400
    assert [e["method"] for e in apply.writes()] == ["PUT"]
    state = runs["apply_again"].state
    stored = find(state, UAI_TYPE, "id-rel-token")
    assert len(stored) == 1 and stored[0]["tags"] == {"run": "long"}
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=owned,
                                                      owned_principals=[stored[0]["properties"]["principalId"]]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(21, "expired token mid-run")
def test_token_rejected_as_expired_by_arm_is_renewed(rel, record):
    # ARM and the client disagree about the time (clock skew): ARM calls a token expired that the client still
    # trusts. The request is sent again once with a new token; nothing is written twice.
    rel.seed(rel_world(), **FAST)
    owned = [ids(rel.azure.subscription_id)["uai"] + "id-rel-skew"]
    before = foreign_view(rel.state(), owned=owned)
    expired = {"error": {"code": "ExpiredAuthenticationToken",
                         "message": "The access token expiry UTC time '11/26/2026 10:00:00' is earlier than current "
                                    "UTC time '11/26/2026 10:05:00'."}}
    challenge = (f'Bearer authorization_uri="{rel.azure.base_url}/{rel.azure.tenant_id}", error="invalid_token", '
                 'error_description="The access token expiry UTC time is earlier than current UTC time."')
    fault = {"method": "PUT", "path": "userAssignedIdentities/id-rel-skew$", "status": 401, "body": expired,
             "headers": {"WWW-Authenticate": challenge}, "times": 1}
    args = {"resource_group": RG, "name": "id-rel-skew", "location": "westeurope"}
    runs = rel.quartet(UAI, args, faults=[fault])
    apply = runs["apply"]

    puts = apply.requests.matching("PUT", "userAssignedIdentities/id-rel-skew")
    assert [e["status"] for e in puts] == [401, 201], apply.explain()
    assert len(_token_requests(apply)) == 2
    state = runs["apply_again"].state
    stored = find(state, UAI_TYPE, "id-rel-skew")
    assert len(stored) == 1
    rel.assert_foreign_unchanged(before, foreign_view(state, owned=owned,
                                                      owned_principals=[stored[0]["properties"]["principalId"]]))
    record(writes=len(apply.writes()), reruns=0)


@pytest.mark.scenario(22, "wrong client secret / wrong tenant")
@pytest.mark.parametrize("wrong", ["secret", "tenant"])
def test_wrong_credentials_fail_at_once(rel, record, wrong):
    rel.seed(rel_world(), **FAST)
    bad_secret = "Wr0ng-" + uuid.uuid4().hex
    ORACLE.add_secret("client secret", bad_secret)
    env = {"AZURE_SECRET": bad_secret} if wrong == "secret" else {"AZURE_TENANT": str(uuid.uuid4())}
    before = foreign_view(rel.state())
    args = {"resource_group": RG, "name": "id-rel-auth", "location": "westeurope"}
    for check_mode in (True, False):
        run = rel.run(UAI, args, check=check_mode, env=env)
        assert run.failed, run.explain()
        assert run.requests.arm() == [], "no management request may be sent without a token\n" + run.explain()
        assert len(_token_requests(run)) <= 2, "no retry storm against the token endpoint\n" + run.explain()
        text = run.msg.lower()
        if wrong == "secret":
            assert "secret" in text and ("invalid" in text or "aadsts7000215" in text), run.msg
        else:
            assert "tenant" in text, run.msg
        assert "hint" in run.result or "fix" in text or "check" in text, run.result
    assert foreign_view(rel.state()) == before
    record(writes=0, reruns=0)
