"""The benchmark peer: azure.azcollection from the `ansible` package on PyPI, in its own virtualenv `.venv-peer`.

`make bench-peer` creates the virtualenv (ansible + the collection's own requirements.txt); this module finds it and
the LocalAzure cloud shim in ../shared/tools/peer-local-cloud (`$AZURE_APIM_SHARED_DIR` overrides the location).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Optional

from bench.runner import REPO_ROOT, Side

PEER_VENV = REPO_ROOT / ".venv-peer"


def shared_dir() -> Path:
    """`$AZURE_APIM_SHARED_DIR`, else `<repo root>/../shared`."""
    override = os.environ.get("AZURE_APIM_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


def collection_dir(venv: Path = PEER_VENV) -> Optional[Path]:
    """Where the `ansible` package installed azure.azcollection inside the peer virtualenv."""
    found = sorted(venv.glob("lib/python*/site-packages/ansible_collections/azure/azcollection"))
    return found[0] if found else None


def peer_side(venv: Path = PEER_VENV) -> tuple[Optional[Side], str]:
    """(the peer Side, "") when it can run here, else (None, the reason in plain words)."""
    python = venv / "bin" / "python"
    if not python.exists() or collection_dir(venv) is None:
        return None, "peer virtualenv {0} is missing: run `make bench-peer`".format(venv)
    shim = shared_dir() / "tools" / "peer-local-cloud"
    if not (shim / "sitecustomize.py").exists():
        return None, ("{0} is absent: azure.azcollection cannot reach a local Azure without its LocalAzure cloud "
                      "registration (set AZURE_APIM_SHARED_DIR)".format(shim))
    return Side("azure.azcollection", str(venv / "bin" / "ansible-playbook"), str(python), str(shim)), ""


def versions(venv: Path = PEER_VENV) -> dict[str, Any]:
    """Versions of the peer's ansible package and bundled azure.azcollection."""
    out: dict[str, Any] = {}
    coll = collection_dir(venv)
    if coll is not None and (coll / "MANIFEST.json").exists():
        out["peer_version"] = json.loads((coll / "MANIFEST.json").read_text())["collection_info"]["version"]
    try:
        proc = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "import importlib.metadata as m; print(m.version('ansible'))"],
                              capture_output=True, text=True, timeout=60, check=False)
        out["ansible_version"] = proc.stdout.strip() or None
    except OSError:
        out["ansible_version"] = None
    return out
