"""Worlds the benchmark seeds into the local Azure, and the local Azure's timing config for a bench run.

A world is the same description `POST /_admin/seed` takes (see tests/emulator/worlds/demo.yaml). Builders are named
so scenarios can refer to them as data: `("fleet", {"instances": 10})`.
"""

from __future__ import annotations

from typing import Any, Callable

BENCH_GROUP = "rg-apim-bench"
BENCH_VAULT = "kv-apim-bench"
BENCH_RBAC_VAULT = "kv-apim-bench-rbac"
OPS_PRINCIPAL = "ops-team"


def instance_name(index: int) -> str:
    """The APIM service of inventory host number `index` (1-based): apim-bench-001, ..."""
    return "apim-bench-{0:03d}".format(index)


def identity_name(index: int, number: int = 1) -> str:
    """User-assigned identity `number` of instance `index`: id-apim-bench-001, id-apim-bench-001-2, ..."""
    base = "id-" + instance_name(index)
    return base if number == 1 else "{0}-{1}".format(base, number)


def timing_config(latency_ms: float, time_scale: float) -> dict[str, float]:
    """Per-request latency and scaled long-running operation durations.

    Durations are the real service's (seconds); `time_scale` maps them to wall time. RBAC propagation is shortened
    from ten minutes to two so a converge that creates identities and grants does not wait on it for minutes.
    """
    return {
        "latency_ms": latency_ms,
        "time_scale": time_scale,
        "apim_create_s": 45.0,
        "apim_update_s": 15.0,
        "apim_delete_s": 10.0,
        "named_value_s": 2.0,
        "rbac_propagation_s": 120.0,
        "identity_replication_s": 30.0,
        "keyvault_provisioning_s": 2.0,
        "network_update_s": 2.0,
    }


def _service(index: int, identities: int, with_identity: bool) -> dict[str, Any]:
    service: dict[str, Any] = {"name": instance_name(index), "sku": "Developer", "capacity": 1,
                               "publisher_email": "api-team@contoso.com", "publisher_name": "Contoso"}
    if with_identity:
        attached = [identity_name(index, n) for n in range(1, identities + 1)]
        service["identity"] = {"type": "SystemAssigned, UserAssigned" if attached else "SystemAssigned",
                               "user_assigned": attached}
    return service


def fleet(instances: int = 1, identities_per_instance: int = 0, apim_identity: bool = False,
          vault_grants: bool = False) -> dict[str, Any]:
    """One resource group with `instances` Developer APIM services, an access-policy Key Vault, an RBAC Key Vault and
    optional user identities; with `apim_identity` each service already has its system-assigned identity and its
    user-assigned ones attached (the starting point of the Key Vault and role assignment steps); with `vault_grants`
    each system identity also holds Key Vault Secrets User on the RBAC vault (the starting point of custom domains
    and Key Vault named values)."""
    services = [_service(i, identities_per_instance, apim_identity) for i in range(1, instances + 1)]
    vault_id = "/subscriptions/{{subscription_id}}/resourceGroups/{0}/providers/Microsoft.KeyVault/vaults/{1}".format(
        BENCH_GROUP, BENCH_RBAC_VAULT)
    grants = [{"scope": vault_id, "role": "Key Vault Secrets User", "principal": instance_name(i)}
              for i in range(1, instances + 1)] if (vault_grants and apim_identity) else []
    identities = [{"name": identity_name(i, n)}
                  for i in range(1, instances + 1) for n in range(1, identities_per_instance + 1)]
    return {
        "location": "westeurope",
        "service_principals": [{"name": OPS_PRINCIPAL, "kind": "ServicePrincipal",
                                "object_id": "6f1e3c2a-0b7d-4c1e-9a55-3f0b2d9c8e11"}],
        "resource_groups": [{
            "name": BENCH_GROUP,
            "location": "westeurope",
            "tags": {"environment": "bench"},
            "user_assigned_identities": identities,
            "key_vaults": [{"name": BENCH_VAULT, "rbac": False, "access_policies": [
                {"principal": OPS_PRINCIPAL, "permissions": {"secrets": ["get", "list", "set"]}}],
                "secrets": [{"name": "backend-api-key", "value": "bench-not-a-real-secret"}]},
                {"name": BENCH_RBAC_VAULT, "rbac": True,
                 "secrets": [{"name": "backend-api-key", "value": "bench-not-a-real-secret"},
                             {"name": "api-contoso-com", "certificate": {"subject": "CN=api.contoso.com", "days": 365}}]}],
            "apim_services": services,
        }],
        "role_assignments": grants,
    }


SITE_HOSTNAMES = (("Proxy", "api.contoso.com"), ("DeveloperPortal", "portal.contoso.com"),
                  ("Management", "management.contoso.com"))
SITE_NAMED_VALUES = 10
SITE_API = "echo"


def site() -> dict[str, Any]:
    """The realistic site of issue 10 before converging: one APIM service (no identity yet), user-assigned identities
    to be created, an access-policy vault holding 3 certificates and 10 secrets, and the Storage, Service Bus and
    Event Hubs resources the trusted-access grants and the logger point at."""
    world = fleet(instances=1)
    group = world["resource_groups"][0]
    vault = group["key_vaults"][0]
    vault["secrets"] = vault["secrets"] + [
        {"name": host.replace(".", "-"), "certificate": {"subject": "CN=" + host, "days": 365}}
        for _kind, host in SITE_HOSTNAMES] + [
        {"name": "nv-{0:02d}".format(n), "value": "bench-value-{0:02d}-not-a-real-secret".format(n)}
        for n in range(1, SITE_NAMED_VALUES + 1)]
    group["eventhub_namespaces"] = [{"name": "evhns-apim-bench", "hubs": ["apim-logs"]}]
    group["servicebus_namespaces"] = [{"name": "sb-apim-bench", "queues": ["orders"]}]
    group["storage_accounts"] = [{"name": "stapimbench"}]
    return world


def site_api_setup(instances: int = 1) -> list[tuple[str, str, str, dict[str, Any]]]:
    """ARM calls seeding cannot express: an API on each service for the backend-auth policy to attach to."""
    path = "/subscriptions/{{subscription_id}}/resourceGroups/{0}/providers/Microsoft.ApiManagement/service/{1}/apis/{2}"
    return [("PUT", path.format(BENCH_GROUP, instance_name(i), SITE_API), "2022-08-01",
             {"properties": {"displayName": "Echo", "path": "echo", "protocols": ["https"],
                             "serviceUrl": "https://echo.contoso.com"}})
            for i in range(1, instances + 1)]


def demo() -> str:
    """The bundled demo world (tests/emulator/worlds/demo.yaml), by name."""
    return "demo"


BUILDERS: dict[str, Callable[..., Any]] = {"fleet": fleet, "demo": demo, "site": site}


def build(name: str, params: dict[str, Any]) -> Any:
    """The world for a scenario: a dict, or the name of a bundled world file."""
    return BUILDERS[name](**params)
