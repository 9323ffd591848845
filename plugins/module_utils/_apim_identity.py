# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The identities of an API Management service: resolve user-assigned references, plan, refuse removals of
identities still in use, predict (check mode) and apply. Shared by apim_identity and apim_service."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._apim import (
    USER_ASSIGNED_TYPE, ApimServices, dependents_error, dependents_of, identity_patch, identity_to_dict,
    plan_identity, removed_identities, same_identity_keys, same_identity_type, split_identity_type,
    with_user_assigned_list,
)
from ._authz import AuthorizationService
from ._errors import AzureApimError
from ._ids import normalize_resource_id, parse_resource_id, resolve_resource_id
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._plan import UNKNOWN, Assumptions, service_key
from ._state import Outcome, ResourceSpec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

# api-version for reading user-assigned identities by id (any subscription); a stable version of the MSI API.
MSI_API_VERSION = "2023-01-31"

IDENTITY_COMPARATORS = {"identity.type": same_identity_type, "identity.user_assigned_identities": same_identity_keys}


@dataclass
class IdentityRequest:
    """What the user asked for: ``system`` None / ``users`` None leave that part alone."""

    system: Optional[bool] = None
    users: Optional[List[str]] = None
    mode: str = "add"

    @property
    def touches(self) -> bool:
        """True when the request sets anything about identities."""
        return self.system is not None or self.users is not None


class IdentityPlanner:
    """Turns an IdentityRequest into the identity a service should have, checking everything before any write."""

    def __init__(self, module: AzureApimModule, resource_group: str) -> None:
        self.module = module
        self.resource_group = resource_group
        self.known: Dict[str, Dict[str, Any]] = {}  # normalised id -> {id, principal_id, client_id}

    def resolve(self, request: IdentityRequest, current: Optional[Dict[str, Any]] = None) -> Optional[List[str]]:
        """ARM ids of the listed identities; those to attach must exist (Azure's spelling of the id is used).

        An identity ``current`` (the service's identity dict) already holds is neither read nor checked: the
        service carries its principal and client ids, and its id is deterministic from the name.
        """
        if request.users is None:
            return None
        ids = [resolve_resource_id(ref, self.module.subscription_id, self.resource_group, USER_ASSIGNED_TYPE)
               for ref in request.users]
        if request.mode == "remove":
            return ids
        attached = attached_identities(current)
        return [attached[normalize_resource_id(rid)] if normalize_resource_id(rid) in attached
                else self._existing(ref, rid)["id"] for ref, rid in zip(request.users, ids)]

    def _existing(self, reference: str, resource_id: str) -> Dict[str, Any]:
        key = normalize_resource_id(resource_id)
        if key not in self.known:
            body = self.module.call(self.module.arm().get, resource_id, MSI_API_VERSION,
                                    what="reading user-assigned identity {0}".format(resource_id))
            if body is None and Assumptions(self.module).identity_created(resource_id):
                # An earlier task of the same check run creates it (``assume``); elsewhere the apply's error below.
                Assumptions(self.module).warn("user-assigned identity {0}".format(resource_id))
                return {"id": resource_id, "principal_id": UNKNOWN, "client_id": UNKNOWN}
            if body is None:
                parsed = parse_resource_id(resource_id)
                raise AzureApimError(
                    "User-assigned identity {0!r} was not found (looked for {1!r} in resource group {2!r})".format(
                        reference, parsed.name, parsed.resource_group),
                    status=404, code="IdentityNotFound",
                    hint="create it first with azure_apim.identity.user_assigned_identity, or fix the name, the "
                         "resource group or the id")
            props = body.get("properties") or {}
            self.known[key] = {"id": body.get("id") or resource_id, "principal_id": props.get("principalId"),
                               "client_id": props.get("clientId")}
        return self.known[key]

    def plan(self, current: Optional[Dict[str, Any]], request: IdentityRequest) -> Dict[str, Any]:
        """The planned identity ``{"type", "user_assigned_identities"}`` (see _apim.plan_identity)."""
        return plan_identity(current, request.system, self.resolve(request, current), request.mode)

    def refuse_removal_in_use(self, service: Dict[str, Any], planned: Dict[str, Any]) -> None:
        """Fail, before any write, when an identity the plan removes is still used; lists every dependent."""
        removed = removed_identities(service.get("identity"), planned)
        if not removed:
            return
        users = ApimServices(self.module).identity_users(service["resource_group"], service["name"])
        found = dependents_of(removed, service.get("hostname_configurations") or [], users)
        if found:
            raise dependents_error(service["name"], found)

    def predict(self, current: Optional[Dict[str, Any]], planned: Dict[str, Any]) -> Dict[str, Any]:
        """The identity check mode reports; ids Azure has not assigned yet are None."""
        current = current or identity_to_dict(None)
        had_system = split_identity_type(current.get("type"))[0]
        keeps_system, has_user = split_identity_type(planned["type"])
        attached = {normalize_resource_id(k): v for k, v in (current.get("user_assigned_identities") or {}).items()}
        users = {}
        for key in planned["user_assigned_identities"]:
            known = attached.get(normalize_resource_id(key)) or self.known.get(normalize_resource_id(key)) or {}
            users[key] = {"principal_id": known.get("principal_id") or UNKNOWN,
                          "client_id": known.get("client_id") or UNKNOWN}
        principal = None if not keeps_system else current.get("principal_id") if had_system else UNKNOWN
        return with_user_assigned_list({
            "type": planned["type"], "principal_id": principal,
            "tenant_id": (current.get("tenant_id") or UNKNOWN) if (keeps_system or has_user) else None,
            "user_assigned_identities": users,
        })


