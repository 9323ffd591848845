"""pep8 with the settings of ``ansible-test sanity --test pep8``, in a second instead of a sanity run.

The sanity gate is the authority (it runs later in ``make test``); this test catches the same class of slip while
editing, e.g. one blank line too many, which once failed CI after every other gate had passed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

pycodestyle = pytest.importorskip("pycodestyle", reason="pycodestyle is in requirements-dev.txt; install it")

ROOT = Path(__file__).resolve().parents[2]
# ansible-test's pep8 sanity test: test/lib/ansible_test/_util/controller/sanity/pep8/current-ignore.txt and
# max-line-length 160.
ANSIBLE_TEST_IGNORE = ["E402", "W503", "W504", "E741", "E203", "E701", "E704"]


def test_plugins_tests_and_bench_follow_ansible_test_pep8() -> None:
    style = pycodestyle.StyleGuide(max_line_length=160, ignore=ANSIBLE_TEST_IGNORE, quiet=True)
    files = sorted(str(p) for d in ("plugins", "tests", "bench", "scripts") for p in (ROOT / d).rglob("*.py")
                   if "/.venv" not in str(p) and "/output/" not in str(p))
    assert files, "no Python files found under plugins/, tests/, bench/, scripts/"
    report = style.check_files(files)
    assert report.total_errors == 0, "pep8 problems (run: pycodestyle --max-line-length=160 --ignore={0} <file>): {1}".format(
        ",".join(ANSIBLE_TEST_IGNORE), report.get_statistics())
