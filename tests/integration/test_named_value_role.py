"""The apim_named_values role through playbooks/named_values.yml: Key Vault and plain named values together, the
quartet, a hidden plain value, and the example vars file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from integration.harness import REPO_ROOT
from integration.nv_support import FAST, PLAIN_SECRET, RG, SERVICE, UAMI, assert_quartet, service_id, world_spec

pytestmark = pytest.mark.integration

PLAYBOOK = REPO_ROOT / "playbooks" / "named_values.yml"
ROLE = "azure_apim.identity.apim_named_values : "
KV_TASK = ROLE + "Ensure the Key Vault named values and wait until API Management reads their secrets"
PLAIN_TASK = ROLE + "Ensure the plain named values"
FACT_TASK = ROLE + "Keep them as a fact"
GRANTED = "kv-nv-granted"


def _world() -> dict:
    spec = world_spec()
    spec["resource_groups"][0]["key_vaults"].append({
        "name": GRANTED, "rbac": False, "secrets": [{"name": "partner-key", "value": "partner-value-0a1"}],
        "access_policies": [{"principal": UAMI, "permissions": {"secrets": ["get"]}}]})
    return spec


def _vars() -> dict:
    return {
        "apim_named_values_service_name": SERVICE,
        "apim_named_values_resource_group": RG,
        "apim_named_values_identity": UAMI,
        "apim_named_values_wait_interval": 1,
        "apim_named_values_timeout": 60,
        "apim_named_values_items": [
            {"name": "partner-key", "key_vault_secret_id": f"https://{GRANTED}.vault.azure.net/secrets/partner-key",
             "tags": ["partner"]},
            {"name": "legacy-token", "value": PLAIN_SECRET, "is_secret": True},
            {"name": "region", "value": "westeurope"},
        ],
    }


def test_role_quartet(world, playbook, local_azure):
    world(_world(), **FAST)
    runs = assert_quartet(playbook, PLAYBOOK, _vars(), KV_TASK, secrets=(PLAIN_SECRET,))
    apply = runs.apply
    apply2 = runs.apply2
    assert apply.task(PLAIN_TASK)["changed"] is True
    assert apply2.task(PLAIN_TASK)["changed"] is False
    # the plain task's output is hidden: loop items carry secret values
    assert apply.task(PLAIN_TASK).get("censored")
    arm = local_azure.arm()
    for name, secret in (("partner-key", True), ("legacy-token", True), ("region", False)):
        body = arm.get(f"{service_id(local_azure)}/namedValues/{name}", "2024-05-01").json()
        assert body["properties"]["secret"] is secret, name
    kv = arm.get(f"{service_id(local_azure)}/namedValues/partner-key", "2024-05-01").json()["properties"]["keyVault"]
    assert kv["lastStatus"]["code"] == "Success"
    found = apply.task(FACT_TASK)["ansible_facts"]["apim_named_values_found"]
    assert {n["name"] for n in found} == {
        "partner-key", "legacy-token", "region"}


def test_role_fails_with_the_key_vault_reason_when_access_is_missing(world, playbook):
    world(_world(), **FAST)
    extra = _vars()
    extra["apim_named_values_timeout"] = 8
    extra["apim_named_values_items"] = [{"name": "no-access", "identity": "system",
                                         "key_vault_secret_id": f"https://{GRANTED}.vault.azure.net/secrets/partner-key"}]
    run = playbook(PLAYBOOK, extra_vars=extra)
    assert run.rc != 0
    result = run.task(KV_TASK)
    message = result["results"][0]["msg"] if "results" in result else result["msg"]
    assert "does not have secrets get permission" in message, message


def test_example_vars_file_matches_the_role_arguments():
    example = yaml.safe_load(Path(REPO_ROOT / "playbooks" / "vars" / "named_values.yml").read_text())
    spec = yaml.safe_load(Path(REPO_ROOT / "roles" / "apim_named_values" / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    assert set(example) <= set(options)
    item_options = options["apim_named_values_items"]["options"]
    for item in example["apim_named_values_items"]:
        assert set(item) <= set(item_options)
    defaults = yaml.safe_load(Path(REPO_ROOT / "roles" / "apim_named_values" / "defaults" / "main.yml").read_text())
    assert defaults == {k: v["default"] for k, v in options.items() if "default" in v}
