"""The docs site preparation (docs/site/prepare.py): guides become pages, collection pages are linked, dead links
are found."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("markdown", reason="markdown is in requirements-dev.txt")


def _load_prepare():
    spec = importlib.util.spec_from_file_location("docs_site_prepare", REPO_ROOT / "docs" / "site" / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prepare = _load_prepare()


def test_guide_page_takes_the_title_and_turns_md_links_into_page_links(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("# My guide\n\nSee [auth](auth.md#clouds), [site](https://example.org/x.md).\n\n"
                     "| a | b |\n|---|---|\n| 1 | 2 |\n", encoding="utf-8")
    page = prepare.guide_page(guide)
    assert page.startswith("My guide\n========\n\n.. raw:: html\n")
    assert 'href="auth.html#clouds"' in page
    assert 'href="https://example.org/x.md"' in page
    assert "<table>" in page and "# My guide" not in page


def test_prepare_writes_the_front_page_and_one_page_per_guide(tmp_path: Path) -> None:
    pages = prepare.prepare(tmp_path / "src")
    assert (tmp_path / "src" / "index.rst").is_file()
    assert {p.stem for p in pages} == {p.stem for p in (REPO_ROOT / "docs").glob("*.md")}
    index = (tmp_path / "src" / "index.rst").read_text(encoding="utf-8")
    for page in pages:
        assert f"guides/{page.stem}" in index, f"{page.stem} is not in the front page's table of contents"


def test_link_collection_rewrites_file_links_and_lists_every_page(tmp_path: Path) -> None:
    (tmp_path / "index.rst").write_text("* `a module <a_module.rst>`_ -- does a\n", encoding="utf-8")
    (tmp_path / "a_module.rst").write_text(
        "See `b <b_module.rst>`__.\n  <a href='../../azure_apim/identity/b_module.html'>b</a>"
        " <a href='../../ansible/builtin/debug_module.html'>debug</a>\n", encoding="utf-8")
    (tmp_path / "b_module.rst").write_text("B\n", encoding="utf-8")
    prepare.link_collection(tmp_path)
    index = (tmp_path / "index.rst").read_text(encoding="utf-8")
    assert ":doc:`a module <a_module>`" in index
    assert ".. toctree::\n   :hidden:\n\n   a_module\n   b_module\n" in index
    assert (tmp_path / "a_module.rst").read_text(encoding="utf-8") == (
        "See :doc:`b <b_module>`.\n  <a href='b_module.html'>b</a>"
        " <a href='https://docs.ansible.com/ansible/latest/collections/ansible/builtin/debug_module.html'>debug</a>\n")


def test_dead_links_reports_only_missing_internal_targets(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_text(
        '<a href="../index.html#top">ok</a><a href="gone.html">dead</a><a href="https://x.org/">ext</a>'
        '<a href="#here">anchor</a><img src="../img/missing.png">', encoding="utf-8")
    (tmp_path / "index.html").write_text('<a href="sub/page.html">ok</a>', encoding="utf-8")
    assert prepare.dead_links(tmp_path) == ["sub/page.html: gone.html", "sub/page.html: ../img/missing.png"]
