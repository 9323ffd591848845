"""Replay every request of the shared ARM examples and azure-cli recordings against the local Azure.

For each example file (``../shared/reference/arm-examples/Microsoft.*/*.json``) the request is rebuilt from its
parameters, sent over TLS with a real token, and compared with the example's responses: the status code must be one
the example lists, the LRO/ETag headers the example shows must be present, and the body must have the example's
shape (every key, with the same JSON type; generated values such as ids, etags, GUIDs and times may differ). Long-
running operations are followed to the end and the final resource is compared with the example's ``200`` body.

Every adaptation of an example (a placeholder that cannot be sent as is, a resource the request needs to exist) and
every documented difference between the spec example and the live service is listed below with its reason.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlencode, urlsplit

import pytest
import yaml

from emulator import pfx

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("AZURE_APIM_SHARED_DIR") or REPO.parent / "shared")
EXAMPLES = SHARED / "reference" / "arm-examples"
RECORDINGS = EXAMPLES / "recordings" / "azure-cli"
NOT_EXAMPLES = {"builtin-role-definitions.extracted.json"}  # seed data, no request in it (checked separately)

needs_shared = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"shared reference examples not found at {EXAMPLES} "
    "(set AZURE_APIM_SHARED_DIR to the shared directory to run the replay)")

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # built-in Reader role
RESULTS: dict[str, list[str]] = {"examples": [], "recordings": []}


# ======================================================================================================================
# comparison
# ======================================================================================================================

MAP_KEYS = {"tags", "customProperties", "userAssignedIdentities"}


def shape_diff(expected: Any, actual: Any, path: str = "$", allow: frozenset = frozenset()) -> list[str]:
    """Where ``actual`` lacks a key of ``expected`` or has another JSON type (``null`` in ``expected``: any)."""
    if path in allow:
        return []
    if expected is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {type(actual).__name__}"]
        if path.rsplit(".", 1)[-1] in MAP_KEYS:  # maps keyed by data (tag names, ARM ids): compare the values
            if expected and actual:
                return shape_diff(next(iter(expected.values())), next(iter(actual.values())), f"{path}.*", allow)
            return []
        problems: list[str] = []
        for key, val in expected.items():
            sub = f"{path}.{key}"
            if sub in allow:
                continue
            if key not in actual:
                problems.append(f"{sub}: missing")
                continue
            problems += shape_diff(val, actual[key], sub, allow)
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected an array, got {type(actual).__name__}"]
        if expected and actual:
            return shape_diff(expected[0], actual[0], f"{path}[0]", allow)
        return []
    same = (isinstance(expected, bool) and isinstance(actual, bool)) or \
        (not isinstance(expected, bool) and isinstance(expected, (int, float)) and
         not isinstance(actual, bool) and isinstance(actual, (int, float))) or \
        (isinstance(expected, str) and isinstance(actual, str))
    return [] if same else [f"{path}: expected {type(expected).__name__}, got {type(actual).__name__}"]


def header(resp: Any, name: str) -> Optional[str]:
    """A response header, case-insensitively."""
    return resp.headers.get(name)


def follow(arm: Any, resp: Any, timeout: float = 30.0) -> Any:
    """Follow an LRO to its end like azure-core's ARM polling: Azure-AsyncOperation status, then the Location."""
    deadline = time.monotonic() + timeout
    status_url = header(resp, "Azure-AsyncOperation")
    location = header(resp, "Location")
    if status_url:
        while time.monotonic() < deadline:
            status = arm.get(status_url)
            assert status.status_code == 200, status.text
            if status.json()["status"] not in ("InProgress", "Accepted", "Running"):
                break
            time.sleep(float(header(status, "Retry-After") or 0.05))
    if not location:
        return resp
    while time.monotonic() < deadline:
        final = arm.get(location)
        if final.status_code != 202:
            return final
        time.sleep(float(header(final, "Retry-After") or 0.05))
    raise AssertionError(f"operation at {location} did not finish")


# ======================================================================================================================
# scenarios: how each example file is replayed
# ======================================================================================================================

