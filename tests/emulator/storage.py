"""Microsoft.Storage, modelled just enough to exist, be read, and serve as a role-assignment scope (storage
accounts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from emulator import simple
from emulator.world import World

bp = Blueprint("storage", __name__)

STORAGE = "Microsoft.Storage/storageAccounts"


def _account_properties(name: str, w: World) -> dict[str, Any]:
    return {"provisioningState": "Succeeded", "creationTime": w.iso(), "accessTier": "Hot",
            "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/",
                                 "queue": f"https://{name}.queue.core.windows.net/",
                                 "table": f"https://{name}.table.core.windows.net/",
                                 "file": f"https://{name}.file.core.windows.net/"},
            "primaryLocation": "westeurope", "statusOfPrimary": "available", "supportsHttpsTrafficOnly": True,
            "allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2",
            "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [],
                            "defaultAction": "Allow"}}


ACCOUNTS = simple.Tracked(STORAGE, {"name": "Standard_LRS", "tier": "Standard"}, _account_properties,
                          kind="StorageV2")


def create_storage_account(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """Seed a storage account."""
    return ACCOUNTS.seed(w, rg, spec, location)


simple.routes(bp, ACCOUNTS)
