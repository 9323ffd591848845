"""Shared pytest fixtures: the local Azure (`local_azure`, one per session) and world seeding (`world`).

The collection is made importable as `ansible_collections.azure_apim.identity` through the symlink
`<repo>/.collections/ansible_collections/azure_apim/identity -> <repo>` (created here if missing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Union

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS_DIR = REPO_ROOT / ".collections"


def _ensure_collection_link() -> None:
    link = COLLECTIONS_DIR / "ansible_collections" / "azure_apim" / "identity"
    if link.is_symlink() or link.exists():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    except FileExistsError:
        pass  # another xdist worker made it first


_ensure_collection_link()


def shared_dir() -> Path:
    """`$AZURE_APIM_SHARED_DIR`, else `<repo root>/../shared` (read-only reference material; may be absent)."""
    override = os.environ.get("AZURE_APIM_SHARED_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared"


@dataclass
class LocalAzure:
    """A running local Azure and what clients need to reach it."""

    base_url: str
    ca_bundle: str
    tenant_id: str
    subscription_id: str
    client_id: str
    client_secret: str
    admin: Any
    server: Any = field(repr=False, default=None)

    def env(self) -> dict[str, str]:
        """The environment AWX sets for an Azure credential, plus the endpoint and CA settings of the local Azure."""
        return {
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_SECRET": self.client_secret,
            "AZURE_TENANT": self.tenant_id,
            "AZURE_RESOURCE_MANAGER_URL": self.base_url,
            "AZURE_AUTHORITY_HOST": self.base_url,
            "AZURE_CREDENTIAL_SCOPE": f"{self.base_url}/.default",
            "AZURE_CA_BUNDLE": self.ca_bundle,
        }

    def arm(self) -> Any:
        """A raw ARM client signed in as the automation principal."""
        from emulator.client import ArmClient

        return ArmClient(self.base_url, self.ca_bundle, self.tenant_id, self.client_id, self.client_secret)

    def credential(self) -> Any:
        """An azure-identity ClientSecretCredential for the local Azure (no instance discovery)."""
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(self.tenant_id, self.client_id, self.client_secret, authority=self.base_url,
                                      disable_instance_discovery=True, connection_verify=self.ca_bundle)

    def rg_id(self, name: str) -> str:
        """ARM id of a resource group."""
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{name}"


@pytest.fixture(scope="session")
def local_azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAzure]:
    """One local Azure for the whole session (HTTPS on a free loopback port)."""
    from emulator.client import AdminClient
    from emulator.server import EmulatorServer

    server = EmulatorServer(state_dir=str(tmp_path_factory.mktemp("local-azure"))).start()
    info = server.info()
    azure = LocalAzure(admin=AdminClient(info["base_url"], info["ca_bundle"]), server=server, **info)
    try:
        yield azure
    finally:
        server.stop()


@pytest.fixture
def world(local_azure: LocalAzure) -> Callable[..., dict]:
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
