"""`make demo`: start the local Azure with the demo world, run the main playbook, print what Azure now holds, stop.

Runs `playbooks/demo.yml` when the collection provides it; until then a plain-HTTP playbook that reads the sandbox
shows the wiring (AWX-style environment, TLS with the sandbox CA, Entra ID sign-in, ARM calls).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional
from xml.etree import ElementTree

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from emulator.client import LocalAzure  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from integration.harness import run_playbook  # noqa: E402

MAIN_PLAYBOOK = REPO_ROOT / "playbooks" / "demo.yml"
FALLBACK_PLAYBOOK = REPO_ROOT / "tests" / "integration" / "playbooks" / "uri_smoke.yml"
BUILTIN_ROLE_ASSIGNMENT_PREFIX = "automation"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default=str(REPO_ROOT / "tests/emulator/worlds/demo.yaml"))
    parser.add_argument("--playbook", help=f"default: {MAIN_PLAYBOOK.relative_to(REPO_ROOT)} if present")
    parser.add_argument("--time-scale", type=float, default=0.01,
                        help="Azure seconds → real seconds (0.01: a 45 s APIM update takes 0.45 s)")
    parser.add_argument("--rerun", action="store_true",
                        help="run the playbook a second time and show that it changes nothing (zero writes)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="pass -v… to ansible-playbook")
    return parser.parse_args()


def _short(resource_id: str) -> str:
    """`rg-x/Microsoft.KeyVault/vaults/kv` instead of the full ARM id."""
    parts = resource_id.strip("/").split("/")
    low = [p.lower() for p in parts]
    if "resourcegroups" not in low:
        return "/" + "/".join(parts[:2]) if parts else "/"
    rg = parts[low.index("resourcegroups") + 1]
    if "providers" not in low:
        return rg
    rest = parts[low.index("providers") + 1:]
    return f"{rg}/{rest[0]}/" + "/".join(rest[2::2]) if len(rest) > 2 else rg


def _by_type(state: dict[str, Any], rtype: str) -> list[dict]:
    return [r for r in state["resources"].values() if str(r.get("type", "")).lower() == rtype.lower()]


def _who(state: dict[str, Any], object_id: str) -> str:
    principal = state["principals"].get(object_id)
    if not principal:
        return f"{object_id} (unknown principal)"
    return f"{principal['display_name']} ({principal['kind']})"


def _print_apim(state: dict[str, Any]) -> None:
    for svc in _by_type(state, "Microsoft.ApiManagement/service"):
        props = svc["properties"]
        print(f"API Management  {svc['name']}  sku={svc['sku']['name']}  state={props.get('provisioningState')}")
        ident = svc.get("identity") or {}
        print(f"  identity: {ident.get('type', 'None')}"
              + (f"  system principal={ident['principalId']}" if ident.get("principalId") else ""))
        for uami_id, entry in (ident.get("userAssignedIdentities") or {}).items():
            print(f"    user-assigned {_short(uami_id)} clientId={entry.get('clientId')}")
        for host in props.get("hostnameConfigurations") or []:
            cert = host.get("certificate") or {}
            source = host.get("certificateSource", "")
            detail = f" from {host['keyVaultId']}" if host.get("keyVaultId") else ""
            status = (host.get("certificateStatus") or "")
            print(f"  hostname {host['type']:<12} {host['hostName']:<40} {source}{detail}"
                  + (f" subject={cert.get('subject')} expiry={cert.get('expiry')}" if cert else "")
                  + (f" status={status}" if status else ""))
        prefix = svc["id"].lower() + "/"
        children = [r for k, r in state["resources"].items() if k.startswith(prefix)]
        for child in sorted(children, key=lambda r: (r.get("type", ""), r.get("name", ""))):
            kind = child.get("type", "").rsplit("/", 1)[-1]
            cprops = child.get("properties") or {}
            extra = ""
            if kind == "namedValues":
                kv = cprops.get("keyVault") or {}
                extra = f" secret={cprops.get('secret')}" + (
                    f" keyVault={kv.get('secretIdentifier')} lastStatus={(kv.get('lastStatus') or {}).get('code')}"
                    if kv else "")
            elif kind == "loggers":
                creds = cprops.get("credentials") or {}
                extra = (f" type={cprops.get('loggerType')} endpoint={creds.get('endpointAddress')}"
                         f" eventHub={creds.get('name')} identity={creds.get('identityClientId')}")
            elif kind == "certificates":
                kv = cprops.get("keyVault") or {}
                extra = (f" subject={cprops.get('subject')} expiry={cprops.get('expirationDate')}"
                         + (f" keyVault={kv.get('secretIdentifier')} identity={kv.get('identityClientId') or 'system'}"
                            f" lastStatus={(kv.get('lastStatus') or {}).get('code')}" if kv else " (uploaded)"))
            elif kind == "policies":
                extra = "".join(f"\n      {element}" for element in _identity_elements(child.get("_raw") or ""))
            print(f"  {kind:<14} {child.get('name')}{extra}")


def _identity_elements(policy_xml: str) -> list[str]:
    """The authentication-managed-identity elements of a policy document, as attribute lists."""
    try:
        root = ElementTree.fromstring(policy_xml)
    except ElementTree.ParseError:
        return ["(policy XML not readable)"]
    return ["authentication-managed-identity " + " ".join(f'{k}="{v}"' for k, v in el.attrib.items())
            for el in root.iter("authentication-managed-identity")]


def _print_grants(state: dict[str, Any]) -> None:
    """Who each API Management identity can reach, and how: a vault access-policy entry or a role assignment."""
    principals: dict[str, str] = {}
    for svc in _by_type(state, "Microsoft.ApiManagement/service"):
        ident = svc.get("identity") or {}
        if ident.get("principalId"):
            principals[ident["principalId"]] = f"{svc['name']} (system-assigned)"
        for uami_id, entry in (ident.get("userAssignedIdentities") or {}).items():
            principals[entry.get("principalId")] = f"{uami_id.rsplit('/', 1)[-1]} (user-assigned)"
    print("Grants to the API Management identities")
    for vault in _by_type(state, "Microsoft.KeyVault/vaults"):
        for policy in vault["properties"].get("accessPolicies") or []:
            if policy["objectId"] in principals:
                print(f"  {principals[policy['objectId']]:<40} access policy on {vault['name']}: "
                      f"secrets={policy['permissions'].get('secrets')}")
    roles = _role_names()
    for ra in _by_type(state, "Microsoft.Authorization/roleAssignments"):
        props = ra["properties"]
        if props["principalId"] in principals:
            guid = props["roleDefinitionId"].rsplit("/", 1)[-1]
            print(f"  {principals[props['principalId']]:<40} role assignment {roles.get(guid, guid)} "
                  f"at {_short(props['scope'])}")


def _role_names() -> dict[str, str]:
    try:
        from emulator.authorization import ROLE_DEFINITIONS
    except ImportError:
        return {}
    return {guid: role["roleName"] for guid, role in ROLE_DEFINITIONS.items()}


def _print_vaults(state: dict[str, Any]) -> None:
    for vault in _by_type(state, "Microsoft.KeyVault/vaults"):
        props = vault["properties"]
        model = "Azure RBAC" if props.get("enableRbacAuthorization") else "access policies"
        acls = props.get("networkAcls") or {}
        print(f"Key Vault  {vault['name']}  permission model={model}  firewall default="
              f"{acls.get('defaultAction', 'Allow')} bypass={acls.get('bypass', '-')}")
        for policy in props.get("accessPolicies") or []:
            print(f"  access policy {_who(state, policy['objectId'])}: secrets={policy['permissions'].get('secrets')}")
        prefix = vault["id"].lower() + "/secrets/"
        for key, secret in sorted(state["resources"].items()):
            if key.startswith(prefix):
                print(f"  secret {secret['name']:<20} contentType={secret['properties'].get('contentType')}")


def _print_rbac(state: dict[str, Any]) -> None:
    roles = _role_names()
    assignments = _by_type(state, "Microsoft.Authorization/roleAssignments")
    print(f"Role assignments ({len(assignments)})")
    for ra in assignments:
        props = ra["properties"]
        guid = props["roleDefinitionId"].rsplit("/", 1)[-1]
        print(f"  {roles.get(guid, guid):<28} → {_who(state, props['principalId']):<40} at {_short(props['scope'])}")


def _print_identities_and_network(state: dict[str, Any]) -> None:
    for uami in _by_type(state, "Microsoft.ManagedIdentity/userAssignedIdentities"):
        print(f"User-assigned identity  {uami['name']}  principalId={uami['properties']['principalId']}")
    for subnet in _by_type(state, "Microsoft.Network/virtualNetworks/subnets"):
        props = subnet["properties"]
        endpoints = [e["service"] for e in props.get("serviceEndpoints") or []]
        nsg = _short(props["networkSecurityGroup"]["id"]) if props.get("networkSecurityGroup") else "-"
        print(f"Subnet  {_short(subnet['id'])}  {props.get('addressPrefix')}  endpoints={endpoints}  nsg={nsg}")
    for rule in _by_type(state, "Microsoft.Network/networkSecurityGroups/securityRules"):
        p = rule["properties"]
        print(f"NSG rule  {_short(rule['id'])}  {p['direction']} {p['access']} {p['protocol']} "
              f"{p.get('sourceAddressPrefix', p.get('sourceAddressPrefixes'))} → port "
              f"{p.get('destinationPortRange', p.get('destinationPortRanges'))} (priority {p['priority']})")


def print_summary(state: dict[str, Any], requests: list[dict], changed: Optional[list[str]] = None) -> None:
    """A readable account of what the sandbox Azure holds and what the run asked of it."""
    print("\n" + "=" * 100)
    print(f"Sandbox subscription {state['subscription_id']} (tenant {state['tenant_id']})")
    print("=" * 100)
    _print_apim(state)
    _print_vaults(state)
    _print_identities_and_network(state)
    _print_rbac(state)
    _print_grants(state)
    if changed is not None:
        print(f"Tasks that changed something: {len(changed)}")
        for name in changed:
            print(f"  {name}")
    arm = [r for r in requests if "/oauth2/" not in r["path"] and "/.well-known/" not in r["path"]]
    writes = [r for r in arm if r.get("write")]
    # A 404 on a read is how a module learns that something does not exist yet; only other errors are failures.
    missing = [r for r in arm if r.get("status") == 404 and r["method"] == "GET"]
    failed = [r for r in arm if (r.get("status") or 0) >= 400 and r not in missing]
    print(f"ARM requests during the run: {len(arm)} ({len(writes)} writes, {len(missing)} reads of what did not "
          f"exist yet, {len(failed)} answered with an error)")
    for req in writes:
        print(f"  {req['method']:<6} {req['status']}  {_short(req['path'])}")


def _rerun(azure: LocalAzure, playbook: Path, workdir: Path, verbosity: int) -> Any:
    """The same playbook again: converged, it reports no change and sends no write."""
    azure.admin.clear_requests()
    run = run_playbook(azure, playbook, workdir, verbosity=verbosity,
                       extra_vars={"site_subscription_id": azure.subscription_id})
    writes = [r for r in run.requests if r.get("write")]
    print(f"\nSecond run: exit code {run.rc}, {len(run.changed_tasks())} tasks changed, {len(writes)} writes sent.")
    return run


def _plan(azure: LocalAzure, playbook: Path, workdir: Path) -> None:
    """The check run first (--check --diff) with the collection's plan callback: what the apply will do."""
    azure.admin.clear_requests()
    run = run_playbook(azure, playbook, workdir, check=True, diff=True,
                       extra_vars={"site_subscription_id": azure.subscription_id},
                       env={"ANSIBLE_CALLBACKS_ENABLED": "json_result,azure_apim.identity.plan"})
    writes = [r for r in run.requests if r.get("write")]
    plan = run.stdout[run.stdout.find("PLAN ("):] if "PLAN (" in run.stdout else run.stdout[-2000:]
    print(f"Check run first (--check --diff): exit code {run.rc}, {len(writes)} writes sent.\n{plan}")


