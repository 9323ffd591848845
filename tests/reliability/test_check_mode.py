# Private to the azure_apim.identity test suite.
"""Scenario 23: check mode across every capability module sends zero mutating requests.

Each module gets arguments that would change something (so check mode has a change to predict), plus its `_info`
twin. A module missing from CASES fails the test, so a new module cannot skip the check.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from reliability.conftest import ORACLE
from reliability.runner import REPO_ROOT
from reliability.snapshot import foreign_view
from reliability.worlds import FAST, NAMED_VALUE_SECRET, RBAC_VAULT, RG, SERVICE, VAULT, domain_vaults, ids, \
    rel_world, secret_uri

SAS_KEY = "Y2hlY2stbW9kZS1zYXMta2V5LW5ldmVyLXNob3du"
CONNECTION = f"Endpoint=sb://evhns-rel.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={SAS_KEY}"
SERVICE_REF = {"service_name": SERVICE, "service_resource_group": RG}
APIM = {"resource_group": RG, "service_name": SERVICE}

# module -> (args builder taking the subscription's ids, whether check mode must predict a change)
CASES: dict[str, tuple[Callable[[dict], dict[str, Any]], bool]] = {
    "user_assigned_identity": (lambda i: {"resource_group": RG, "name": "id-check", "location": "westeurope"}, True),
    "user_assigned_identity_info": (lambda i: {"resource_group": RG}, False),
    "apim_service": (lambda i: {"resource_group": RG, "name": "apim-rel-check", "location": "westeurope",
                                "sku_name": "Developer", "publisher_name": "Contoso",
                                "publisher_email": "api@contoso.com", "system_assigned": True}, True),
    "apim_service_info": (lambda i: {"resource_group": RG}, False),
    "apim_identity": (lambda i: {**APIM, "user_assigned_identities": ["id-rel-a"]}, True),
    "apim_identity_info": (lambda i: {"resource_group": RG}, False),
    "role_assignment": (lambda i: {"scope": i["rbac_vault"], "role": "Key Vault Secrets User", **SERVICE_REF}, True),
    "role_assignment_info": (lambda i: {"scope": i["rbac_vault"]}, False),
    "keyvault_access": (lambda i: {"vault": VAULT, "vault_resource_group": RG, **SERVICE_REF}, True),
    "keyvault_access_info": (lambda i: {"vault": VAULT, "vault_resource_group": RG}, False),
    "apim_keyvault_preflight": (lambda i: {**SERVICE_REF, "vault": RBAC_VAULT, "vault_resource_group": RG,
                                           "fail_on": "never"}, False),
    "apim_subnet_service_endpoint": (lambda i: {"subnet_id": i["rg"] + "/providers/Microsoft.Network/"
                                                "virtualNetworks/vnet-rel/subnets/snet-apim"}, True),
    "apim_nsg_outbound_rules": (lambda i: {"nsg_id": i["rg"] + "/providers/Microsoft.Network/"
                                           "networkSecurityGroups/nsg-rel", "priority": 300}, True),
    "apim_custom_domain": (lambda i: {**APIM, "host_name": "check.rel.contoso.com",
                                      "key_vault_secret_id": secret_uri("api-rel-contoso-com")},
                           True),
    "apim_custom_domain_info": (lambda i: APIM, False),
    "apim_named_value": (lambda i: {**APIM, "name": "check-secret", "value": NAMED_VALUE_SECRET,
                                    "is_secret": True}, True),
    "apim_named_value_info": (lambda i: APIM, False),
    "apim_logger": (lambda i: {**APIM, "name": "eh-check", "event_hub_name": "apim-logs",
                               "connection_string": CONNECTION}, True),
    "apim_logger_info": (lambda i: APIM, False),
    "apim_backend_auth": (lambda i: {**APIM, "resource": "https://vault.azure.net"}, True),
    "apim_certificate": (lambda i: {**APIM, "name": "check-cert",
                                    "key_vault_secret_id": secret_uri("api-rel-contoso-com")}, True),
    "apim_certificate_info": (lambda i: APIM, False),
    # kv-rel-fw lets trusted Microsoft services through: switching that off is the change to predict.
    "keyvault_network": (lambda i: {"vault": "kv-rel-fw", "vault_resource_group": RG, "trusted_services": False},
                         True),
}


def _modules() -> list[str]:
    return sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("*.py") if not p.stem.startswith("_"))


def _check_world() -> dict:
    return rel_world(
        network_security_groups=[{"name": "nsg-rel", "rules": []}],
        virtual_networks=[{"name": "vnet-rel", "address_prefixes": ["10.20.0.0/16"],
                           "subnets": [{"name": "snet-apim", "address_prefix": "10.20.1.0/24", "nsg": "nsg-rel"}]}],
    )


def test_every_module_has_a_check_mode_case():
    missing = [m for m in _modules() if m not in CASES]
    assert not missing, f"add a check-mode case for {missing} to tests/reliability/test_check_mode.py"


@pytest.mark.scenario(23, "check mode across all modules: zero mutating requests")
@pytest.mark.parametrize("module", sorted(CASES))
def test_check_mode_sends_no_mutating_request(rel, record, module):
    if not (REPO_ROOT / "plugins" / "modules" / f"{module}.py").exists():
        pytest.skip(f"{module} is not in this checkout yet")
    ORACLE.add_secret("named-value secret", NAMED_VALUE_SECRET)
    ORACLE.add_secret("Event Hub connection string", CONNECTION)
    ORACLE.add_secret("SharedAccessKey", SAS_KEY)
    rel.seed(_check_world(), **FAST)
    rel.admin.seed(domain_vaults())  # vaults whose policies name the service's system identity
    rel.admin.clear_requests()
    before = foreign_view(rel.state())
    build, predicts_change = CASES[module]
    run = rel.run(module, build(ids(rel.azure.subscription_id)), check=True)
    assert not run.failed, run.explain()
    assert run.requests.writes() == [], f"{module} sent mutating requests in check mode\n" + run.explain()
    assert run.requests.arm(), "the module read Azure"
    if predicts_change:
        assert run.changed, f"{module} must predict the change in check mode\n" + run.explain()
    assert foreign_view(rel.state()) == before
    record(writes=0, reruns=0)