def attached_identities(identity: Optional[Dict[str, Any]]) -> Dict[str, str]:
    """Normalised id -> Azure's spelling, for every user-assigned identity an identity dict holds."""
    return {normalize_resource_id(key): key for key in ((identity or {}).get("user_assigned_identities") or {})}


def service_view(service: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """A service dict with its identity extended by the ``user_assigned`` list (None stays None)."""
    if service is None:
        return None
    return dict(service, identity=with_user_assigned_list(service.get("identity") or identity_to_dict(None)))


def _identity_view(service: Dict[str, Any]) -> Dict[str, Any]:
    return {key: service.get(key) for key in ("id", "name", "resource_group", "provisioning_state", "identity")}


def identity_spec(module: AzureApimModule, resource_group: str, name: str,
                  request: IdentityRequest) -> Tuple[ResourceSpec, Callable[[Dict[str, Any]], Dict[str, Any]]]:
    """ResourceSpec + desired-state function for the identities of an existing service (apim_identity)."""
    services = ApimServices(module)
    planner = IdentityPlanner(module, resource_group)
    latest: Dict[str, Any] = {}

    def read() -> Dict[str, Any]:
        latest["service"] = service_view(services.require(resource_group, name))
        return _identity_view(latest["service"])

    def desired(current: Dict[str, Any]) -> Dict[str, Any]:
        if not request.touches:
            return {}
        planned = planner.plan(current["identity"], request)
        planner.refuse_removal_in_use(latest["service"], planned)
        return {"identity": planned}

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> Optional[Dict[str, Any]]:
        warn_left_grants(module, current["identity"], wanted["identity"])
        final = services.update_identity(resource_group, name, identity_patch(current["identity"], wanted["identity"]),
                                         etag=services.etag(resource_group, name))
        if final is None:
            return None  # no usable final body: the engine reads the service again
        latest["service"] = service_view(final)
        return _identity_view(latest["service"])

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        return dict(current or {}, identity=planner.predict((current or {}).get("identity"), wanted["identity"]))

    spec = ResourceSpec(what="the identities of API Management service {0}/{1}".format(resource_group, name),
                        read=read, update=update, predict=predict, comparators=IDENTITY_COMPARATORS,
                        # Verified by reading the service again once the PATCH's operation has finished: the
                        # operation's final body says what was asked, not necessarily what the service stored.
                        verify_with_response=False,
                        # 412: the service changed since the read the identity was planned from (If-Match).
                        rerun_on=(APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED))
    return spec, desired


def identity_result(outcome: Outcome) -> Dict[str, Any]:
    """Module result of apim_identity: ``identity``, ``service`` and the diff of the identity block."""
    after = outcome.after or {}
    before = outcome.before or {}
    return {
        "changed": outcome.changed,
        "identity": after.get("identity") or {},
        "service": {k: after.get(k) for k in ("id", "name", "resource_group", "provisioning_state")},
        "diff": {"before": {"identity": before.get("identity")}, "after": {"identity": after.get("identity")}},
    }


def current_identities(identity: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every identity a service has, in the shape dependents_of() expects."""
    return removed_identities(identity, {"type": "None", "user_assigned_identities": {}})


def warn_left_grants(module: AzureApimModule, current: Optional[Dict[str, Any]], planned: Dict[str, Any]) -> None:
    """Disabling the system-assigned identity deletes its principal; the role assignments made for it stay behind
    in Azure as assignments of an unknown principal. Name them so they can be removed (role_assignment
    state=absent, or the apim_teardown role). Detached user-assigned identities keep their principal and grants."""
    gone = [r for r in removed_identities(current, planned) if r["kind"] == "system" and r.get("principal_id")]
    for identity in gone:
        scope = "/subscriptions/{0}".format(module.subscription_id)
        left = [a for a in AuthorizationService(module).list_for_scope(scope, identity["principal_id"])
                if str(a.get("principal_id") or "").lower() == str(identity["principal_id"]).lower()]
        if left:
            module.warn("Disabling the system-assigned identity (principal {0}) leaves {1} role assignment(s) that "
                        "will name a principal that no longer exists: {2}. Access-policy entries for it in Key "
                        "Vaults stay too. azure_apim.identity.apim_identity_info with orphaned_grants=true lists "
                        "them later (those this collection made); remove them with "
                        "azure_apim.identity.role_assignment / keyvault_access (state=absent, principal_id) or the "
                        "apim_teardown role (apim_teardown_remove_orphaned_grants)".format(
                            identity["principal_id"], len(left),
                            ", ".join("{0} at {1}".format(a.get("name"), a.get("scope")) for a in left[:10])))


def identities_planned(resource_group: str, name: str, before: Optional[Dict[str, Any]],
                       after: Optional[Dict[str, Any]]) -> List[Dict[str, str]]:
    """The identities a check run enables or attaches on a service (``before``/``after``: identity dicts)."""
    before, after = before or {}, after or {}
    service = service_key(resource_group, name)
    entries = []
    if split_identity_type(after.get("type"))[0] and not split_identity_type(before.get("type"))[0]:
        entries.append({"service": service, "identity": "system"})
    had = {normalize_resource_id(k) for k in before.get("user_assigned_identities") or {}}
    entries.extend({"service": service, "identity": normalize_resource_id(k)}
                   for k in after.get("user_assigned_identities") or {} if normalize_resource_id(k) not in had)
    return entries
