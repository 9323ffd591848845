"""Benchmark scenarios as data: playbook + variables + world + inventory size + repetitions.

A scenario runs only when every module it needs is in plugins/modules/ and its playbook exists; otherwise the report
lists it as "not available yet" with the reason. Add a scenario by appending to `SCENARIOS` (or `PEER_TASKS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bench import worlds
from bench.runner import REPO_ROOT

PLAYBOOKS = "bench/playbooks"
# The site playbook takes the subscription from AZURE_SUBSCRIPTION_ID (set by the bench like an AWX credential).
SITE_VARS: dict = {}


@dataclass(frozen=True)
class Scenario:
    """One measured playbook run, repeated; `prepare` playbooks run unmeasured first.

    With `rerun`, the same playbook runs again right after each measured run and is reported as the scenario
    `<name without .converge>.noop` (a no-op re-run on the converged world, without paying a second converge).
    """

    name: str
    title: str
    playbook: str
    requires: tuple[str, ...] = ()
    world: tuple[str, dict] = ("fleet", {"instances": 1})
    instances: int = 1
    forks: int = 10
    extra_vars: dict = field(default_factory=dict)
    prepare: tuple[str, ...] = ()
    check: bool = False
    diff: bool = False
    repetitions: int = 2
    group: str = "module"
    kind: str = "converge"
    managed_objects_per_instance: int = 0
    rerun: bool = False
    full_only: bool = False  # only with `python -m bench --full` (keeps the default run near ten minutes)
    arm_setup: tuple[tuple[str, str, str, dict], ...] = ()  # (method, path, api-version, body) after seeding

    @property
    def rerun_name(self) -> str:
        """Name of the re-run scenario: `x.converge` → `x.noop`."""
        return self.name.rsplit(".", 1)[0] + ".noop"

    def missing(self, root: Path = REPO_ROOT) -> Optional[str]:
        """Why this scenario cannot run in this checkout, or None when it can."""
        absent = [m for m in self.requires if not (root / "plugins" / "modules" / (m + ".py")).exists()]
        if absent:
            return "not available yet: module(s) {0} not on this branch".format(", ".join(absent))
        for path in (self.playbook,) + self.prepare:
            if not (root / path).exists():
                return "not available yet: playbook {0} not written".format(path)
        return None


@dataclass(frozen=True)
class PeerTask:
    """One task measured side by side: our playbook and azure.azcollection's equivalent, on the same world."""

    name: str
    ours: str
    peer: str
    requires: tuple[str, ...] = ()
    world: tuple[str, dict] = ("fleet", {"instances": 1, "identities_per_instance": 0})
    prepare_ours: tuple[str, ...] = ()
    prepare_peer: tuple[str, ...] = ()
    repetitions: int = 2
    note: str = ""

    def missing(self, root: Path = REPO_ROOT) -> Optional[str]:
        """Why this pair cannot run in this checkout, or None when it can."""
        probe = Scenario(self.name, self.name, self.ours, self.requires, prepare=self.prepare_ours)
        reason = probe.missing(root)
        if reason is None and not (root / self.peer).exists():
            reason = "not available yet: peer playbook {0} not written".format(self.peer)
        return reason


def _pb(name: str) -> str:
    return "{0}/{1}.yml".format(PLAYBOOKS, name)


def _module_scenarios(module: str, playbook: str, world: tuple[str, dict], info: Optional[tuple[str, str]] = None,
                      managed: int = 1) -> list[Scenario]:
    """converge (fresh world) and its no-op re-run, check mode on a fresh world, and the _info twin if any."""
    common: dict[str, Any] = {"requires": (module,), "world": world, "managed_objects_per_instance": managed}
    out = [
        Scenario(module + ".converge", module + ": converge from scratch", _pb(playbook), rerun=True, **common),
        Scenario(module + ".check", module + ": check mode on a fresh world", _pb(playbook), check=True, diff=True,
                 kind="check", repetitions=1, **common),
    ]
    if info:
        out.append(Scenario(info[0], info[0] + ": read", _pb(info[1]), requires=(info[0],),
                            world=(world[0], {**world[1], "identities_per_instance": 1}), kind="read", repetitions=1))
    return out


SITE_MODULES = ("user_assigned_identity", "apim_identity", "keyvault_access", "apim_custom_domain", "apim_named_value",
                "apim_logger", "apim_backend_auth", "role_assignment")

FLEET_1 = ("fleet", {"instances": 1})
# One service that already has its system identity and a user-assigned one (Key Vault and role assignment steps).
WITH_IDENTITY = ("fleet", {"instances": 1, "identities_per_instance": 1, "apim_identity": True})
# ... and whose system identity may already read the RBAC vault (custom domains, Key Vault named values).
WITH_GRANTS = ("fleet", {"instances": 1, "identities_per_instance": 1, "apim_identity": True, "vault_grants": True})

