# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The identities of an API Management service: resolve user-assigned references, plan, refuse removals of
identities still in use, predict (check mode) and apply. Shared by apim_identity and apim_service."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._apim import USER_ASSIGNED_TYPE, ApimServices, identity_to_dict, identity_type, split_identity_type
from ._apim_entities import identity_users
from ._authz import AuthorizationService
from ._errors import AzureApimError
from ._ids import normalize_resource_id, parse_resource_id, resolve_resource_id
from ._retry import APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, SERVICE_CHANGED
from ._plan import UNKNOWN, Assumptions, service_key
from ._state import Outcome, ResourceSpec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

# API Management accepts at most 10 user-assigned identities per service.
MAX_USER_ASSIGNED = 10


# add: listed identities are attached, others stay; exact: exactly the listed ones; remove: listed ones are detached.
USER_ASSIGNED_MODES = ("add", "exact", "remove")


def same_identity_type(a: Any, b: Any) -> bool:
    """Identity types equal whatever the spelling ("SystemAssigned,UserAssigned" vs "SystemAssigned, UserAssigned")."""
    return split_identity_type(a) == split_identity_type(b)


def same_identity_keys(a: Any, b: Any) -> bool:
    """Two user-assigned maps name the same identities (ids compared case-insensitively)."""
    return {normalize_resource_id(k) for k in (a or {})} == {normalize_resource_id(k) for k in (b or {})}


def check_user_assigned_count(references: Optional[List[str]]) -> None:
    """Refuse a list that can never fit, before any call to Azure."""
    unique = {(r or "").strip().lower() for r in references or []}
    if len(unique) > MAX_USER_ASSIGNED:
        raise too_many_user_assigned(len(unique))


def too_many_user_assigned(count: int) -> AzureApimError:
    """The error for a request that would leave more than 10 user-assigned identities on the service."""
    return AzureApimError(
        "An API Management service can have at most {0} user-assigned identities; this request would leave "
        "{1}".format(MAX_USER_ASSIGNED, count),
        code="TooManyUserAssignedIdentities",
        hint="detach identities the service no longer needs (user_assigned_mode: remove or exact), "
             "or share one identity between several uses")


def plan_identity(current: Optional[Dict[str, Any]], system: Optional[bool], users: Optional[List[str]],
                  mode: str = "add") -> Dict[str, Any]:
    """The identity the service should end with: ``{"type", "user_assigned_identities": {id: {}}}``.

    ``current`` is an identity dict (see identity_to_dict); ``system`` None leaves the system-assigned identity as
    it is; ``users`` are resolved ARM ids (None leaves the user-assigned ones alone); ``mode`` is one of
    USER_ASSIGNED_MODES. Ids already attached keep the spelling Azure returns.
    """
    current = current or identity_to_dict(None)
    has_system = split_identity_type(current.get("type"))[0]
    attached = {normalize_resource_id(k): k for k in current.get("user_assigned_identities") or {}}
    wanted = dict(attached)
    if users is not None:
        listed = {normalize_resource_id(u): u for u in users}
        if mode == "exact":
            wanted = {k: attached.get(k, v) for k, v in listed.items()}
        elif mode == "remove":
            wanted = {k: v for k, v in attached.items() if k not in listed}
        else:
            wanted.update({k: v for k, v in listed.items() if k not in attached})
    if len(wanted) > MAX_USER_ASSIGNED:
        raise too_many_user_assigned(len(wanted))
    keep_system = has_system if system is None else bool(system)
    return {"type": identity_type(keep_system, bool(wanted)),
            "user_assigned_identities": {v: {} for v in wanted.values()}}


def identity_patch(current: Optional[Dict[str, Any]], planned: Dict[str, Any]) -> Dict[str, Any]:
    """The ``identity`` body of a PATCH: ``{}`` for every kept or added user-assigned id, ``null`` for removed ones.

    When the new type has no user-assigned part the map is left out: ARM drops the user-assigned identities with
    the type and rejects a map that does not match it.
    """
    body: Dict[str, Any] = {"type": planned["type"]}
    wants_user = split_identity_type(planned["type"])[1]
    if not wants_user:
        return body
    keep = {normalize_resource_id(k) for k in planned["user_assigned_identities"]}
    users: Dict[str, Any] = {k: {} for k in planned["user_assigned_identities"]}
    for key in (current or {}).get("user_assigned_identities") or {}:
        if normalize_resource_id(key) not in keep:
            users[key] = None
    body["userAssignedIdentities"] = users
    return body


