"""The hint table (operation x error code -> hint): one case per row, the row that answers it, and what it says."""
from __future__ import annotations

import re

import pytest

from ansible_collections.azure_apim.identity.plugins.module_utils import _errors
from ansible_collections.azure_apim.identity.plugins.module_utils._errors import HINTS, hint_for

from .test_errors import IDENTITY

NS_MESSAGE = ("The subscription is not registered to use namespace 'Microsoft.ApiManagement'. "
              "See https://aka.ms/rps-not-found for how to register subscriptions.")

# (status, code, operation text, message) -> a phrase the hint must hold. Every row of HINTS has at least one case
# (checked below), and the case must be answered by that row, not by an earlier, broader one.
CASES = [
    (409, "MissingSubscriptionRegistration", "creating identity rg/id", NS_MESSAGE,
     "az provider register --namespace Microsoft.ApiManagement"),
    (404, "SubscriptionNotFound", "listing API Management services", "", "subscription_id"),
    (409, "ReadOnlyDisabledSubscription", "creating named value nv", "", "read-only"),
    (400, "NoRegisteredProviderFound", "reading key vault rg/kv", "", "api-version"),
    (400, "InvalidApiVersionParameter", "reading key vault rg/kv", "", "api-version"),
    (401, "InvalidAuthenticationTokenAudience", "reading API Management service rg/s", "", "credential_scope"),
    (401, "InvalidAuthenticationTokenTenant", "reading API Management service rg/s", "", "tenant"),
    (401, "ExpiredAuthenticationToken", "reading key vault rg/kv", "", "NTP"),
    (401, "InvalidAuthenticationToken", "reading key vault rg/kv", "", "credential_scope"),
    (403, "AuthorizationFailed", "creating role assignment ra", "", "User Access Administrator"),
    (403, "AuthorizationFailed", "updating named value nv", "", "re-run updating named value nv"),
    (403, "LinkedAuthorizationFailed", "updating the service endpoints of subnet s", "", "links to"),
    (403, "RequestDisallowedByPolicy", "creating identity rg/id", "", "Azure Policy"),
    (409, "ScopeLocked", "deleting logger l", "", "lock"),
    (404, "ResourceGroupNotFound", "creating identity rg/id", "", "resource group"),
    (404, "VaultNotFound", "reading key vault rg/kv", "", "soft-deleted"),
    (404, "OperationNotFound", "updating the hostnames of service rg/s", "",
     "updating the hostnames of service rg/s may have been applied"),
    (404, "ParentResourceNotFound", "creating named value nv", "", "parent"),
    (400, "InvalidIdentityValues", "updating the identities of service rg/s", "", "user_assigned_identities"),
    (400, "InvalidCertificate", "updating the hostnames of service rg/s", "", "apim_keyvault_preflight"),
    (409, "Conflict", "updating the hostnames of service rg/s", "", "15 minutes"),
    (409, "ConflictError", "access policy of x on key vault kv", "", "merges"),
    (400, "AccessPolicyLimitExceeded", "access policy of x on key vault kv", "", "1024"),
    (403, "ForbiddenByRbac", "reading secret s of key vault kv", "", "10 minutes"),
    (403, "ForbiddenByFirewall", "reading secret s of key vault kv", "", "trusted Microsoft services"),
    (400, "PrincipalNotFound", "creating role assignment ra", "", "replicate"),
    (409, "RoleAssignmentExists", "creating role assignment ra", "", "adopts"),
    (400, "RoleAssignmentUpdateNotPermitted", "creating role assignment ra", "", "state: absent"),
    (400, "RoleDefinitionDoesNotExist", "reading role definition x", "", "role definition"),
    (400, "UnmatchedPrincipalType", "creating role assignment ra", "", "ServicePrincipal"),
    (400, "SecurityRuleConflict", "writing security rule r", "", "priority"),
    (None, "OperationStillRunning", "creating API Management service rg/s", "", "30-45 minutes"),
    (None, "OperationStillRunning", "updating the hostnames of service rg/s", "", "custom-domain update"),
    (None, "OperationStillRunning", "updating the identities of service rg/s", "", "update of an API Management"),
    (None, "OperationStillRunning", "changing subnet s", "", "if changing subnet s normally takes longer"),
    (400, "ValidationError", "creating named value nv", "", "details above"),
    (401, None, "reading key vault rg/kv", "", "token was rejected"),
    (403, "Forbidden", "reading key vault rg/kv", "", "lacks a role"),
    (404, "OperationNotFound-not-a-code", "reading operation op", "", "may have been applied"),
    (404, "ResourceNotFound", "reading named value nv", "", "does not exist"),
    (405, "MethodNotAllowed", "reading key vault rg/kv", "", "does not accept the method"),
    (409, "Conflict", "deleting logger l", "", "another operation"),
    (412, "PreconditionFailed", "updating named value nv", "", "ETag"),
    (429, "TooManyRequests", "reading key vault rg/kv", "", "throttled"),
    (500, "InternalServerError", "creating named value nv", "", "half-applied"),
    (500, "InternalServerError", "reading named value nv", "", "retries ran out; re-run the task"),
    (503, "ServiceUnavailable", "reading named value nv", "", "busy"),
]


