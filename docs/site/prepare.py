# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lay out the Sphinx sources of the docs site: the front page plus every Markdown guide of docs/ as a page.

The guides stay Markdown in the repository (readable on any forge); here each one is converted to HTML with
Python-Markdown and wrapped in a reStructuredText page, so Sphinx needs no Markdown extension. Links between guides
(`auth.md`) become links between pages (`auth.html`). The module reference is added by antsibull-docs afterwards;
`--collection DIR` then turns its simplified-rst links between files (`x_module.rst`) into Sphinx document links
and lists every page in a hidden table of contents, so the site has no dead links and no orphan pages.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown

SITE_DIR = Path(__file__).resolve().parent
DOCS_DIR = SITE_DIR.parent
MD_LINK = re.compile(r'href="(?![a-z]+://)([^"#]+)\.md(#[^"]*)?"')
RST_FILE_LINK = re.compile(r"`([^`<]+?) <([A-Za-z0-9_.-]+)\.rst>`_+")
# Option and return tables are HTML blobs whose plugin links assume the docsite's collections/<ns>/<name>/ tree.
HTML_PLUGIN_LINK = re.compile(r"""(['"])\.\./\.\./(\w+)/(\w+)/([\w.-]+\.html)""")
OWN_COLLECTION = ("azure_apim", "identity")
ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/collections"


def _plugin_link(match: re.Match) -> str:
    """Our plugins live next to each other in the site; other collections' plugins are on docs.ansible.com."""
    quote, namespace, name, page = match.groups()
    if (namespace, name) == OWN_COLLECTION:
        return f"{quote}{page}"
    return f"{quote}{ANSIBLE_DOCS}/{namespace}/{name}/{page}"


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


def link_collection(directory: Path) -> list[Path]:
    """Make antsibull-docs' links work in this site (file links become :doc: links, plugin links in HTML tables
    point next door or to docs.ansible.com) and add a hidden toctree of the pages to its index."""
    pages = sorted(p for p in directory.glob("*.rst") if p.name != "index.rst")
    for page in [*pages, directory / "index.rst"]:
        text = page.read_text(encoding="utf-8")
        text = RST_FILE_LINK.sub(lambda m: f":doc:`{m[1]} <{m[2]}>`", text)
        page.write_text(HTML_PLUGIN_LINK.sub(_plugin_link, text), encoding="utf-8")
    toctree = "\n".join(["", ".. toctree::", "   :hidden:", "", *(f"   {p.stem}" for p in pages), ""])
    with (directory / "index.rst").open("a", encoding="utf-8") as index:
        index.write(toctree)
    return pages


class _Links(HTMLParser):
    """Collects href/src targets of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.targets += [value for name, value in attrs if name in ("href", "src") and value]


def dead_links(site: Path) -> list[str]:
    """Links between pages of the built site that point at no file ("page.html: target")."""
    dead = []
    for page in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for target in parser.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # external, mailto: or same-page anchor
            if not (page.parent / unquote(parts.path)).exists():
                dead.append(f"{page.relative_to(site)}: {target}")
    return dead


def main() -> None:
    """Command line: prepare.py --dest build/docs/src, then prepare.py --collection build/docs/src/collection."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, help="Sphinx source directory to (re)create with the guides")
    parser.add_argument("--collection", type=Path, help="antsibull-docs output directory to link into the site")
    parser.add_argument("--check-links", type=Path, help="built HTML site whose internal links must all resolve")
    args = parser.parse_args()
    if args.dest:
        for page in prepare(args.dest):
            print(f"prepare: {page}")
    if args.collection:
        for page in link_collection(args.collection):
            print(f"prepare: linked {page}")
    if args.check_links:
        dead = dead_links(args.check_links)
        for link in dead:
            print(f"dead link: {link}")
        if dead:
            sys.exit(1)


if __name__ == "__main__":
    main()
