# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of apim_identity_info: the services' identities, their dependents, and the grants an API
Management service left behind: role assignments and Key Vault access-policy entries of principals
that were the service's identities and no longer are (read-only; apim_identity_info ``orphaned_grants``).

Attribution needs no directory permission. A role assignment is the service's when its description carries this
collection's marker for the service (_authz.grant_marker), or when it has this collection's deterministic name
(_authz.assignment_name) for a principal a marked assignment ties to the service. An access-policy entry has no
description: it is attributed only through such proven principals, and only in the vaults the service references.

A principal is gone when it was the system-assigned identity and is not the current one (Azure deletes the
principal with the identity and never reuses its object id), or when it was a user-assigned identity whose resource
no longer exists or now has another principal (deleted and created again under the same name).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Set
from urllib.parse import urlsplit

from ._apim import ApimServices
from ._apim_entities import identity_users
from ._apim_identity import current_identities, dependents_of, service_view
from ._authz import AuthorizationService, assignment_name, builtin_role_name, parse_marker
from ._ids import normalize_resource_id
from ._keyvault import VaultService

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

MSI_API_VERSION = "2023-01-31"


def current_principals(identity: Optional[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Principal id (lower case) -> {kind, identity_id} for the identities the service has now."""
    identity = identity or {}
    found: Dict[str, Dict[str, Any]] = {}
    if identity.get("principal_id"):
        found[str(identity["principal_id"]).lower()] = {"kind": "system", "identity_id": None}
    for key, value in (identity.get("user_assigned_identities") or {}).items():
        if (value or {}).get("principal_id"):
            found[str(value["principal_id"]).lower()] = {"kind": "user", "identity_id": key}
    return found


def tied_principals(assignments: Iterable[Dict[str, Any]], service_id: str) -> Dict[str, Dict[str, Any]]:
    """Principal id (lower case) -> the marker {kind, identity_id} of every assignment marked for ``service_id``."""
    wanted = normalize_resource_id(service_id)
    tied: Dict[str, Dict[str, Any]] = {}
    for assignment in assignments:
        marker = parse_marker(assignment.get("description"))
        if marker and marker["service_id"] == wanted and assignment.get("principal_id"):
            tied.setdefault(str(assignment["principal_id"]).lower(),
                            {"kind": marker["kind"], "identity_id": marker["identity_id"]})
    return tied


def gone_reason(principal_id: str, tie: Dict[str, Any], current: Dict[str, Dict[str, Any]],
                user_identity: Optional[Dict[str, Any]]) -> Optional[str]:
    """Why this tied principal is no longer the service's (None when it still exists as the service's or as the
    user-assigned identity it was). ``user_identity`` is the identity resource as read now ({} when not read)."""
    if principal_id in current:
        return None
    if tie["kind"] == "system":
        return "the service's system-assigned identity was disabled or replaced (a new principal)"
    if user_identity is None:
        return "user-assigned identity {0} no longer exists".format(tie["identity_id"])
    now = str(((user_identity or {}).get("properties") or {}).get("principalId") or "").lower()
    if now and now != principal_id:
        return "user-assigned identity {0} was deleted and created again (new principal)".format(tie["identity_id"])
    return None


def is_attributed(assignment: Dict[str, Any], service_id: str, gone: Set[str]) -> bool:
    """The assignment is for a gone principal and either marked for this service or named deterministically."""
    principal = str(assignment.get("principal_id") or "").lower()
    if principal not in gone:
        return False
    marker = parse_marker(assignment.get("description"))
    if marker is not None:
        return marker["service_id"] == normalize_resource_id(service_id)
    return str(assignment.get("name") or "").lower() == assignment_name(
        assignment.get("scope") or "", principal, assignment.get("role_definition_id") or "")


def vault_hosts(service: Dict[str, Any], users: Dict[str, List[Dict[str, Any]]]) -> Set[str]:
    """Host names of the vaults the service references: hostnames, named values and certificates from Key Vault."""
    uris = [h.get("key_vault_id") for h in service.get("hostname_configurations") or []]
    uris += [e.get("secret_identifier") for kind in ("named_value", "certificate") for e in users.get(kind) or []]
    return {(urlsplit(str(u)).hostname or "").lower() for u in uris if u and str(u).lower().startswith("https://")}


def policy_entry(vault: Dict[str, Any], policy: Dict[str, Any], who: Dict[str, Any]) -> Dict[str, Any]:
    """One access-policy entry as reported (never the raw body)."""
    return {"vault": vault.get("name"), "vault_id": vault.get("id"), "permission_model": vault.get("permission_model"),
            "object_id": policy.get("object_id"), "tenant_id": policy.get("tenant_id"),
            "application_id": policy.get("application_id"), "permissions": policy.get("permissions"),
            "kind": who.get("kind"), "identity_id": who.get("identity_id")}


def policies_of(vaults: List[Dict[str, Any]], principals: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The access-policy entries of ``principals`` in ``vaults``."""
    return [policy_entry(vault, policy, principals[str(policy.get("object_id") or "").lower()])
            for vault in vaults for policy in vault.get("access_policies") or []
            if str(policy.get("object_id") or "").lower() in principals]


def reported_assignment(assignment: Dict[str, Any], tie: Dict[str, Any], reason: str) -> Dict[str, Any]:
    """A role assignment as reported: the assignment, its built-in role name when known, which identity, why."""
    return dict(assignment, role_name=builtin_role_name(assignment.get("role_definition_id")),
                kind=tie["kind"], identity_id=tie["identity_id"], reason=reason)


class OrphanFinder:
    """Finds services' orphaned grants with one role-assignment list per subscription and no per-assignment read,
    one vault list, and one read per user-assigned identity a marker names that is no longer attached."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module
        self._identities: Dict[str, Optional[Dict[str, Any]]] = {}
        # read once per module run, shared by every service of a resource group
        self._assignments: Optional[List[Dict[str, Any]]] = None
        self._vaults: Optional[List[Dict[str, Any]]] = None

    def assignments(self) -> List[Dict[str, Any]]:
        """Every role assignment that applies in the subscription (one paged list)."""
        if self._assignments is None:
            scope = "/subscriptions/{0}".format(self.module.subscription_id)
            self._assignments = AuthorizationService(self.module).list_for_scope(scope)
        return self._assignments

    def vaults(self, hosts: Set[str]) -> List[Dict[str, Any]]:
        """The subscription's vaults whose URI host is one of ``hosts`` (the list is read once, and only when a
        service references a vault)."""
        if not hosts:
            return []
        if self._vaults is None:
            self._vaults = VaultService(self.module).list()
        return [v for v in self._vaults if (urlsplit(str(v.get("vault_uri") or "")).hostname or "").lower() in hosts]

    def _user_identity(self, identity_id: str) -> Optional[Dict[str, Any]]:
        key = normalize_resource_id(identity_id) or ""
        if key not in self._identities:
            self._identities[key] = self.module.read(self.module.arm().get, identity_id, MSI_API_VERSION,
                                                     what="reading user-assigned identity " + identity_id)
        return self._identities[key]

    def gone(self, tied: Dict[str, Dict[str, Any]], current: Dict[str, Dict[str, Any]]) -> Dict[str, str]:
        """Principal id -> reason, for the tied principals that are no longer the service's."""
        found = {}
        for principal, tie in tied.items():
            attached_now = principal in current
            needs_read = tie["kind"] == "user" and not attached_now and tie.get("identity_id")
            reason = gone_reason(principal, tie, current, self._user_identity(tie["identity_id"]) if needs_read else {})
            if reason:
                found[principal] = reason
        return found

    def find(self, service: Dict[str, Any], users: Dict[str, List[Dict[str, Any]]]) -> Dict[str, Any]:
        """``{"principals", "role_assignments", "access_policies"}`` (the orphans) and ``key_vault_access_policies``
        (the current identities' entries in the vaults the service references) for one service."""
        assignments = self.assignments()
        current = current_principals(service.get("identity"))
        tied = tied_principals(assignments, service["id"])
        gone = self.gone(tied, current)
        orphans = [reported_assignment(a, tied[str(a["principal_id"]).lower()],
                                       gone[str(a["principal_id"]).lower()])
                   for a in assignments if is_attributed(a, service["id"], set(gone))]
        vaults = self.vaults(vault_hosts(service, users))
        gone_ties = {p: tied[p] for p in gone}
        return {
            "orphaned_grants": {
                "principals": [dict(tied[p], principal_id=p, reason=r) for p, r in sorted(gone.items())],
                "role_assignments": orphans,
                "access_policies": policies_of(vaults, gone_ties),
            },
            "key_vault_access_policies": policies_of(vaults, current),
        }