def _row_of(status, code, what, message):
    return next(index for index, rule in enumerate(HINTS) if rule.matches(status, code, what))


@pytest.mark.parametrize("status, code, what, message, phrase", CASES)
def test_each_row_answers_its_case(status, code, what, message, phrase):
    hint = hint_for(status, code, what, message)
    assert hint is not None and phrase in hint, hint
    assert "{" not in hint, "a placeholder was left unfilled: " + hint


def test_every_row_has_a_case_that_reaches_it():
    reached = {_row_of(*case[:4]) for case in CASES}
    missing = [HINTS[index].text[:60] for index in range(len(HINTS)) if index not in reached]
    assert not missing, "rows without a test case (or shadowed by an earlier row): {0}".format(missing)


def test_a_code_alone_ignores_case_and_unknown_errors_get_no_hint():
    assert "az provider register" in hint_for(409, "missingsubscriptionregistration", "", NS_MESSAGE)
    assert hint_for(418, "Teapot", "reading x") is None


def test_the_namespace_is_named_even_without_quotes():
    hint = hint_for(409, "MissingSubscriptionRegistration", "x",
                    "The subscription is not registered to use namespace Microsoft.KeyVault.")
    assert "--namespace Microsoft.KeyVault " in hint


def test_codes_the_local_azure_answers_have_their_own_row_or_a_status_row():
    """Every error code the emulator can send is answered by a row (by code, or by its status with a general row)."""
    from pathlib import Path
    emulator = Path(__file__).resolve().parents[4] / "tests" / "emulator"
    sent = set()
    for path in emulator.glob("*.py"):
        sent.update(re.findall(r'arm_error\(\s*(\d{3}),\s*"([A-Za-z]+)"', path.read_text()))
    assert sent, "found no arm_error calls in tests/emulator"
    unanswered = sorted((code, status) for status, code in sent if hint_for(int(status), code, "x") is None)
    assert not unanswered, unanswered


def test_missing_registration_through_translate(make_module, transport):
    body = {"error": {"code": "MissingSubscriptionRegistration", "message": NS_MESSAGE}}
    transport.queue("GET", IDENTITY, [(409, {}, body)])
    module = make_module({"timeout": 30})
    with pytest.raises(_errors.AzureApimError) as caught:
        module.read(module.client("msi").user_assigned_identities.get, "rg", "id", what="reading id")
    assert "az provider register --namespace Microsoft.ApiManagement" in caught.value.hint
    assert "another operation" not in caught.value.hint


def test_validation_details_name_each_field(make_module, transport):
    body = {"error": {"code": "ValidationError", "message": "One or more fields contain incorrect values:",
                      "details": [{"code": "ValidationError", "target": "displayName",
                                   "message": "Name may contain only letters, digits, periods, dashes"},
                                  {"code": "ValidationError", "target": "value", "message": "Value is required"}]}}
    transport.queue("GET", IDENTITY, [(400, {}, body)])
    module = make_module({"timeout": 30})
    with pytest.raises(_errors.AzureApimError) as caught:
        module.read(module.client("msi").user_assigned_identities.get, "rg", "id", what="creating named value nv")
    text = caught.value.msg
    assert "displayName: Name may contain only letters, digits, periods, dashes" in text
    assert "value: Value is required" in text
    assert "details above name the field" in caught.value.hint


def test_lost_status_url_is_told_apart_from_a_missing_resource(make_module, transport):
    """A 404 on an operation-status URL means the status is gone, not the resource."""
    status_url = "https://management.azure.com/subscriptions/s/providers/Microsoft.ApiManagement/locations/westeurope/operations/op1"
    module = make_module({"timeout": 30})

    class Request:
        url = status_url + "?api-version=2022-08-01"

    class Response:
        status_code = 404
        reason = "Not Found"
        headers = {}
        request = Request()

        def json(self):
            return {"error": {"code": "NotFound", "message": "The operation was not found"}}

        def text(self):
            return "{}"

    from azure.core.exceptions import HttpResponseError
    err = _errors.translate(HttpResponseError(response=Response()), "updating the hostnames of service rg/s")
    assert "may have been applied" in err.hint and "re-reads" in err.hint
    del module


def test_timeout_hint_names_the_operation_that_ran():
    from ansible_collections.azure_apim.identity.plugins.module_utils._lro import still_running
    from ansible_collections.azure_apim.identity.plugins.module_utils._retry import Deadline
    err = still_running("updating the hostnames of service rg/s", "Updating", Deadline(1))
    assert "custom-domain update" in err.hint and "creation" not in err.hint
