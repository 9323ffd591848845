# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""Shared capability: which principal an API Management identity is, and granting it access.

Builds the ``ResourceSpec`` of a role assignment, of one access-policy entry and of a vault's trusted-services
switch, and runs a Key Vault grant (keyvault_access). Capability of the ``role_assignment*``, ``keyvault_access*``
and ``keyvault_network`` modules; the custom-domain, certificate, named-value, logger and backend capabilities use
``resolve_planned`` / ``ServiceIdentity`` from here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._apim import USER_ASSIGNED_TYPE, ApimServices, is_system_reference, resolve_identity
from ._authz import (
    ASSIGNMENT_TYPE, AuthorizationService, assignment_name, marked_description, normalize_scope, role_guid,
)
from ._errors import AzureApimError
from ._ids import is_guid, resolve_resource_id
from ._keyvault import (
    FIREWALL_USER_ASSIGNED_REASON, MAX_ACCESS_POLICIES, PERMISSION_KINDS, VaultService, bypass_equal, find_policy,
    firewall_fit, merged_permissions, network_view, permissions_equal, policy_entry, public_policy, rbac_role,
)
from ._plan import UNKNOWN, Assumptions, identity_key, is_unknown, service_key
from ._retry import KEYVAULT_CONFLICT, THROTTLED
from ._state import ResourceSpec, ensure, first_then_fresh

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule


def resolve_planned(module: AzureApimModule, service: Dict[str, Any], reference: Optional[str]) -> Dict[str, Any]:
    """``_apim.resolve_identity``, or in check mode the identity an earlier task plans to enable (``assume``).

    A planned identity has ``principal_id`` (and for a user-assigned one ``client_id`` unless it already exists)
    set to UNKNOWN and ``planned: True``; anything else raises the apply's IdentityNotEnabled error.
    """
    try:
        return resolve_identity(service, reference, module.subscription_id)
    except AzureApimError as err:
        if err.code != "IdentityNotEnabled" or not getattr(module, "check_mode", False):
            raise
        key = identity_key(reference)
        resource_id = None if key == "system" else resolve_resource_id(
            reference, module.subscription_id, service["resource_group"], USER_ASSIGNED_TYPE)
        assumptions = Assumptions(module)
        if not assumptions.identity_enabled(service_key(service["resource_group"], service["name"]),
                                            identity_key(reference, resource_id)):
            raise
        assumptions.warn("the {0} identity of API Management service {1!r}".format(
            "system-assigned" if key == "system" else "user-assigned " + str(resource_id), service["name"]))
        # None: the tenant checks then take the vault's (a new identity lives in the subscription's tenant)
        tenant = (service.get("identity") or {}).get("tenant_id")
        return {"kind": "system" if key == "system" else "user", "principal_id": UNKNOWN, "tenant_id": tenant,
                "client_id": None if key == "system" else UNKNOWN, "resource_id": resource_id, "planned": True}


class ServiceIdentity:
    """The service identity an ``identity`` option names, resolved only when a task really needs it.

    For the system-assigned identity the ``identityClientId`` a setting carries is known without reading the
    service (none / "SystemAssigned"), so an unchanged named value, logger or policy needs no service read;
    ``resolve()`` reads the service (once) to check the identity is enabled before anything is written.
    """

    def __init__(self, module: AzureApimModule, resource_group: str, service_name: str, reference: Optional[str]) -> None:
        self.module, self.group, self.name, self.reference = module, resource_group, service_name, reference
        self._service: Optional[Dict[str, Any]] = None
        self._resolved: Optional[Dict[str, Any]] = None

    @property
    def is_system(self) -> bool:
        """True for the system-assigned identity."""
        return is_system_reference(self.reference)

    def service(self) -> Dict[str, Any]:
        """The service (read once), or the clear ServiceNotFound error."""
        if self._service is None:
            # memo: the items of a list task (named_values) share one read of the service
            self._service = ApimServices(self.module).require(self.group, self.name, memo=True)
        return self._service

    def resolve(self) -> Dict[str, Any]:
        """The identity (see resolve_identity); fails when it is not enabled on the service."""
        if self._resolved is None:
            self._resolved = resolve_planned(self.module, self.service(), self.reference)
        return self._resolved

    def client_id(self) -> Optional[str]:
        """The identity's client id, None for the system-assigned one (known without any read)."""
        return None if self.is_system else self.resolve()["client_id"]

    def ready_for_write(self, uses_identity: bool) -> None:
        """Before a write: a missing service is reported as such, and an identity the setting will use must be
        enabled on the service (see _state.checked_before_write)."""
        self.service()
        if uses_identity:
            self.resolve()


