"""AzureApimModule: lazy construction, lazy imports, the generic ARM client, user agent."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._module import USER_AGENT

from ...conftest import COLLECTIONS, REPO_ROOT

GROUPS = r"/subscriptions/[^/]+/resourcegroups"


def test_constructor_does_no_network_and_resolves_nothing(make_module, transport, azure_env):
    azure_env.pop("AZURE_SUBSCRIPTION_ID")  # would fail if auth were resolved here
    module = make_module({"timeout": 30})
    assert transport.requests == []
    assert module.auth_info() is None
    with pytest.raises(AzureApimError, match="AZURE_SUBSCRIPTION_ID"):
        module.client("msi")


def test_clients_are_created_once_and_send_our_user_agent(make_module, transport):
    module = make_module()
    assert module.client("msi") is module.client("msi")
    transport.queue("GET", GROUPS, [(200, {}, {"value": [{"name": "rg1"}], "nextLink": None})])
    module.arm().list("/subscriptions/{0}/resourcegroups".format(module.subscription_id), "2022-09-01")
    arm = transport.arm_requests()[0]
    assert arm.headers["User-Agent"].startswith(USER_AGENT)
    assert "api-version=2022-09-01" in arm.url
    assert arm.headers["Authorization"].startswith("Bearer tok-")


def test_unknown_client_name(make_module):
    with pytest.raises(AzureApimError, match="unknown client 'storage'"):
        make_module().client("storage")


def test_arm_list_follows_next_link_and_get_maps_404(make_module, transport):
    from ...conftest import ARM

    transport.queue("GET", GROUPS, [(200, {}, {"value": [{"name": "a"}], "nextLink": ARM + "/page2?api-version=2022-09-01"})])
    transport.queue("GET", r"/page2", [(200, {}, {"value": [{"name": "b"}]})])
    transport.queue("GET", GROUPS + r"/missing", [(404, {}, {"error": {"code": "ResourceGroupNotFound", "message": "x"}})])
    module = make_module()
    rest = module.arm()
    assert [g["name"] for g in rest.list("/subscriptions/s/resourcegroups", "2022-09-01")] == ["a", "b"]
    assert rest.get("/subscriptions/s/resourcegroups/missing", "2022-09-01") is None


def test_a_module_imports_only_the_sdk_it_uses(tmp_path):
    """user_assigned_identity must not pay for the APIM, Key Vault or Authorization SDKs."""
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, {collections!r})
        from ansible_collections.azure_apim.identity.plugins.modules import user_assigned_identity
        from ansible_collections.azure_apim.identity.plugins.module_utils import _module
        import azure.mgmt.msi
        heavy = [m for m in ("azure.mgmt.apimanagement", "azure.mgmt.keyvault", "azure.mgmt.authorization")
                 if m in sys.modules]
        print(",".join(heavy) or "none")
    """).format(collections=str(COLLECTIONS))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=str(REPO_ROOT), env=dict(os.environ, PYTHONPATH=""))
    assert out.stdout.strip() == "none"


@pytest.mark.parametrize("name, call", [
    ("apim", lambda c: c.api_management_service.get("rg", "apim")),
    ("keyvault", lambda c: c.vaults.get("rg", "kv")),
    ("authorization", lambda c: c.role_definitions.get("/subscriptions/s", "4633458b-17de-408a-b874-0445c86b69e6")),
    ("msi", lambda c: c.user_assigned_identities.get("rg", "id")),
])
def test_every_sdk_client_works_with_our_pipeline(make_module, transport, name, call):
    """Each SDK (old pins and newest) accepts our client options and maps 404 to None through read()."""
    transport.add("GET", r"/subscriptions/.*", lambda request, match: (
        404, {"x-ms-request-id": "r"}, {"error": {"code": "NotFound", "message": "nope"}}))
    module = make_module()
    client = module.client(name)
    assert module.read(call, client) is None
    request = transport.arm_requests()[-1]
    assert request.headers["User-Agent"].startswith(USER_AGENT)
    assert "api-version=" in request.url


