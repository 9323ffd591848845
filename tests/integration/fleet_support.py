"""A fleet world: many API Management services spread over the local Azure's two subscriptions, and helpers to run
the inventory plugin against it.

Services are named ``apim-fleet-NNN`` (global DNS names, so unique across subscriptions). Every third one has no
identity, the others a system-assigned one, and every fourth one also a user-assigned identity ``id-apim-fleet-NNN``.
Odd services are tagged ``env: prod``, even ones ``env: test``; all carry ``team: payments`` or ``team: search``.
Services with an identity have a Key Vault named value ``backend-key`` (failing with SecretNotFound on every fifth);
even ones among them a Key Vault custom domain ``api<N>.contoso.com`` (expiring soon on every fourth). The system
identity of the first service holds a Reader grant on its resource group.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import yaml

from integration.harness import playbook_env

GROUP_A = "rg-fleet-a"
GROUP_B = "rg-fleet-b"
GROUP_A2 = "rg-fleet-a-edge"
VAULT = "https://kv-fleet.vault.azure.net"
# Services 4, 8, 12, ... serve a custom-domain certificate that expires in this many days (others: 200 days).
EXPIRING_DAYS = 10


def service_name(index: int) -> str:
    """Name of fleet service number ``index`` (1-based)."""
    return "apim-fleet-{0:03d}".format(index)


def _service(index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": service_name(index), "sku": "Developer" if index % 5 else "Premium",
                            "tags": {"env": "prod" if index % 2 else "test",
                                     "team": "payments" if index % 3 else "search"}}
    if index % 3:
        users = ["id-" + service_name(index)] if index % 4 == 0 else []
        spec["identity"] = {"type": "SystemAssigned, UserAssigned" if users else "SystemAssigned",
                            "user_assigned": users}
        spec["named_values"] = [{"name": "backend-key", "key_vault_secret_id": VAULT + "/secrets/backend-key",
                                 "last_status": "SecretNotFound" if index % 5 == 0 else "Success"}]
        if index % 2 == 0:
            spec["hostnames"] = [{"host_name": "api{0}.contoso.com".format(index),
                                  "key_vault_id": VAULT + "/secrets/api{0}".format(index),
                                  "expires_in_days": EXPIRING_DAYS if index % 4 == 0 else 200}]
    return spec


def _group(name: str, indexes: list[int], location: str) -> dict[str, Any]:
    return {"name": name, "location": location,
            "user_assigned_identities": [{"name": "id-" + service_name(i)} for i in indexes if i % 3 and i % 4 == 0],
            "apim_services": [_service(i) for i in indexes]}


# A principal that was service 2's system-assigned identity before it was disabled and enabled again (gone).
GONE_PRINCIPAL = "9d0c5e2a-7b41-4c8e-a3f6-51e2d8b0c4a7"
OPS_PRINCIPAL = "6f1e3c2a-0b7d-4c1e-9a55-3f0b2d9c8e11"


def _with_orphans(world: dict[str, Any]) -> dict[str, Any]:
    """Service 2 left grants behind: a role assignment this collection marked for it and an access-policy entry in
    the vault its named value and hostname reference (kv-fleet), both for a principal it no longer has; the ops
    team's entry and an unmarked assignment of the gone principal are not the service's."""
    service = ("/subscriptions/{subscription_id}/resourceGroups/" + GROUP_A
               + "/providers/Microsoft.ApiManagement/service/" + service_name(2))
    world["service_principals"] = [{"name": "ops-team", "kind": "ServicePrincipal", "object_id": OPS_PRINCIPAL}]
    # in the second resource group: seeded after service 2, whose principal its first entry names
    world["resource_groups"][1]["key_vaults"] = [{"name": "kv-fleet", "rbac": False, "access_policies": [
        {"principal": service_name(2), "permissions": {"secrets": ["get"]}},
        {"principal": GONE_PRINCIPAL, "permissions": {"secrets": ["get", "list"]}},
        {"principal": "ops-team", "permissions": {"secrets": ["get", "list", "set"]}}]}]
    world["role_assignments"] += [
        {"scope": "/subscriptions/{subscription_id}/resourceGroups/" + GROUP_A, "role": "Key Vault Secrets User",
         "principal": GONE_PRINCIPAL, "principal_type": "ServicePrincipal",
         "description": "azure_apim.identity grant for API Management service " + service + "; identity: system"},
        {"scope": "/subscriptions/{subscription_id}/resourceGroups/" + GROUP_A, "role": "Reader",
         "principal": GONE_PRINCIPAL, "principal_type": "ServicePrincipal"}]
    return world


def fleet_world(first: int = 6, second: int = 4, orphans: bool = False) -> dict[str, Any]:
    """``first`` services in the first subscription (split over two resource groups, two regions) and ``second``
    in the second subscription; with ``orphans``, service 2 left grants behind (see _with_orphans)."""
    in_first = list(range(1, first + 1))
    in_second = list(range(first + 1, first + second + 1))
    half = (len(in_first) + 1) // 2
    world = {
        "location": "westeurope",
        "resource_groups": [_group(GROUP_A, in_first[:half], "westeurope"),
                            _group(GROUP_A2, in_first[half:], "northeurope")],
        "second_subscription": {"resource_groups": [_group(GROUP_B, in_second, "westeurope")]},
        "role_assignments": [{"scope": "/subscriptions/{subscription_id}/resourceGroups/" + GROUP_A, "role": "Reader",
                              "principal": service_name(1), "principal_type": "ServicePrincipal"}],
    }
    return _with_orphans(world) if orphans else world


def write_source(directory: Path, options: dict[str, Any], name: str = "fleet.apim_services.yml") -> Path:
    """An inventory source file for the plugin."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump({"plugin": "azure_apim.identity.apim_services", **options}), encoding="utf-8")
    return path


def ansible_inventory(azure: Any, source: Path, workdir: Path, extra_env: Optional[dict[str, str]] = None
                      ) -> subprocess.CompletedProcess:
    """``ansible-inventory -i source --list`` with the AWX credential's environment."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = playbook_env(azure, workdir, workdir / "unused.json", extra_env)
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    cmd = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(source), "--list"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=str(workdir), env=env, check=False)


def inventory_json(proc: subprocess.CompletedProcess) -> dict[str, Any]:
    """The parsed ``--list`` output (fails the test with stderr when the command failed). ansible-core 2.19 marks
    strings that are not trusted templates as ``{"__ansible_unsafe": value}``; they are unwrapped here."""
    assert proc.returncode == 0, proc.stderr
    return _unwrap(json.loads(proc.stdout))


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value
