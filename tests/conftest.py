"""Shared pytest fixtures: the local Azure (`local_azure`, one per session) and world seeding (`world`).

The collection is made importable as `ansible_collections.azure_apim.identity` through the symlink
`<repo>/.collections/ansible_collections/azure_apim/identity -> <repo>` (created here if missing).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator, Union

import pytest

from harness.runner import ensure_collection_link

REPO_ROOT = Path(__file__).resolve().parents[1]

ensure_collection_link()


def shared_dir() -> Path:
    """`$AZURE_APIM_SHARED_DIR`, else `<repo root>/../shared` (read-only reference material; may be absent)."""
    override = os.environ.get("AZURE_APIM_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def local_azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Azure for the whole session (HTTPS on a free loopback port)."""
    from emulator.client import LocalAzure
    from emulator.server import EmulatorServer

    server = EmulatorServer(state_dir=str(tmp_path_factory.mktemp("local-azure"))).start()
    azure = LocalAzure.from_info(server.info(), server=server)
    try:
        yield azure
    finally:
        server.stop()


@pytest.fixture
def world(local_azure: Any) -> Callable[..., dict]:
    """Reset the local Azure and seed a world: `world("demo")`, `world(path)`, `world({...})`, `world()` (empty).

    Config overrides (durations, time_scale) can be passed as keyword arguments. The default config is restored
    first, so tests do not leak settings into each other.
    """
    from emulator.world import DEFAULT_CONFIG

    def seed(spec: Union[None, str, Path, dict] = None, **config: Any) -> dict:
        local_azure.admin.reset()
        local_azure.admin.clear_faults()
        local_azure.admin.config(**{**DEFAULT_CONFIG, **config})
        summary = local_azure.admin.seed(spec) if spec is not None else {}
        local_azure.admin.clear_requests()
        return summary

    return seed
