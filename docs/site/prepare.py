# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lay out the Sphinx sources of the docs site: the front page plus every Markdown guide of docs/ as a page.

The guides stay Markdown in the repository (readable on any forge); here each one is converted to HTML with
Python-Markdown and wrapped in a reStructuredText page, so Sphinx needs no Markdown extension. Links between guides
(`auth.md`) become links between pages (`auth.html`). The module reference is added by antsibull-docs afterwards.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import markdown

SITE_DIR = Path(__file__).resolve().parent
DOCS_DIR = SITE_DIR.parent
MD_LINK = re.compile(r'href="(?![a-z]+://)([^"#]+)\.md(#[^"]*)?"')


def title_of(text: str, fallback: str) -> str:
    """The first level-1 heading of a Markdown document."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def guide_page(source: Path) -> str:
    """A reStructuredText page whose body is the guide rendered to HTML."""
    text = source.read_text(encoding="utf-8")
    title = title_of(text, source.stem)
    body = re.sub(r"^# .*\n", "", text, count=1, flags=re.MULTILINE)
    html = markdown.markdown(body, extensions=["tables", "fenced_code", "toc"], output_format="html")
    html = MD_LINK.sub(lambda m: f'href="{m[1]}.html{m[2] or ""}"', html)
    indented = "\n".join("   " + line if line else "" for line in html.splitlines())
    return f"{title}\n{'=' * len(title)}\n\n.. raw:: html\n\n{indented}\n"


def prepare(dest: Path) -> list[Path]:
    """Write index.rst and guides/<name>.rst under `dest`; returns the guide pages written."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "guides").mkdir(parents=True)
    shutil.copy(SITE_DIR / "index.rst", dest / "index.rst")
    pages = []
    for source in sorted(DOCS_DIR.glob("*.md")):
        page = dest / "guides" / f"{source.stem}.rst"
        page.write_text(guide_page(source), encoding="utf-8")
        pages.append(page)
    return pages


def main() -> None:
    """Command line: prepare.py --dest build/docs/src."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, required=True, help="Sphinx source directory to (re)create")
    args = parser.parse_args()
    for page in prepare(args.dest):
        print(f"prepare: {page}")


if __name__ == "__main__":
    main()