@dataclass
class Scenario:
    """How to replay one example file."""

    method: str
    path: str  # with {placeholders} filled from the example's parameters (plus {sub})
    world: dict = field(default_factory=dict)  # resource groups etc. seeded first
    setup: Optional[Callable[[Any, dict], None]] = None  # extra ARM calls before the request
    adapt: Optional[Callable[[dict, dict], None]] = None  # adapt the request body (ctx, body) in place
    params: dict = field(default_factory=dict)  # overrides of example parameters (placeholders)
    query: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    status_deviation: dict = field(default_factory=dict)  # our status → reason it differs from the spec example
    allow: frozenset = frozenset()  # body paths allowed to be absent, each listed with its reason in REASONS
    exact: tuple = ()  # body paths whose value must equal the example's


APIM = "/subscriptions/{sub}/resourceGroups/{resourceGroupName}/providers/Microsoft.ApiManagement/service/{serviceName}"
KV = "/subscriptions/{sub}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}"
MSI = ("/subscriptions/{sub}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/"
       "userAssignedIdentities/{resourceName}")
RA = "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}"


def rg(name: str, **extra: Any) -> dict:
    return {"resource_groups": [{"name": name, "location": "westeurope", **extra}]}


def service(name: str = "apimService1", **extra: Any) -> dict:
    return {"name": name, "sku": "Developer", **extra}


def cert_vault(name: str, secret: str, principal: str) -> dict:
    return {"name": name, "rbac": False,
            "secrets": [{"name": secret, "certificate": {"subject": "CN=*.msitesting.net"}}],
            "access_policies": [{"principal": principal, "permissions": {"secrets": ["get", "list"]}}]}


def put_named_value(arm: Any, ctx: dict, nv: str, props: dict) -> None:
    resp = arm.put(f"{ctx['service']}/namedValues/{nv}", {"properties": props}, "2024-05-01")
    assert resp.status_code in (200, 201, 202), resp.text
    final = follow(arm, resp)
    assert final.status_code in (200, 201), final.text


def kv_named_value(nv: str) -> Callable[[Any, dict], None]:
    def setup(arm: Any, ctx: dict) -> None:
        put_named_value(arm, ctx, nv, {"displayName": "prop6namekv", "secret": True, "keyVault": {
            "secretIdentifier": "https://contoso.vault.azure.net/secrets/aadSecret",
            "identityClientId": ctx["client_ids"]["apimService1"]}})
    return setup


def plain_named_value(nv: str) -> Callable[[Any, dict], None]:
    def setup(arm: Any, ctx: dict) -> None:
        put_named_value(arm, ctx, nv, {"displayName": "prop3name", "value": "propValue", "tags": ["foo", "bar"]})
    return setup


def with_api(arm: Any, ctx: dict) -> None:
    resp = arm.put(f"{ctx['service']}/apis/5600b57e7e8880006a040001",
                   {"properties": {"displayName": "Echo API", "path": "echo"}}, "2024-05-01")
    assert resp.status_code in (200, 201), resp.text


def with_raw_policy(arm: Any, ctx: dict) -> None:
    raw = ctx["example"]["responses"]["200"]["body"]["properties"]["value"]
    resp = arm.put(f"{ctx['service']}/policies/policy", {"properties": {"format": "rawxml", "value": raw}},
                   "2024-05-01")
    assert resp.status_code in (200, 201), resp.text


def with_assignment(arm: Any, ctx: dict) -> None:
    body = {"properties": {"roleDefinitionId": f"/subscriptions/{ctx['sub']}/providers/Microsoft.Authorization/"
                           f"roleDefinitions/{READER}", "principalId": "ce2ce14e-85d7-4629-bdbc-454d0519d987",
                           "principalType": "User"}}
    resp = arm.put(f"/subscriptions/{ctx['sub']}/providers/Microsoft.Authorization/roleAssignments/"
                   "b0f43c54-e787-4862-89b1-a653fa9cf747", body, "2022-04-01")
    assert resp.status_code in (200, 201), resp.text


