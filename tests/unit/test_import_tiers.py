"""The three tiers of plugins/module_utils (docs/dev/architecture.md), checked by parsing the imports.

core imports core only; an adapter imports core only (never ``_state``, never another adapter); a capability imports
core, adapters and the shared capabilities; a module imports core plus at most one capability. No file imports a
collection file inside a function. A file of module_utils without a tier fails the test.
"""
from __future__ import annotations

import ast
import pathlib
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = "ansible_collections.azure_apim.identity.plugins.module_utils"

CORE = {"_errors", "_retry", "_lro", "_ids", "_compare", "_arm", "_throttle", "_auth", "_credentials", "_module", "_items",
        "_controller",
        "_state", "_plan", "_plan_summary", "_kv_propagation", "_pfx"}
ADAPTERS = {"_apim", "_apim_entities", "_apim_policy", "_apim_hostname_entries", "_keyvault", "_authz", "_network", "_msi"}
# shared capabilities, in the only order they may import each other (a later one may import an earlier one)
SHARED: Tuple[str, ...] = ("_access", "_apim_identity", "_secret_access")
FAMILIES = {"_apim_service", "_apim_hostnames", "_apim_certificates", "_apim_network",
            "_orphans", "_user_assigned_identities", "_vault_access", "_role_assignments", "_apim_named_values",
            "_apim_loggers", "_apim_backend_auth"}

# (importer, imported) pairs that still break a rule, each with the reason; the test fails on a stale entry too,
# so this list only shrinks. Importers are module_utils stems or "modules/<name>".
KNOWN_DEBT: Dict[Tuple[str, str], str] = {
}


def tiers() -> Dict[str, str]:
    """Stem -> tier name."""
    found = {name: "core" for name in CORE}
    found.update({name: "adapter" for name in ADAPTERS})
    found.update({name: "shared" for name in SHARED})
    found.update({name: "family" for name in FAMILIES})
    return found


def _collection_targets(node: ast.AST, own_package: bool) -> List[str]:
    """The module_utils stems an import statement names ([] for anything else)."""
    if isinstance(node, ast.Import):
        return [alias.name.rsplit(".", 1)[1] for alias in node.names if alias.name.startswith(PACKAGE + ".")]
    if not isinstance(node, ast.ImportFrom):
        return []
    module = node.module or ""
    relative = own_package and node.level == 1
    if (relative and not module) or module == PACKAGE:
        return [alias.name for alias in node.names]
    if relative:
        return [module.split(".")[0]]
    if module.startswith(PACKAGE + "."):
        return [module[len(PACKAGE) + 1:].split(".")[0]]
    return []


def imports_of(path: pathlib.Path, own_package: bool) -> Iterator[Tuple[str, int, bool]]:
    """(stem, line, inside a function or class) for every collection module_utils import of one file."""
    def walk(node: ast.AST, nested: bool) -> Iterator[Tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            for stem in _collection_targets(child, own_package):
                yield stem, child.lineno, nested
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            yield from walk(child, inner)
    yield from walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)


def _allowed(importer_tier: str, importer: str, imported: str, tier_of: Dict[str, str]) -> bool:
    imported_tier = tier_of.get(imported)
    if importer_tier == "adapter" and imported == "_state":
        return False  # an adapter returns plain dicts; specs and the engine belong to capabilities
    if imported_tier == "core":
        return True
    if importer_tier in ("core", "adapter"):
        return False
    if imported_tier == "adapter":
        return True
    if imported_tier == "shared" and importer_tier == "family":
        return True
    if imported_tier == "shared" and importer_tier == "shared":
        return SHARED.index(imported) < SHARED.index(importer)
    return False


def _module_utils_violations(root: pathlib.Path, tier_of: Dict[str, str]) -> Iterator[Tuple[str, str, str]]:
    for path in sorted((root / "plugins" / "module_utils").glob("_*.py")):
        importer = path.stem
        if importer not in tier_of:
            yield importer, "", "has no tier: add it to one in docs/dev/architecture.md and this test"
            continue
        for imported, line, nested in imports_of(path, own_package=True):
            if nested:
                yield importer, imported, "function-level import at line {0}".format(line)
            elif imported not in tier_of:
                yield importer, imported, "imports a file without a tier"
            elif not _allowed(tier_of[importer], importer, imported, tier_of):
                yield importer, imported, "{0} imports {1} {2} (line {3})".format(
                    tier_of[importer], tier_of[imported], imported, line)