def main() -> int:
    """Start, seed, run, summarise, stop."""
    args = _args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="azure-apim-demo-") as tmp:
        server = EmulatorServer(state_dir=tmp)
        server.world.set_config({"time_scale": args.time_scale})
        server.start()
        try:
            azure = LocalAzure.from_info(server.info(), server=server)
            azure.admin.seed(Path(args.world))
            print(f"Local Azure listening on {azure.base_url} (CA: {azure.ca_bundle}); world: {args.world}")
            playbook = Path(args.playbook) if args.playbook else MAIN_PLAYBOOK
            if not playbook.exists():
                print(f"{playbook.relative_to(REPO_ROOT)} is not there yet; running the sandbox check "
                      f"{FALLBACK_PLAYBOOK.relative_to(REPO_ROOT)} instead.")
                playbook = FALLBACK_PLAYBOOK
            _plan(azure, playbook, Path(tmp) / "plan")
            azure.admin.clear_requests()
            run = run_playbook(azure, playbook, Path(tmp) / "run", verbosity=args.verbose,
                               extra_vars={"site_subscription_id": azure.subscription_id})
            print(run.stdout)
            if run.rc != 0:
                print(run.stderr, file=sys.stderr)
            print_summary(run.state, run.requests, run.changed_tasks())
            if args.rerun and run.rc == 0:
                run = _rerun(azure, playbook, Path(tmp) / "rerun", args.verbose)
        finally:
            server.stop()
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s; playbook exit code {run.rc}.")
    print(FLEET_HINT)
    return run.rc


# Where to go next for many services: the inventory plugin and the read-only fleet report (docs/fleet.md).
FLEET_HINT = ("Fleets: a posture report of many services across two subscriptions (inventory plugin "
              "azure_apim.identity.apim_services + playbooks/fleet_report.yml) on the local Azure: `make bench-fleet` "
              "(writes build/bench/fleet/report/fleet-report.html), or the test tests/integration/test_fleet_report.py "
              "(also a Chromium screenshot in build/). See docs/fleet.md.")


if __name__ == "__main__":
    sys.exit(main())
