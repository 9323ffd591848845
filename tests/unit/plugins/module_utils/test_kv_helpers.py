"""Pure helpers of Key Vault access, RBAC and network prerequisites (table-driven)."""
import importlib

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _authz, _keyvault, _network
from ansible_collections.azure_apim.identity.plugins.module_utils._auth import AUTH_ARGUMENT_SPEC
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError

VAULT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
ROLE = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"


def test_assignment_name_is_deterministic_and_case_insensitive():
    a = _authz.assignment_name(VAULT, "AAAA-1", ROLE)
    assert a == _authz.assignment_name(VAULT.upper() + "/", "aaaa-1", "4633458B-17de-408a-b874-0445c86b69e6")
    assert a != _authz.assignment_name(VAULT + "/secrets/x", "aaaa-1", ROLE)
    assert a != _authz.assignment_name(VAULT, "aaaa-2", ROLE)
    assert _authz.is_guid(a)


@pytest.mark.parametrize("outer, inner, expected", [
    ("/", VAULT, True),
    ("/subscriptions/s", VAULT, True),
    (VAULT, VAULT + "/secrets/one", True),
    (VAULT + "/secrets/one", VAULT, False),
    (VAULT, VAULT + "2", False),
    (VAULT.upper(), VAULT, True),
])
def test_covers(outer, inner, expected):
    assert _authz.covers(outer, inner) is expected


@pytest.mark.parametrize("data, not_data, expected", [
    (["Microsoft.KeyVault/vaults/secrets/getSecret/action"], [], True),
    (["Microsoft.KeyVault/vaults/*"], [], True),
    (["Microsoft.KeyVault/vaults/secrets/*"], ["Microsoft.KeyVault/vaults/secrets/getSecret/action"], False),
    (["Microsoft.KeyVault/vaults/secrets/readMetadata/action"], [], False),
    ([], [], False),
])
def test_allows_data_action(data, not_data, expected):
    role = {"permissions": [{"data_actions": data, "not_data_actions": not_data}]}
    assert _authz.allows_data_action(role, _authz.SECRET_READ_ACTION) is expected


def _vault(default_action="Allow", bypass="AzureServices", public="Enabled"):
    return {"name": "kv", "public_network_access": public,
            "network_acls": {"default_action": default_action, "bypass": bypass}}


@pytest.mark.parametrize("vault, kind, enabled, passes, reason", [
    (_vault(), "user", False, True, None),
    (_vault("Deny"), "system", True, True, None),
    (_vault("Deny"), "user", True, False, "system-assigned"),
    (_vault("Deny", "None"), "system", True, False, "bypass"),
    (_vault("Deny", "Logging, AzureServices"), "system", True, True, None),
    (_vault(public="Disabled"), "user", True, False, "system-assigned"),
])
def test_firewall_fit(vault, kind, enabled, passes, reason):
    fit = _keyvault.firewall_fit(vault, kind)
    assert (fit["enabled"], fit["passes"]) == (enabled, passes)
    assert (reason is None and fit["reason"] is None) or reason in fit["reason"]


@pytest.mark.parametrize("current, wanted, mode, expected", [
    (None, {"secrets": ["get", "list"]}, "additive", {"secrets": ["get", "list"]}),
    ({"permissions": {"secrets": ["Get", "Set"]}}, {"secrets": ["get", "list"]}, "additive",
     {"secrets": ["Get", "Set", "list"]}),
    ({"permissions": {"secrets": ["Get", "Set"]}}, {"secrets": ["get"]}, "exact", {"secrets": ["get"]}),
])
def test_merged_permissions(current, wanted, mode, expected):
    assert _keyvault.merged_permissions(current, wanted, mode) == expected


def test_permissions_equal_only_looks_at_wanted_kinds():
    assert _keyvault.permissions_equal({"secrets": ["GET", "list"]}, {"secrets": ["list", "get"], "keys": ["get"]})
    assert not _keyvault.permissions_equal({"secrets": ["get"]}, {"secrets": ["get", "list"]})


def test_policy_entry_keeps_stored_fields_and_other_kinds():
    stored = {"tenantId": "t", "objectId": "o", "applicationId": None,
              "permissions": {"secrets": ["Get"], "certificates": ["get"]}}
    entry = _keyvault.policy_entry("t", "o", {"secrets": ["get", "list"]}, base=stored)
    assert entry == {"tenantId": "t", "objectId": "o", "applicationId": None,
                     "permissions": {"secrets": ["get", "list"], "certificates": ["get"]}}
    assert stored["permissions"]["secrets"] == ["Get"]  # the stored entry is not mutated


