# Sphinx configuration of the offline docs site built by `make docs` (sources are generated into build/docs/src).
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site uses only what Sphinx ships (no theme or extension downloads), so it builds without network."""

from __future__ import annotations

from pathlib import Path

import yaml

_GALAXY = yaml.safe_load((Path(__file__).resolve().parents[2] / "galaxy.yml").read_text(encoding="utf-8"))

project = f"{_GALAXY['namespace']}.{_GALAXY['name']}"
release = version = str(_GALAXY["version"])
author = ", ".join(_GALAXY["authors"])
project_copyright = author

extensions: list[str] = []
root_doc = "index"
exclude_patterns: list[str] = []
highlight_language = "yaml"
html_theme = "alabaster"
html_title = f"{project} {release}"
html_theme_options = {"description": "Managed identities for Azure API Management, end to end", "fixed_sidebar": True}
html_show_sourcelink = False
html_copy_source = False
