"""Unit-test fixtures: the collection on sys.path, a fake azure-core HTTP transport and an in-memory ARM."""
from __future__ import annotations

import io
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / ".collections"
LINK = COLLECTIONS / "ansible_collections" / "azure_apim" / "identity"
if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(REPO_ROOT, target_is_directory=True)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

import requests  # noqa: E402
from azure.core.pipeline.transport import HttpTransport, RequestsTransportResponse  # noqa: E402

try:
    from azure.core.rest._requests_basic import RestRequestsTransportResponse  # noqa: E402
except ImportError:  # pragma: no cover - very old azure-core
    RestRequestsTransportResponse = None

SUBSCRIPTION = "00000000-0000-0000-0000-00000000aaaa"
TENANT = "11111111-0000-0000-0000-00000000bbbb"
CLIENT_ID = "22222222-0000-0000-0000-00000000cccc"
CLIENT_SECRET = "s3cr3t-Value-never-shown~"
AUTHORITY = "https://login.fake.test"
ARM = "https://arm.fake.test"

Reply = Tuple[int, Dict[str, str], Any]


def _response(request: Any, status: int, headers: Dict[str, str], body: Any) -> Any:
    raw = requests.Response()
    raw.status_code = status
    raw.reason = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}.get(status, "Error")
    raw.headers.update(headers)
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        raw.headers.setdefault("Content-Type", "application/json")
    # A file-like raw body lets both streamed (MSAL) and buffered (SDK) reads work.
    raw.raw = io.BytesIO(body.encode() if isinstance(body, str) else (body or b""))
    raw.url = request.url
    if RestRequestsTransportResponse is not None and request.__class__.__module__.startswith("azure.core.rest"):
        return RestRequestsTransportResponse(request=request, internal_response=raw)
    return RequestsTransportResponse(request, raw)


