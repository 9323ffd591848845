"""Azure's built-in role definitions (the roles the collection and the article touch, overlaid by the shared
reference data when present) and what a role allows."""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path
from typing import Any, Iterable, Optional

from emulator.world import World

RD_TYPE = "Microsoft.Authorization/roleDefinitions"
SECRET_READ_ACTION = "Microsoft.KeyVault/vaults/secrets/getSecret/action"

# Built-in roles the collection and the article touch. Ids are Azure's fixed built-in role GUIDs.
_BUILTIN_MINIMAL: list[tuple[str, str, str, list[str], list[str], list[str]]] = [
    # (guid, roleName, description, actions, notActions, dataActions)
    ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner",
     "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
     ["*"], [], []),
    ("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor",
     "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
     ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
             "Microsoft.Authorization/elevateAccess/Action"], []),
    ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", "View all resources, but does not allow you to make any changes.",
     ["*/read"], [], []),
    ("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator",
     "Lets you manage user access to Azure resources.",
     ["*/read", "Microsoft.Authorization/*"], [], []),
    ("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User",
     "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
     [], [], ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
    ("db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", "Key Vault Certificate User",
     "Read certificate contents. Only works for key vaults that use the 'Azure role-based access control' permission "
     "model.", [], [], ["Microsoft.KeyVault/vaults/certificates/read", SECRET_READ_ACTION,
                        "Microsoft.KeyVault/vaults/secrets/readMetadata/action", "Microsoft.KeyVault/vaults/keys/read"]),
    ("b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Key Vault Secrets Officer",
     "Perform any action on the secrets of a key vault, except manage permissions.",
     ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/checkNameAvailability/read",
      "Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read",
      "Microsoft.KeyVault/operations/read"], [], ["Microsoft.KeyVault/vaults/secrets/*"]),
    ("00482a5a-887f-4fb3-b363-3b7fe8e74483", "Key Vault Administrator",
     "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and "
     "secrets.", ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/checkNameAvailability/read",
                  "Microsoft.KeyVault/deletedVaults/read", "Microsoft.KeyVault/locations/*/read",
                  "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read"], [],
     ["Microsoft.KeyVault/vaults/*"]),
    ("21090545-7ca7-4776-b22c-e363652d74d2", "Key Vault Reader", "Read metadata of key vaults and its certificates, "
     "keys, and secrets.", ["Microsoft.Authorization/*/read", "Microsoft.KeyVault/vaults/*/read"], [],
     ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
    ("2b629674-e913-4c01-ae53-ef4638d8f975", "Azure Event Hubs Data Sender",
     "Allows send access to Azure Event Hubs resources.", ["Microsoft.EventHub/*/eventhubs/read"], [],
     ["Microsoft.EventHub/*/send/action"]),
    ("a638d3c7-ab3a-418d-83e6-5f17a39d4fde", "Azure Event Hubs Data Receiver",
     "Allows receive access to Azure Event Hubs resources.", ["Microsoft.EventHub/*/eventhubs/consumergroups/read"],
     [], ["Microsoft.EventHub/*/receive/action"]),
    ("69a216fc-b8fb-44d8-bc22-1f3c2cd27a39", "Azure Service Bus Data Sender",
     "Allows for send access to Azure Service Bus resources.",
     ["Microsoft.ServiceBus/*/queues/read", "Microsoft.ServiceBus/*/topics/read",
      "Microsoft.ServiceBus/*/topics/subscriptions/read"], [], ["Microsoft.ServiceBus/*/send/action"]),
    ("4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", "Azure Service Bus Data Receiver",
     "Allows for receive access to Azure Service Bus resources.",
     ["Microsoft.ServiceBus/*/queues/read", "Microsoft.ServiceBus/*/topics/read",
      "Microsoft.ServiceBus/*/topics/subscriptions/read"], [], ["Microsoft.ServiceBus/*/receive/action"]),
    ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader",
     "Allows for read access to Azure Storage blob containers and data",
     ["Microsoft.Storage/storageAccounts/blobServices/containers/read",
      "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"], [],
     ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]),
    ("ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor",
     "Allows for read, write and delete access to Azure Storage blob containers and data",
     ["Microsoft.Storage/storageAccounts/blobServices/containers/delete",
      "Microsoft.Storage/storageAccounts/blobServices/containers/read",
      "Microsoft.Storage/storageAccounts/blobServices/containers/write",
      "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"], [],
     ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
      "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"]),
]

OWNER_ID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def shared_dir() -> Path:
    """The shared reference directory: `$AZURE_APIM_SHARED_DIR`, else `<repo root>/../shared`."""
    override = os.environ.get("AZURE_APIM_SHARED_DIR")
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared"


def _from_minimal(entry: tuple) -> dict[str, Any]:
    guid, name, desc, actions, not_actions, data_actions = entry
    return {
        "name": guid,
        "roleName": name,
        "description": desc,
        "assignableScopes": ["/"],
        "permissions": [{"actions": actions, "notActions": not_actions, "dataActions": data_actions,
                         "notDataActions": []}],
        "roleType": "BuiltInRole",
    }


def load_role_definitions() -> dict[str, dict[str, Any]]:
    """Built-in role definitions keyed by GUID: the minimal table, overlaid by the shared reference data if present."""
    roles = {entry[0]: _from_minimal(entry) for entry in _BUILTIN_MINIMAL}
    path = shared_dir() / "reference/arm-examples/Microsoft.Authorization/builtin-role-definitions.extracted.json"
    if path.is_file():
        for item in json.loads(path.read_text(encoding="utf-8")).get("value", []):
            roles[item["name"]] = {k: item[k] for k in ("name", "roleName", "description", "assignableScopes",
                                                        "permissions", "roleType") if k in item}
    return roles


ROLE_DEFINITIONS = load_role_definitions()


def role_by_name(role_name: str) -> Optional[dict[str, Any]]:
    """A built-in role by its display name (case-insensitive)."""
    for role in ROLE_DEFINITIONS.values():
        if role["roleName"].lower() == role_name.lower():
            return role
    return None


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def role_definition_body(w: World, guid: str, scope: str) -> dict[str, Any]:
    """The ARM body of a role definition as read at `scope` (subscription-scoped id at or below a subscription)."""
    role = ROLE_DEFINITIONS[guid]
    sub_scope = f"/subscriptions/{w.subscription_id}" if scope.lower().startswith("/subscriptions/") else ""
    return {
        "id": f"{sub_scope}/providers/{RD_TYPE}/{guid}",
        "type": RD_TYPE,
        "name": guid,
        "properties": {
            "roleName": role["roleName"],
            "type": role.get("roleType", "BuiltInRole"),
            "description": role.get("description", ""),
            "assignableScopes": role.get("assignableScopes", ["/"]),
            "permissions": role["permissions"],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2024-01-01T00:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
        },
    }


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def role_allows_data_action(role: dict, action: str) -> bool:
    """True when a role definition's permissions include `action` as a data action (wildcards honoured)."""
    for perm in role.get("permissions", []):
        if _action_matches(perm.get("dataActions", []), action) and not _action_matches(
                perm.get("notDataActions", []), action):
            return True
    return False


def role_allows_action(role: dict, action: str) -> bool:
    """True when a role definition's permissions include control-plane `action` (wildcards honoured)."""
    for perm in role.get("permissions", []):
        if _action_matches(perm.get("actions", []), action) and not _action_matches(perm.get("notActions", []), action):
            return True
    return False