def test_find_policy_respects_compound_entries():
    vault = {"access_policies": [{"object_id": "O", "application_id": "app"}, {"object_id": "o", "application_id": None}]}
    assert _keyvault.find_policy(vault, "o")["application_id"] is None
    assert _keyvault.find_policy(vault, "o", "APP")["application_id"] == "app"


def _rule(name, priority, access="Allow", dest="AzureKeyVault", port="443", direction="Outbound", proto="Tcp"):
    return {"name": name, "priority": priority, "access": access, "direction": direction, "protocol": proto,
            "source_address_prefix": "VirtualNetwork", "destination_address_prefix": dest,
            "destination_port_range": port}


@pytest.mark.parametrize("rule, expected", [
    (_rule("a", 100), True),
    (_rule("a", 100, port="400-500"), True),
    (_rule("a", 100, port="*", dest="*", proto="*"), True),
    (_rule("a", 100, port="80"), False),
    (_rule("a", 100, access="Deny"), False),
    (_rule("a", 100, direction="Inbound"), False),
    (_rule("a", 100, dest="Sql"), False),
    (_rule("a", 100, proto="Udp"), False),
])
def test_allows_outbound(rule, expected):
    assert _network.allows_outbound(rule, "AzureKeyVault") is expected


def test_blocking_rule_respects_precedence():
    deny = _rule("deny-all", 200, access="Deny", dest="*", port="*", proto="*")
    assert _network.blocking_rule([deny], "AzureKeyVault")["name"] == "deny-all"
    assert _network.blocking_rule([deny, _rule("allow", 150)], "AzureKeyVault") is None
    assert _network.blocking_rule([deny, _rule("allow", 250)], "AzureKeyVault")["name"] == "deny-all"
    assert _network.blocking_rule([], "AzureKeyVault") is None


def test_free_priorities_and_plan():
    rules = [_rule("x", 100, dest="Sql"), _rule("y", 102, dest="Sql"), _rule("in", 101, direction="Inbound")]
    assert _network.free_priorities(rules, 2) == [101, 103]
    nsg = {"name": "nsg", "rules": rules}
    plan = _network.plan_rules(nsg, ["AzureKeyVault", "AzureActiveDirectory"], 443, None)
    assert [plan[t]["priority"] for t in ("AzureKeyVault", "AzureActiveDirectory")] == [101, 103]
    with pytest.raises(AzureApimError) as caught:
        _network.plan_rules(nsg, ["AzureKeyVault", "AzureActiveDirectory"], 443, 101)
    assert caught.value.code == "PriorityInUse"
    adopted = _network.plan_rules({"name": "nsg", "rules": rules + [_rule("corp", 300)]}, ["AzureKeyVault"], 443, None)
    assert adopted["AzureKeyVault"]["rule"]["name"] == "corp"


@pytest.mark.parametrize("present, locations, expected", [
    (True, None, [("Microsoft.Storage", ["*"]), ("Microsoft.KeyVault", ["*"])]),
    (True, ["westeurope"], [("Microsoft.Storage", ["*"]), ("Microsoft.KeyVault", ["westeurope"])]),
    (False, None, [("Microsoft.Storage", ["*"])]),
])
def test_endpoints_wanted_keeps_others(present, locations, expected):
    current = {"service_endpoints": [{"service": "Microsoft.Storage", "locations": ["*"]}]}
    got = _network.endpoints_wanted(current, "Microsoft.KeyVault", locations, present)
    assert [(e["service"], e["locations"]) for e in got] == expected


def test_subnet_body_sends_links_back_without_read_only_fields():
    raw = {"id": "/x", "name": "snet", "properties": {
        "addressPrefix": "10.0.0.0/24", "routeTable": {"id": "/rt"}, "networkSecurityGroup": {"id": "/nsg"},
        "natGateway": {"id": "/nat"}, "delegations": [], "provisioningState": "Succeeded",
        "ipConfigurations": [{"id": "/ip"}], "serviceEndpoints": [{"service": "Microsoft.Storage"}]}}
    subnet = _network.subnet_to_dict(raw)
    body = _network.subnet_body_with_endpoints(subnet, [{"service": "Microsoft.Storage", "locations": ["*"]},
                                                        {"service": "Microsoft.KeyVault", "locations": ["*"]}])
    props = body["properties"]
    assert props["routeTable"] == {"id": "/rt"} and props["natGateway"] == {"id": "/nat"}
    assert "provisioningState" not in props and "ipConfigurations" not in props
    assert [e["service"] for e in props["serviceEndpoints"]] == ["Microsoft.Storage", "Microsoft.KeyVault"]