SCENARIOS: list[Scenario] = [
    *_module_scenarios("user_assigned_identity", "uai", FLEET_1, info=("user_assigned_identity_info", "uai_info")),
    *_module_scenarios("apim_identity", "apim_identity", FLEET_1, info=("apim_service_info", "apim_service_info")),
    *_module_scenarios("keyvault_access", "keyvault_access", WITH_IDENTITY,
                       info=("keyvault_access_info", "keyvault_access_info")),
    *_module_scenarios("role_assignment", "role_assignment", WITH_IDENTITY,
                       info=("role_assignment_info", "role_assignment_info")),
    *_module_scenarios("apim_custom_domain", "apim_custom_domain", WITH_GRANTS),
    *_module_scenarios("apim_named_value", "apim_named_value", WITH_GRANTS),
    # The realistic site of issue 10 through the modules directly: one APIM, system + 2 user-assigned identities,
    # Key Vault access, 3 hostnames, 10 named values, a logger, a policy, 3 trusted-access grants: 22 objects.
    Scenario("realistic_site.converge", "realistic site (modules directly): converge", _pb("site_realistic"),
             requires=SITE_MODULES, world=("site", {}), group="site", managed_objects_per_instance=22, rerun=True,
             arm_setup=tuple(worlds.site_api_setup())),
    # Check mode of a converged site (on a fresh world the chain cannot be predicted: Key Vault access needs the
    # identity that check mode did not create, and the module says so).
    Scenario("realistic_site.check", "realistic site (modules directly): check mode after converge",
             _pb("site_realistic"), requires=SITE_MODULES, world=("site", {}), group="site", kind="check", check=True,
             diff=True, managed_objects_per_instance=22, arm_setup=tuple(worlds.site_api_setup()), repetitions=1,
             prepare=(_pb("site_realistic"),), full_only=True),
    # The site playbook of issue 8 (make demo: site_system_assigned.yml with its example variables, plus the demo's
    # backend certificate from Key Vault) over the demo
    # world.
    Scenario("site.converge", "site playbook (make demo): full converge", "playbooks/demo.yml", world=("demo", {}),
             group="site", managed_objects_per_instance=22, repetitions=2, rerun=True, extra_vars=SITE_VARS),
    Scenario("site.check", "site playbook (make demo): check mode", "playbooks/demo.yml", world=("demo", {}),
             check=True, diff=True, group="site", kind="check", managed_objects_per_instance=22, repetitions=1,
             extra_vars=SITE_VARS),
]

# Per-instance work for the scale series, best first: the first whose modules are on this branch is used.
PER_INSTANCE = [
    ("apim_identity", ("apim_identity", "user_assigned_identity"), _pb("per_instance_apim_identity"), 2),
    ("user_assigned_identity", ("user_assigned_identity", "user_assigned_identity_info"), _pb("per_instance_uai"), 1),
]

SCALE_SIZES = (1, 10, 50)
DEFAULT_SCALE_SIZES = (1, 10)


def scale_scenarios(root: Path = REPO_ROOT, sizes: tuple[int, ...] = SCALE_SIZES) -> list[Scenario]:
    """converge and no-op at 1, 10, 50 APIM instances with forks 10, using the best available per-instance work."""
    for label, requires, playbook, managed in PER_INSTANCE:
        probe = Scenario(label, label, playbook, requires)
        if probe.missing(root) is None:
            break
    out = []
    for size in sizes:
        out.append(Scenario(
            "scale.{0}.converge".format(size), "{0} instance(s), forks 10 ({1})".format(size, label), playbook,
            requires=requires, world=("fleet", {"instances": size}), instances=size, forks=10, group="scale",
            managed_objects_per_instance=managed, repetitions={1: 3}.get(size, 1), rerun=True))
    return out


PEER_TASKS: list[PeerTask] = [
    PeerTask("user-assigned identity: create", _pb("uai"), _pb("peer/uai"), ("user_assigned_identity",),
             note="peer: azure_rm_resource PUT (azure.azcollection has no user-assigned identity module)"),
    PeerTask("user-assigned identity: no-op re-run", _pb("uai"), _pb("peer/uai"), ("user_assigned_identity",),
             prepare_ours=(_pb("uai"),), prepare_peer=(_pb("peer/uai"),),
             note="peer: azure_rm_resource with idempotency: true"),
    PeerTask("user-assigned identity: info", _pb("uai_info"), _pb("peer/uai_info"), ("user_assigned_identity_info",),
             world=("fleet", {"instances": 1, "identities_per_instance": 1}), note="peer: azure_rm_resource_info"),
    PeerTask("APIM system identity (long-running)", _pb("apim_identity"), _pb("peer/apim_identity"),
             ("apim_identity",), note="peer: azure_rm_resource PATCH with idempotency: true, polling_interval 1"),
    PeerTask("APIM system identity: no-op re-run", _pb("apim_identity"), _pb("peer/apim_identity"),
             ("apim_identity",), prepare_ours=(_pb("apim_identity"),), prepare_peer=(_pb("peer/apim_identity"),),
             note="peer: azure_rm_resource PATCH with idempotency: true"),
    PeerTask("Key Vault access policy", _pb("keyvault_access"), _pb("peer/keyvault_access"), ("keyvault_access",),
             world=WITH_IDENTITY, note="peer: azure_rm_keyvault with the whole access policy list"),
    PeerTask("role assignment", _pb("role_assignment"), _pb("peer/role_assignment"), ("role_assignment",),
             world=WITH_IDENTITY, note="peer: azure_rm_roleassignment"),
    PeerTask("APIM service info", _pb("apim_service_info"), _pb("peer/apim_service_info"), ("apim_service_info",),
             note="peer: azure_rm_apimanagementservice_info"),
    PeerTask("Key Vault info", _pb("keyvault_access_info"), _pb("peer/keyvault_info"), ("keyvault_access_info",),
             world=WITH_IDENTITY, note="peer: azure_rm_keyvault_info"),
    PeerTask("role assignment info", _pb("role_assignment_info"), _pb("peer/role_assignment_info"),
             ("role_assignment_info",), world=WITH_IDENTITY, note="peer: azure_rm_roleassignment_info"),
]
