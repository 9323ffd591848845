# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Azure RBAC (Microsoft.Authorization) as plain dicts: role definitions, role assignments, data-action checks.

Calls go through the generic ARM client with a pinned api-version so that the bodies we send and read back are
exactly ARM's JSON, whatever azure-mgmt-authorization version is installed.
"""
from __future__ import annotations

import difflib
import fnmatch
import re
import uuid
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional

from ._arm import properties_to_dict, renamed
from ._errors import AzureApimError
from ._ids import is_guid, normalize_resource_id
from ._plan import is_unknown
from ._retry import PRINCIPAL_NOT_FOUND, THROTTLED

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

API_VERSION = "2022-04-01"
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
SECRET_READ_ACTION = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
# Fixed namespace so that scope + principal + role always give the same assignment name, on every machine.
NAME_NAMESPACE = uuid.UUID("6a1f0c55-2b8e-4f5e-9d0b-7c3a1e9b4d21")
# Built-in role ids are the same in every tenant and cloud (Microsoft Learn, "Azure built-in roles"): the names the
# article and the roles use resolve without reading role definitions. Other names are looked up.
BUILTIN_ROLES = {name.lower(): (name, guid) for name, guid in (
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"), ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    ("User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"),
    ("Key Vault Administrator", "00482a5a-887f-4fb3-b363-3b7fe8e74483"),
    ("Key Vault Reader", "21090545-7ca7-4776-b22c-e363652d74d2"),
    ("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"),
    ("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"),
    ("Key Vault Certificate User", "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba"),
    ("Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975"),
    ("Azure Event Hubs Data Receiver", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"),
    ("Azure Service Bus Data Sender", "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"),
    ("Azure Service Bus Data Receiver", "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"),
    ("Storage Blob Data Reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"),
    ("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"),
)}
_BUILTIN_BY_GUID = {guid: name for name, guid in BUILTIN_ROLES.values()}

# -- attribution: the description this collection writes on the assignments it makes for an APIM identity ---------
# Azure never tells which service a managed identity's principal belonged to once the identity is gone (a disabled
# system-assigned identity's principal is deleted from Entra ID; reading principals needs Microsoft Graph rights
# anyway). The assignment's own ``description`` carries it instead: written once when the assignment is created,
# never rewritten. Microsoft recommends descriptions of at most 512 characters (Azure RBAC conditions FAQ, "What
# are the limits for a description?"); a marker with a service id and a user-assigned identity id stays well below
# for Azure's name limits in practice.
GRANT_MARKER_PREFIX = "azure_apim.identity grant for API Management service "
GRANT_MARKER_SYSTEM = "system"
DESCRIPTION_RECOMMENDED_MAX = 512
_MARKER = re.compile(r"^azure_apim\.identity grant for API Management service (/\S+); identity: (system|/\S+)"
                     r"(?: \| .*)?$", re.S)


def normalize_scope(scope: str) -> str:
    """A scope as ARM spells it for comparisons: one leading slash, no trailing slash, lower case."""
    return normalize_resource_id(scope) or "/"


def role_guid(role_definition_id: Optional[str]) -> str:
    """The GUID at the end of a role definition id (lower case)."""
    return str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()


def assignment_name(scope: str, principal_id: str, role_definition_id: str) -> str:
    """The deterministic assignment name for one (scope, principal, role) triple: re-runs never duplicate."""
    key = "|".join((normalize_scope(scope), principal_id.lower(), role_guid(role_definition_id)))
    return str(uuid.uuid5(NAME_NAMESPACE, key))


def grant_marker(service_id: str, kind: str, identity_id: Optional[str] = None) -> str:
    """The description marking an assignment as made by this collection for one identity of one service."""
    who = GRANT_MARKER_SYSTEM if kind == "system" else str(identity_id)
    return "{0}{1}; identity: {2}".format(GRANT_MARKER_PREFIX, service_id, who)


def parse_marker(description: Optional[str]) -> Optional[Dict[str, Any]]:
    """``{"service_id", "kind": "system"|"user", "identity_id"}`` from a marked description; None otherwise.

    Ids come back normalised (lower case, one leading slash) so they compare with normalize_resource_id's output.
    """
    found = _MARKER.match(description or "")
    if not found:
        return None
    who = found.group(2)
    return {"service_id": normalize_resource_id(found.group(1)),
            "kind": "system" if who == GRANT_MARKER_SYSTEM else "user",
            "identity_id": None if who == GRANT_MARKER_SYSTEM else normalize_resource_id(who)}


def marked_description(principal: Dict[str, Any], description: Optional[str] = None) -> Optional[str]:
    """The description for a new assignment to ``principal``: the marker when the principal is an identity of an
    API Management service (``service_id`` and ``kind`` known), followed by the user's own text after " | "."""
    service_id, kind = principal.get("service_id"), principal.get("kind")
    if not service_id or kind not in ("system", "user") or (kind == "user" and not principal.get("resource_id")):
        return description
    marker = grant_marker(service_id, kind, principal.get("resource_id"))
    return marker + " | " + description if description else marker