def _entry(services: ApimServices, service: Dict[str, Any], params: Dict[str, Any],
           orphans: OrphanFinder) -> Dict[str, Any]:
    """One service's identities as the module returns them."""
    view = service_view(service) or {}
    result = dict(view["identity"], service_name=view["name"], resource_group=view["resource_group"],
                  service_id=view["id"], provisioning_state=view["provisioning_state"])
    if not (params["include_dependents"] or params["orphaned_grants"]):
        return result
    users = identity_users(services.module, view["resource_group"], view["name"])
    if params["include_dependents"]:
        result["dependents"] = dependents_of(current_identities(view["identity"]),
                                             view.get("hostname_configurations") or [], users)
    if params["orphaned_grants"]:
        result.update(orphans.find(view, users))
    return result


def identity_report(module: AzureApimModule) -> Dict[str, Any]:
    """apim_identity_info: the services' identities, with their dependents and orphaned grants on request."""
    params = module.params
    services = ApimServices(module)
    if params["service_name"]:
        found = services.get(params["resource_group"], params["service_name"])
        listed: List[Dict[str, Any]] = [found] if found else []
    else:
        listed = services.list(params["resource_group"])
    orphans = OrphanFinder(module)
    return {"changed": False,
            "identities": [_entry(services, s, params, orphans) for s in listed]}