def uami_client_id(ctx: dict, body: dict) -> None:
    for host in body["properties"]["hostnameConfigurations"]:
        if host.get("identityClientId"):
            host["identityClientId"] = ctx["client_ids"]["id1"]
        if host.get("encodedCertificate"):
            host["encodedCertificate"] = pfx.make_pfx_b64("configuration-api.msitesting.net", password="Password")


def nv_client_id(ctx: dict, body: dict) -> None:
    body["properties"]["keyVault"]["identityClientId"] = ctx["client_ids"]["apimService1"]


def role_definition(ctx: dict, body: dict) -> None:
    body["properties"]["roleDefinitionId"] = (f"/subscriptions/{ctx['sub']}/providers/Microsoft.Authorization/"
                                              f"roleDefinitions/{READER}")


USER = {"service_principals": [{"name": "example-user", "kind": "User",
                                "object_id": "ce2ce14e-85d7-4629-bdbc-454d0519d987"}]}
VAULT_NOT_SET = frozenset({"$.properties.networkAcls", "$.properties.privateEndpointConnections",
                           "$.properties.hsmPoolResourceId"})
WITH_UAMI = {"resource_groups": [{"name": "rg1", "location": "westeurope",
                                  "user_assigned_identities": [{"name": "apimService1"}],
                                  "key_vaults": [{"name": "contoso", "secrets": [{"name": "aadSecret",
                                                                                  "value": "s3cr3t"}],
                                                  "access_policies": [{"principal": "apimService1",
                                                                       "permissions": {"secrets": ["get"]}}]}],
                                  "apim_services": [service(identity={"type": "UserAssigned",
                                                                      "user_assigned": ["apimService1"]})]}]}

