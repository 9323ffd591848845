"""Execution-environment readiness: ansible-builder finds the collection's Python and system requirements, builds
a context offline from the example EE file, and the requirements stay shareable with azure.azcollection 3.x."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILDER = Path(sys.executable).parent / "ansible-builder"
EXAMPLE_EE = REPO_ROOT / "docs" / "examples" / "execution-environment.yml"

pytestmark = pytest.mark.skipif(not BUILDER.exists(), reason="ansible-builder is in requirements-dev.txt")


def _lines(path: Path) -> list[str]:
    """Non-comment, non-empty lines of a requirements-style file."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def _builder(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ansible-builder offline (no proxy, no index: a network call would fail loudly)."""
    env = {**os.environ, "PIP_NO_INDEX": "1", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    proc = subprocess.run([str(BUILDER), *args], cwd=str(cwd), capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"ansible-builder {' '.join(args)} failed:\n{output}"
    return proc


@pytest.fixture
def collections_dir(tmp_path: Path) -> Path:
    """A collections path holding only this checkout as azure_apim.identity (what `ansible-galaxy install` gives)."""
    root = tmp_path / "collections"
    target = root / "ansible_collections" / "azure_apim" / "identity"
    target.parent.mkdir(parents=True)
    target.symlink_to(REPO_ROOT, target_is_directory=True)
    return root


def test_collection_ee_metadata_points_at_existing_files() -> None:
    meta = yaml.safe_load((REPO_ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for name in meta["dependencies"].values():
        assert _lines(REPO_ROOT / name), f"{name} is empty"


def test_runtime_requirements_are_floors_equal_to_the_compat_pins() -> None:
    """requirements.txt has lower bounds only, and each floor is the version `make test-compat` tests with."""
    floors = {}
    for line in _lines(REPO_ROOT / "requirements.txt"):
        match = re.fullmatch(r"([A-Za-z0-9._-]+)>=([0-9.]+)", line)
        assert match, f"requirements.txt: {line!r} is not a plain lower bound"
        floors[match[1].lower()] = match[2]
    pins = dict(line.split("==") for line in _lines(REPO_ROOT / "tests" / "requirements-compat.txt"))
    assert floors == pins


def test_bindep_file_parses_and_only_asks_for_build_tools_when_compiling() -> None:
    depends = pytest.importorskip("bindep.depends")
    text = (REPO_ROOT / "bindep.txt").read_text(encoding="utf-8")
    parsed = depends.Depends(text)
    for platform in ("platform:rpm", "platform:dpkg"):
        # The default profile installs nothing: the Azure SDK is pure Python with binary wheels for cffi/cryptography.
        assert parsed.active_rules([platform]) == []
        assert {rule[0] for rule in parsed.active_rules([platform, "compile"])} >= {"gcc"}


def test_introspect_reports_every_requirement_of_the_collection(collections_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "introspect"
    _builder("introspect", "--sanitize", "--write-pip", str(out / "requirements.txt"),
             "--write-bindep", str(out / "bindep.txt"), str(collections_dir), cwd=tmp_path)
    python = _lines(out / "requirements.txt")
    assert python == _lines(REPO_ROOT / "requirements.txt")
    assert _lines(out / "bindep.txt") == _lines(REPO_ROOT / "bindep.txt")


def test_builder_creates_a_context_offline_from_the_example_ee(tmp_path: Path) -> None:
    """`ansible-builder create` on docs/examples/execution-environment.yml: the context installs this collection,
    and the image build introspects it (so the Azure SDK comes from our requirements.txt)."""
    work = tmp_path / "ee"
    work.mkdir()
    shutil.copy(EXAMPLE_EE, work / "execution-environment.yml")
    _builder("create", "--file", "execution-environment.yml", "--context", "context",
             "--output-filename", "Containerfile", cwd=work)
    context = work / "context"
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert {c["name"] for c in galaxy["collections"]} == {"azure_apim.identity"}
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile


def test_builder_context_carries_our_requirements_when_listed_directly(tmp_path: Path) -> None:
    """An EE that lists our files directly (no Galaxy) gets exactly our Python and system requirements."""
    work = tmp_path / "ee-direct"
    work.mkdir()
    for name in ("requirements.txt", "bindep.txt"):
        shutil.copy(REPO_ROOT / name, work / name)
    example = yaml.safe_load(EXAMPLE_EE.read_text(encoding="utf-8"))
    example["dependencies"].pop("galaxy")
    example["dependencies"].update({"python": "requirements.txt", "system": "bindep.txt"})
    (work / "execution-environment.yml").write_text(yaml.safe_dump(example), encoding="utf-8")
    _builder("create", "--file", "execution-environment.yml", "--context", "context", cwd=work)
    build = work / "context" / "_build"
    assert _lines(build / "requirements.txt") == _lines(REPO_ROOT / "requirements.txt")
    assert _lines(build / "bindep.txt") == _lines(REPO_ROOT / "bindep.txt")
