"""The apim_backend_auth role through playbooks/backend_auth.yml: global and API entries, quartet, seeded policy kept."""

from __future__ import annotations

import pytest
from lxml import etree

from integration.harness import REPO_ROOT
from integration.nv_support import FAST, RG, SERVICE, UAMI, assert_quartet, resource, service_id, world_spec, writes
from integration.test_policy import SEEDED, _canonical_without_ours, _seed_api

pytestmark = pytest.mark.integration

PLAYBOOK = REPO_ROOT / "playbooks" / "backend_auth.yml"
TASK = "azure_apim.identity.apim_backend_auth : Ensure the authentication-managed-identity elements"
FACT_TASK = "azure_apim.identity.apim_backend_auth : Keep the results as a fact"


def test_role_quartet(world, playbook, local_azure):
    world(world_spec(), **FAST)
    _seed_api(local_azure)
    extra = {
        "apim_backend_auth_service_name": SERVICE,
        "apim_backend_auth_resource_group": RG,
        "apim_backend_auth_policies": [
            {"resource": "https://vault.azure.net", "output_token_variable_name": "kv-token"},
            {"api_id": "orders", "resource": "https://storage.azure.com/", "identity": UAMI},
            {"resource": "https://servicebus.azure.net/", "output_token_variable_name": "sb-token"},
        ],
    }
    runs = assert_quartet(playbook, PLAYBOOK, extra, TASK)
    apply = runs.apply
    results = apply.task(FACT_TASK)["ansible_facts"]["apim_backend_auth_results"]
    assert [r["scope"] for r in results] == ["service", "api", "service"]
    # One module run for the list (issue 17): the two global elements go into the global policy with one PUT.
    puts = sorted(e["path"].lower() for e in writes(apply))
    assert puts == sorted([f"{service_id(local_azure)}/policies/policy".lower(),
                           f"{service_id(local_azure)}/apis/orders/policies/policy".lower()]), puts
    assert [e["method"] for e in writes(apply)] == ["PUT", "PUT"]
    assert _module_runs(apply) == 1 and _module_runs(runs.apply2) == 1
    api_xml = resource(apply.state, f"{service_id(local_azure)}/apis/orders/policies/policy")["_raw"]
    assert _canonical_without_ours(api_xml) == _canonical_without_ours(SEEDED)
    element = etree.fromstring(api_xml.encode()).find("inbound/authentication-managed-identity")
    assert element.get("resource") == "https://storage.azure.com/" and element.get("client-id")
    global_xml = resource(apply.state, f"{service_id(local_azure)}/policies/policy")["_raw"]
    tokens = [e.get("output-token-variable-name")
              for e in etree.fromstring(global_xml.encode()).findall("inbound/authentication-managed-identity")]
    assert sorted(tokens) == ["kv-token", "sb-token"]


def _module_runs(run) -> int:
    """Module processes that called Azure: each signs in with one token request."""
    return len([e for e in run.requests if "/oauth2/" in e["path"] and e["path"].rstrip("/").endswith("/token")])