SCENARIOS: dict[str, Scenario] = {
    # --- Microsoft.ApiManagement -------------------------------------------------------------------------------------
    "ApiManagementCreateServiceHavingMsi.json": Scenario("PUT", APIM, rg("rg1")),
    "ApiManagementCreateServiceWithUserAssignedIdentity.json": Scenario(
        "PUT", APIM, rg("rg1", user_assigned_identities=[{"name": "apimService1"}])),
    "ApiManagementCreateServiceWithCustomHostnameKeyVault.json": Scenario(
        "PUT", APIM, rg("rg1", user_assigned_identities=[{"name": "id1"}],
                        key_vaults=[cert_vault("rpbvtkeyvaultintegration", "msitestingCert", "id1")]),
        adapt=uami_client_id),
    "ApiManagementServiceGetServiceHavingMsi.json": Scenario(
        "GET", APIM, rg("rg1", user_assigned_identities=[{"name": "apimService1"}], apim_services=[service(
            identity={"type": "SystemAssigned, UserAssigned", "user_assigned": ["apimService1"]})]),
        allow=frozenset({"$.properties.virtualNetworkConfiguration"})),
    "ApiManagementUpdateServicePublisherDetails.json": Scenario("PATCH", APIM, rg("rg1", apim_services=[service()])),
    "ApiManagementServiceDeleteService.json": Scenario(
        "DELETE", APIM, rg("rg1", apim_services=[service()]),
        allow=frozenset({"$.properties.virtualNetworkConfiguration"})),
    "ApiManagementCreateNamedValue.json": Scenario(
        "PUT", APIM + "/namedValues/{namedValueId}", rg("rg1", apim_services=[service()]),
        allow=frozenset({"$.properties.provisioningState"})),
    "ApiManagementCreateNamedValueWithKeyVault.json": Scenario(
        "PUT", APIM + "/namedValues/{namedValueId}", WITH_UAMI, adapt=nv_client_id,
        allow=frozenset({"$.properties.provisioningState"})),
    "ApiManagementGetNamedValueWithKeyVault.json": Scenario(
        "GET", APIM + "/namedValues/{namedValueId}", WITH_UAMI, setup=kv_named_value("testprop6")),
    "ApiManagementUpdateNamedValue.json": Scenario(
        "PATCH", APIM + "/namedValues/{namedValueId}", rg("rg1", apim_services=[service()]),
        setup=plain_named_value("testprop2"), headers={"If-Match": "*"}),
    "ApiManagementDeleteNamedValue.json": Scenario(
        "DELETE", APIM + "/namedValues/{namedValueId}", rg("rg1", apim_services=[service()]),
        setup=plain_named_value("testprop2"), headers={"If-Match": "*"}),
    "ApiManagementHeadNamedValue.json": Scenario(
        "HEAD", APIM + "/namedValues/{namedValueId}", rg("rg1", apim_services=[service()]),
        setup=plain_named_value("testarmTemplateproperties2")),
    "ApiManagementNamedValueListValue.json": Scenario(
        "POST", APIM + "/namedValues/{namedValueId}/listValue", rg("rg1", apim_services=[service()]),
        setup=plain_named_value("testarmTemplateproperties2"), exact=("$.value",)),
    "ApiManagementRefreshNamedValue.json": Scenario(
        "POST", APIM + "/namedValues/{namedValueId}/refreshSecret", WITH_UAMI, setup=kv_named_value("testprop2")),
    "ApiManagementCreateEHLogger.json": Scenario("PUT", APIM + "/loggers/{loggerId}",
                                                 rg("rg1", apim_services=[service()])),
    "ApiManagementCreatePolicy.json": Scenario("PUT", APIM + "/policies/{policyId}",
                                               rg("rg1", apim_services=[service()]), exact=("$.properties.value",)),
    "ApiManagementCreateApiPolicy.json": Scenario(
        "PUT", APIM + "/apis/{apiId}/policies/{policyId}", rg("rg1", apim_services=[service()]), setup=with_api,
        headers={"If-Match": "*"}, exact=("$.properties.value",)),
    "ApiManagementCreateApiPolicyNonXmlEncoded.json": Scenario(
        "PUT", APIM + "/apis/{apiId}/policies/{policyId}", rg("rg1", apim_services=[service()]), setup=with_api,
        headers={"If-Match": "*"}, exact=("$.properties.value",)),
    "ApiManagementGetPolicyFormat.json": Scenario(
        "GET", APIM + "/policies/{policyId}", rg("rg1", apim_services=[service()]), setup=with_raw_policy,
        query={"format": "rawxml"}, exact=("$.properties.value", "$.properties.format")),
    # --- Microsoft.KeyVault ------------------------------------------------------------------------------------------
    "createVault.json": Scenario("PUT", KV, rg("sample-resource-group"), allow=VAULT_NOT_SET),
    "createVaultWithNetworkAcls.json": Scenario(
        "PUT", KV, rg("sample-resource-group"), allow=frozenset({"$.properties.hsmPoolResourceId"}),
        exact=("$.properties.networkAcls.ipRules[0].value", "$.properties.networkAcls.virtualNetworkRules[0].id")),
    "getVault.json": Scenario("GET", KV, rg("sample-resource-group", key_vaults=[{
        "name": "sample-vault",
        "access_policies": [{"principal": "00000000-0000-0000-0000-000000000000",
                             "permissions": {"secrets": ["get"]}}]}]),
        allow=frozenset({"$.properties.hsmPoolResourceId"})),
    "updateVault.2025-05-01.json": Scenario("PATCH", KV, rg("sample-resource-group",
                                                            key_vaults=[{"name": "sample-vault"}]),
                                            allow=VAULT_NOT_SET),
    "updateAccessPoliciesAdd.json": Scenario("PUT", KV + "/accessPolicies/{operationKind}",
                                             rg("sample-group", key_vaults=[{"name": "sample-vault"}])),
    # --- Microsoft.Authorization -------------------------------------------------------------------------------------
    "RoleAssignments_CreateForResource.json": Scenario(
        "PUT", RA, {**USER, **rg("testrg", storage_accounts=[{"name": "testdbaccount"}])}, adapt=role_definition,
        params={"scope": "subscriptions/{sub}/resourceGroups/testrg/providers/Microsoft.Storage/storageAccounts/"
                         "testdbaccount"}),
    "RoleAssignments_Get.json": Scenario("GET", RA, USER, setup=with_assignment,
                                         params={"scope": "subscriptions/{sub}"}),
    "RoleAssignments_ListForScope.json": Scenario("GET", "/{scope}/providers/Microsoft.Authorization/roleAssignments",
                                                  USER, setup=with_assignment, params={"scope": "subscriptions/{sub}"}),
    "RoleAssignments_Delete.json": Scenario("DELETE", RA, USER, setup=with_assignment,
                                            params={"scope": "subscriptions/{sub}"}),
    "GetRoleDefinitionByName.json": Scenario(
        "GET", "/{scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}", {},
        params={"scope": "subscriptions/{sub}", "roleDefinitionId": READER}),
    # --- Microsoft.ManagedIdentity -----------------------------------------------------------------------------------
    "IdentityCreate.2023-01-31.json": Scenario("PUT", MSI, rg("rgName")),
    "IdentityGet.2023-01-31.json": Scenario("GET", MSI, rg("rgName", user_assigned_identities=[
        {"name": "resourceName", "tags": {"key1": "value1", "key2": "value2"}}])),
    "IdentityGet.2024-11-30.json": Scenario("GET", MSI, rg("rgName", user_assigned_identities=[
        {"name": "resourceName", "tags": {"key1": "value1", "key2": "value2"}}])),
}

