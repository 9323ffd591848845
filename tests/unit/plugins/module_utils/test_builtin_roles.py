"""Built-in role names resolve from a table (issue 17): no role-definition read per grant.

The table must agree with the role definitions the local Azure serves (tests/emulator/roles.py, built from the
shared reference data), whose ids are Microsoft's published built-in role ids; unknown names still go to ARM.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, List

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._authz import BUILTIN_ROLES, AuthorizationService
from emulator.authorization import ROLE_DEFINITIONS

SUB = "00000000-0000-0000-0000-000000000001"
VAULT = "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv".format(SUB)


class NoArm:
    """A module whose every ARM read is recorded: the table path must not read."""

    def __init__(self) -> None:
        self.subscription_id = SUB
        self.reads: List[Any] = []

    def arm(self) -> Any:
        return SimpleNamespace(get=None, list=None)

    def read(self, *args: Any, **kwargs: Any) -> Any:
        self.reads.append(args[1])
        return []


@pytest.mark.parametrize("name", sorted(n for n, _guid in BUILTIN_ROLES.values()))
def test_table_matches_the_served_definitions(name):
    guid = BUILTIN_ROLES[name.lower()][1]
    assert guid in ROLE_DEFINITIONS, "{0} ({1}) is not served by the local Azure".format(name, guid)
    assert ROLE_DEFINITIONS[guid]["roleName"] == name


def test_every_served_builtin_the_collection_uses_is_tabled():
    tabled = {guid for _name, guid in BUILTIN_ROLES.values()}
    assert not set(ROLE_DEFINITIONS) - tabled


@pytest.mark.parametrize("scope, prefix", [(VAULT, "/subscriptions/" + SUB), ("/", "")])
def test_builtin_name_resolves_without_a_read(scope, prefix):
    module = NoArm()
    role = AuthorizationService(module).resolve_role(" key vault secrets user ", scope)
    assert module.reads == []
    assert role["role_name"] == "Key Vault Secrets User"
    guid = "4633458b-17de-408a-b874-0445c86b69e6"
    assert role["id"] == prefix + "/providers/Microsoft.Authorization/roleDefinitions/" + guid


def test_unknown_name_is_still_looked_up():
    module = NoArm()
    with pytest.raises(Exception) as err:
        AuthorizationService(module).resolve_role("My Custom Role", VAULT)
    assert getattr(err.value, "code", None) == "RoleNotFound"
    assert module.reads and "roleName eq 'My Custom Role'" in module.reads[0]
