"""The check/apply diff comparison, kept under its old name; it lives in tests/harness/diffs.py."""

from harness.diffs import UNKNOWN, compare_runs, mismatches, task_diffs

__all__ = ["UNKNOWN", "compare_runs", "mismatches", "task_diffs"]