# Why an example's key may be absent from our answer (every `allow` entry above has its reason here).
REASONS = {
    "$.properties.virtualNetworkConfiguration": "the example service is injected into a VNet; the seeded one is not "
                                                "(the key is returned as null)",
    "$.properties.provisioningState": "the spec's named-value responses carry provisioningState InProgress; the "
                                      "finished entity read back from the location URL has none (recording)",
    "$.properties.networkAcls": "the example response shows placeholder networkAcls the request never sent",
    "$.properties.privateEndpointConnections": "private endpoints are not modelled (the example's entry is a "
                                               "placeholder with empty ids)",
    "$.properties.hsmPoolResourceId": "a spec placeholder; the live service does not return it for vaults",
}


def example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return sorted(p for p in EXAMPLES.glob("Microsoft.*/*.json") if p.name not in NOT_EXAMPLES)


@needs_shared
def test_every_example_file_has_a_scenario():
    names = {p.name for p in example_files()}
    assert names, "no example files found"
    assert names - set(SCENARIOS) == set(), "examples without a replay scenario"
    assert set(SCENARIOS) - names == set(), "scenarios for examples that no longer exist"
    for scenario in SCENARIOS.values():
        assert all(path in REASONS for path in scenario.allow), "every allowed difference needs a reason"


# ======================================================================================================================
# the replay
# ======================================================================================================================

def _fill(template: str, values: dict) -> str:
    out = template
    for _attempt in range(3):  # placeholders may themselves contain {sub}
        out = out.format(**values)
        if "{" not in out:
            break
    return out


def _context(local_azure: Any, world: Callable, scenario: Scenario, example: dict) -> dict:
    summary = world(scenario.world, time_scale=0.002)
    params = dict(example["parameters"])
    params.pop("subscriptionId", None)
    params.update(scenario.params)
    params["sub"] = local_azure.subscription_id
    ctx = {"sub": local_azure.subscription_id, "example": example, "params": params,
           "client_ids": {name: p["client_id"] for name, p in summary.get("principals", {}).items()}}
    if "serviceName" in params:
        ctx["service"] = _fill(APIM, {**params, "resourceGroupName": params["resourceGroupName"]})
    return ctx


def _send(arm: Any, scenario: Scenario, ctx: dict) -> Any:
    params = ctx["params"]
    path = _fill(scenario.path, {k: v for k, v in params.items() if isinstance(v, str)})
    body = None
    if "parameters" in params:  # ARM ids inside the body name the example's subscription: use ours
        body = json.loads(json.dumps(params["parameters"]).replace(
            "/subscriptions/00000000-0000-0000-0000-000000000000/", f"/subscriptions/{ctx['sub']}/"))
    if body is not None and scenario.adapt:
        scenario.adapt(ctx, body)
    query = {"api-version": params["api-version"], **scenario.query}
    headers = dict(scenario.headers)
    if "If-Match" in params:
        headers["If-Match"] = params["If-Match"]
    return arm.request(scenario.method, f"{path}?{urlencode(query)}", None, body, headers=headers)


