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
