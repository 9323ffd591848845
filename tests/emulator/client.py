"""Python clients for the local Azure: `AdminClient` for the admin interface, `ArmClient` for raw ARM calls.

Tests use `ArmClient` to check what the emulator itself does; the collection's modules use the real Azure SDKs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import requests

WORLDS_DIR = Path(__file__).resolve().parent / "worlds"


class RequestLog(list):
    """The request log: a list of entries (method, path, query, status, masked body, ...) with filters."""

    def writes(self) -> "RequestLog":
        """PUT/PATCH/DELETE and POSTs that change something (not list-like reads, not token requests)."""
        return RequestLog(e for e in self if e.get("write"))

    def arm(self) -> "RequestLog":
        """Only management-plane requests (no Entra ID token/discovery traffic)."""
        return RequestLog(e for e in self if "/oauth2/" not in e["path"] and "/.well-known/" not in e["path"])

    def matching(self, method: Optional[str] = None, path_contains: Optional[str] = None) -> "RequestLog":
        """Entries with this method and/or whose path contains the text (case-insensitive)."""
        out = RequestLog()
        for entry in self:
            if method and entry["method"] != method.upper():
                continue
            if path_contains and path_contains.lower() not in entry["path"].lower():
                continue
            out.append(entry)
        return out


class AdminClient:
    """Wraps `/_admin/*` of a running local Azure."""

    def __init__(self, base_url: str, ca_bundle: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.ca_bundle = ca_bundle
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        # verify is passed per request: requests lets REQUESTS_CA_BUNDLE override a session-level setting.
        resp = self.session.request(method, f"{self.base_url}/_admin/{path}", timeout=self.timeout,
                                    verify=self.ca_bundle, **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError(f"admin {method} {path} failed: {resp.status_code} {resp.text}")
        return resp.json()

    def reset(self) -> None:
        """Empty the world (ids, config and automation credentials stay)."""
        self._call("POST", "reset")

    def seed(self, world: Union[dict, str, Path]) -> dict[str, Any]:
        """Seed from a dict, a file path, or the name of a bundled world (`demo` → worlds/demo.yaml)."""
        if isinstance(world, dict):
            data = json.dumps(world)
        else:
            path = Path(world)
            if not path.exists():
                path = WORLDS_DIR / f"{world}.yaml"
            data = path.read_text(encoding="utf-8")
        return self._call("POST", "seed", data=data.encode("utf-8"), headers={"Content-Type": "application/yaml"})

    def state(self) -> dict[str, Any]:
        """The world's state (secret values masked)."""
        return self._call("GET", "state")

    def resource(self, resource_id: str) -> Optional[dict]:
        """One resource body from the state (private `_` keys included, secrets masked), or None."""
        return self.state()["resources"].get(resource_id.lower().rstrip("/"))

    def requests(self) -> RequestLog:
        """The request log."""
        return RequestLog(self._call("GET", "requests")["requests"])

    def clear_requests(self) -> None:
        """Forget logged requests."""
        self._call("DELETE", "requests")

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (method, path regex, status, headers, body, times, probability, drop_connection,
        apply_then_fail, fail_operation {code, message}: the long-running operation the request starts ends Failed
        and the resource stays as it was); returns it with its id."""
        return self._call("POST", "faults", json=rule)

    def faults(self) -> list[dict]:
        """Fault rules with their hit counts."""
        return self._call("GET", "faults")["faults"]

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "faults")

    def config(self, **values: Any) -> dict[str, float]:
        """Change latency_ms, time_scale, durations; returns the whole config."""
        return self._call("POST", "config", json=values)

    def get_config(self) -> dict[str, float]:
        """The current config."""
        return self._call("GET", "config")

    def issued_tokens(self) -> list[str]:
        """Every access token the local Azure issued since it started (tokens survive `reset`)."""
        return self._call("GET", "tokens")["tokens"]

    def clear_issued_tokens(self) -> None:
        """Forget the issued tokens."""
        self._call("DELETE", "tokens")

    def federated_token(self, subject: str, **kwargs: Any) -> dict[str, str]:
        """A workload's token from the local external issuer: `{"token", "issuer"}` (kwargs: audience, lifetime_s)."""
        return self._call("POST", "federated-token", json={"subject": subject, **kwargs})

    def advance(self, seconds: float) -> dict[str, float]:
        """Move the Azure clock forward (pending operations and propagation delays catch up)."""
        return self._call("POST", "config", json={"advance_s": seconds})


