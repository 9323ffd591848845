"""keyvault_access on the fake transport: the 1024-policy limit, a busy vault, and the exact removal body."""
from typing import Any, Dict, List

from ansible_collections.azure_apim.identity.plugins.modules import keyvault_access

from ...conftest import SUBSCRIPTION, TENANT, body_of

VAULT_PATH = "/subscriptions/{0}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv".format(SUBSCRIPTION)
PRINCIPAL = "aaaaaaaa-0000-4000-8000-000000000001"


def _vault(policies: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"id": VAULT_PATH, "name": "kv", "location": "westeurope", "properties": {
        "tenantId": TENANT, "enableRbacAuthorization": False, "accessPolicies": policies,
        "vaultUri": "https://kv.vault.azure.net/", "provisioningState": "Succeeded"}}


def _policy(object_id: str, secrets: List[str]) -> Dict[str, Any]:
    return {"tenantId": TENANT, "objectId": object_id, "permissions": {"secrets": secrets}}


ARGS = {"vault": "kv", "vault_resource_group": "rg", "principal_id": PRINCIPAL}


def test_policy_limit_refused_before_any_write(transport: Any, run_module: Any) -> None:
    others = [_policy("bbbbbbbb-0000-4000-8000-%012d" % i, ["get"]) for i in range(1024)]
    transport.queue("GET", VAULT_PATH, [(200, {}, _vault(others))])
    result = run_module(keyvault_access, ARGS)
    assert result.failed and result.result["error_code"] == "AccessPolicyLimitExceeded"
    assert "1024" in result.result["msg"]
    assert transport.writes() == []


def test_conflict_reruns_from_a_fresh_read(transport: Any, run_module: Any) -> None:
    stored: List[Dict[str, Any]] = [_policy("bbbbbbbb-0000-4000-8000-000000000002", ["get"])]

    def get(request: Any, match: Any) -> Any:
        return 200, {}, _vault(stored)

    def add(request: Any, match: Any) -> Any:
        if not getattr(add, "busy_once", False):
            add.busy_once = True  # type: ignore[attr-defined]
            stored.append(_policy("cccccccc-0000-4000-8000-000000000003", ["list"]))  # the other writer won
            return 409, {}, {"error": {"code": "ConflictError", "message": "The vault changed."}}
        stored.extend(body_of(request)["properties"]["accessPolicies"])
        return 200, {}, body_of(request)

    transport.add("GET", VAULT_PATH, get)
    transport.add("PUT", VAULT_PATH + "/accessPolicies/add", add)
    result = run_module(keyvault_access, ARGS)
    assert not result.failed, result.result
    assert [p["objectId"][:8] for p in stored] == ["bbbbbbbb", "cccccccc", "aaaaaaaa"]
    assert [r.method for r in transport.writes()] == ["PUT", "PUT"]
    assert all(r.url.split("?")[0].endswith("/accessPolicies/add") for r in transport.writes())


def test_removal_sends_the_stored_entry_verbatim(transport: Any, run_module: Any) -> None:
    mine = {"tenantId": TENANT, "objectId": PRINCIPAL, "applicationId": None,
            "permissions": {"secrets": ["Get", "List", "Backup"], "keys": [], "certificates": ["GET"]}}
    stored = [_policy("bbbbbbbb-0000-4000-8000-000000000002", ["get"]), mine]

    def remove(request: Any, match: Any) -> Any:
        stored.remove(mine)
        return 200, {}, body_of(request)

    transport.add("GET", VAULT_PATH, lambda request, match: (200, {}, _vault(stored)))
    transport.add("PUT", VAULT_PATH + "/accessPolicies/remove", remove)
    result = run_module(keyvault_access, dict(ARGS, state="absent"), diff=True)
    assert not result.failed and result.result["changed"] is True, result.result
    assert body_of(transport.writes()[0]) == {"properties": {"accessPolicies": [mine]}}
    assert result.result["diff"]["after"] == {} and "raw" not in result.result["diff"]["before"]
