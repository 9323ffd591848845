"""409 Conflict from a service that is still transitioning: recognised by its message, other conflicts are not."""
from __future__ import annotations

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils._errors import AzureApimError
from ansible_collections.azure_apim.identity.plugins.module_utils._retry import (
    APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING, KEYVAULT_CONFLICT, Deadline, classify,
)
from ansible_collections.azure_apim.identity.plugins.module_utils._state import ResourceSpec, ensure

BUSY = ("The API Management service 'apim-x' is transitioning at this moment (state: Updating). Please try the "
        "request again later.")
KINDS = (APIM_OPERATION_IN_PROGRESS, APIM_SERVICE_TRANSITIONING)


@pytest.mark.parametrize("status, code, message, kind", [
    (409, "Conflict", BUSY, APIM_SERVICE_TRANSITIONING),
    (409, "conflict", "updating the identities: Azure answered 409 (Conflict): " + BUSY, APIM_SERVICE_TRANSITIONING),
    (409, "Conflict", "Hostname api.contoso.com is already in use by another service.", None),
    (409, "PessimisticConcurrencyConflict", "Operation on the API is in progress", APIM_OPERATION_IN_PROGRESS),
    (400, "Conflict", BUSY, None),
])
def test_generic_conflict_needs_the_transitioning_message(status, code, message, kind):
    assert classify(AzureApimError(message, status=status, code=code), KINDS) is kind


def test_sdk_error_message_is_read_too():
    from azure.core.exceptions import HttpResponseError

    err = HttpResponseError(message=BUSY)
    err.status_code = 409
    err.error = type("E", (), {"code": "Conflict", "message": BUSY})()
    assert classify(err, KINDS) is APIM_SERVICE_TRANSITIONING


def test_keyvault_conflict_is_unchanged():
    assert classify(AzureApimError("any", status=409, code="ConflictError"), (KEYVAULT_CONFLICT,)) is KEYVAULT_CONFLICT


def test_ensure_reruns_the_cycle_on_a_transitioning_service_by_default():
    store = {"tags": {"other": "1"}}
    writes = []

    def update(current, wanted, paths):
        if not writes:
            writes.append("refused")
            store["tags"]["late"] = "writer"  # the other writer's change lands meanwhile
            raise AzureApimError(BUSY, status=409, code="Conflict")
        writes.append(dict(wanted["tags"]))
        store["tags"] = dict(wanted["tags"])

    spec = ResourceSpec(what="service", read=lambda: {"tags": dict(store["tags"])}, update=update, settle=False)
    outcome = ensure(spec, "present", lambda cur: {"tags": {**cur["tags"], "ours": "1"}}, check_mode=False,
                     deadline=Deadline(60), sleep=lambda s: None)
    assert outcome.changed
    assert writes == ["refused", {"other": "1", "late": "writer", "ours": "1"}]
