"""Resolution of "which identity of the service" references (system, user-assigned by name or id)."""
import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._apim import (
    identity_by_client_id, identity_type, resolve_identity, split_identity_type)
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

SUB = "00000000-0000-0000-0000-000000000001"
UAI = "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-one".format(SUB)


def service(kind="SystemAssigned, UserAssigned"):
    return {"name": "apim", "resource_group": "rg", "identity": {
        "type": kind, "principal_id": "sys-principal", "tenant_id": "tenant",
        "user_assigned_identities": {UAI: {"principal_id": "uai-principal", "client_id": "uai-client"}}}}


@pytest.mark.parametrize("ref", ["system", "SystemAssigned", None, " system "])
def test_system_reference(ref):
    found = resolve_identity(service(), ref, SUB)
    assert (found["kind"], found["principal_id"], found["client_id"]) == ("system", "sys-principal", None)


@pytest.mark.parametrize("ref", ["id-one", "ID-ONE", UAI, UAI.upper(), UAI + "/"])
def test_user_reference_by_name_or_id_any_case(ref):
    found = resolve_identity(service(), ref, SUB)
    assert (found["kind"], found["principal_id"], found["client_id"]) == ("user", "uai-principal", "uai-client")


def test_system_not_enabled_names_the_fix():
    with pytest.raises(AzureApimError) as err:
        resolve_identity(service("UserAssigned"), "system", SUB)
    assert "not enabled" in str(err.value) and "apim_identity" in err.value.hint


def test_unknown_user_identity_names_the_fix():
    with pytest.raises(AzureApimError) as err:
        resolve_identity(service(), "id-two", SUB)
    assert "id-two" in str(err.value) and "user_assigned_identities" in err.value.hint


def test_malformed_id_is_refused():
    with pytest.raises(AzureApimError) as err:
        resolve_identity(service(), "/subscriptions/x/nonsense", SUB)
    assert "Malformed" in str(err.value)


@pytest.mark.parametrize("value,expected", [
    ("SystemAssigned, UserAssigned", (True, True)), ("systemAssigned,userAssigned", (True, True)),
    ("SystemAssigned", (True, False)), ("UserAssigned", (False, True)), ("None", (False, False)), (None, (False, False)),
])
def test_type_spellings(value, expected):
    assert split_identity_type(value) == expected
    assert split_identity_type(identity_type(*expected)) == expected


@pytest.mark.parametrize("client_id,kind", [(None, "system"), ("SystemAssigned", "system"), ("UAI-CLIENT", "user"),
                                            ("other", None)])
def test_identity_by_client_id(client_id, kind):
    found = identity_by_client_id(service(), client_id)
    assert (found or {}).get("kind") == kind
