"""The admin interface of the local Azure (`/_admin/...`, never an ARM path, no token needed) and world seeding.

Endpoints: POST reset, POST seed (world JSON or YAML), GET state, GET/DELETE requests, POST/GET/DELETE faults,
GET/POST config (latency_ms, time_scale, durations, `advance_s` to move the Azure clock forward).

A world file (YAML or JSON) describes what exists before a test starts; see `tests/emulator/worlds/demo.yaml`.
Strings may use `{subscription_id}` and `{tenant_id}` placeholders. Provider modules may take over building their
resources by defining `seed_service(world, rg_name, spec)` (apim) or `seed_vault(world, rg_name, spec)` (keyvault);
otherwise the builders below produce bodies shaped like ARM's.
"""

from __future__ import annotations

import importlib
import json
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from flask import Blueprint, Response, current_app, jsonify, request

from emulator import authorization, msi, network, others, resources, throttle
from emulator.world import DEFAULT_CONFIG, World, mask_secrets, new_guid

bp = Blueprint("admin", __name__, url_prefix="/_admin")

AUTOMATION_NAME = "automation"


# --- bootstrap: the automation service principal every client signs in as ------------------------------------------


def bootstrap(w: World) -> dict[str, Any]:
    """(Re)create the automation service principal (Owner on the subscription) with stable credentials."""
    with w.lock:
        if not w.automation:
            w.automation = {"client_id": new_guid(), "client_secret": secrets.token_urlsafe(32),
                            "object_id": new_guid(), "identity_header": secrets.token_urlsafe(16),
                            "host_identity_object_id": new_guid()}
        auto = w.automation
        # The managed identity of the machine running Ansible (auth_source msi), also Owner on the subscription.
        host = w.new_principal("controller-host", "ManagedIdentity", object_id=auto["host_identity_object_id"])
        host["created_at"] = -1e9
        authorization.assign(w, w.subscription_scope(), "Owner", host["object_id"],
                             name=str(uuid.uuid5(uuid.NAMESPACE_URL, host["object_id"])))
        principal = w.new_principal(AUTOMATION_NAME, "ServicePrincipal", client_secret=auto["client_secret"],
                                    object_id=auto["object_id"], app_id=auto["client_id"])
        principal["created_at"] = -1e9  # long replicated
        authorization.assign(w, w.subscription_scope(), "Owner", auto["object_id"],
                             name=str(uuid.uuid5(uuid.NAMESPACE_URL, auto["object_id"])))
        # Both identities manage the tenant's second subscription too (a fleet spans subscriptions).
        for object_id in (host["object_id"], auto["object_id"]):
            authorization.assign(w, f"/subscriptions/{w.second_subscription_id}", "Owner", object_id,
                                 name=str(uuid.uuid5(uuid.NAMESPACE_URL, "2/" + object_id)))
        return principal


def reset_world(w: World) -> None:
    """Empty the world (keeping ids, config and the automation credentials) and bootstrap again."""
    with w.lock:
        w.clear()
        w.rebase_clock()
        throttle.reset(w)
        bootstrap(w)


# --- seeding --------------------------------------------------------------------------------------------------------


def read_world_file(path: str) -> dict[str, Any]:
    """Parse a world file (YAML is a superset of JSON)."""
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def _placeholders(w: World, data: Any) -> Any:
    if isinstance(data, str):
        return (data.replace("{subscription_id_2}", w.second_subscription_id)
                .replace("{subscription_id}", w.subscription_id).replace("{tenant_id}", w.tenant_id))
    if isinstance(data, list):
        return [_placeholders(w, v) for v in data]
    if isinstance(data, dict):
        return {k: _placeholders(w, v) for k, v in data.items()}
    return data


def principal_ref(w: World, ref: str) -> str:
    """Resolve a principal reference (object id, display name, or a user-assigned identity name) to an object id."""
    if ref in w.principals:
        return ref
    for oid, principal in w.principals.items():
        if principal["display_name"] == ref:
            return oid
    return ref


def _provider_hook(module_name: str, func: str) -> Optional[Callable[..., Any]]:
    try:
        module = importlib.import_module(f"emulator.{module_name}")
    except ModuleNotFoundError:
        return None
    return getattr(module, func, None)