def removed_identities(current: Optional[Dict[str, Any]], planned: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Identities the plan takes away: ``{"kind": "system"|"user", "resource_id", "client_id", "principal_id"}``."""
    current = current or identity_to_dict(None)
    removed: List[Dict[str, Any]] = []
    had_system = split_identity_type(current.get("type"))[0]
    keeps_system = split_identity_type(planned.get("type"))[0]
    if had_system and not keeps_system:
        removed.append({"kind": "system", "resource_id": None, "client_id": None,
                        "principal_id": current.get("principal_id")})
    keep = {normalize_resource_id(k) for k in planned.get("user_assigned_identities") or {}}
    for key, value in (current.get("user_assigned_identities") or {}).items():
        if normalize_resource_id(key) not in keep:
            removed.append({"kind": "user", "resource_id": key, "client_id": (value or {}).get("client_id"),
                            "principal_id": (value or {}).get("principal_id")})
    return removed


def with_user_assigned_list(identity: Dict[str, Any]) -> Dict[str, Any]:
    """The identity dict plus ``user_assigned``: a list of {id, name, principal_id, client_id} (easy to loop over)."""
    out = dict(identity)
    out["user_assigned"] = [
        {"id": key, "name": key.rstrip("/").rsplit("/", 1)[-1], "principal_id": value.get("principal_id"),
         "client_id": value.get("client_id")}
        for key, value in sorted((identity.get("user_assigned_identities") or {}).items(), key=lambda kv: kv[0].lower())
    ]
    return out


def _uses(client_id: Optional[str], identity: Dict[str, Any]) -> bool:
    """Does an ``identityClientId`` (None / "SystemAssigned" = the system identity) designate ``identity``?"""
    is_system = not client_id or str(client_id).lower() == "systemassigned"
    if identity["kind"] == "system":
        return is_system
    return not is_system and (identity.get("client_id") or "").lower() == str(client_id).lower()


def identity_label(identity: Dict[str, Any]) -> str:
    """How messages name an identity."""
    if identity["kind"] == "system":
        return "the system-assigned identity"
    return "user-assigned identity {0!r}".format(str(identity["resource_id"]).rstrip("/").rsplit("/", 1)[-1])


# How to unblock each kind of dependent (the article: switch the hostname to an inline certificate first).
UNBLOCK = {
    "hostname": "switch the hostname to an inline certificate (or to another identity) first, "
                "with azure_apim.identity.apim_custom_domain",
    "named_value": "point the named value at another identity or make it a plain value, or delete it",
    "logger": "point the logger at another identity or a connection string, or delete it",
    "certificate": "point the certificate at another identity or upload it inline, or delete it",
}


def dependents_of(identities: List[Dict[str, Any]], hostnames: List[Dict[str, Any]],
                  entities: Dict[str, List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Every hostname / named value / logger / certificate that uses one of ``identities``.

    ``entities`` maps "named_value", "logger", "certificate" to dicts with ``name`` and ``identity_client_id``
    (only those that use an identity: Key Vault references, managed-identity loggers).
    """
    found: List[Dict[str, Any]] = []
    sources = [("hostname", h.get("host_name"), h.get("identity_client_id"))
               for h in hostnames or [] if h.get("key_vault_id")]
    for kind in ("named_value", "logger", "certificate"):
        sources += [(kind, e.get("name"), e.get("identity_client_id")) for e in entities.get(kind) or []]
    for identity in identities:
        for kind, name, client_id in sources:
            if _uses(client_id, identity):
                found.append({"kind": kind, "name": name, "identity": identity_label(identity),
                              "identity_client_id": client_id, "unblock": UNBLOCK[kind]})
    return found


def dependents_error(service_name: str, dependents: List[Dict[str, Any]]) -> AzureApimError:
    """The refusal to remove identities that are still in use, naming each dependent and how to unblock it."""
    lines = ["{0} {1!r} uses {2}".format(d["kind"].replace("_", " "), d["name"], d["identity"]) for d in dependents]
    kinds = []
    for d in dependents:
        if d["kind"] not in kinds:
            kinds.append(d["kind"])
    return AzureApimError(
        "Refusing to remove identities of API Management service {0!r} that are still in use; nothing was "
        "changed: {1}".format(service_name, "; ".join(lines)),
        code="IdentityInUse",
        hint="; ".join("{0}: {1}".format(k.replace("_", " "), UNBLOCK[k]) for k in kinds) + "; then re-run",
        dependents=dependents)


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
        users = identity_users(self.module, service["resource_group"], service["name"])
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
                        # Verified on the service as the operation left it: for a PATCH azure-core's poller GETs the
                        # service itself once the operation has finished (the operation's own status body is never
                        # taken for the resource), the same read a re-read would make. Without a final body the
                        # engine reads the service again.
                        verify_with_response=True,
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
