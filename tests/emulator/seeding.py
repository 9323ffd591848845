"""World seeding: a world file (YAML or JSON) describes what exists before a test starts; see
`tests/emulator/worlds/demo.yaml`.

Strings may use `{subscription_id}` and `{tenant_id}` placeholders. Provider modules may take over building their
resources by defining `seed_service(world, rg_name, spec)` (apim) or `seed_vault(world, rg_name, spec)` (keyvault);
otherwise the builders below produce bodies shaped like ARM's.
"""

from __future__ import annotations

import importlib
import secrets
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from emulator import authorization, eventhub, msi, network, resources, servicebus, storage
from emulator.world import World


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
                                        name=ra.get("name"), principal_type=ra.get("principal_type"),
                                        description=ra.get("description"))
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
        ("eventhub_namespaces", lambda w_, g_, s: eventhub.create_eventhub_namespace(w_, g_, s, location)),
        ("servicebus_namespaces", lambda w_, g_, s: servicebus.create_servicebus_namespace(w_, g_, s, location)),
        ("storage_accounts", lambda w_, g_, s: storage.create_storage_account(w_, g_, s, location)),
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
