# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""One domain exception and the translation of azure-core / azure-identity errors into it."""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, Optional, TypeVar

T = TypeVar("T")

# Entra ID (AADSTS) error codes users hit most, with what to do about each. The codes are
# public facts from Microsoft's AADSTS reference; the wording is ours.
AADSTS_HINTS: Dict[str, str] = {
    "7000215": "the client secret is wrong; check 'secret' / AZURE_SECRET / AZURE_CLIENT_SECRET",
    "7000222": "the client secret has expired; create a new one for the app registration",
    "700016": "no application with this client_id exists in the tenant; check 'client_id' and 'tenant'",
    "90002": "the tenant was not found; check 'tenant' / AZURE_TENANT and 'cloud_environment'",
    "900023": "the tenant identifier is not valid; use the tenant GUID or its primary domain",
    "700024": "the federated token is not valid now; check AZURE_FEDERATED_TOKEN_FILE is fresh",
    "70021": "no federated credential on the app matches the token's issuer and subject",
}

_AADSTS_RE = re.compile(r"AADSTS(\d+)")
_REQUEST_ID_HEADERS = ("x-ms-request-id", "x-ms-correlation-request-id", "x-ms-client-request-id")


class AzureApimError(Exception):
    """The one failure every module catches; carries what users need to act on it."""

    def __init__(
        self,
        msg: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        request_id: Optional[str] = None,
        hint: Optional[str] = None,
        **extra: Any,
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.code = code
        self.request_id = request_id
        self.hint = hint
        self.extra = extra

    def __str__(self) -> str:
        return self.full_message()

    def full_message(self) -> str:
        """The message plus the hint, as shown to the user."""
        text = self.msg
        if self.hint:
            text = "{0} Hint: {1}".format(text.rstrip(), self.hint)
        return text

    def to_result(self) -> Dict[str, Any]:
        """Keyword arguments for fail_json (without the traceback)."""
        result: Dict[str, Any] = {"msg": self.full_message()}
        for key in ("status", "code", "request_id", "hint"):
            value = getattr(self, key)
            if value is not None:
                result["error_code" if key == "code" else key] = value
        result.update(self.extra)
        return result


def scrub(text: str, secrets: Iterable[Optional[str]]) -> str:
    """Remove every known secret value from a text before it is shown."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def _request_id(response: Any) -> Optional[str]:
    headers = getattr(response, "headers", None) or {}
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _odata_code_message(err: Any) -> "tuple[Optional[str], Optional[str]]":
    """Azure error code and message from an HttpResponseError (ARM 'error' envelope)."""
    odata = getattr(err, "error", None)
    code = getattr(odata, "code", None)
    message = getattr(odata, "message", None)
    if code is None:
        # Some SDK operations raise without the ODataV4 model; fall back to the parsed body.
        response = getattr(err, "response", None)
        try:
            body = response.json() if response is not None else None
        except Exception:  # the body is not JSON (HTML error pages from gateways)
            body = None
        if isinstance(body, dict):
            inner = body.get("error") if isinstance(body.get("error"), dict) else body
            code = inner.get("code")
            message = inner.get("message") or message
    return code, message


# Markers of a sign-in that never reached Entra ID (network or TLS trust), not a rejected credential.
_UNREACHABLE_MARKERS = ("Failed to establish a new connection", "Name or service not known", "Connection refused",
                        "CERTIFICATE_VERIFY_FAILED", "timed out", "Max retries exceeded", "nodename nor servname")


def _auth_error(err: Exception, secrets: Iterable[Optional[str]]) -> AzureApimError:
    text = scrub(str(getattr(err, "message", None) or err), secrets)
    if any(marker in text for marker in _UNREACHABLE_MARKERS):
        return AzureApimError(
            "Could not reach the Entra ID sign-in endpoint: {0}".format(text.strip().splitlines()[0]),
            code="ServiceRequestError",
            hint="check authority_host / cloud_environment, the network path and proxy, and 'ca_bundle' for a private CA",
        )
    match = _AADSTS_RE.search(text)
    first_line = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    if match:
        code = "AADSTS" + match.group(1)
        hint = AADSTS_HINTS.get(match.group(1), "see the AADSTS code in Microsoft's Entra ID error reference")
        # Entra messages end with trace/correlation ids and timestamps; the first sentence is the useful part.
        reason = first_line.split(" Trace ID:")[0]
        return AzureApimError("Could not sign in to Entra ID: {0}".format(reason), code=code, hint=hint)
    status = getattr(getattr(err, "response", None), "status_code", None)
    return AzureApimError(
        "Could not get an Azure access token: {0}".format(first_line),
        status=status,
        code="ClientAuthenticationError" if status is None else None,
        hint="check the credential options (auth_source, client_id, tenant, secret) or run with -vvv for the credential used",
    )


def translate(err: Exception, action: Optional[str] = None, secrets: Iterable[Optional[str]] = ()) -> AzureApimError:
    """Turn an azure-core / azure-identity exception into AzureApimError, keeping status, code and request id."""
    from azure.core.exceptions import (  # imported lazily: modules import only what they use
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(err, AzureApimError):
        return err
    prefix = "{0}: ".format(action) if action else ""
    secrets = list(secrets)
    if isinstance(err, ClientAuthenticationError) and getattr(err, "status_code", None) not in (401, 403):
        translated = _auth_error(err, secrets)
        translated.msg = prefix + translated.msg
        return translated
    if isinstance(err, HttpResponseError):
        return _http_error(err, prefix, secrets, action)
    if isinstance(err, ServiceRequestError):
        return AzureApimError(
            "{0}could not reach Azure: {1}".format(prefix, scrub(str(err), secrets)),
            code="ServiceRequestError",
            hint="check the network path, proxy and 'ca_bundle' for a private CA",
        )
    if isinstance(err, ServiceResponseError):
        return AzureApimError(
            "{0}the connection to Azure broke before a response arrived: {1}".format(prefix, scrub(str(err), secrets)),
            code="ServiceResponseError",
            hint="re-run the task; the write may or may not have been applied and the module re-reads first",
        )
    return AzureApimError("{0}{1}: {2}".format(prefix, type(err).__name__, scrub(str(err), secrets)))


class HintRule:
    """One row of the hint table: an Azure error code and/or HTTP status, optionally narrowed to the task's operation.

    ``operation`` is a regular expression searched (case-insensitively) in the operation text the module passes with
    each call ("updating the hostnames of service x", "creating role assignment y"). ``text`` may name the operation
    with ``{what}`` and the resource-provider namespace of the error message with ``{namespace}``.
    """

    __slots__ = ("code", "status", "operation", "text")

    def __init__(self, text: str, code: Optional[str] = None, status: Optional[int] = None,
                 operation: Optional[str] = None) -> None:
        self.text = text
        self.code = code
        self.status = status
        self.operation = re.compile(operation, re.IGNORECASE) if operation else None

    def matches(self, status: Optional[int], code: Optional[str], what: str) -> bool:
        """True when this row applies to the error and the operation."""
        if self.code is not None and (code or "").lower() != self.code.lower():
            return False
        if self.status is not None and status != self.status:
            return False
        return self.operation is None or bool(self.operation.search(what or ""))


_WRITE = r"^(creating|updating|writing|changing|deleting|refreshing)\b|access policy|role assignment of|outbound rule"
# The table: the first row that matches wins, so rows narrowed to an operation come before the general ones. The codes
# are those ARM, API Management, Key Vault, Authorization and Network answer the calls these modules make (Microsoft's
# "Troubleshoot common Azure deployment errors" list and the services' REST references); the wording is ours.
HINTS = (
    # --- subscription and provider set-up
    HintRule("the subscription is not registered for {namespace}; register it once (needs */register/action, e.g. "
             "Contributor on the subscription): az provider register --namespace {namespace} --wait  "
             "(PowerShell: Register-AzResourceProvider -ProviderNamespace {namespace}), then re-run",
             code="MissingSubscriptionRegistration"),
    HintRule("the subscription does not exist in this tenant or the identity cannot see it; check subscription_id "
             "(AZURE_SUBSCRIPTION_ID) and tenant", code="SubscriptionNotFound"),
    HintRule("the subscription is disabled or read-only; nothing can be written until it is active again",
             code="ReadOnlyDisabledSubscription"),
    HintRule("the api-version this SDK sends is not offered here (older cloud or private endpoint); install the "
             "SDK versions in requirements.txt or check resource_manager_url", code="NoRegisteredProviderFound"),
    HintRule("the api-version this SDK sends is not offered here; install the SDK versions in requirements.txt",
             code="InvalidApiVersionParameter"),
    # --- sign-in and tokens
    HintRule("the token's audience is not the one this Resource Manager expects: credential_scope "
             "(AZURE_CREDENTIAL_SCOPE) must name the original ARM endpoint (e.g. https://management.azure.com/.default) "
             "even when resource_manager_url points at a proxy; otherwise check cloud_environment",
             code="InvalidAuthenticationTokenAudience"),
    HintRule("the token comes from another tenant than the subscription's; set 'tenant' (AZURE_TENANT) to the "
             "subscription's tenant", code="InvalidAuthenticationTokenTenant"),
    # Only left after a new token was also refused as expired: the clocks disagree.
    HintRule("ARM still calls the token expired after a new sign-in; check the clock of the machine running the task "
             "(NTP) and re-run", code="ExpiredAuthenticationToken"),
    HintRule("ARM rejected the token; check tenant, cloud_environment and credential_scope match the subscription",
             code="InvalidAuthenticationToken"),
    # --- permissions of the identity running the task
    HintRule("the identity running the task may not create role assignments here; it needs Owner, User Access "
             "Administrator or Role Based Access Control Administrator on the scope", code="AuthorizationFailed",
             operation=r"role assignment"),
    HintRule("the identity running the task lacks the permission named above on this scope; grant it a role that "
             "has it (for example Contributor) and re-run {what}", code="AuthorizationFailed"),
    HintRule("the identity running the task lacks a permission on a resource this one links to (the vault, subnet "
             "or identity named above); grant it there", code="LinkedAuthorizationFailed"),
    HintRule("an Azure Policy assignment refused this write; the message names the policy: ask its owner for an "
             "exemption or change the request to comply", code="RequestDisallowedByPolicy"),
    HintRule("a resource lock (ReadOnly or CanNotDelete) covers this scope; remove the lock or run elsewhere",
             code="ScopeLocked"),
    # --- missing resources
    HintRule("the resource group does not exist in this subscription; check resource_group and subscription_id",
             code="ResourceGroupNotFound"),
    HintRule("the key vault does not exist (or is soft-deleted); check its name, resource group and subscription",
             code="VaultNotFound"),
    HintRule("the operation's status is no longer available at the URL Azure gave; {what} may have been applied: "
             "re-run the task, which re-reads the resource first", code="OperationNotFound"),
    HintRule("the parent resource does not exist; create it first or check its name", code="ParentResourceNotFound"),
    # --- API Management
    HintRule("one of the given user-assigned identities does not exist or is not a user-assigned identity; check "
             "the resource ids in user_assigned_identities", code="InvalidIdentityValues"),
    HintRule("API Management could not read the Key Vault secret through its identity: check the grant "
             "(azure_apim.identity.keyvault_access), the vault firewall (trusted services) and that the secret "
             "holds a PFX; azure_apim.identity.apim_keyvault_preflight lists what is wrong",
             code="InvalidCertificate"),
    HintRule("another operation is still changing the API Management service (updates take 15 minutes or more); "
             "re-run when it has finished", status=409, operation=r"hostnames|identit|API Management service"),
    # --- Key Vault
    HintRule("another client changed the vault's access policies at the same moment; re-run the task (it re-reads "
             "and merges)", code="ConflictError"),
    HintRule("the vault already holds 1024 access policies; remove unused ones or move it to Azure RBAC",
             code="AccessPolicyLimitExceeded"),
    HintRule("the vault uses Azure RBAC and the caller lacks a data role; a new grant can take up to 10 minutes to "
             "propagate: re-run later", code="ForbiddenByRbac"),
    HintRule("the vault firewall refused the caller; allow trusted Microsoft services or the caller's network",
             code="ForbiddenByFirewall"),
    # --- Authorization
    HintRule("Entra ID does not know this principal yet (new identities take a minute or two to replicate); re-run, "
             "or check principal_id", code="PrincipalNotFound"),
    HintRule("a role assignment for the same principal, role and scope exists under another name; the module "
             "adopts it on re-run", code="RoleAssignmentExists"),
    HintRule("a role assignment's principal or role cannot change; remove it (state: absent) and create it again",
             code="RoleAssignmentUpdateNotPermitted"),
    HintRule("the role name or id is not a role definition at this scope; check the spelling (built-in names are "
             "case-sensitive in the portal, not here)", code="RoleDefinitionDoesNotExist"),
    HintRule("principal_type does not match the principal; managed identities are ServicePrincipal",
             code="UnmatchedPrincipalType"),
    # --- Network
    HintRule("another security rule of the group has the same priority and direction; choose a free priority",
             code="SecurityRuleConflict"),
    # --- our own: a long-running operation that outlived the task's timeout (see _lro.still_running)
    HintRule("raise 'timeout' if needed: creating an API Management service takes 30-45 minutes; re-running the task "
             "adopts the operation in flight", code="OperationStillRunning", operation=r"^creating .*service|creating API"),
    HintRule("raise 'timeout' if needed: an API Management custom-domain update takes 15 minutes or more (longer with "
             "several units or regions); re-running the task waits for the update in flight",
             code="OperationStillRunning", operation=r"hostname"),
    HintRule("raise 'timeout' if needed: an update of an API Management service takes 15 minutes or more; re-running "
             "the task waits for the update in flight", code="OperationStillRunning",
             operation=r"identit|API Management service|service "),
    HintRule("raise 'timeout' if {what} normally takes longer; re-running the task waits for the operation in flight",
             code="OperationStillRunning"),
    # --- by status, when the code says nothing more
    HintRule("the request was not valid; the details above name the field", status=400),
    HintRule("the token was rejected; check tenant, cloud_environment and credential_scope match the subscription",
             status=401),
    HintRule("the identity running the task lacks a role on this scope; grant it (for example Contributor) and re-run",
             status=403),
    HintRule("the status of {what} is no longer available; the change may have been applied: re-run the task, which "
             "re-reads the resource first", status=404, operation=r"^(reading )?operation\b|status of"),
    HintRule("the resource or its parent does not exist; check names, resource group and subscription", status=404),
    HintRule("this Azure endpoint does not accept the method the SDK sent; install the SDK versions in "
             "requirements.txt", status=405),
    HintRule("another operation is changing this resource; re-run when it has finished", status=409),
    HintRule("the resource changed while the task ran (ETag mismatch); re-run the task", status=412),
    HintRule("Azure throttled the requests; re-run later or raise 'timeout'", status=429),
    HintRule("Azure had a transient failure and the retries ran out; re-run the task (it re-reads first, so a "
             "half-applied change is completed, not repeated)", status=500, operation=_WRITE),
    HintRule("Azure had a transient failure and the retries ran out; re-run the task", status=500),
    HintRule("the service is busy or unavailable; re-run the task later", status=503),
)

# Status monitors of long-running operations (Azure-AsyncOperation / Location URLs of ARM and its providers).
_STATUS_URL_RE = re.compile(r"/(operationresults|operationstatuses|operationstatus|asyncoperations|locations/[^/]+/operations)/",
                            re.IGNORECASE)
_NAMESPACE_RE = re.compile(r"namespace\s+'?([A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+)'?", re.IGNORECASE)


def hint_for(status: Optional[int], code: Optional[str], what: Optional[str] = None,
             message: Optional[str] = None) -> Optional[str]:
    """The first row of HINTS matching the error and the task's operation, filled in; None when no row matches."""
    what = what or ""
    for rule in HINTS:
        if rule.matches(status, code, what):
            match = _NAMESPACE_RE.search(message or "")
            namespace = match.group(1) if match else "<the namespace in the message>"
            return rule.text.format(what=what or "the change", namespace=namespace)
    return None


def _details_text(err: Any, secrets: Iterable[Optional[str]]) -> str:
    """' Details: target: message; ...' from the ARM error envelope's details, '' when there are none."""
    details = getattr(getattr(err, "error", None), "details", None)
    items = [(getattr(d, "target", None), getattr(d, "code", None), getattr(d, "message", None))
             for d in (details or [])]
    if not items:
        body = _json_body(getattr(err, "response", None))
        inner = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else body
        raw = inner.get("details") if isinstance(inner, dict) else None
        items = [(d.get("target"), d.get("code"), d.get("message")) for d in (raw or []) if isinstance(d, dict)]
    parts = []
    for target, code, message in items:
        label = target or code
        parts.append("{0}: {1}".format(label, message) if label else str(message))
    return " Details: {0}.".format("; ".join(scrub(part, secrets) for part in parts)) if parts else ""


def _json_body(response: Any) -> Any:
    try:
        return response.json() if response is not None else None
    except Exception:  # the body is not JSON (HTML error pages from gateways)
        return None


def _http_error(err: Any, prefix: str, secrets: Iterable[Optional[str]], what: Optional[str] = None) -> AzureApimError:
    response = getattr(err, "response", None)
    status = getattr(err, "status_code", None) or getattr(response, "status_code", None)
    code, message = _odata_code_message(err)
    message = message or getattr(err, "reason", None) or str(err).splitlines()[0]
    text = "{0}Azure answered {1}{2}: {3}{4}".format(
        prefix, status, " ({0})".format(code) if code else "", scrub(str(message), secrets),
        _details_text(err, secrets),
    )
    lookup_code = code
    if status == 404 and _STATUS_URL_RE.search(str(getattr(getattr(response, "request", None), "url", "") or "")):
        # A 404 on the status URL of a long-running operation, not on the resource: the change may have been applied.
        lookup_code = "OperationNotFound"
    hint = hint_for(status, lookup_code, what, str(message))
    return AzureApimError(text, status=status, code=code, request_id=_request_id(response), hint=hint)


def status_of(err: BaseException) -> Optional[int]:
    """HTTP status of an SDK error or AzureApimError, if any."""
    if isinstance(err, AzureApimError):
        return err.status
    return getattr(err, "status_code", None) or getattr(getattr(err, "response", None), "status_code", None)


def code_of(err: BaseException) -> Optional[str]:
    """Azure error code of an SDK error or AzureApimError, if any."""
    if isinstance(err, AzureApimError):
        return err.code
    return _odata_code_message(err)[0]


def message_of(err: BaseException) -> str:
    """The error's message text (Azure's message for SDK errors), '' when there is none."""
    if isinstance(err, AzureApimError):
        return err.msg or ""
    return str(_odata_code_message(err)[1] or getattr(err, "message", None) or err)


def not_found_to_none(call: Callable[..., T], *args: Any, **kwargs: Any) -> Optional[T]:
    """Run ``call``; a 404 means "absent" and gives None. 401, 403, 5xx and the rest are raised."""
    from azure.core.exceptions import HttpResponseError

    try:
        return call(*args, **kwargs)
    except (HttpResponseError, AzureApimError) as err:
        if status_of(err) == 404:
            return None
        raise
