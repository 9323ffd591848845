"""docs/scenario-guide.md cannot lie: every module, role, playbook, guide, make target and test it names exists,
every `pending` module is really still missing, and every section of the article has its table."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDE = REPO_ROOT / "docs" / "scenario-guide.md"
ARTICLE_NAME = "000_0dec2e83180edfae.txt"
CODE_SPAN = re.compile(r"`([^`]+)`")
TEST_REF = re.compile(r"^(tests/[\w/]+\.py)::(\w+)$")
NOT_APPLICABLE = "—"

# The article's sections that hold steps; each must have a table in the guide under the same heading.
ARTICLE_SECTIONS = (
    "Create a system-assigned managed identity",
    "Configure Key Vault access using a managed identity",
    "Requirements for Key Vault firewall",
    "Virtual network requirements",
    "Store and manage named values from Key Vault",
    "Authenticate to a backend by using an API Management identity",
    "Log events to an event hub",
    "Create a user-assigned managed identity",
    "Remove an identity",
)


@dataclass(frozen=True)
class Row:
    """One step of the guide."""

    section: str
    step: str
    route: str
    done_by: str
    covered_by: str

    def __str__(self) -> str:
        return f"[{self.section}] {self.step}"


def shared_dir() -> Path:
    """`$AZURE_APIM_SHARED_DIR`, else `<repo root>/../shared`."""
    override = os.environ.get("AZURE_APIM_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


def parse_guide(text: str) -> list[Row]:
    """The rows of every four-column table, with the heading they sit under."""
    rows, section = [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("|") or set(line.replace("|", "").strip()) <= set("-: "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "Step":
            continue
        assert len(cells) == 4, f"guide row with {len(cells)} cells (want 4): {line}"
        rows.append(Row(section, *cells))
    return rows


ROWS = parse_guide(GUIDE.read_text(encoding="utf-8"))


def _modules() -> set[str]:
    return {p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}


def _plugins() -> set[str]:
    """Modules and the other plugins a guide may name by FQCN (inventory plugins)."""
    return _modules() | {p.stem for p in (REPO_ROOT / "plugins" / "inventory").glob("*.py") if p.stem != "__init__"}


def _make_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.MULTILINE))


def _action_groups() -> set[str]:
    runtime = yaml.safe_load((REPO_ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return set(runtime.get("action_groups", {}))


def reference_problems(span: str) -> list[str]:
    """Why a code span naming a part of the tree is wrong ([] when it exists, or names nothing checkable)."""
    checks = (
        (r"azure_apim\.identity\.(\w+)", lambda m: m[1] in _plugins(), "no plugin plugins/{{modules,inventory}}/{0}.py"),
        (r"group/azure_apim\.identity\.(\w+)", lambda m: m[1] in _action_groups(), "no action group {0}"),
        (r"roles/(\w+)", lambda m: (REPO_ROOT / "roles" / m[1]).is_dir(), "no role roles/{0}"),
        (r"(playbooks/[\w/]+\.yml)", lambda m: (REPO_ROOT / m[1]).is_file(), "no playbook {0}"),
        (r"(docs/[\w/.-]+\.md)", lambda m: (REPO_ROOT / m[1]).is_file(), "no guide {0}"),
        (r"make ([\w-]+)", lambda m: m[1] in _make_targets(), "no make target {0}"),
    )
    for pattern, exists, problem in checks:
        match = re.fullmatch(pattern, span)
        if match:
            return [] if exists(match) else [problem.format(match[1])]
    return []


def test_guide_has_steps() -> None:
    assert len(ROWS) >= 30


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_done_by_names_only_what_exists(row: Row) -> None:
    if row.done_by.startswith("pending"):
        return
    problems = [p for span in CODE_SPAN.findall(row.done_by) for p in reference_problems(span)]
    assert not problems, f"{row}: {problems}"


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_pending_rows_name_a_missing_module_and_no_test(row: Row) -> None:
    if not row.done_by.startswith("pending"):
        return
    names = CODE_SPAN.findall(row.done_by.split("(", 1)[0])
    assert names, f"{row}: say which module is pending"
    landed = [name for name in names if name in _modules()]
    assert not landed, (f"{row}: {landed} exists now; write `azure_apim.identity.<name>` in 'Done by' and its test "
                        "in 'Covered by' in docs/scenario-guide.md")
    assert row.covered_by == "pending", f"{row}: a pending step cannot be covered by a test yet"


@pytest.mark.parametrize("row", [r for r in ROWS if not r.done_by.startswith("pending")], ids=str)
def test_covered_by_names_existing_tests(row: Row) -> None:
    if row.covered_by == NOT_APPLICABLE:
        assert row.done_by.startswith("not needed"), f"{row}: only a step that is not needed may have no test"
        return
    refs = CODE_SPAN.findall(row.covered_by)
    assert refs, f"{row}: name the test that covers this step"
    for ref in refs:
        match = TEST_REF.match(ref)
        assert match, f"{row}: {ref!r} is not tests/<path>.py::<test_function>"
        path = REPO_ROOT / match[1]
        assert path.is_file(), f"{row}: {match[1]} does not exist"
        assert re.search(rf"^def {match[2]}\(", path.read_text(encoding="utf-8"), flags=re.MULTILINE), (
            f"{row}: {match[1]} has no test function {match[2]}")


def test_every_article_section_has_its_table() -> None:
    sections = {row.section for row in ROWS}
    missing = [s for s in ARTICLE_SECTIONS if s not in sections]
    assert not missing, f"docs/scenario-guide.md has no table for {missing}"


def test_sections_are_the_articles_own() -> None:
    """The section list above follows the article (the reference copy under ../shared, when present)."""
    article = shared_dir() / "reference" / ARTICLE_NAME
    if not article.is_file():
        pytest.skip(f"the article is not available at {article} (set AZURE_APIM_SHARED_DIR to the shared directory)")
    lines = {line.strip() for line in article.read_text(encoding="utf-8").splitlines()}
    # The article words two headings slightly differently in its user-assigned part; the guide uses one wording.
    aliases = {"Store and manage named values from Key Vault": "Store and manage named values from Azure Key Vault"}
    missing = [s for s in ARTICLE_SECTIONS if aliases.get(s, s) not in lines]
    assert not missing, f"not headings of the article: {missing}"


@pytest.mark.parametrize("span, problem", [
    ("azure_apim.identity.no_such_module", "no plugin plugins/{modules,inventory}/no_such_module.py"),
    ("roles/no_such_role", "no role roles/no_such_role"),
    ("playbooks/no_such.yml", "no playbook playbooks/no_such.yml"),
    ("docs/no_such.md", "no guide docs/no_such.md"),
    ("make no-such-target", "no make target no-such-target"),
    ("group/azure_apim.identity.nope", "no action group nope"),
])
def test_checker_reports_references_to_missing_things(span: str, problem: str) -> None:
    assert reference_problems(span) == [problem]


def test_checker_accepts_references_that_exist() -> None:
    for span in ("azure_apim.identity.user_assigned_identity", "docs/auth.md", "make test-compat",
                 "group/azure_apim.identity.azure"):
        assert reference_problems(span) == [], span


def test_parser_reads_sections_and_cells() -> None:
    rows = parse_guide("## A\n\n| Step | Article route | Done by | Covered by |\n|---|---|---|---|\n"
                       "| s | r | `azure_apim.identity.x` | pending |\n")
    assert rows == [Row("A", "s", "r", "`azure_apim.identity.x`", "pending")]