def _check(name: str, scenario: Scenario, example: dict, resp: Any, arm: Any) -> list[str]:
    responses = example["responses"]
    problems: list[str] = []
    status = str(resp.status_code)
    if status not in responses and resp.status_code not in scenario.status_deviation:
        return [f"status {status} not in the example's {sorted(responses)}: {resp.text[:300]}"]
    spec = responses.get(status) or responses.get("201") or responses.get("200") or {}
    for hdr in (spec.get("headers") or {}):
        if header(resp, hdr) is None:
            problems.append(f"header {hdr} missing")
    if status in responses and spec.get("body") is not None and resp.content:
        problems += _body_problems(spec["body"], resp.json(), scenario)
    final_spec = responses.get("200", {}).get("body") if status in ("201", "202") else None
    if scenario.status_deviation and resp.status_code in scenario.status_deviation:
        final_spec = (responses.get("201") or responses.get("200") or {}).get("body")
    if final_spec is not None and (header(resp, "Location") or header(resp, "Azure-AsyncOperation")):
        final = follow(arm, resp)
        if final.status_code not in (200, 201):
            problems.append(f"LRO ended with {final.status_code}: {final.text[:300]}")
        else:
            problems += [f"final: {p}" for p in _body_problems(final_spec, final.json(), scenario)]
    return problems


def _body_problems(expected: Any, actual: Any, scenario: Scenario) -> list[str]:
    problems = shape_diff(expected, actual, allow=scenario.allow)
    for path in scenario.exact:
        if _at(expected, path) != _at(actual, path):
            problems.append(f"{path}: expected {_at(expected, path)!r}, got {_at(actual, path)!r}")
    return problems


def _at(data: Any, path: str) -> Any:
    for part in path.lstrip("$.").replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            data = data[int(part[1:-1])] if isinstance(data, list) and data else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


@needs_shared
@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_replay_example(path: Path, local_azure: Any, world: Callable) -> None:
    example = json.loads(path.read_text())
    scenario = SCENARIOS[path.name]
    arm = local_azure.arm()
    ctx = _context(local_azure, world, scenario, example)
    if scenario.setup:
        scenario.setup(arm, ctx)
    resp = _send(arm, scenario, ctx)
    problems = _check(path.name, scenario, example, resp, arm)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)
    RESULTS["examples"].append(path.name)


# ======================================================================================================================
# the recordings (real traffic, api-version 2021-08-01)
# ======================================================================================================================

RECORDING_WORLDS = {
    "test_apim_managed_identity.yaml": rg("cli_test_apim_mi-000001"),
    "test_apim_named_value.yaml": rg("cli_test_apim_nv-000001", apim_services=[service("clitest000002")]),
}