class FakeTransport(HttpTransport):
    """azure-core transport seam: routes each request to a handler, records requests and sleeps."""

    def __init__(self) -> None:
        self.routes: List[Tuple[str, Any, Callable[..., Reply]]] = []
        self.requests: List[Any] = []
        self.sleeps: List[float] = []
        self.real_sleep: float = 0.0

    def add(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        """Most recent route wins; ``pattern`` is a regex on the URL path (case-insensitive)."""
        self.routes.insert(0, (method.upper(), re.compile(pattern, re.I), handler))

    def queue(self, method: str, pattern: str, replies: List[Reply]) -> None:
        """Answer with ``replies`` in order (the last one repeats)."""
        replies = list(replies)

        def handler(request: Any, match: Any) -> Reply:
            return replies.pop(0) if len(replies) > 1 else replies[0]

        self.add(method, pattern, handler)

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.requests.append(request)
        path = requests.utils.urlparse(request.url).path
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if method == request.method.upper() and match:
                return _response(request, *handler(request, match))
        return _response(request, 599, {}, {"error": {"code": "NoRoute", "message": request.method + " " + path}})

    def sleep(self, duration: float) -> None:
        self.sleeps.append(duration)
        if self.real_sleep:
            import time

            time.sleep(min(duration, self.real_sleep))

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "FakeTransport":
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    # -- request log helpers --
    def arm_requests(self) -> List[Any]:
        """Requests to Resource Manager (not to the sign-in authority)."""
        return [r for r in self.requests if r.url.startswith(ARM)]

    def writes(self) -> List[Any]:
        """Mutating Resource Manager requests."""
        return [r for r in self.arm_requests() if r.method.upper() in ("PUT", "PATCH", "POST", "DELETE")]


def body_of(request: Any) -> Any:
    """JSON body of a recorded request."""
    content = getattr(request, "content", None) or getattr(request, "data", None) or getattr(request, "body", None)
    if isinstance(content, bytes):
        content = content.decode()
    return json.loads(content) if isinstance(content, str) and content else content


def install_entra(transport: FakeTransport) -> None:
    """OpenID discovery and the client-credentials token endpoint of a fake tenant."""
    base = AUTHORITY

    def discovery(request: Any, match: Any) -> Reply:
        tenant = match.group(1)
        return 200, {}, {
            "token_endpoint": "{0}/{1}/oauth2/v2.0/token".format(base, tenant),
            "authorization_endpoint": "{0}/{1}/oauth2/v2.0/authorize".format(base, tenant),
            "issuer": "{0}/{1}/v2.0".format(base, tenant),
            "device_authorization_endpoint": "{0}/{1}/oauth2/v2.0/devicecode".format(base, tenant),
            "tenant_region_scope": "EU",
        }

    def token(request: Any, match: Any) -> Reply:
        form = getattr(request, "data", None) or {}
        if isinstance(form, (bytes, str)):
            from urllib.parse import parse_qs

            form = {k: v[0] for k, v in parse_qs(form if isinstance(form, str) else form.decode()).items()}
        if form.get("client_secret") != CLIENT_SECRET:
            return 401, {}, {"error": "invalid_client", "error_description":
                             "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
                             "is the client secret value. Trace ID: abc Correlation ID: def",
                             "error_codes": [7000215]}
        return 200, {}, {"access_token": "tok-" + uuid.uuid4().hex, "token_type": "Bearer", "expires_in": 3600,
                         "ext_expires_in": 3600}

    transport.add("GET", r"/([^/]+)/v2\.0/\.well-known/openid-configuration", discovery)
    transport.add("POST", r"/([^/]+)/oauth2/v2\.0/token", token)


class FakeMsi:
    """Just enough Microsoft.ManagedIdentity and Microsoft.Resources to drive the real SDK."""

    ID = r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.ManagedIdentity/userAssignedIdentities/([^/]+)"

    def __init__(self, transport: FakeTransport) -> None:
        self.groups: Dict[str, str] = {"rg-apim": "westeurope"}
        self.identities: Dict[Tuple[str, str], Dict[str, Any]] = {}
        self.api_versions: List[str] = []
        transport.add("GET", r"/subscriptions/([^/]+)/resourcegroups/([^/]+)", self._group)
        transport.add("GET", self.ID, self._get)
        transport.add("PUT", self.ID, self._put)
        transport.add("PATCH", self.ID, self._patch)
        transport.add("DELETE", self.ID, self._delete)
        transport.add("GET", r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.ManagedIdentity/userAssignedIdentities", self._list)
        transport.add("GET", r"/subscriptions/([^/]+)/providers/Microsoft\.ManagedIdentity/userAssignedIdentities", self._list_all)

    def _note(self, request: Any) -> None:
        from urllib.parse import parse_qs, urlparse

        self.api_versions.extend(parse_qs(urlparse(request.url).query).get("api-version", []))

    def _key(self, match: Any) -> Tuple[str, str]:
        return match.group(2).lower(), match.group(3).lower()

    def _missing_group(self, group: str) -> Reply:
        return 404, {"x-ms-request-id": "req-rg"}, {"error": {"code": "ResourceGroupNotFound",
                                                              "message": "Resource group '{0}' could not be found.".format(group)}}

    def _group(self, request: Any, match: Any) -> Reply:
        self._note(request)
        group = match.group(2)
        if group.lower() not in self.groups:
            return self._missing_group(group)
        return 200, {}, {"id": "/subscriptions/{0}/resourceGroups/{1}".format(SUBSCRIPTION, group), "name": group,
                         "location": self.groups[group.lower()], "properties": {"provisioningState": "Succeeded"}}

    def add(self, group: str, name: str, location: str = "westeurope", tags: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        """Seed an identity as Azure would hold it."""
        resource = {
            "id": "/subscriptions/{0}/resourcegroups/{1}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{2}".format(
                SUBSCRIPTION, group, name),
            "name": name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": location,
            "tags": dict(tags or {}),
            "properties": {"tenantId": TENANT, "principalId": str(uuid.uuid4()), "clientId": str(uuid.uuid4())},
        }
        self.identities[(group.lower(), name.lower())] = resource
        return resource

    def _get(self, request: Any, match: Any) -> Reply:
        self._note(request)
        if match.group(2).lower() not in self.groups:
            return self._missing_group(match.group(2))
        found = self.identities.get(self._key(match))
        if found is None:
            return 404, {"x-ms-request-id": "req-404"}, {"error": {"code": "ResourceNotFound",
                                                                   "message": "The Resource was not found."}}
        return 200, {}, found

    def _put(self, request: Any, match: Any) -> Reply:
        self._note(request)
        if match.group(2).lower() not in self.groups:
            return self._missing_group(match.group(2))
        body = body_of(request)
        existing = self.identities.get(self._key(match))
        if existing is None:
            existing = self.add(match.group(2), match.group(3), body["location"].replace(" ", "").lower(), body.get("tags"))
            return 201, {}, existing
        existing["tags"] = dict(body.get("tags") or {})
        return 200, {}, existing

    def _patch(self, request: Any, match: Any) -> Reply:
        self._note(request)
        existing = self.identities.get(self._key(match))
        if existing is None:
            return 404, {}, {"error": {"code": "ResourceNotFound", "message": "not found"}}
        body = body_of(request)
        if "tags" in body:
            existing["tags"] = dict(body["tags"] or {})
        return 200, {}, existing

    def _delete(self, request: Any, match: Any) -> Reply:
        self._note(request)
        if self.identities.pop(self._key(match), None) is None:
            return 204, {}, None
        return 200, {}, None

    def _list(self, request: Any, match: Any) -> Reply:
        self._note(request)
        group = match.group(2).lower()
        if group not in self.groups:
            return self._missing_group(match.group(2))
        return 200, {}, {"value": [v for key, v in self.identities.items() if key[0] == group]}

    def _list_all(self, request: Any, match: Any) -> Reply:
        self._note(request)
        return 200, {}, {"value": list(self.identities.values())}


@pytest.fixture
def transport() -> FakeTransport:
    """A fresh fake transport with the fake tenant's sign-in endpoints."""
    fake = FakeTransport()
    install_entra(fake)
    return fake


@pytest.fixture
def msi(transport: FakeTransport) -> FakeMsi:
    """In-memory user-assigned identities behind the fake transport."""
    return FakeMsi(transport)


@pytest.fixture
def azure_env() -> Dict[str, str]:
    """The environment AWX injects, pointed at the fake endpoints."""
    return {
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION, "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_SECRET": CLIENT_SECRET,
        "AZURE_TENANT": TENANT, "AZURE_RESOURCE_MANAGER_URL": ARM, "AZURE_AUTHORITY_HOST": AUTHORITY,
        "AZURE_CONFIG_DIR": "/nonexistent-azure-config",
    }


class ModuleExit(Exception):
    """exit_json / fail_json were called."""

    def __init__(self, failed: bool, result: Dict[str, Any]) -> None:
        super().__init__(result)
        self.failed = failed
        self.result = result


@pytest.fixture
def run_module(monkeypatch: pytest.MonkeyPatch, transport: FakeTransport, azure_env: Dict[str, str]):
    """Run a module's ``run`` function in-process through AzureApimModule with the fake transport."""
    from ansible.module_utils import basic

    def exit_json(self: Any, **kwargs: Any) -> None:
        raise ModuleExit(False, kwargs)

    def fail_json(self: Any, msg: str = "", **kwargs: Any) -> None:
        kwargs["msg"] = msg
        raise ModuleExit(True, kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def runner(module_py: Any, args: Dict[str, Any], env: Optional[Dict[str, str]] = None,
               check_mode: bool = False, diff: bool = False) -> ModuleExit:
        from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        with _module_args(args):
            extra = getattr(module_py, "MODULE_KWARGS", {})
            with pytest.raises(ModuleExit) as caught:
                wrapper = AzureApimModule(module_py.ARGUMENT_SPEC, env=azure_env if env is None else env,
                                          transport=transport, **extra)
                items = getattr(module_py, "ITEMS", None)
                if items is not None:
                    wrapper.run_items(module_py.run, items)
                else:
                    wrapper.run(module_py.run)
        return caught.value

    return runner


def _module_args(args: Dict[str, Any]) -> Any:
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        from unittest import mock

        from ansible.module_utils import basic
        from ansible.module_utils.common.text.converters import to_bytes

        return mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    return patch_module_args(args)


@pytest.fixture
def make_module(transport: FakeTransport, azure_env: Dict[str, str]):
    """Build an AzureApimModule (no module-specific options) bound to the fake transport."""

    def factory(args: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
        from ansible_collections.azure_apim.identity.plugins.module_utils._module import AzureApimModule

        with _module_args(dict(args or {})):
            return AzureApimModule({}, env=azure_env, transport=transport, **kwargs)

    return factory
