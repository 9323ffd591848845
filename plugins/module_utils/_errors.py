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
        return _http_error(err, prefix, secrets)
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


_STATUS_HINTS = {
    401: "the token was rejected; check tenant and cloud_environment match the subscription",
    403: "the identity running the task lacks a role on this scope; grant it (for example Contributor) and re-run",
    404: "the resource or its parent does not exist; check names, resource group and subscription",
    409: "another operation is changing this resource; re-run when it has finished",
    412: "the resource changed while the task ran (ETag mismatch); re-run the task",
    429: "Azure throttled the requests; re-run later or raise 'timeout'",
}

# Errors whose code says more than the status does.
_CODE_HINTS = {
    # Only left after a new token was also refused as expired: the clocks disagree.
    "expiredauthenticationtoken": "ARM still calls the token expired after a new sign-in; check the clock of the "
                                  "machine running the task (NTP) and re-run",
}


def _http_error(err: Any, prefix: str, secrets: Iterable[Optional[str]]) -> AzureApimError:
    response = getattr(err, "response", None)
    status = getattr(err, "status_code", None) or getattr(response, "status_code", None)
    code, message = _odata_code_message(err)
    message = message or getattr(err, "reason", None) or str(err).splitlines()[0]
    text = "{0}Azure answered {1}{2}: {3}".format(
        prefix, status, " ({0})".format(code) if code else "", scrub(str(message), secrets)
    )
    hint = _CODE_HINTS.get((code or "").lower()) or _STATUS_HINTS.get(status or 0)
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
