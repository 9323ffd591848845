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


# -- identities by client id (issue 14) ------------------------------------------------------------------------------
CLIENT = "3f0c9a4e-1b2d-4c5e-8f6a-7b8c9d0e1f2a"


def service_with_client(client_id=CLIENT):
    svc = service()
    svc["identity"]["user_assigned_identities"][UAI]["client_id"] = client_id
    return svc


@pytest.mark.parametrize("ref", [CLIENT, CLIENT.upper(), " " + CLIENT + " "])
def test_user_reference_by_client_id_any_case(ref):
    found = resolve_identity(service_with_client(), ref, SUB)
    assert (found["kind"], found["resource_id"], found["client_id"]) == ("user", UAI, CLIENT)


def test_unattached_client_id_names_the_attached_identities():
    with pytest.raises(AzureApimError) as err:
        resolve_identity(service_with_client(), "11111111-2222-3333-4444-555555555555", SUB)
    message = str(err.value)
    assert "client id '11111111-2222-3333-4444-555555555555' is not attached" in message
    assert "id-one (client id {0})".format(CLIENT) in message and err.value.code == "IdentityNotEnabled"


def test_guid_shaped_name_still_resolves_by_name():
    # a user-assigned identity may be *named* like a GUID: no client id matches, the name does
    name = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    svc = service_with_client()
    uai = UAI.replace("id-one", name)
    svc["identity"]["user_assigned_identities"] = {uai: {"principal_id": "p2", "client_id": CLIENT}}
    assert resolve_identity(svc, name, SUB)["resource_id"] == uai


def test_no_identity_attached_says_none():
    svc = service("SystemAssigned")
    svc["identity"]["user_assigned_identities"] = {}
    with pytest.raises(AzureApimError) as err:
        resolve_identity(svc, CLIENT, SUB)
    assert "attached: none" in str(err.value)


def test_service_reads_speak_the_installed_sdks_api_version():
    """ApimServices.get reads through the generic ARM client with the api-version the installed SDK sends."""
    from azure.mgmt.apimanagement import ApiManagementClient
    from ansible_collections.azure_apim.identity.plugins.module_utils._apim import service_api_version

    client = ApiManagementClient(credential=object(), subscription_id="s")
    assert service_api_version() == client._config.api_version
