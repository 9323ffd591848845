"""Fixtures for integration tests: run playbooks against a freshly seeded local Azure."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from integration.harness import PlaybookResult, run_playbook


@pytest.fixture
def playbook(local_azure: Any, tmp_path: Path) -> Callable[..., PlaybookResult]:
    """`playbook("name_or_path", extra_vars={...}, check=False, diff=False)` → PlaybookResult.

    Seed the world first with the `world` fixture; each call clears the request log so results show only that run.
    """
    runs = iter(range(1, 1000))

    def run(path: str | Path, **kwargs: Any) -> PlaybookResult:
        local_azure.admin.clear_requests()
        return run_playbook(local_azure, path, tmp_path / f"run{next(runs)}", **kwargs)

    return run


@pytest.fixture
def sandbox(world: Callable[..., dict]) -> dict:
    """The demo world with Azure's waits scaled down 100x (a 45 s APIM update takes 0.45 s); returns the seed
    summary (resource ids, principals by name with object/client ids)."""
    return world("demo", time_scale=0.01)