def seed_world(w: World, spec: dict[str, Any]) -> dict[str, Any]:
    """Create everything a world description lists; returns a summary (names → ids, principals)."""
    spec = _placeholders(w, spec or {})
    summary: dict[str, Any] = {"resources": [], "principals": {}}
    with w.lock:
        if spec.get("location"):
            w.location = spec["location"]
        if spec.get("config"):
            w.set_config(spec["config"])
        for sp in spec.get("service_principals", []):
            principal = _seed_principal(w, sp)
            summary["principals"][principal["display_name"]] = _principal_summary(principal)
        for rg in spec.get("resource_groups", []):
            _seed_resource_group(w, rg, summary)
        if spec.get("second_subscription"):
            with w.in_second_subscription():
                for rg in spec["second_subscription"].get("resource_groups", []):
                    _seed_resource_group(w, rg, summary)
        for namespace in spec.get("unregistered_providers", []):
            resources.mark_unregistered(w, namespace)
        for ra in spec.get("role_assignments", []):
            body = authorization.assign(w, ra["scope"], ra["role"], principal_ref(w, ra["principal"]),
                                        name=ra.get("name"), principal_type=ra.get("principal_type"))
            summary["resources"].append(body["id"])
        for principal in w.principals.values():
            summary["principals"].setdefault(principal["display_name"], _principal_summary(principal))
    return summary


def _principal_summary(principal: dict) -> dict[str, Any]:
    return {"object_id": principal["object_id"], "client_id": principal["app_id"], "kind": principal["kind"]}


def _seed_principal(w: World, sp: dict[str, Any]) -> dict:
    principal = w.new_principal(sp["name"], sp.get("kind", "ServicePrincipal"), client_secret=sp.get("client_secret"),
                                object_id=sp.get("object_id"), app_id=sp.get("client_id"))
    principal["created_at"] = -1e9  # seeded principals are already replicated
    for ra in sp.get("roles", []):
        authorization.assign(w, ra["scope"], ra["role"], principal["object_id"])
    return principal


def _seed_resource_group(w: World, rg: dict[str, Any], summary: dict[str, Any]) -> None:
    name = rg["name"]
    location = rg.get("location", w.location)
    body = resources.create_group(w, name, location, rg.get("tags"))
    summary["resources"].append(body["id"])
    builders: list[tuple[str, Callable[[World, str, dict], dict]]] = [
        ("user_assigned_identities", lambda w_, g_, s: _seed_identity(w_, g_, s, location)),
        ("route_tables", lambda w_, g_, s: network.create_route_table(w_, g_, s, location)),
        ("nat_gateways", lambda w_, g_, s: network.create_nat_gateway(w_, g_, s, location)),
        ("network_security_groups", lambda w_, g_, s: network.create_nsg(w_, g_, s, location)),
        ("virtual_networks", lambda w_, g_, s: network.create_vnet(w_, g_, s, location)),
        ("eventhub_namespaces", lambda w_, g_, s: others.create_eventhub_namespace(w_, g_, s, location)),
        ("servicebus_namespaces", lambda w_, g_, s: others.create_servicebus_namespace(w_, g_, s, location)),
        ("storage_accounts", lambda w_, g_, s: others.create_storage_account(w_, g_, s, location)),
        ("key_vaults", lambda w_, g_, s: _seed_vault(w_, g_, s, location)),
        ("apim_services", lambda w_, g_, s: _seed_apim(w_, g_, s, location)),
    ]
    for key, build in builders:
        for item in rg.get(key, []):
            created = build(w, name, item)
            summary["resources"].append(created["id"])


