# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""ARM plumbing every adapter shares.

- ArmRest: a small REST client over azure-mgmt-core's ARM pipeline for providers we have no SDK for
  (Microsoft.Network, Storage, EventHub, ServiceBus, resource groups). Every call names its api-version.
- OperationGroup: the base of the SDK adapters (one operation group of one client, reached through the module).
- with_etag, tracked_resource, renamed, properties_to_dict: SDK models and ARM bodies into plain dicts.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

from ._errors import AzureApimError, not_found_to_none
from ._ids import parse_resource_id

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ._module import AzureApimModule

# api-versions used for providers without an SDK dependency; each is a stable version the
# collection was written against.
API_VERSIONS: Dict[str, str] = {
    "Microsoft.Resources": "2022-09-01",
    "Microsoft.Network": "2024-05-01",
    "Microsoft.Storage": "2023-05-01",
    "Microsoft.EventHub": "2024-01-01",
    "Microsoft.ServiceBus": "2022-10-01-preview",
}


class ArmRest:
    """JSON in, JSON (plain dicts) out; raises azure-core HttpResponseError with the ARM error parsed."""

    def __init__(self, pipeline_client: Any, polling_factory: Callable[[], Any]) -> None:
        self._client = pipeline_client
        self._polling_factory = polling_factory

    def _send(self, method: str, path: str, api_version: str, body: Any = None, headers: Optional[Dict[str, str]] = None) -> Any:
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        request = HttpRequest(
            method, self._client.format_url(path), params={"api-version": api_version},
            headers=dict(headers or {}, Accept="application/json"),
            json=body if body is not None else None,
        )
        pipeline_response = self._client.send_request(request, _return_pipeline_response=True)
        response = pipeline_response.http_response
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return pipeline_response

    @staticmethod
    def _json(response: Any) -> Optional[Dict[str, Any]]:
        text = response.text()
        return json.loads(text) if text else None

    def get(self, path: str, api_version: str) -> Optional[Dict[str, Any]]:
        """GET a resource; None when it does not exist (404 only). A 2xx without a JSON object is an error."""
        return not_found_to_none(lambda: self._body(self._send("GET", path, api_version).http_response, path))

    def _body(self, response: Any, path: str) -> Dict[str, Any]:
        try:
            body = self._json(response)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise AzureApimError(
                "Reading {0}: Azure answered {1} with {2}; nothing was changed; re-run the task".format(
                    path, response.status_code, "no body" if not response.text() else "a body that is not JSON"),
                status=response.status_code, code="EmptyResponse",
                hint="a proxy or an Azure front end answered without the resource; re-run, and if it persists "
                     "check the network path to Azure Resource Manager")
        return body

    def list(self, path: str, api_version: str) -> list:
        """GET a collection following nextLink; [] when the parent does not exist."""
        items: list = []
        page = self.get(path, api_version)
        while page:
            items.extend(page.get("value") or [])
            next_link = page.get("nextLink")
            page = self._follow(next_link) if next_link else None
        return items

    def _follow(self, next_link: str) -> Optional[Dict[str, Any]]:
        from azure.core.rest import HttpRequest

        response = self._client.send_request(HttpRequest("GET", next_link))
        response.raise_for_status()
        return self._json(response)

    def request(self, method: str, path: str, api_version: str, body: Any = None,
                headers: Optional[Dict[str, str]] = None) -> Optional[Dict[str, Any]]:
        """A single request without LRO handling; returns the JSON body (or None)."""
        return self._json(self._send(method, path, api_version, body, headers).http_response)

    def begin(self, method: str, path: str, api_version: str, body: Any = None,
              headers: Optional[Dict[str, str]] = None) -> Any:
        """Start a write that may be long-running; returns an azure-core LROPoller (wait with _lro.wait_poller)."""
        from azure.core.polling import LROPoller

        initial = self._send(method, path, api_version, body, headers)

        def deserialize(pipeline_response: Any) -> Optional[Dict[str, Any]]:
            return self._json(pipeline_response.http_response)

        return LROPoller(self._client, initial, deserialize, self._polling_factory())


def with_etag(pipeline_response: Any, model: Any, headers: Dict[str, Any]) -> Tuple[Any, Optional[str]]:
    """``cls=`` callback of SDK reads: the model plus its ETag header."""
    return model, (headers or {}).get("ETag")


class OperationGroup:
    """Base of the SDK adapters: one operation group of one client (``client("apim").logger``), reached through the
    module, which signs in, retries and bounds every call by the task's deadline."""

    client_name = ""
    operations = ""

    def __init__(self, module: AzureApimModule) -> None:
        self.module = module

    @property
    def _ops(self) -> Any:
        return getattr(self.module.client(self.client_name), self.operations)


def tracked_resource(resource: Any) -> Dict[str, Any]:
    """``id``, ``name``, ``resource_group``, ``location`` and ``tags`` of a tracked resource, given as an SDK model
    or as an ARM JSON body."""
    def get(key: str) -> Any:
        return resource.get(key) if isinstance(resource, Mapping) else getattr(resource, key, None)

    resource_id = get("id")
    return {"id": resource_id, "name": get("name"),
            "resource_group": parse_resource_id(resource_id).resource_group if resource_id else None,
            "location": get("location"), "tags": dict(get("tags") or {})}


def renamed(source: Mapping[str, Any], fields: Mapping[str, str], lists: Iterable[str] = ()) -> Dict[str, Any]:
    """``source``'s values under new names (``{"principal_id": "principalId"}``); the names in ``lists`` come out
    as lists, [] when absent."""
    lists = set(lists)
    return {key: list(source.get(field) or []) if key in lists else source.get(field) for key, field in fields.items()}


def properties_to_dict(body: Mapping[str, Any], fields: Mapping[str, str], lists: Iterable[str] = ()) -> Dict[str, Any]:
    """An ARM JSON body as a plain dict: its ``id`` and ``name`` plus the ``properties`` renamed (see renamed)."""
    result = {"id": body.get("id"), "name": body.get("name")}
    result.update(renamed(body.get("properties") or {}, fields, lists))
    return result