# -- principals named by the module options (shared by role_assignment and keyvault_access) ------------------------

PRINCIPAL_OPTIONS: Dict[str, Any] = dict(
    principal_id=dict(type="str"),
    service_name=dict(type="str"),
    service_resource_group=dict(type="str"),
    identity=dict(type="str", default="system"),
)
PRINCIPAL_KWARGS: Dict[str, Any] = dict(
    mutually_exclusive=[("principal_id", "service_name")],
    required_one_of=[("principal_id", "service_name")],
    required_by={"service_name": "service_resource_group"},
)


def principal_from_params(module: AzureApimModule) -> Dict[str, Any]:
    """The principal the options name: ``principal_id`` as given, or an API Management identity resolved.

    Returns ``{"kind": "system"|"user"|None, "principal_id", "tenant_id", "client_id", "resource_id"}``.
    """
    params = module.params
    if params.get("principal_id"):
        principal = params["principal_id"].strip()
        if not is_guid(principal):
            raise AzureApimError("principal_id {0!r} is not an object id (a GUID)".format(principal),
                                 code="InvalidPrincipalId",
                                 hint="give the principal's object id, or service_name + identity for an APIM identity")
        return {"kind": None, "principal_id": principal, "tenant_id": params.get("principal_tenant_id"),
                "client_id": None, "resource_id": None}
    service = ApimServices(module).require(params["service_resource_group"], params["service_name"], memo=True)
    # service_id: the assignments made for this principal are marked with it (marked_description)
    return dict(resolve_planned(module, service, params.get("identity")), service_id=service.get("id"))


def assignment_spec(authz: AuthorizationService, scope: str, principal_id: str, role: Dict[str, Any],
                    principal_type: str = "ServicePrincipal", description: Optional[str] = None) -> Any:
    """A ResourceSpec for "this role for this principal at this scope" (see _state.ensure)."""
    role_id = role["id"]
    name = assignment_name(scope, principal_id, role_id)

    def read() -> Optional[Dict[str, Any]]:
        found = authz.matching(scope, principal_id, role_id)
        found.sort(key=lambda a: (a["name"] or "").lower() != name)  # ours first, then adopted ones
        return dict(found[0], role_name=role.get("role_name"), adopted=found[0]["name"].lower() != name) \
            if found else None

    def delete(current: Dict[str, Any]) -> None:
        for item in authz.matching(scope, principal_id, role_id):
            authz.delete(item["id"])

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        # the name (and id) derive from the principal id: unknown while the identity is only planned
        known = not is_unknown(principal_id)
        return current or {"id": "{0}/providers/{1}/{2}".format(scope.rstrip("/"), ASSIGNMENT_TYPE, name)
                           if known else UNKNOWN, "name": name if known else UNKNOWN, "scope": scope, "role_definition_id": role_id,
                           "role_name": role.get("role_name"), "principal_id": principal_id,
                           "principal_type": principal_type, "description": description, "condition": None,
                           "created_on": UNKNOWN, "adopted": False}

    def create(wanted: Dict[str, Any]) -> Dict[str, Any]:
        made = authz.create(scope, name, role_id, principal_id, principal_type, description)
        return dict(made, role_name=role.get("role_name"), adopted=bool(made.get("adopted")))

    return ResourceSpec(
        what="role assignment of {0!r} to {1} at {2}".format(role.get("role_name") or role_id, principal_id, scope),
        read=read, create=create, delete=delete, predict=predict, settle=False,
        # The PUT answers with the assignment as stored (an adopted one comes from a fresh list): no re-read.
        verify_with_response=True,
        comparators={"scope": lambda a, b: normalize_scope(a or "") == normalize_scope(b or ""),
                     "role_definition_id": lambda a, b: role_guid(a) == role_guid(b),
                     "principal_id": lambda a, b: str(a).lower() == str(b or "").lower()},
    )