def _plugin_violations(root: pathlib.Path, tier_of: Dict[str, str]) -> Iterator[Tuple[str, str, str]]:
    for path in sorted((root / "plugins" / "modules").glob("*.py")):
        importer = "modules/" + path.stem
        capabilities: Set[str] = set()
        for imported, line, nested in imports_of(path, own_package=False):
            tier = tier_of.get(imported)
            if nested:
                yield importer, imported, "function-level import at line {0}".format(line)
            elif tier == "adapter":
                yield importer, imported, "a module imports an adapter (line {0}); go through its capability".format(
                    line)
            elif tier in ("shared", "family"):
                capabilities.add(imported)
        if len(capabilities) > 1:
            for imported in sorted(capabilities):
                yield importer, imported, "a module imports {0} capability files: {1}".format(
                    len(capabilities), ", ".join(sorted(capabilities)))


def violations(root: pathlib.Path, tier_of: Dict[str, str]) -> List[Tuple[str, str, str]]:
    """(importer, imported, why) for every import that breaks a tier rule under ``root``."""
    return list(_module_utils_violations(root, tier_of)) + list(_plugin_violations(root, tier_of))


def test_every_import_respects_the_tiers() -> None:
    found = [v for v in violations(ROOT, tiers()) if (v[0], v[1]) not in KNOWN_DEBT]
    assert found == []


def test_known_debt_is_still_real() -> None:
    real = {(v[0], v[1]) for v in violations(ROOT, tiers())}
    assert sorted(set(KNOWN_DEBT) - real) == []


def test_tiers_name_existing_files_only() -> None:
    on_disk = {path.stem for path in (ROOT / "plugins" / "module_utils").glob("_*.py")}
    assert sorted(set(tiers()) - on_disk) == []


def _tree(tmp_path: pathlib.Path, files: Dict[str, str]) -> pathlib.Path:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "plugins" / "modules").mkdir(parents=True, exist_ok=True)
    return tmp_path


FIXTURE_TIERS = {"_errors": "core", "_state": "core", "_vault": "adapter", "_web": "adapter", "_vault_access": "family",
                 "_web_access": "family", "_shared": "shared"}
MU = "plugins/module_utils/"
ABSOLUTE = "from " + PACKAGE + "."


@pytest.mark.parametrize("files, expected", [
    ({MU + "_errors.py": "", MU + "_vault.py": "from ._errors import E\n"}, []),
    ({MU + "_vault.py": "from ._state import ensure\n"}, [("_vault", "_state")]),
    ({MU + "_vault.py": "from ._web import Web\n"}, [("_vault", "_web")]),
    ({MU + "_errors.py": "from . import _vault\n"}, [("_errors", "_vault")]),
    ({MU + "_vault.py": "def f():\n    from ._errors import E\n"}, [("_vault", "_errors")]),
    ({MU + "_vault_access.py": "from ._web_access import x\n"}, [("_vault_access", "_web_access")]),
    ({MU + "_vault_access.py": "from ._vault import V\nfrom ._shared import S\nfrom ._state import ensure\n"}, []),
    ({MU + "_unlisted.py": ""}, [("_unlisted", "")]),
    ({"plugins/modules/m.py": ABSOLUTE + "_vault_access import x\n" + ABSOLUTE + "_state import ensure\n"}, []),
    ({"plugins/modules/m.py": ABSOLUTE + "_vault import V\n"}, [("modules/m", "_vault")]),
    ({"plugins/modules/m.py": ABSOLUTE + "_vault_access import x\n" + ABSOLUTE + "_web_access import y\n"},
     [("modules/m", "_vault_access"), ("modules/m", "_web_access")]),
    ({"plugins/modules/m.py": "def main():\n    " + ABSOLUTE + "_errors import E\n"}, [("modules/m", "_errors")]),
])
def test_the_checker_fails_on_a_forbidden_import(tmp_path: pathlib.Path, files: Dict[str, str],
                                                 expected: List[Tuple[str, str]]) -> None:
    root = _tree(tmp_path, files)
    assert [(v[0], v[1]) for v in violations(root, FIXTURE_TIERS)] == expected
