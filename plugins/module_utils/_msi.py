# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""User-assigned managed identities (azure-mgmt-msi) as plain dicts."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._arm import OperationGroup, tracked_resource


IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
RESOURCE_GROUP_API = "2022-09-01"


def identity_to_dict(model: Any) -> Dict[str, Any]:
    """The SDK Identity model as the dict modules return (names match the module options)."""
    return {
        **tracked_resource(model),
        "client_id": getattr(model, "client_id", None),
        "principal_id": getattr(model, "principal_id", None),
        "tenant_id": getattr(model, "tenant_id", None),
    }


def same_location(a: Any, b: Any) -> bool:
    """Azure accepts 'West Europe' and returns 'westeurope'; both name the same region."""
    if isinstance(a, str) and isinstance(b, str):
        return a.replace(" ", "").lower() == b.replace(" ", "").lower()
    return a == b


class IdentityService(OperationGroup):
    """Reads and writes user-assigned identities through an AzureApimModule."""

    client_name, operations = "msi", "user_assigned_identities"

    def get(self, resource_group: str, name: str) -> Optional[Dict[str, Any]]:
        """The identity, or None when it (or its resource group) does not exist."""
        model = self.module.read(self._ops.get, resource_group, name,
                                 what="reading identity {0}/{1}".format(resource_group, name))
        return identity_to_dict(model) if model is not None else None

    def list(self, resource_group: Optional[str] = None) -> List[Dict[str, Any]]:
        """All identities of a resource group (or of the subscription); [] when the group does not exist."""
        def pages() -> List[Any]:
            if resource_group:
                return list(self._ops.list_by_resource_group(resource_group))
            return list(self._ops.list_by_subscription())

        models = self.module.read(pages, what="listing identities")
        return [identity_to_dict(m) for m in models or []]

    def create_or_update(self, resource_group: str, name: str, location: str, tags: Optional[Dict[str, str]]) -> Dict[str, Any]:
        """PUT the identity (location and tags)."""
        body: Dict[str, Any] = {"location": location}
        if tags is not None:
            body["tags"] = tags
        model = self.module.call(self._ops.create_or_update, resource_group, name, body,
                                 what="creating identity {0}/{1}".format(resource_group, name))
        return identity_to_dict(model)

    def update_tags(self, resource_group: str, name: str, tags: Dict[str, str]) -> Dict[str, Any]:
        """PATCH only the tags (the complete new tag set)."""
        model = self.module.call(self._ops.update, resource_group, name, {"tags": tags},
                                 what="updating tags of identity {0}/{1}".format(resource_group, name))
        return identity_to_dict(model)

    def delete(self, resource_group: str, name: str) -> None:
        """DELETE the identity (a 404 counts as done)."""
        self.module.read(self._ops.delete, resource_group, name, empty_ok=True,
                         what="deleting identity {0}/{1}".format(resource_group, name))

    def resource_group_location(self, resource_group: str) -> Optional[str]:
        """Location of a resource group, None when it does not exist."""
        path = "/subscriptions/{0}/resourcegroups/{1}".format(self.module.subscription_id, resource_group)
        group = self.module.call(self.module.arm().get, path, RESOURCE_GROUP_API,
                                 what="reading resource group {0}".format(resource_group))
        return group.get("location") if group else None
