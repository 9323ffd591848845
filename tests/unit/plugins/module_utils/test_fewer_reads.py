"""Helpers that spare ARM reads (issue 10): deferred identity resolution, the engine's write test, the final body of
a service update, attached identities not read again, a vault read once, a role assignment verified from its PUT."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _apim
from ansible_collections.azure_apim.identity.plugins.module_utils._access import ServiceIdentity
from ansible_collections.azure_apim.identity.plugins.module_utils._apim import _final_service, is_system_reference
from ansible_collections.azure_apim.identity.plugins.module_utils._apim_identity import (
    IdentityPlanner, IdentityRequest, attached_identities,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._access import assignment_spec
from ansible_collections.azure_apim.identity.plugins.module_utils._compare import ci_equal
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._access import access_policy_spec
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ResourceSpec, ensure, needs_write

SUB = "00000000-0000-0000-0000-000000000001"


def uid(name: str) -> str:
    return "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{1}".format(
        SUB, name)


def service(kind: str = "SystemAssigned, UserAssigned", users: tuple = ("id-a",)) -> Dict[str, Any]:
    return {"id": "/svc", "name": "apim", "resource_group": "rg",
            "identity": {"type": kind, "principal_id": "p-sys", "tenant_id": "t",
                         "user_assigned_identities": {uid(u): {"principal_id": "p-" + u, "client_id": "c-" + u}
                                                      for u in users}}}


# -- needs_write --------------------------------------------------------------------------------------------------

SPEC = ResourceSpec(what="thing", read=lambda: None, comparators={"client": ci_equal})


@pytest.mark.parametrize("current,wanted,expected", [
    (None, {}, True),                                           # absent: a create is coming
    ({"a": 1, "client": "X"}, {"a": 1}, False),                 # only what is set is compared
    ({"a": 1}, {"a": 2}, True),
    ({"a": 1}, {"a": 1, "b": None}, False),                     # unset options are ignored
    ({"client": "ABC"}, {"client": "abc"}, False),              # the spec's comparators apply
    ({"nested": {"x": 1, "y": 2}}, {"nested": {"x": 1}}, False),
    ({"nested": {"x": 1}}, {"nested": {"x": 3}}, True),
])
def test_needs_write_matches_what_ensure_does(current, wanted, expected):
    assert needs_write(SPEC, current, wanted) is expected
    store = {"resource": current}
    spec = ResourceSpec(what="thing", read=lambda: store["resource"], comparators=SPEC.comparators, settle=False)
    outcome = ensure(spec, "present", wanted, check_mode=True, deadline=Deadline(10))
    assert outcome.changed is expected  # the helper and the engine agree


# -- ServiceIdentity ----------------------------------------------------------------------------------------------

class CountingServices:
    """Stands in for ApimServices.require: counts reads of the service."""

    def __init__(self, found: Optional[Dict[str, Any]]) -> None:
        self.found, self.reads = found, 0

    def require(self, group: str, name: str) -> Dict[str, Any]:
        self.reads += 1
        if self.found is None:
            raise AzureApimError("API Management service {0!r} was not found".format(name), code="ServiceNotFound")
        return self.found


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch):
    def install(found: Optional[Dict[str, Any]]) -> CountingServices:
        counter = CountingServices(found)
        monkeypatch.setattr(_apim.ApimServices, "require", lambda self, group, name, memo=False: counter.require(group, name))
        return counter
    return install


MODULE = SimpleNamespace(subscription_id=SUB)


@pytest.mark.parametrize("reference", [None, "system", "System", " systemassigned ", "system_assigned"])
def test_system_client_id_needs_no_read(services, reference):
    counter = services(service())
    identity = ServiceIdentity(MODULE, "rg", "apim", reference)
    assert is_system_reference(reference) and identity.is_system
    assert identity.client_id() is None and counter.reads == 0


def test_resolve_reads_the_service_once(services):
    counter = services(service())
    identity = ServiceIdentity(MODULE, "rg", "apim", "id-a")
    assert identity.client_id() == "c-id-a"
    assert identity.resolve()["principal_id"] == "p-id-a" and identity.service()["name"] == "apim"
    assert counter.reads == 1


@pytest.mark.parametrize("found,reference,code", [
    (service("UserAssigned"), "system", "IdentityNotEnabled"),
    (service(), "id-unattached", "IdentityNotEnabled"),
    (None, "system", "ServiceNotFound"),
])
def test_resolve_refuses_what_the_service_lacks(services, found, reference, code):
    services(found)
    with pytest.raises(AzureApimError) as err:
        ServiceIdentity(MODULE, "rg", "apim", reference).resolve()
    assert err.value.code == code


# -- the final body of a service update ---------------------------------------------------------------------------

def _model(state: Optional[str], with_id: bool = True) -> Any:
    return SimpleNamespace(id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"
                           if with_id else None, name="apim", provisioning_state=state, identity=None)


@pytest.mark.parametrize("model,usable", [
    (None, False),
    (_model("Succeeded"), True),
    (_model("Failed"), True),            # settled: the caller verifies it and reports what is missing
    (_model("Updating"), False),         # still running: the caller reads the service again
    (_model("Succeeded", with_id=False), False),
    (SimpleNamespace(), False),          # not a service model
])
def test_final_service(model, usable):
    final = _final_service(model)
    assert (final is not None) is usable
    if usable:
        assert final["resource_group"] == "rg" and final["identity"]["type"] == "None"


# -- attached identities are not read again -----------------------------------------------------------------------

class FakeArm:
    def __init__(self, existing: List[str]) -> None:
        self.existing = {i.lower(): i for i in existing}
        self.gets: List[str] = []

    def get(self, resource_id: str, api_version: str) -> Optional[Dict[str, Any]]:
        self.gets.append(resource_id.rsplit("/", 1)[-1])
        found = self.existing.get(resource_id.lower())
        return None if found is None else {"id": found, "properties": {"principalId": "p", "clientId": "c"}}


def planner_module(existing: List[str], check_mode: bool = False) -> Any:
    arm = FakeArm(existing)
    return SimpleNamespace(subscription_id=SUB, check_mode=check_mode, arm=lambda: arm,
                           call=lambda fn, *args, what="": fn(*args), warn=lambda msg: None), arm


@pytest.mark.parametrize("users,mode,read", [
    (["id-a"], "add", []),                                    # attached: no read
    ([uid("ID-A").upper()], "exact", []),                     # attached, other spelling: no read
    (["id-a", "id-b"], "add", ["id-b"]),                      # only the one being added is read
    (["id-b"], "exact", ["id-b"]),
    (["id-a", "id-b"], "remove", []),                         # removal never reads
])
def test_planner_reads_only_identities_being_added(users, mode, read):
    module, arm = planner_module([uid("id-a"), uid("id-b")])
    planner = IdentityPlanner(module, "rg")
    ids = planner.resolve(IdentityRequest(users=users, mode=mode), service()["identity"])
    assert arm.gets == read
    if mode != "remove":
        assert ids[0] == (uid("id-a") if users[0].lower().endswith("id-a") else uid("id-b"))  # Azure's spelling


def test_planner_still_refuses_a_missing_identity_being_added():
    module, arm = planner_module([uid("id-a")])
    with pytest.raises(AzureApimError) as err:
        IdentityPlanner(module, "rg").resolve(IdentityRequest(users=["id-a", "id-nope"]), service()["identity"])
    assert err.value.code == "IdentityNotFound" and "id-nope" in err.value.msg and arm.gets == ["id-nope"]


def test_attached_identities():
    assert attached_identities(None) == {}
    assert attached_identities(service()["identity"]) == {uid("id-a").lower(): uid("id-a")}


# -- keyvault_access: the vault the caller read is used once ------------------------------------------------------

class FakeVaults:
    def __init__(self) -> None:
        self.reads = 0

    def require(self, ref: str, group: Optional[str]) -> Dict[str, Any]:
        self.reads += 1
        return {"id": ref, "name": "kv", "access_policies": [], "read": self.reads}


def test_access_policy_spec_uses_the_vault_given_once():
    vaults = FakeVaults()
    given = {"id": "/kv", "name": "kv", "access_policies": [], "read": 0}
    spec, holder = access_policy_spec(vaults, "/kv", None, "obj", "t", "additive", vault=given)
    assert spec.read() is None and holder["vault"] is given and vaults.reads == 0
    spec.read()  # a re-run or the read after a write: fresh
    assert vaults.reads == 1 and holder["vault"]["read"] == 1
    plain = access_policy_spec(vaults, "/kv", None, "obj", "t", "additive")[0]
    plain.read()
    assert vaults.reads == 2


# -- role assignments: verified from the PUT's answer -------------------------------------------------------------

class FakeAuthz:
    def __init__(self, adopted: bool = False) -> None:
        self.adopted, self.listed = adopted, 0

    def matching(self, scope: str, principal: str, role_id: str) -> List[Dict[str, Any]]:
        self.listed += 1
        return []

    def create(self, scope, name, role_id, principal, principal_type, description) -> Dict[str, Any]:
        made = {"id": scope + "/ra/" + name, "name": name, "scope": scope, "role_definition_id": role_id,
                "principal_id": principal, "principal_type": principal_type}
        return dict(made, adopted=True) if self.adopted else made


@pytest.mark.parametrize("adopted", [False, True])
def test_assignment_is_verified_from_the_put(adopted):
    authz = FakeAuthz(adopted)
    role = {"id": "/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
            "role_name": "Key Vault Secrets User"}
    spec = assignment_spec(authz, "/subscriptions/s/rg/kv", "obj", role)
    outcome = ensure(spec, "present", {"scope": "/subscriptions/s/rg/kv", "principal_id": "obj",
                                       "role_definition_id": role["id"]}, check_mode=False, deadline=Deadline(10))
    assert outcome.changed and authz.listed == 1  # read before the write only
    assert outcome.after["role_name"] == "Key Vault Secrets User" and outcome.after["adopted"] is adopted