def assignment_desired(scope: str, principal_id: str, role: Dict[str, Any]) -> Dict[str, Any]:
    """What the engine compares: the triple."""
    return {"scope": scope, "principal_id": principal_id, "role_definition_id": role["id"]}


def access_policy_spec(service: VaultService, vault_ref: str, resource_group: Optional[str], object_id: str,
                       tenant_id: str, mode: str, vault: Optional[Dict[str, Any]] = None) -> Any:
    """A ResourceSpec for one principal's access-policy entry on a vault (see _state.ensure).

    Only ``accessPolicies/{add|replace|remove}`` with this one entry is sent; each cycle re-reads the vault, so a
    policy another writer added meanwhile is never lost, and Key Vault's 409 ConflictError re-runs the cycle.
    ``vault``, when given, is the vault the caller has just read: the first cycle uses it instead of reading it
    again; re-runs and the read after a write always read afresh.
    """
    holder: Dict[str, Any] = {}
    read_vault = first_then_fresh(vault, lambda: service.require(vault_ref, resource_group))

    def read() -> Optional[Dict[str, Any]]:
        holder["vault"] = read_vault()
        return find_policy(holder["vault"], object_id)

    def create(wanted: Dict[str, Any]) -> None:
        vault = holder["vault"]
        if len(vault["access_policies"]) >= MAX_ACCESS_POLICIES:
            raise AzureApimError("Key vault {0!r} already holds {1} access policies, Key Vault's maximum".format(
                vault["name"], len(vault["access_policies"])), code="AccessPolicyLimitExceeded",
                hint="remove unused access policies, or move the vault to the Azure RBAC permission model")
        service.update_access_policy(vault, "add", policy_entry(tenant_id, object_id, wanted["permissions"]))

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> None:
        if mode == "exact":
            entry = policy_entry(tenant_id, object_id, wanted["permissions"], base=current["raw"])
            service.update_access_policy(holder["vault"], "replace", entry)
        else:
            service.update_access_policy(holder["vault"], "add",
                                         policy_entry(current["raw"].get("tenantId") or tenant_id, object_id,
                                                      wanted["permissions"]))

    def predict(current: Optional[Dict[str, Any]], wanted: Dict[str, Any]) -> Dict[str, Any]:
        base = public_policy(current) or {"tenant_id": tenant_id, "object_id": object_id, "application_id": None,
                                          "permissions": {kind: [] for kind in PERMISSION_KINDS}}
        return dict(base, permissions=dict(base["permissions"], **wanted["permissions"]))

    return ResourceSpec(
        what="access policy of {0} on key vault {1}".format(object_id, vault_ref),
        read=read, create=create, update=update, predict=predict,
        # Removal sends the entry back exactly as Key Vault stored it, so every permission in it goes.
        delete=lambda current: service.update_access_policy(holder["vault"], "remove", current["raw"]),
        comparators={"permissions": permissions_equal, "object_id": lambda a, b: str(a).lower() == str(b).lower()},
        settle=False, rerun_on=(KEYVAULT_CONFLICT, THROTTLED),
    ), holder  # holder["vault"]: the vault as last read


def trusted_services_spec(service: VaultService, vault_ref: str, resource_group: Optional[str]) -> Any:
    """A ResourceSpec over one vault's ``networkAcls.bypass`` (see _state.ensure); every other rule stays as read.

    Each cycle re-reads the vault right before the PATCH (vaults have no ETag to condition the write on), and
    Key Vault's 409 ConflictError re-runs the cycle from a fresh read.
    """
    holder: Dict[str, Any] = {}

    def read() -> Optional[Dict[str, Any]]:
        holder["vault"] = service.require(vault_ref, resource_group)
        return network_view(holder["vault"])

    def update(current: Dict[str, Any], wanted: Dict[str, Any], paths: List[str]) -> Dict[str, Any]:
        return network_view(service.set_bypass(holder["vault"], wanted["bypass"]))

    return ResourceSpec(what="the firewall of key vault {0}".format(vault_ref), read=read, update=update,
                        comparators={"bypass": bypass_equal}, settle=False, verify_with_response=True,
                        rerun_on=(KEYVAULT_CONFLICT, THROTTLED)), holder