MISSING_REGISTRATION = {"error": {"code": "MissingSubscriptionRegistration",
                                  "message": "The subscription is not registered to use namespace "
                                             "'Microsoft.ApiManagement'. See https://aka.ms/rps-not-found"}}


@pytest.mark.parametrize("name, call", [
    ("apim", lambda c: c.api_management_service.get("rg", "apim")),
    ("keyvault", lambda c: c.vaults.get("rg", "kv")),
    ("authorization", lambda c: c.role_definitions.get("/subscriptions/s", "4633458b-17de-408a-b874-0445c86b69e6")),
    ("msi", lambda c: c.user_assigned_identities.get("rg", "id")),
    ("arm", lambda c: c.get("/subscriptions/s/resourcegroups/rg", "2022-09-01")),
])
def test_no_client_registers_resource_providers_by_itself(make_module, transport, name, call):
    """azure-mgmt-core's default pipeline would POST /providers/<ns>/register and poll it every 10 s without a
    deadline; our clients leave the 409 to the module (one request, no write)."""
    from azure.mgmt.core.policies import ARMAutoResourceProviderRegistrationPolicy

    transport.add("GET", r"/subscriptions/.*", lambda request, match: (409, {}, MISSING_REGISTRATION))
    module = make_module()
    client = module.arm() if name == "arm" else module.client(name)
    with pytest.raises(AzureApimError) as caught:
        module.call(call, client)
    assert caught.value.status == 409 and caught.value.code == "MissingSubscriptionRegistration"
    assert [r.method for r in transport.arm_requests()] == ["GET"]
    pipeline = client._client._pipeline  # pylint: disable=protected-access
    kinds = [type(getattr(p, "_policy", p)).__name__ for p in pipeline._impl_policies]  # noqa
    assert ARMAutoResourceProviderRegistrationPolicy.__name__ not in kinds
    assert kinds.index("RetryAfterCapPolicy") == kinds.index("CappedRetryPolicy") + 1, kinds


SERVICE = r"/subscriptions/[^/]+/resourceGroups/rg/providers/Microsoft\.ApiManagement/service/apim"


@pytest.mark.parametrize("name, reply, call", [
    ("apim", (200, {}, None), lambda m: m.read(m.client("apim").api_management_service.get, "rg", "apim")),
    ("arm-empty", (200, {}, None), lambda m: m.read(m.arm().get, "/subscriptions/s/resourcegroups/rg", "2022-09-01")),
    ("arm-text", (200, {"Content-Type": "text/html"}, "<html>gateway</html>"),
     lambda m: m.read(m.arm().get, "/subscriptions/s/resourcegroups/rg", "2022-09-01")),
    ("arm-list-body", (200, {}, ["not", "an", "object"]),
     lambda m: m.read(m.arm().get, "/subscriptions/s/resourcegroups/rg", "2022-09-01")),
])
def test_a_2xx_without_a_body_is_an_error_never_absent(make_module, transport, name, reply, call):
    transport.add("GET", r"/subscriptions/.*", lambda request, match: reply)
    module = make_module()
    with pytest.raises(AzureApimError) as caught:
        call(module)
    assert caught.value.code == "EmptyResponse"
    assert "nothing was changed" in caught.value.msg and "re-run" in caught.value.msg


@pytest.mark.parametrize("call", [
    lambda m: m.read(m.client("apim").api_management_service.get, "rg", "apim"),
    lambda m: m.read(m.arm().get, "/subscriptions/s/resourcegroups/rg", "2022-09-01"),
])
def test_only_a_404_is_absent(make_module, transport, call):
    transport.add("GET", r"/subscriptions/.*", lambda request, match: (
        404, {}, {"error": {"code": "ResourceNotFound", "message": "gone"}}))
    assert call(make_module()) is None
