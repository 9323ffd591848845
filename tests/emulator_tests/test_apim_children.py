"""The one child-entity handler (emulator/apim/children.py): every family inside a service answers GET/PUT/DELETE/list
the same way — ETag on every answer, 201 then 200, If-Match honoured (412 on a stale ETag), 200 then 204 on delete,
and the family's own "<Label> not found." 404. APIs and operations take writes without If-Match (as before)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

API = "2024-05-01"
RG = "rg-apim-demo"
SVC = "apim-contoso-demo"
STALE = '"AAAAAAAAAAA="'

# (path under the service, a valid PUT body, the 404 wording, whether writes honour If-Match)
FAMILIES = {
    "logger": ("loggers/monitor", {"properties": {"loggerType": "azureMonitor"}}, "Logger not found.", True),
    "backend": ("backends/echo", {"properties": {"url": "https://echo.contoso.com", "protocol": "http"}},
                "Backend not found.", True),
    "api": ("apis/echo", {"properties": {"displayName": "Echo", "path": "echo"}}, "Api not found.", False),
    "policy": ("policies/policy", {"properties": {"value": "<policies><inbound /></policies>"}}, "Policy not found.",
               True),
}


@pytest.fixture
def base(local_azure: Any, world: Callable) -> str:
    world("demo", time_scale=0.01)
    return f"{local_azure.rg_id(RG)}/providers/Microsoft.ApiManagement/service/{SVC}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_answers_the_same_way(local_azure, base, family):
    arm = local_azure.arm()
    path, body, missing, honours_if_match = FAMILIES[family]
    url = f"{base}/{path}"
    created = arm.put(url, body, API)
    assert created.status_code == 201, created.text
    assert arm.put(url, body, API).status_code == 200
    read = arm.get(url, API)
    assert read.status_code == 200 and read.headers.get("ETag")
    stale_put = arm.put(url, body, API, headers={"If-Match": STALE})
    assert stale_put.status_code == (412 if honours_if_match else 200), stale_put.text
    stale_delete = arm.delete(url, API, headers={"If-Match": STALE})
    assert stale_delete.status_code == (412 if honours_if_match else 200), stale_delete.text
    if honours_if_match:
        assert arm.delete(url, API, headers={"If-Match": read.headers["ETag"]}).status_code == 200
    assert arm.delete(url, API, headers={"If-Match": "*"}).status_code == 204
    gone = arm.get(url, API)
    assert gone.status_code == 404 and gone.json()["error"]["message"] == missing


@pytest.mark.parametrize("collection", ["loggers", "backends", "apis", "certificates", "namedValues"])
def test_lists_are_one_page_with_a_count(local_azure, base, collection):
    listed = local_azure.arm().get(f"{base}/{collection}", API)
    assert listed.status_code == 200, listed.text
    assert listed.json()["count"] == len(listed.json()["value"])