def _check_model(vault: Dict[str, Any], asked: str) -> str:
    model = vault["permission_model"]
    if asked not in ("auto", model):
        raise AzureApimError(
            "Key vault {0!r} uses the {1} permission model, not {2}; a grant of the other kind would be ignored by "
            "the vault".format(vault["name"], model, asked), code="PermissionModelMismatch",
            hint="use permission_model: auto, or change the vault's model yourself (this module never does)")
    return model


def _check_tenant(vault: Dict[str, Any], principal: Dict[str, Any]) -> str:
    tenant = principal.get("tenant_id") or vault.get("tenant_id")
    if str(tenant).lower() != str(vault.get("tenant_id") or "").lower():
        raise AzureApimError(
            "The principal {0} belongs to tenant {1} but key vault {2!r} to tenant {3}; Key Vault only accepts "
            "principals of its own tenant".format(
                principal["principal_id"], tenant, vault["name"], vault.get("tenant_id")),
            code="TenantMismatch", hint="use a vault in the identity's tenant (identities do not follow a "
                                        "subscription moved to another directory; recreate them)")
    return str(tenant)


def _check_firewall(module: AzureApimModule, vault: Dict[str, Any], principal: Dict[str, Any], allow_user: bool) -> Dict[str, Any]:
    fit = firewall_fit(vault, principal.get("kind"))
    if fit["passes"]:
        return fit
    if fit["enabled"] and principal.get("kind") == "user" and not allow_user:
        raise AzureApimError(
            "Refusing to grant user-assigned identity {0} on key vault {1!r}: {2}".format(
                principal.get("resource_id") or principal["principal_id"], vault["name"], FIREWALL_USER_ASSIGNED_REASON),
            code="FirewallBlocksUserAssigned",
            hint="use identity: system, or set allow_user_assigned_behind_firewall: true to grant anyway")
    module.warn("API Management will not reach key vault {0!r} through its firewall: {1}".format(
        vault["name"], fit["reason"]))
    return fit


def grant(module: AzureApimModule, principal: Dict[str, Any], vault_ref: str, resource_group: Optional[str], *,
          permission_model: str, permissions: Dict[str, List[str]], mode: str, role: str,
          secret_name: Optional[str], allow_user: bool, state: str) -> Dict[str, Any]:
    """Grant (``state=present``) or revoke one principal's secret access on a vault; the keyvault_access result."""
    service = VaultService(module)
    vault = service.require(vault_ref, resource_group)
    model = _check_model(vault, permission_model)
    tenant = _check_tenant(vault, principal)
    fit = _check_firewall(module, vault, principal, allow_user) if state == "present" else firewall_fit(
        vault, principal.get("kind"))
    result: Dict[str, Any] = {"permission_model": model, "vault": {"id": vault["id"], "name": vault["name"]},
                              "principal": {k: principal.get(k) for k in ("kind", "principal_id", "tenant_id")},
                              "firewall": fit, "access_policy": {}, "role_assignment": {}}
    if model == "rbac":
        authz = AuthorizationService(module)
        scope = vault["id"] + ("/secrets/" + secret_name if secret_name else "")
        chosen = rbac_role(role, permissions.get("certificates"), vault["name"])
        if chosen != role:
            module.warn("Key vault {0!r} uses Azure RBAC: certificate_permissions {1} are granted as the role {2!r} "
                        "(it also reads secrets, as API Management does for certificates)".format(
                            vault["name"], permissions["certificates"], chosen))
        role_def = authz.resolve_role(chosen, scope)
        spec = assignment_spec(authz, scope, principal["principal_id"], role_def,
                               description=marked_description(principal))
        outcome = ensure(spec, state, assignment_desired(scope, principal["principal_id"], role_def),
                         check_mode=module.check_mode, deadline=module.deadline)
        result.update(outcome.result("role_assignment"))
        return result
    spec = access_policy_spec(service, vault["id"], None, principal["principal_id"], tenant, mode, vault=vault)[0]
    outcome = ensure(spec, state, lambda current: {"object_id": principal["principal_id"],
                                                   "permissions": merged_permissions(current, permissions, mode)},
                     check_mode=module.check_mode, deadline=module.deadline)
    outcome.before, outcome.after = public_policy(outcome.before), public_policy(outcome.after)
    result.update(outcome.result("access_policy"))
    return result
