# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Capability of role_assignment and role_assignment_info: one role for one principal at one scope (the spec is
_access.assignment_spec, shared with keyvault_access on RBAC vaults), and the filtered listing of the info module."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from ._access import (  # pylint: disable=unused-import
    PRINCIPAL_KWARGS, PRINCIPAL_OPTIONS, assignment_desired, assignment_spec, principal_from_params,
)
from ._authz import AuthorizationService, marked_description, normalize_scope, role_guid
from ._errors import AzureApimError
from ._ids import parse_resource_id
from ._state import ensure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


def validate(params: Dict[str, Any]) -> None:
    """A malformed scope is refused before anything is read or written."""
    scope = "/" + params["scope"].strip().strip("/")
    if scope != "/":
        parse_resource_id(scope)


def ensure_assignment(module: AzureApimModule) -> Dict[str, Any]:
    """role_assignment: ensure the one assignment (one item of ``assignments``) and return the module result."""
    params = module.params
    validate(params)
    scope = "/" + params["scope"].strip().strip("/")
    principal = principal_from_params(module)
    authz = AuthorizationService(module)
    role = authz.resolve_role(params["role"], scope)
    spec = assignment_spec(authz, scope, principal["principal_id"], role, params["principal_type"],
                           marked_description(principal, params["description"]))
    outcome = ensure(spec, params["state"], assignment_desired(scope, principal["principal_id"], role),
                     check_mode=module.check_mode, deadline=module.deadline)
    result = outcome.result("role_assignment")
    result["principal"] = {k: principal.get(k) for k in ("kind", "principal_id", "tenant_id")}
    return result


def find_assignments(module: AzureApimModule) -> Dict[str, Any]:
    """role_assignment_info: the assignments at (or, unless ``at_scope_only``, above and below) the scope, filtered
    by principal and role."""
    params = module.params
    scope = "/" + params["scope"].strip().strip("/")
    authz = AuthorizationService(module)
    principal = None
    if params["principal_id"] or params["service_name"]:
        try:
            principal = principal_from_params(module)["principal_id"]
        except AzureApimError as err:
            if err.code not in ("ServiceNotFound", "IdentityNotEnabled"):
                raise
            return {"changed": False, "role_assignments": []}  # no such identity: nothing can be assigned to it
    wanted_role = role_guid(authz.resolve_role(params["role"], scope)["id"]) if params["role"] else None
    found = []
    for item in authz.list_for_scope(scope, principal):
        if principal and str(item["principal_id"]).lower() != principal.lower():
            continue
        if wanted_role and role_guid(item["role_definition_id"]) != wanted_role:
            continue
        if params["at_scope_only"] and normalize_scope(item["scope"] or "") != normalize_scope(scope):
            continue
        role = authz.definition(item["role_definition_id"]) if item.get("role_definition_id") else None
        found.append(dict(item, role_name=(role or {}).get("role_name")))
    return {"changed": False, "role_assignments": found}
