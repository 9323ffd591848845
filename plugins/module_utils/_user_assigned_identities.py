# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of user_assigned_identity and user_assigned_identity_info: the desired state and the
ResourceSpec of one user-assigned identity resource (see _state.ensure), and the lookups of the info module."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._compare import exact, merge_tags
from ._errors import AzureApimError
from ._ids import build_resource_id
from ._msi import IdentityService, same_location
from ._plan import UNKNOWN
from ._state import ResourceSpec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


def desired_state(params: Dict[str, Any], current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Only what the user set: tags merged with the current ones unless purge_tags."""
    tags = params["tags"]
    if tags is not None:
        tags = {str(k): str(v) for k, v in tags.items()}
    return {
        "name": params["name"],
        "location": params["location"],
        "tags": merge_tags((current or {}).get("tags"), tags, params["purge_tags"]),
    }


def spec_for(module: AzureApimModule) -> ResourceSpec:
    """How to read and write the identity named in the parameters."""
    service = IdentityService(module)
    group, name = module.params["resource_group"], module.params["name"]

    def location_for_create(wanted: Dict[str, Any]) -> str:
        # Reading the group also proves it exists, so check mode predicts a create that would fail.
        location = service.resource_group_location(group)
        if not location:
            raise AzureApimError("Resource group {0!r} does not exist in subscription {1}".format(group, module.subscription_id),
                                 code="ResourceGroupNotFound", hint="create it first or fix resource_group")
        return wanted.get("location") or location

    def create(wanted: Dict[str, Any]) -> Dict[str, Any]:
        # With a location given, the PUT needs nothing from the group: a missing group is Azure's own 404
        # ResourceGroupNotFound on the PUT, so the apply costs one read and one write.
        location = wanted.get("location") or location_for_create(wanted)
        return service.create_or_update(group, name, location, wanted.get("tags"))

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: list) -> Dict[str, Any]:
        if "location" in paths:
            raise AzureApimError(
                "Identity {0} is in {1!r}, not {2!r}; an identity cannot move region".format(name, current["location"], wanted["location"]),
                code="LocationImmutable", hint="delete it (state=absent) and create it again, or drop 'location'")
        return service.update_tags(group, name, wanted["tags"])

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        if current is None:
            # The resource id is known before creation; later tasks of a check run can refer to it.
            rid = build_resource_id(module.subscription_id, group, "Microsoft.ManagedIdentity", "userAssignedIdentities", name)
            current = {"id": rid, "name": name, "resource_group": group, "location": location_for_create(wanted),
                       "tags": {}, "client_id": UNKNOWN, "principal_id": UNKNOWN, "tenant_id": UNKNOWN}
        return dict(current, **wanted)

    return ResourceSpec(
        what="identity {0}/{1}".format(group, name),
        read=lambda: service.get(group, name),
        create=create, update=update, predict=predict,
        delete=lambda current: service.delete(group, name),
        comparators={"location": same_location, "tags": exact}, settle=False,
        verify_with_response=True,  # identity PUT/PATCH are synchronous and answer with the stored identity
    )


def find_identities(module: AzureApimModule, group: Optional[str], name: Optional[str]) -> List[Dict[str, Any]]:
    """user_assigned_identity_info: the one identity named (or none), else those of the group or subscription."""
    service = IdentityService(module)
    if name:
        found = service.get(group, name)
        return [found] if found else []
    return service.list(group)