def _recorded(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["interactions"]


def _local_url(uri: str, sub: str) -> str:
    parts = urlsplit(uri)
    query = f"?{parts.query}" if parts.query else ""
    return parts.path.replace("00000000-0000-0000-0000-000000000000", sub) + query


@needs_shared
@pytest.mark.parametrize("name", sorted(RECORDING_WORLDS), ids=str)
def test_replay_recording(name: str, local_azure: Any, world: Callable) -> None:
    path = RECORDINGS / name
    if not path.is_file():
        pytest.skip(f"recording {path} not found")
    world(RECORDING_WORLDS[name], time_scale=0.002)
    arm = local_azure.arm()
    locations: dict[str, str] = {}  # recorded Location URL → ours
    problems: list[str] = []
    for i, inter in enumerate(_recorded(path)):
        req, rec = inter["request"], inter["response"]
        uri = _local_url(req["uri"], local_azure.subscription_id)
        polled = req["uri"] in locations
        url = locations.get(req["uri"], uri)
        headers = {k: v[0] for k, v in req["headers"].items() if k in ("If-Match",)}
        body = json.loads(req["body"]) if req.get("body") else None
        resp = arm.request(req["method"], url, None, body, headers=headers)
        while polled and resp.status_code == 202:
            time.sleep(float(header(resp, "Retry-After") or 0.05))
            resp = arm.request(req["method"], url, None, None)
        where = f"#{i} {req['method']} {urlsplit(req['uri']).path.rsplit('/', 2)[-2:]}"
        if resp.status_code != rec["status"]["code"]:
            problems.append(f"{where}: status {resp.status_code}, recorded {rec['status']['code']}: {resp.text[:200]}")
            continue
        recorded_location = (rec["headers"].get("location") or [None])[0]
        if recorded_location:
            if header(resp, "Location") is None:
                problems.append(f"{where}: no Location header")
            else:
                locations[recorded_location] = header(resp, "Location")
        if "etag" in rec["headers"] and not (header(resp, "ETag") or "").startswith('"'):
            problems.append(f"{where}: the ETag header must be quoted like the live service's")
        text = rec["body"]["string"]
        if text:
            problems += [f"{where}: {p}" for p in shape_diff(json.loads(text), resp.json())]
        elif resp.content:
            problems.append(f"{where}: the live service answered with an empty body, we sent {resp.text[:100]}")
    assert not problems, "\n".join(problems)
    RESULTS["recordings"].append(f"{name} ({len(_recorded(path))} requests)")


@needs_shared
def test_builtin_role_definitions_are_readable(local_azure: Any, world: Callable) -> None:
    """The shared role-definition data (not an example file) is served by roleDefinitions GET."""
    data = json.loads((EXAMPLES / "Microsoft.Authorization" / "builtin-role-definitions.extracted.json").read_text())
    world({})
    arm = local_azure.arm()
    for role in data["value"]:
        resp = arm.get(f"/subscriptions/{local_azure.subscription_id}/providers/Microsoft.Authorization/"
                       f"roleDefinitions/{role['name']}", "2022-04-01")
        assert resp.status_code == 200, resp.text
        assert resp.json()["properties"]["roleName"] == role["roleName"]
        assert resp.json()["properties"]["permissions"][0]["dataActions"] == role["permissions"][0]["dataActions"]


@needs_shared
def test_zz_coverage_summary(capsys: Any) -> None:
    """Print how much of the shared material was replayed (runs last in this module)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not RESULTS["examples"]:
        pytest.skip("the replays ran elsewhere (another xdist worker, or deselected): nothing to count here")
    total = len(example_files())
    recordings = sorted(p.name for p in RECORDINGS.glob("*.yaml")) if RECORDINGS.is_dir() else []
    requests = sum(len(_recorded(RECORDINGS / r)) for r in recordings)
    replayed_requests = sum(len(_recorded(RECORDINGS / r.split(" ")[0])) for r in RESULTS["recordings"])
    with capsys.disabled():
        print(f"\nARM examples replayed: {len(RESULTS['examples'])}/{total} files; recordings replayed: "
              f"{len(RESULTS['recordings'])}/{len(recordings)} ({replayed_requests}/{requests} requests)")
    assert total and len(RESULTS["examples"]) == total, "some examples were not replayed (see the failures above)"
    assert len(RESULTS["recordings"]) == len(recordings)


@pytest.mark.parametrize("expected, actual, problems", [
    ({"a": 1}, {"a": 2, "b": "extra"}, []),
    ({"a": 1}, {}, ["$.a: missing"]),
    ({"a": "x"}, {"a": 1}, ["$.a: expected str, got int"]),
    ({"a": True}, {"a": 1}, ["$.a: expected bool, got int"]),
    ({"a": None}, {"a": {"any": "thing"}}, []),
    ({"a": [{"b": 1}]}, {"a": [{"c": 1}]}, ["$.a[0].b: missing"]),
    ({"tags": {"Owner": "x"}}, {"tags": {"team": "y"}}, []),
    ({"tags": {"Owner": "x"}}, {"tags": {"team": 3}}, ["$.tags.*: expected str, got int"]),
    ({"a": {"b": 1}}, {"a": []}, ["$.a: expected an object, got list"]),
])
def test_shape_diff_reports_what_differs(expected, actual, problems):
    """The comparator used by the replay can fail: each kind of difference is reported."""
    assert shape_diff(expected, actual) == problems