class ArmClient:
    """Minimal raw ARM client for emulator tests: client-credentials token + JSON requests with api-version."""

    def __init__(self, base_url: str, ca_bundle: str, tenant_id: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.session = requests.Session()
        self.ca_bundle = ca_bundle
        self._token: Optional[str] = None
        self._expires = 0.0

    def token(self) -> str:
        """A cached access token for `<base_url>/.default`."""
        if self._token is None or time.time() > self._expires - 60:
            resp = self.session.post(f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret,
                "scope": f"{self.base_url}/.default"}, timeout=30, verify=self.ca_bundle)
            resp.raise_for_status()
            payload = resp.json()
            self._token = payload["access_token"]
            self._expires = time.time() + float(payload["expires_in"])
        return self._token

    def request(self, method: str, path: str, api_version: Optional[str] = None, body: Any = None,
                headers: Optional[dict] = None, params: Optional[dict] = None, **kwargs: Any) -> requests.Response:
        """Send an authenticated request; `path` may be a full URL (a Location header) or an ARM path."""
        url = path if path.startswith("https://") else f"{self.base_url}{path}"
        params = {**({"api-version": api_version} if api_version else {}), **(params or {})} or None
        hdrs = {"Authorization": f"Bearer {self.token()}", **(headers or {})}
        return self.session.request(method, url, params=params, json=body, headers=hdrs, timeout=30,
                                    verify=self.ca_bundle, **kwargs)

    def get(self, path: str, api_version: Optional[str] = None, **kwargs: Any) -> requests.Response:
        """GET."""
        return self.request("GET", path, api_version, **kwargs)

    def put(self, path: str, body: Any, api_version: Optional[str] = None, **kwargs: Any) -> requests.Response:
        """PUT with a JSON body."""
        return self.request("PUT", path, api_version, body, **kwargs)

    def delete(self, path: str, api_version: Optional[str] = None, **kwargs: Any) -> requests.Response:
        """DELETE."""
        return self.request("DELETE", path, api_version, **kwargs)


@dataclass
class LocalAzure:
    """A running local Azure and what clients need to reach it (the pytest fixture `local_azure` is one)."""

    base_url: str
    ca_bundle: str
    tenant_id: str
    subscription_id: str
    client_id: str
    client_secret: str
    admin: AdminClient
    server: Any = field(repr=False, default=None)
    identity_endpoint: str = ""
    identity_header: str = field(repr=False, default="")
    second_subscription_id: str = ""

    @classmethod
    def from_info(cls, info: dict[str, Any], server: Any = None) -> "LocalAzure":
        """Build from the JSON line `python -m emulator serve` prints (or `EmulatorServer.info()`)."""
        keys = ("base_url", "ca_bundle", "tenant_id", "subscription_id", "client_id", "client_secret")
        return cls(admin=AdminClient(info["base_url"], info["ca_bundle"]), server=server,
                   identity_endpoint=info.get("identity_endpoint", ""), identity_header=info.get("identity_header", ""),
                   second_subscription_id=info.get("second_subscription_id", ""),
                   **{k: info[k] for k in keys})

    def __repr__(self) -> str:
        return f"LocalAzure(base_url={self.base_url!r}, subscription_id={self.subscription_id!r})"

    def env(self) -> dict[str, str]:
        """The environment AWX sets for an Azure credential, plus the endpoint and CA settings of the local Azure."""
        return {
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "AZURE_CLIENT_ID": self.client_id,
            "AZURE_SECRET": self.client_secret,
            "AZURE_TENANT": self.tenant_id,
            "AZURE_RESOURCE_MANAGER_URL": self.base_url,
            "AZURE_AUTHORITY_HOST": self.base_url,
            "AZURE_CREDENTIAL_SCOPE": f"{self.base_url}/.default",
            "AZURE_CA_BUNDLE": self.ca_bundle,
        }

    def msi_env(self) -> dict[str, str]:
        """The environment of a machine with a managed identity (App Service protocol): azure-identity's
        ManagedIdentityCredential reads IDENTITY_ENDPOINT / IDENTITY_HEADER. Pass `client_id` for a user-assigned one."""
        return {"IDENTITY_ENDPOINT": self.identity_endpoint, "IDENTITY_HEADER": self.identity_header}

    def arm(self) -> ArmClient:
        """A raw ARM client signed in as the automation principal."""
        return ArmClient(self.base_url, self.ca_bundle, self.tenant_id, self.client_id, self.client_secret)

    def credential(self) -> Any:
        """An azure-identity ClientSecretCredential for the local Azure (no instance discovery)."""
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(self.tenant_id, self.client_id, self.client_secret, authority=self.base_url,
                                      disable_instance_discovery=True, connection_verify=self.ca_bundle)

    def rg_id(self, name: str) -> str:
        """ARM id of a resource group."""
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{name}"