def _seed_identity(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """A user-assigned identity with optional `federated_credentials` [{name, subject, issuer, audiences}]
    (issuer defaults to the local external issuer, `<base_url>/oidc-issuer`)."""
    body = msi.create_identity(w, rg, spec["name"], spec.get("location", location), spec.get("tags"))
    for fic in spec.get("federated_credentials", []):
        issuer = fic.get("issuer") or f"{getattr(w, 'base_url', '')}/oidc-issuer"
        msi.create_federated_credential(w, body, fic["name"], issuer, fic["subject"], fic.get("audiences"))
    return body


# --- Key Vault and API Management bodies (used unless the provider modules offer their own seeders) ----------------


def _seed_vault(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    hook = _provider_hook("keyvault", "seed_vault")
    if hook is not None:
        return hook(w, rg, {**spec, "location": spec.get("location", location)})
    return build_vault(w, rg, spec, location)


def build_vault(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """A vault as ARM returns it (2023-07-01+ shape), with its secrets stored as child resources."""
    name = spec["name"]
    vid = f"{w.rg_id(rg)}/providers/Microsoft.KeyVault/vaults/{name}"
    policies = [_access_policy(w, p) for p in spec.get("access_policies", [])]
    props: dict[str, Any] = {
        "sku": {"family": "A", "name": spec.get("sku", "standard")},
        "tenantId": w.tenant_id,
        "accessPolicies": policies,
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": bool(spec.get("rbac", False)),
        "vaultUri": f"https://{name.lower()}.vault.azure.net/",
        "provisioningState": "Succeeded",
        "publicNetworkAccess": spec.get("public_network_access", "Enabled"),
    }
    if spec.get("network_acls"):
        acls = spec["network_acls"]
        props["networkAcls"] = {"bypass": acls.get("bypass", "AzureServices"),
                                "defaultAction": acls.get("default_action", "Allow"),
                                "ipRules": [{"value": ip} for ip in acls.get("ip_rules", [])],
                                "virtualNetworkRules": [{"id": s.lower(), "ignoreMissingVnetServiceEndpoint": False}
                                                        for s in acls.get("virtual_network_rules", [])]}
    body = {"id": vid, "name": name, "type": "Microsoft.KeyVault/vaults", "location": location,
            "tags": spec.get("tags", {}), "systemData": _system_data(w), "properties": props}
    w.put(vid, body)
    for secret in spec.get("secrets", []):
        build_secret(w, body, secret)
    return body


def _access_policy(w: World, spec: dict[str, Any]) -> dict[str, Any]:
    perms = spec.get("permissions", {})
    return {"tenantId": w.tenant_id, "objectId": principal_ref(w, spec.get("object_id") or spec["principal"]),
            "permissions": {"keys": perms.get("keys", []), "secrets": perms.get("secrets", []),
                            "certificates": perms.get("certificates", []), "storage": perms.get("storage", [])}}


def build_secret(w: World, vault: dict, spec: dict[str, Any]) -> dict:
    """A management-plane secret: contentType and URIs are visible through ARM, the value is kept private."""
    from emulator import pfx  # PROVIDERS' helper for PKCS#12 blobs

    name = spec["name"]
    if "certificate" in spec:
        cert = spec["certificate"] or {}
        subject = str(cert.get("subject", f"CN={name}"))
        value = pfx.make_pfx_b64(subject.split("=", 1)[-1], days=int(cert.get("days", 365)))
        content_type = pfx.PKCS12_CONTENT_TYPE
    else:
        value = str(spec.get("value", secrets.token_urlsafe(24)))
        content_type = spec.get("content_type")
    version = uuid.uuid4().hex
    uri = f"{vault['properties']['vaultUri']}secrets/{name}"
    stamp = int(w.wallclock())
    body = {
        "id": f"{vault['id']}/secrets/{name}", "name": name, "type": "Microsoft.KeyVault/vaults/secrets",
        "location": vault["location"], "tags": spec.get("tags", {}),
        "properties": {"attributes": {"enabled": spec.get("enabled", True), "created": stamp, "updated": stamp},
                       "contentType": content_type, "secretUri": uri, "secretUriWithVersion": f"{uri}/{version}"},
        "_value": value, "_current": version,
        "_versions": {version: {"value": value, "contentType": content_type, "enabled": spec.get("enabled", True),
                                "version": version}},
    }
    w.put(body["id"], body)
    return body


def _seed_apim(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    hook = _provider_hook("apim", "seed_service")
    if hook is not None:
        body = hook(w, rg, {**spec, "location": spec.get("location", location)})
        _apim_vnet(w, rg, body["properties"], spec.get("virtual_network"))  # the stored body: set in place
        return body
    return build_apim_service(w, rg, spec, location)


def build_apim_service(w: World, rg: str, spec: dict[str, Any], location: str) -> dict:
    """An API Management service in state Succeeded with its built-in Proxy hostname (and any seeded identity)."""
    name = spec["name"]
    sid = f"{w.rg_id(rg)}/providers/Microsoft.ApiManagement/service/{name}"
    host = f"{name.lower()}.azure-api.net"
    body: dict[str, Any] = {
        "id": sid, "name": name, "type": "Microsoft.ApiManagement/service", "location": _display_location(location),
        "tags": spec.get("tags", {}), "etag": "AAAAAAAAAAA=",
        "sku": {"name": spec.get("sku", "Developer"), "capacity": int(spec.get("capacity", 1))},
        "systemData": _system_data(w),
        "properties": {
            "publisherEmail": spec.get("publisher_email", "admin@contoso.com"),
            "publisherName": spec.get("publisher_name", "Contoso"),
            "notificationSenderEmail": "apimgmt-noreply@mail.windowsazure.com",
            "provisioningState": "Succeeded", "targetProvisioningState": "",
            "createdAtUtc": w.iso(), "gatewayUrl": f"https://{host}",
            "gatewayRegionalUrl": f"https://{name.lower()}-{location.lower()}-01.regional.azure-api.net",
            "portalUrl": f"https://{name.lower()}.portal.azure-api.net",
            "developerPortalUrl": f"https://{name.lower()}.developer.azure-api.net",
            "managementApiUrl": f"https://{name.lower()}.management.azure-api.net",
            "scmUrl": f"https://{name.lower()}.scm.azure-api.net",
            "hostnameConfigurations": [{"type": "Proxy", "hostName": host, "negotiateClientCertificate": False,
                                        "defaultSslBinding": True, "certificateSource": "BuiltIn"}],
            "publicIPAddresses": ["20.0.0.10"], "privateIPAddresses": None, "additionalLocations": None,
            "virtualNetworkConfiguration": None, "customProperties": {}, "virtualNetworkType": "None",
            "certificates": None, "disableGateway": False, "natGatewayState": "Disabled",
            "outboundPublicIPAddresses": ["20.0.0.10"], "apiVersionConstraint": {"minApiVersion": None},
            "publicNetworkAccess": "Enabled", "platformVersion": "stv2", "privateEndpointConnections": None,
        },
    }
    # ARM answers with "identity": null and "zones": null when there are none; clients read both keys.
    body["identity"] = _apim_identity(w, name, spec.get("identity"))
    body["zones"] = spec.get("zones")
    _apim_vnet(w, rg, body["properties"], spec.get("virtual_network"))
    w.put(sid, body)
    return body


def _apim_vnet(w: World, rg: str, props: dict[str, Any], spec: Optional[dict]) -> None:
    """`virtual_network: {type: External|Internal, subnet: <id> | <vnet>/<subnet> (same group)}` as ARM shows it."""
    if not spec:
        return
    subnet = str(spec["subnet"])
    if not subnet.startswith("/"):
        vnet, name = subnet.split("/", 1)
        subnet = f"{w.rg_id(rg)}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{name}"
    props["virtualNetworkType"] = spec.get("type", "External")
    props["virtualNetworkConfiguration"] = {"subnetResourceId": subnet, "vnetid": None, "subnetname": None}


def _apim_identity(w: World, name: str, spec: Optional[dict]) -> Optional[dict]:
    if not spec or spec.get("type", "None") == "None":
        return None
    kind = spec["type"]
    out: dict[str, Any] = {"type": kind}
    if "SystemAssigned" in kind:
        principal = w.new_principal(name, "ManagedIdentity")
        principal["created_at"] = -1e9
        out.update({"principalId": principal["object_id"], "tenantId": w.tenant_id})
    if "UserAssigned" in kind:
        out["userAssignedIdentities"] = {}
        for ref in spec.get("user_assigned", []):
            uami = _find_uami(w, ref)
            out["userAssignedIdentities"][uami["id"]] = {
                "principalId": uami["properties"]["principalId"], "clientId": uami["properties"]["clientId"]}
    return out


def _find_uami(w: World, ref: str) -> dict:
    if ref.startswith("/"):
        found = w.get(ref)
        if found:
            return found
    for body in w.list("Microsoft.ManagedIdentity/userAssignedIdentities"):
        if body["name"] == ref:
            return body
    raise KeyError(f"user-assigned identity {ref!r} is not in the world")


def _display_location(location: str) -> str:
    names = {"westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US", "eastus2": "East US 2",
             "westus2": "West US 2"}
    return names.get(location.lower().replace(" ", ""), location)


def _system_data(w: World) -> dict[str, Any]:
    stamp = w.iso()
    return {"createdBy": "seed@contoso.com", "createdByType": "User", "createdAt": stamp,
            "lastModifiedBy": "seed@contoso.com", "lastModifiedByType": "User", "lastModifiedAt": stamp}


# --- routes -----------------------------------------------------------------------------------------------------


def _world() -> World:
    return current_app.config["WORLD"]


@bp.post("/reset")
def reset() -> Response:
    """Empty the world."""
    reset_world(_world())
    return jsonify({"reset": True})


@bp.post("/seed")
def seed() -> Response:
    """Seed from a JSON or YAML world description in the body."""
    raw = request.get_data(as_text=True)
    try:
        spec = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        return jsonify({"error": f"the world description is not valid YAML/JSON: {exc}"}), 400
    try:
        summary = seed_world(_world(), spec)
    except (KeyError, ValueError, TypeError) as exc:
        return jsonify({"error": f"cannot seed the world: {exc!r}"}), 400
    return jsonify(summary)


@bp.get("/state")
def state() -> Response:
    """Everything the world holds (secret values masked)."""
    return jsonify(_world().snapshot())


@bp.get("/requests")
def get_requests() -> Response:
    """The request log (bodies already masked)."""
    w = _world()
    with w.lock:
        return jsonify({"requests": list(w.requests)})


@bp.delete("/requests")
def clear_requests() -> Response:
    """Forget logged requests."""
    w = _world()
    with w.lock:
        w.requests.clear()
    return jsonify({"cleared": True})


FAULT_KEYS = {"method", "path", "status", "headers", "body", "times", "probability", "drop_connection",
              "apply_then_fail", "fail_operation", "delay_s", "concurrent_write"}
# Keys of rules that act before the request is served (a slow answer, another writer getting in first); without a
# `status` such a rule then lets the request be served as usual instead of answering for it.
PASS_THROUGH_KEYS = frozenset({"delay_s", "concurrent_write"})
# Header marking the request of the "other writer" a `concurrent_write` rule sends (logged with `actor`).
ACTOR_HEADER = "X-Local-Azure-Actor"
CONCURRENT_WRITER = "concurrent-writer"


@bp.post("/faults")
def add_fault() -> Response:
    """Add a fault rule: method + path regex → status/headers/body, `times` or `probability`; `delay_s` holds the
    answer (a slow or hanging endpoint), `concurrent_write` lets another writer change the resource first."""
    rule = request.get_json(force=True, silent=True)
    if not isinstance(rule, dict) or set(rule) - FAULT_KEYS:
        return jsonify({"error": f"a fault rule is an object with keys among {sorted(FAULT_KEYS)}"}), 400
    other = rule.get("concurrent_write")
    if other is not None and not (isinstance(other, dict) and other.get("path") and other.get("method")):
        return jsonify({"error": "concurrent_write is {method, path, [api_version], [body], [settle]}"}), 400
    defaults = {"method": "*", "path": ".*"} if PASS_THROUGH_KEYS & set(rule) else {
        "method": "*", "path": ".*", "status": 500}
    rule = {**defaults, **rule, "id": new_guid(), "hits": 0}
    rule["method"] = rule["method"].upper()
    w = _world()
    with w.lock:
        w.faults.append(rule)
    return jsonify(rule), 201


def before_serving(w: World, rule: dict) -> None:
    """What a matched rule does before the request is served: another writer's request, then the hold."""
    if rule.get("concurrent_write"):
        _concurrent_write(w, rule["concurrent_write"])
    if rule.get("delay_s"):
        _hold(w, rule["id"], float(rule["delay_s"]))


def _hold(w: World, rule_id: str, seconds: float) -> None:
    """Keep the client waiting (wall clock) for `seconds`, or until the rule is cleared: a hanging endpoint that
    a test can release, so the server thread never outlives the scenario."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with w.lock:
            if not any(r["id"] == rule_id for r in w.faults):
                return
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))


def _concurrent_write(w: World, spec: dict) -> None:
    """Another writer sends `spec` (method, path, api_version, body) through the local Azure's own handlers, as the
    caller of the matched request, after that caller's read and before its write is served; `settle` finishes the
    long-running operation that write starts (the other writer's change is complete when ours arrives)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = {ACTOR_HEADER: CONCURRENT_WRITER, "Authorization": request.headers.get("Authorization", "")}
    query = {"api-version": spec["api_version"]} if spec.get("api_version") else {}
    base_url = request.host_url  # same host as the caller's: the token's audience and the ids' base stay valid
    with w.lock:
        known = set(w.operations)
    answer: dict[str, Any] = {}

    def send() -> None:  # a thread of its own: its own request and application context
        response = app.test_client().open(spec["path"], method=spec["method"].upper(), json=spec.get("body"),
                                          query_string=query, headers=headers, base_url=base_url)
        answer["status"] = response.status_code

    thread = threading.Thread(target=send, name="concurrent-writer")
    thread.start()
    thread.join(timeout=60)
    if spec.get("settle"):
        with w.lock:
            for op_id, op in w.operations.items():
                if op_id not in known and not op.done:
                    op.due = min(op.due, w.now())
            w.tick()


@bp.get("/faults")
def list_faults() -> Response:
    """Current fault rules with their hit counts."""
    w = _world()
    with w.lock:
        return jsonify({"faults": [dict(r) for r in w.faults]})


@bp.delete("/faults")
def clear_faults() -> Response:
    """Remove every fault rule."""
    w = _world()
    with w.lock:
        w.faults.clear()
    return jsonify({"cleared": True})


@bp.get("/config")
def get_config() -> Response:
    """Latency, time scale and durations."""
    return jsonify(dict(_world().config))


@bp.post("/config")
def set_config() -> Response:
    """Change latency, time scale, durations; `advance_s` moves the Azure clock forward."""
    values = request.get_json(force=True, silent=True)
    if not isinstance(values, dict):
        return jsonify({"error": "send a JSON object"}), 400
    unknown = set(values) - set(DEFAULT_CONFIG) - {"advance_s"}
    if unknown:
        return jsonify({"error": f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}"}), 400
    return jsonify(_world().set_config(values))


@bp.post("/federated-token")
def mint_federated_token() -> Response:
    """A token from the local external issuer for `subject` (put it in AZURE_FEDERATED_TOKEN_FILE)."""
    from emulator import entra

    spec = request.get_json(force=True, silent=True) or {}
    if not spec.get("subject"):
        return jsonify({"error": "send {\"subject\": ..., [\"audience\"], [\"lifetime_s\"]}"}), 400
    token = entra.federated_token(spec["subject"], spec.get("audience", entra.TOKEN_EXCHANGE_AUDIENCE),
                                  int(spec.get("lifetime_s", 3600)))
    return jsonify({"token": token, "issuer": entra.issuer_url()})


@bp.get("/tokens")
def get_tokens() -> Response:
    """Every access token issued since the server started (for tests that prove no token leaks into output)."""
    w = _world()
    with w.lock:
        return jsonify({"tokens": list(w.issued_tokens)})


@bp.delete("/tokens")
def clear_tokens() -> Response:
    """Forget the issued tokens."""
    w = _world()
    with w.lock:
        w.issued_tokens.clear()
    return jsonify({"cleared": True})


@bp.get("/principals")
def get_principals() -> Response:
    """Entra principals (secrets masked)."""
    return jsonify(_world().snapshot()["principals"])


def dump_json(data: Any) -> str:
    """JSON with secrets masked (for printing summaries)."""
    return json.dumps(mask_secrets(data), indent=2)
