# Private to the azure_apim.identity test suite.
"""The oracle and the state views can fail: they find what they are meant to find."""

from __future__ import annotations

from reliability.oracle import Oracle
from reliability.snapshot import diff_views, foreign_view

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJlLXBhcnQtaGVyZQ"


def test_oracle_finds_registered_secrets_and_any_jwt_and_masks_the_excerpt():
    oracle = Oracle()
    oracle.add_secret("PFX password", "Pfx-pass-123")
    oracle.add_secret("too short", "abc")  # not searched: would match by accident
    assert oracle.kinds() == {"PFX password": 1}
    assert oracle.add_text("clean", "nothing here, abc") == []
    hits = oracle.add_text("leaky", f"msg: bad password Pfx-pass-123; Authorization: Bearer {TOKEN}")
    assert sorted(h.kind for h in hits) == ["PFX password", "bearer token (JWT)"]
    assert all("Pfx-pass-123" not in h.excerpt and TOKEN not in h.excerpt for h in hits)
    oracle.add_secret("named-value secret", "nothing here")
    assert [h.kind for h in oracle.rescan()] == ["named-value secret", "PFX password", "bearer token (JWT)"]


def test_foreign_view_ignores_owned_parts_and_sees_everything_else():
    state = {"resources": {
        "/s/svc": {"etag": "1", "identity": {"type": "SystemAssigned"}, "tags": {"a": "1"},
                   "properties": {"provisioningState": "Succeeded", "hostnameConfigurations": [1]}},
        "/s/svc/namedvalues/ours": {"properties": {"value": "x"}},
        "/s/other": {"tags": {}},
    }, "principals": {"p1": {"display_name": "x"}, "p2": {"display_name": "y"}}}
    view = foreign_view(state, owned=["/s/svc/namedValues/ours"], shared={"/s/svc": ["identity"]},
                        owned_principals=["P2"])
    assert set(view["resources"]) == {"/s/svc", "/s/other"} and set(view["principals"]) == {"p1"}
    assert "identity" not in view["resources"]["/s/svc"] and "etag" not in view["resources"]["/s/svc"]
    changed = {**state, "resources": {**state["resources"], "/s/svc": {
        **state["resources"]["/s/svc"], "identity": {"type": "None"}, "etag": "2",
        "properties": {"provisioningState": "Updating", "hostnameConfigurations": []}}}}
    after = foreign_view(changed, owned=["/s/svc/namedValues/ours"], shared={"/s/svc": ["identity"]},
                         owned_principals=["P2"])
    assert diff_views(view, after) == [f"resources: /s/svc changed: {view['resources']['/s/svc']!r} -> "
                                       f"{after['resources']['/s/svc']!r}"]
