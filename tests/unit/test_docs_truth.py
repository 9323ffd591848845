"""Checks that keep the README and the guides true: each fails if a known inconsistency comes back (issue 20)."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from ansible_collections.azure_apim.identity.plugins.doc_fragments.azure import ModuleDocFragment

from .test_collection_meta import _requirements

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
TABLE_ROW = re.compile(r"^\|(?!\s*-)(.+)\|\s*$", re.MULTILINE)


def _tables(text: str) -> list:
    """The Markdown tables of a text, each a list of its row texts (header and separator excluded)."""
    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line.strip())
        elif current:
            tables.append(list(current[2:]))
            current = []
    return tables


@pytest.mark.parametrize("doc", ["README.md"] + sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "docs").glob("*.md")))
def test_no_table_repeats_a_row_or_a_first_cell(doc):
    """A capability table once listed four steps twice with different texts; one row per step."""
    for table in _tables((REPO_ROOT / doc).read_text(encoding="utf-8")):
        first_cells = [row.split("|")[1].strip() for row in table]
        repeated = [cell for cell, count in Counter(first_cells).items() if count > 1 and re.search(r"\w\w", cell)]
        assert not repeated, "{0}: rows repeated in a table: {1}".format(doc, repeated)


def test_fragment_requirements_list_every_runtime_package_with_its_floor():
    """ansible-doc's REQUIREMENTS say what requirements.txt installs, with the same floors."""
    documented = {}
    for line in yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["requirements"]:
        name, floor = (line.split(">=", 1) + [""])[:2]
        documented[name.strip().lower()] = floor.strip()
    runtime = {name: spec[2:] for name, spec in _requirements("requirements.txt").items()}
    assert {k: v for k, v in documented.items() if k != "python"} == runtime


def test_options_without_a_default_do_not_claim_one():
    """An option whose doc says 'Defaults to X' must declare that default (ansible-doc would show null)."""
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    for name, spec in options.items():
        text = " ".join(spec.get("description", []))
        if re.search(r"\bDefaults to\b", text):
            assert "default" in spec, "{0}: the text names a default that the spec does not declare".format(name)


def test_readme_ci_figure_is_not_the_old_three_minutes():
    """The README said a fresh .ci/run takes about 3 minutes; measured it takes about 30."""
    assert not re.search(r"\.ci/run` takes about \d+ minutes?", README)
    match = re.search(r"all \d+ gates passed in (\d+) min", README)
    assert match and int(match.group(1)) >= 10, "README must state the measured fresh-clone figure"
    gates = len((REPO_ROOT / "Makefile").read_text(encoding="utf-8").split("TEST_TARGETS :=")[1]
                .split("\n\n")[0].replace("\\\n", " ").split())
    assert "all {0} gates".format(gates) in README, "the README's gate count differs from TEST_TARGETS"


def test_readme_does_not_claim_the_collection_rewrites_vault_network_rules():
    """The vault's IP/VNet rules and default action are never changed; only checks (and, opt-in, bypass) exist."""
    assert "checking and setting *trusted Microsoft services* and network rules" not in README
    assert "the vault's IP rules, virtual-network rules and default action are never changed" in README


def test_guides_tell_where_the_collection_and_python_must_be():
    """A playbook of one's own needs ANSIBLE_COLLECTIONS_PATH and the venv's Python in the inventory."""
    guide = (REPO_ROOT / "docs" / "try-it.md").read_text(encoding="utf-8")
    for text in (README, guide):
        assert "ANSIBLE_COLLECTIONS_PATH" in text and "ansible_python_interpreter" in text


def test_auth_guide_explains_the_scope_behind_a_proxy():
    auth = (REPO_ROOT / "docs" / "auth.md").read_text(encoding="utf-8")
    assert "InvalidAuthenticationTokenAudience" in auth and "re-signs TLS" in auth
