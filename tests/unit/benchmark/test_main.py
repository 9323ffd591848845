"""bench.__main__: merging a partial run into the last report keeps what it did not measure."""

from __future__ import annotations

import importlib


def test_merge_results_replaces_by_name_and_keeps_order():
    main = importlib.import_module("bench.__main__")
    old = [{"name": "a", "v": 1}, {"name": "b", "v": 1}, {"name": "c", "v": 1}]
    new = [{"name": "b", "v": 2}, {"name": "d", "v": 2}]
    assert main.merge_results(old, new) == [{"name": "a", "v": 1}, {"name": "b", "v": 2}, {"name": "c", "v": 1},
                                            {"name": "d", "v": 2}]
    assert main.merge_results([], new) == new


def test_refresh_unavailable_says_why_now_or_that_it_was_not_rerun(monkeypatch):
    main = importlib.import_module("bench.__main__")
    from bench.scenarios import Scenario

    still = Scenario("a.converge", "a", "a.yml", rerun=True)
    landed = Scenario("b.converge", "b", "b.yml")
    monkeypatch.setattr(Scenario, "missing", lambda self, root=None: "not available yet: x" if self.name == "a.converge"
                        else None)
    results = [{"name": "a.noop", "status": "unavailable", "reason": "old"},
               {"name": "b.converge", "status": "unavailable", "reason": "old"},
               {"name": "c", "status": "ran"}]
    out = main.refresh_unavailable(results, [still, landed])
    assert out[0] == {"name": "a.noop", "status": "unavailable", "reason": "not available yet: x"}
    assert out[1]["status"] == "not run" and "not measured in this run" in out[1]["reason"]
    assert out[2] == {"name": "c", "status": "ran"}