@pytest.mark.parametrize("name", ["keyvault_access", "keyvault_access_info", "role_assignment", "role_assignment_info",
                                  "apim_subnet_service_endpoint", "apim_nsg_outbound_rules",
                                  "apim_keyvault_preflight"])
def test_no_module_option_shadows_a_connection_option(name):
    module = importlib.import_module("ansible_collections.azure_apim.identity.plugins.modules." + name)
    assert not set(module.ARGUMENT_SPEC) & set(AUTH_ARGUMENT_SPEC)
    secret_like = [k for k, v in module.ARGUMENT_SPEC.items() if v.get("no_log")]
    assert secret_like == []  # none of these modules takes a secret


# -- keyvault_network: only bypass changes --------------------------------------------------------------------------
ACLS = {"bypass": "None", "defaultAction": "Deny", "ipRules": [{"value": "203.0.113.7/32"}],
        "virtualNetworkRules": [{"id": "/subscriptions/s/x", "ignoreMissingVnetServiceEndpoint": False}],
        "someFutureField": {"kept": True}}


@pytest.mark.parametrize("wanted,current,equal", [
    ("AzureServices", "azureservices", True), ("None", "AzureServices", False), ("None", "none", True)])
def test_bypass_comparison_ignores_case(wanted, current, equal):
    assert _keyvault.bypass_equal(wanted, current) is equal


class _Recorder:
    """Stands in for AzureApimModule: records the one write and answers with what was sent."""

    subscription_id = "s"

    def __init__(self):
        self.sent = []

    def arm(self):
        return self

    def request(self, method, path, api_version, body):
        self.sent.append((method, path, body))
        return {"id": VAULT, "name": "kv", "properties": body["properties"]}

    def call(self, fn, *args, what="", **kwargs):
        return fn(*args, **kwargs)


@pytest.mark.parametrize("raw,expected", [
    (ACLS, dict(ACLS, bypass="AzureServices")),
    (None, {"defaultAction": "Allow", "bypass": "AzureServices"}),
])
def test_set_bypass_sends_the_stored_acls_with_only_bypass_replaced(raw, expected):
    module = _Recorder()
    vault = _keyvault.vault_to_dict({"id": VAULT, "name": "kv", "properties": {"networkAcls": raw}})
    after = _keyvault.VaultService(module).set_bypass(vault, "AzureServices")
    assert module.sent == [("PATCH", VAULT, {"properties": {"networkAcls": expected}})]
    assert after["network_acls"]["bypass"] == "AzureServices"
    if raw:
        assert _keyvault.network_view(after)["ip_rules"] == ["203.0.113.7/32"]


# -- certificate_permissions on an RBAC vault: a role, never ignored ---------------------------------------------------
@pytest.mark.parametrize("role,perms,expected", [
    ("Key Vault Secrets User", None, "Key Vault Secrets User"),
    ("Key Vault Secrets Officer", None, "Key Vault Secrets Officer"),
    ("Key Vault Secrets User", ["get", "list"], "Key Vault Certificate User"),
    ("key vault secrets user", ["Get"], "Key Vault Certificate User"),
    ("4633458b-17de-408a-b874-0445c86b69e6", ["get", "listissuers"], "Key Vault Certificate User"),
    ("Key Vault Secrets User", [], "Key Vault Secrets User"),
])
def test_rbac_role_choice(role, perms, expected):
    assert _keyvault.rbac_role(role, perms, "kv") == expected


@pytest.mark.parametrize("role,perms,words", [
    ("Key Vault Secrets User", ["get", "import"], ["['import']", "Key Vault Certificates Officer"]),
    ("Key Vault Reader", ["get"], ["'Key Vault Reader'", "drop certificate_permissions"]),
])
def test_rbac_role_refusals_name_the_way_out(role, perms, words):
    with pytest.raises(AzureApimError) as err:
        _keyvault.rbac_role(role, perms, "kv")
    text = str(err.value) + err.value.hint
    assert err.value.code == "CertificatePermissionsOnRbacVault" and all(w in text for w in words), text
