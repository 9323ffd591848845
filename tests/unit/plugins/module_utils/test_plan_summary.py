"""The plan callback's lines: per object, create / change (with the settings) / remove."""
from __future__ import annotations

from ansible_collections.azure_apim.identity.plugins.module_utils._plan_summary import describe, plan_lines


def test_describe():
    assert describe(None, {"a": 1}) == ("+", "create")
    assert describe({"a": 1}, {}) == ("-", "remove")
    assert describe({"a": 1, "b": 2}, {"a": 2, "b": 2}) == ("~", "change a")


def test_list_form_diff_counts_each_item_and_flags_unknown_values():
    result = {"changed": True, "diff": {"before": {"one": None, "two": {"x": 1}},
                                        "after": {"one": {"x": "(known after apply)"}, "two": {"x": 2}}}}
    assert plan_lines("T", result) == ["  + T - one: create [(known after apply)]", "  ~ T - two: change x"]


def test_loop_items_are_labelled():
    result = {"results": [{"changed": True, "_ansible_item_label": "a", "diff": {"before": {}, "after": {"k": 1}}},
                          {"changed": False, "item": "b"}]}
    assert plan_lines("T", result) == ["  + T (a): create"]