def builtin_role_name(role_definition_id: Optional[str]) -> Optional[str]:
    """The display name of a built-in role, known without reading its definition; None for other roles."""
    return _BUILTIN_BY_GUID.get(role_guid(role_definition_id))


def covers(outer: str, inner: str) -> bool:
    """True when an assignment at scope ``outer`` applies to ``inner`` (same scope or an ancestor)."""
    outer_n, inner_n = normalize_scope(outer), normalize_scope(inner)
    return outer_n == "/" or inner_n == outer_n or inner_n.startswith(outer_n + "/")


def _matches(patterns: Iterable[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in patterns or [])


def allows_data_action(role: Dict[str, Any], action: str) -> bool:
    """True when the role's permissions grant data ``action`` (wildcards and notDataActions honoured)."""
    for perm in role.get("permissions") or []:
        if _matches(perm.get("data_actions"), action) and not _matches(perm.get("not_data_actions"), action):
            return True
    return False


_PERMISSION_FIELDS = {"actions": "actions", "not_actions": "notActions", "data_actions": "dataActions",
                      "not_data_actions": "notDataActions"}


def definition_to_dict(body: Dict[str, Any]) -> Dict[str, Any]:
    """An ARM role definition body as a plain dict."""
    result = properties_to_dict(body, {"role_name": "roleName", "role_type": "type", "description": "description"})
    result["permissions"] = [renamed(p, _PERMISSION_FIELDS, lists=_PERMISSION_FIELDS)
                             for p in (body.get("properties") or {}).get("permissions") or []]
    return result


def assignment_to_dict(body: Dict[str, Any]) -> Dict[str, Any]:
    """An ARM role assignment body as a plain dict (snake_case)."""
    return properties_to_dict(body, {
        "scope": "scope", "role_definition_id": "roleDefinitionId", "principal_id": "principalId",
        "principal_type": "principalType", "description": "description", "condition": "condition",
        "created_on": "createdOn"})


def same_triple(assignment: Dict[str, Any], scope: str, principal_id: str, role_definition_id: str) -> bool:
    """True when the assignment is for exactly this scope, principal and role."""
    return (normalize_scope(assignment.get("scope") or "") == normalize_scope(scope)
            and str(assignment.get("principal_id") or "").lower() == principal_id.lower()
            and role_guid(assignment.get("role_definition_id")) == role_guid(role_definition_id))


def _existing_name(err: Any) -> Optional[str]:
    """The name of the assignment a RoleAssignmentExists error points at, when ARM says it."""
    text = str(getattr(err, "msg", None) or err)
    found = re.findall(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", text)
    return found[-1] if found else None


class AuthorizationService:
    """Reads and writes role definitions and assignments through an AzureApimModule (plain dicts out)."""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module
        self._definitions: Dict[str, Dict[str, Any]] = {}

    def _arm(self) -> Any:
        return self.module.arm()

    # -- role definitions -------------------------------------------------------------------------
    def definition(self, role_definition_id: str) -> Optional[Dict[str, Any]]:
        """A role definition by its full id (cached per run); None when it does not exist."""
        key = role_guid(role_definition_id)
        if key not in self._definitions:
            path = role_definition_id if role_definition_id.startswith("/") else \
                "/subscriptions/{0}/providers/{1}/{2}".format(self.module.subscription_id, DEFINITION_TYPE, key)
            body = self.module.read(self._arm().get, path, API_VERSION, what="reading role definition " + key)
            if body is None:
                return None
            self._definitions[key] = definition_to_dict(body)
        return self._definitions[key]

    def definitions(self, scope: str, role_name: Optional[str] = None) -> List[Dict[str, Any]]:
        """Role definitions visible at ``scope``, optionally filtered by exact role name."""
        path = "{0}/providers/{1}".format(scope.rstrip("/"), DEFINITION_TYPE)
        if role_name:
            path += "?$filter=" + "roleName eq '{0}'".format(role_name.replace("'", "''"))
        bodies = self.module.read(self._arm().list, path, API_VERSION, what="listing role definitions") or []
        found = [definition_to_dict(b) for b in bodies]
        for item in found:
            self._definitions.setdefault(role_guid(item["id"]), item)
        return found

    def resolve_role(self, role: str, scope: str) -> Dict[str, Any]:
        """A role by display name, GUID or full id; an unknown name fails listing the closest names."""
        role = role.strip()
        if role.lower() in BUILTIN_ROLES or role.lower() in _BUILTIN_BY_GUID:
            return self._builtin(role, scope)
        if role.startswith("/") or is_guid(role):
            found = self.definition(role)
            if found is None:
                raise AzureApimError("Role definition {0!r} does not exist".format(role), code="RoleDefinitionNotFound",
                                     hint="give a built-in role name such as 'Key Vault Secrets User', or a valid id")
            return found
        matches = [d for d in self.definitions(scope, role) if (d["role_name"] or "").lower() == role.lower()]
        if matches:
            return matches[0]
        names = [d["role_name"] for d in self.definitions(scope) if d.get("role_name")]
        close = difflib.get_close_matches(role, names, n=5, cutoff=0.5) or \
            [n for n in names if role.lower() in n.lower()][:5]
        raise AzureApimError(
            "Unknown role {0!r}{1}".format(role, "; did you mean: " + ", ".join(repr(n) for n in close) if close else ""),
            code="RoleNotFound",
            hint="role names are Azure's display names (for example 'Key Vault Secrets User'); ids also work")

    def _builtin(self, role: str, scope: str) -> Dict[str, Any]:
        name, guid = BUILTIN_ROLES.get(role.lower()) or (_BUILTIN_BY_GUID[role.lower()], role.lower())
        parts = scope.strip("/").split("/")
        # The id as ARM lists it at this scope: subscription-scoped at or below a subscription.
        prefix = "/subscriptions/" + parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""
        return {"id": "{0}/providers/{1}/{2}".format(prefix, DEFINITION_TYPE, guid), "name": guid, "role_name": name,
                "role_type": "BuiltInRole"}

    # -- role assignments -------------------------------------------------------------------------
    def list_for_scope(self, scope: str, principal_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """Assignments that apply at, above or below ``scope`` ([] when the scope does not exist)."""
        if is_unknown(principal_id):
            return []  # an identity a check run plans to create has no assignment yet
        path = "{0}/providers/{1}".format(scope.rstrip("/"), ASSIGNMENT_TYPE)
        if principal_id:
            path += "?$filter=" + "principalId eq '{0}'".format(principal_id)
        bodies = self.module.read(self._arm().list, path, API_VERSION, what="listing role assignments at " + scope)
        return [assignment_to_dict(b) for b in bodies or []]

    def matching(self, scope: str, principal_id: str, role_definition_id: str) -> List[Dict[str, Any]]:
        """Assignments of exactly this triple (any name)."""
        return [a for a in self.list_for_scope(scope, principal_id)
                if same_triple(a, scope, principal_id, role_definition_id)]

    def get(self, scope: str, name: str) -> Optional[Dict[str, Any]]:
        """One assignment by scope and name; None when absent."""
        path = "{0}/providers/{1}/{2}".format(scope.rstrip("/"), ASSIGNMENT_TYPE, name)
        body = self.module.read(self._arm().get, path, API_VERSION, what="reading role assignment " + name)
        return assignment_to_dict(body) if body else None

    def create(self, scope: str, name: str, role_definition_id: str, principal_id: str,
               principal_type: str = "ServicePrincipal", description: Optional[str] = None) -> Dict[str, Any]:
        """Create the assignment; a just-created principal (PrincipalNotFound) is retried within the deadline.

        When the same triple already exists under another name (RoleAssignmentExists), that assignment is
        returned instead, with ``adopted: True``.
        """
        path = "{0}/providers/{1}/{2}".format(scope.rstrip("/"), ASSIGNMENT_TYPE, name)
        props = {"roleDefinitionId": role_definition_id, "principalId": principal_id, "principalType": principal_type}
        if description:
            props["description"] = description
        try:
            body = self.module.call(self._arm().request, "PUT", path, API_VERSION, {"properties": props},
                                    what="creating role assignment " + name, retry=(THROTTLED, PRINCIPAL_NOT_FOUND))
        except AzureApimError as err:
            if (err.code or "").lower() != "roleassignmentexists":
                raise
            return self._adopt(scope, principal_id, role_definition_id, err)
        return assignment_to_dict(body or {})

    def _adopt(self, scope: str, principal_id: str, role_definition_id: str, err: AzureApimError) -> Dict[str, Any]:
        existing = self.matching(scope, principal_id, role_definition_id)
        if not existing:
            raise AzureApimError("Azure says the role assignment exists ({0}) but it cannot be listed at {1}".format(
                _existing_name(err) or "unknown name", scope), code="RoleAssignmentExists",
                hint="check the scope; the existing assignment may be inherited or hidden from this principal")
        return dict(existing[0], adopted=True)

    def delete(self, assignment_id: str) -> None:
        """Delete one assignment by its full id (204 when already gone is fine)."""
        self.module.call(self._arm().request, "DELETE", assignment_id, API_VERSION,
                         what="deleting role assignment " + assignment_id.rsplit("/", 1)[-1])

    # -- effective access ---------------------------------------------------------------------------
    def grants(self, principal_id: str, scope: str, action: str) -> List[Dict[str, Any]]:
        """The principal's assignments covering ``scope`` whose role grants data ``action`` (each with its role)."""
        found = []
        for assignment in self.list_for_scope(scope, principal_id):
            if str(assignment.get("principal_id") or "").lower() != principal_id.lower():
                continue
            if not covers(assignment.get("scope") or "", scope):
                continue
            role = self.definition(assignment["role_definition_id"])
            if role is not None and allows_data_action(role, action):
                found.append(dict(assignment, role_name=role.get("role_name")))
        return found
