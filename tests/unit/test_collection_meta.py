"""Consistency checks between the collection's metadata files, its modules and its documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION_GROUP = "azure"

# Pins of azure.azcollection 3.x. The runtime floors must equal them so that both collections can share one
# execution environment (issue 2) and the code keeps working with the oldest SDKs users still have.
AZCOLLECTION_PINS = {
    "azure-core": "1.31.0",
    "azure-identity": "1.19.0",
    "azure-mgmt-core": "1.4.0",
    "azure-mgmt-apimanagement": "4.0.1",
    "azure-mgmt-keyvault": "10.3.1",
    "azure-mgmt-authorization": "4.0.0",
    "azure-mgmt-msi": "7.0.0",
}
REQUIREMENT_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<spec>[^#;]*)")


def _load_yaml(relative: str) -> dict:
    """Parse one YAML file of the repository."""
    return yaml.safe_load((REPO_ROOT / relative).read_text(encoding="utf-8"))


def _requirements(relative: str) -> dict[str, str]:
    """Map each requirement name (lower case) of a pip requirements file to its version specifier."""
    found: dict[str, str] = {}
    for raw in (REPO_ROOT / relative).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = REQUIREMENT_LINE.match(line)
        assert match, f"{relative}: cannot parse {raw!r}"
        found[match["name"].lower()] = match["spec"].replace(" ", "")
    return found


def _module_names() -> set[str]:
    """Names of the module files in plugins/modules."""
    return {p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__"}


def _action_group() -> list[str]:
    """The modules listed in the collection's action group."""
    return _load_yaml("meta/runtime.yml")["action_groups"][ACTION_GROUP]


def test_runtime_requires_supported_ansible() -> None:
    """requires_ansible is the documented floor, and the dev requirements test from that floor on."""
    assert _load_yaml("meta/runtime.yml")["requires_ansible"] == ">=2.16.0"
    assert ">=2.16" in _requirements("requirements-dev.txt")["ansible-core"]


def test_action_group_is_sorted_and_unique() -> None:
    """The action group is kept sorted and lists each module once."""
    group = _action_group()
    assert group == sorted(set(group))


def test_every_module_is_in_the_action_group() -> None:
    """module_defaults: group/azure_apim.identity.azure must reach every module."""
    missing = _module_names() - set(_action_group())
    assert not missing, f"add to action_groups.{ACTION_GROUP} in meta/runtime.yml: {sorted(missing)}"


def test_action_group_lists_only_existing_modules() -> None:
    """Every name in the action group is a module file."""
    stale = set(_action_group()) - _module_names()
    assert not stale, f"meta/runtime.yml lists modules that plugins/modules lacks: {sorted(stale)}"


def test_every_module_is_in_the_readme_table() -> None:
    """The README's module and inventory plugin tables name every module and inventory plugin (as FQCNs)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\|\s*`azure_apim\.identity\.([a-z0-9_]+)`", readme, flags=re.MULTILINE))
    inventory = {p.stem for p in (REPO_ROOT / "plugins" / "inventory").glob("*.py") if p.stem != "__init__"}
    assert listed == _module_names() | set(_action_group()) | inventory


@pytest.mark.parametrize(("package", "pin"), sorted(AZCOLLECTION_PINS.items()))
def test_runtime_floor_equals_azcollection_pin(package: str, pin: str) -> None:
    """Each Azure SDK floor is exactly azure.azcollection 3.x's pin, with no upper bound."""
    assert _requirements("requirements.txt").get(package) == f">={pin}"


def test_runtime_requirements_have_lower_bounds_only() -> None:
    """Upper bounds or exact pins in requirements.txt would break shared execution environments."""
    for name, spec in _requirements("requirements.txt").items():
        assert spec.startswith(">=") and "," not in spec, f"requirements.txt: {name}{spec} must be a plain >= floor"


@pytest.mark.parametrize(("package", "pin"), sorted(AZCOLLECTION_PINS.items()))
def test_readme_documents_the_floor(package: str, pin: str) -> None:
    """The README's requirements list states the same floors."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"`{re.escape(package)}\s*>=\s*{re.escape(pin)}`", readme), f"README.md: {package}>={pin}"


def test_execution_environment_points_at_dependency_files() -> None:
    """ansible-builder finds the runtime requirements and bindep file the collection ships."""
    ee = _load_yaml("meta/execution-environment.yml")
    assert ee["version"] == 1
    for key, relative in (("python", "requirements.txt"), ("system", "bindep.txt")):
        assert ee["dependencies"][key] == relative
        assert (REPO_ROOT / relative).is_file()


def test_galaxy_metadata() -> None:
    """Namespace, name, semantic version, licence and the local state kept out of the tarball."""
    galaxy = _load_yaml("galaxy.yml")
    assert (galaxy["namespace"], galaxy["name"]) == ("azure_apim", "identity")
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", galaxy["version"])
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    for local in (".venv", ".collections", "build", "tests/output", "bench/results"):
        assert local in galaxy["build_ignore"], f"galaxy.yml build_ignore lacks {local}"


def test_sanity_ignore_entries_carry_a_reason() -> None:
    """Sanity ignore files stay empty; a line that must exist explains itself after a '#'."""
    files = sorted((REPO_ROOT / "tests" / "sanity").glob("ignore-2.*.txt"))
    assert files, "tests/sanity/ignore-2.*.txt are missing"
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not line.strip() or "#" in line, f"{path.name}: {line!r} has no reason"
