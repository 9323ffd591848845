# Private to the azure_apim.identity collection: no compatibility promise outside it.
"""The credentials at run time: the first available of several, each token request bound to the task's deadline
(DeadlineTransport), renewed when ARM says a token expired, and the ARM authentication policy built on them."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlsplit

from ._errors import AzureApimError
from ._retry import Deadline, attempt_limit


class FirstAvailable:
    """Try ambient credentials in order; only 'unavailable' moves on (a rejected sign-in is raised) and
    the one that worked is remembered so the result can name it."""

    def __init__(self, credentials: List[Any]) -> None:
        self.credentials = credentials
        self.used: Optional[Any] = None

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """azure-core TokenCredential protocol."""
        from azure.identity import CredentialUnavailableError

        if self.used is not None:
            return self.used.get_token(*scopes, **kwargs)
        reasons = []
        for credential in self.credentials:
            try:
                token = credential.get_token(*scopes, **kwargs)
            except CredentialUnavailableError as err:
                reasons.append("{0}: {1}".format(type(credential).__name__, str(err).splitlines()[0] if str(err) else "unavailable"))
                continue
            self.used = credential
            return token
        raise CredentialUnavailableError(
            "No credentials configured and no ambient identity available ({0}). Set client_id/secret/tenant, "
            "a credentials profile, or run on an Azure host with a managed identity".format("; ".join(reasons)))

    def close(self) -> None:
        """Close the wrapped credentials."""
        for credential in self.credentials:
            getattr(credential, "close", lambda: None)()


def requests_transport(common: Dict[str, Any]) -> Any:
    """The transport azure-identity would build itself (requests), with the same CA bundle."""
    from azure.core.pipeline.transport import RequestsTransport

    verify = common.get("connection_verify")
    return RequestsTransport(connection_verify=verify) if verify else RequestsTransport()


class SignInDeadline(AzureApimError):
    """The task's deadline passed while a token was being requested."""


def sign_in_deadline(deadline: Deadline, endpoint: str, err: Optional[BaseException] = None) -> SignInDeadline:
    """The deadline error of a sign-in: which endpoint was slow, that the request needing it was not sent."""
    cause = " ({0})".format(type(err).__name__) if err is not None else ""
    return SignInDeadline(
        "Signing in did not finish within the task's timeout of {0:.0f} s: the token endpoint {1} did not answer "
        "in time{2}; the Azure request that needed the token was not sent".format(
            deadline.timeout or 0, endpoint or "of the identity", cause),
        code="SignInTimeout",
        hint="re-run the task; if the token endpoint stays slow, check the network path to it (proxy, firewall, "
             "managed identity endpoint of the host) or raise 'timeout'",
    )


class DeadlineTransport:
    """An azure-core transport for token requests that keeps the task deadline.

    azure-identity's credentials take ``transport``; their own retry policy (and MSAL's calls through it) sleep with
    ``transport.sleep`` and send with ``transport.send``, so bounding both here bounds every sign-in method: an
    endpoint that accepts the connection and never answers, or answers 429/5xx with a long Retry-After, cannot hold
    the task past its timeout by more than one attempt's grace.
    """

    def __init__(self, inner: Any, deadline: Deadline) -> None:
        self.inner = inner
        self.deadline = deadline

    def __getattr__(self, name: str) -> Any:  # connection_config, session, ...: the wrapped transport's
        return getattr(self.inner, name)

    def __enter__(self) -> "DeadlineTransport":
        self.inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self.inner.__exit__(*args)

    def open(self) -> None:
        """Open the wrapped transport."""
        self.inner.open()

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()

    def sleep(self, duration: float) -> None:
        """A retry pause, ended at the deadline."""
        self.inner.sleep(self.deadline.cap(duration))

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Send one attempt with connect/read timeouts bounded by the time left; none starts past the deadline."""
        endpoint = _endpoint(request)
        if self.deadline.expired():
            raise sign_in_deadline(self.deadline, endpoint)
        limit = attempt_limit(self.deadline)
        for option in ("connection_timeout", "read_timeout"):
            current = kwargs.get(option)
            kwargs[option] = min(float(current), limit) if isinstance(current, (int, float)) else limit
        try:
            return self.inner.send(request, **kwargs)
        except Exception as err:  # only a failure at the deadline becomes the deadline error; others unchanged
            if self.deadline.expired():
                raise sign_in_deadline(self.deadline, endpoint, err) from err
            raise


def _endpoint(request: Any) -> str:
    parts = urlsplit(str(getattr(request, "url", "") or ""))
    return "{0}://{1}{2}".format(parts.scheme, parts.netloc, parts.path) if parts.netloc else ""


def _deadline_error(err: BaseException) -> Optional[SignInDeadline]:
    """The SignInDeadline behind ``err`` (azure-identity and MSAL wrap transport errors in their own)."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, SignInDeadline):
            return err
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
        seen += 1
    return None


class RenewableCredential:
    """Wraps the credential of a run so its token cache can be dropped.

    ARM can reject a token as expired (401 ExpiredAuthenticationToken) that the client still trusts, when the
    clocks of the controller and Azure disagree; azure-identity would then hand out the same cached token again.
    ``renew()`` builds a fresh credential, so the next token is really new.

    A sign-in that fails at the task deadline (see :class:`DeadlineTransport`) is raised as the deadline error,
    whatever azure-identity wrapped it in ("managed identity unavailable", "authentication failed").
    """

    def __init__(self, factory: Callable[[], Any], deadline: Optional[Deadline] = None) -> None:
        self._factory = factory
        self.current = factory()
        self.renewals = 0
        self.deadline = deadline

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """azure-core TokenCredential protocol."""
        try:
            return self.current.get_token(*scopes, **kwargs)
        except SignInDeadline:
            raise
        except Exception as err:  # a wrapped deadline error is unwrapped; any other error is azure-identity's own
            found = _deadline_error(err)
            if found is not None:
                raise found from err
            raise

    def renew(self) -> None:
        """Forget every cached token: the next get_token() signs in again."""
        old, self.current = self.current, self._factory()
        self.renewals += 1
        getattr(old, "close", lambda: None)()

    def close(self) -> None:
        """Close the wrapped credential."""
        getattr(self.current, "close", lambda: None)()


# ARM's answer to a token past its expiry. Other 401s (wrong audience or tenant, no header) are configuration
# errors that a new token cannot fix, so they are never retried.
EXPIRED_TOKEN_CODE = "expiredauthenticationtoken"


def token_expired(response: Any) -> bool:
    """True when a 401 response says the bearer token has expired."""
    if getattr(response, "status_code", None) != 401:
        return False
    challenge = (response.headers.get("WWW-Authenticate") or "").lower()
    try:
        body = response.text() or ""
    except Exception:  # an unreadable body: decide from the challenge alone
        body = ""
    return EXPIRED_TOKEN_CODE in body.lower() or ("invalid_token" in challenge and "expir" in challenge)


def make_authentication_policy(credential: Any, *scopes: str) -> Any:
    """ARM's challenge policy, plus one retry with a brand-new token when ARM calls the token expired.

    azure-core resends the request once after ``on_challenge`` returns True and never loops, so a token that
    keeps being rejected costs one extra sign-in per request, not a storm.
    """
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    class RenewingChallengePolicy(ARMChallengeAuthenticationPolicy):
        """Handles CAE claims challenges as ARM's policy does, and expired-token 401s with a fresh sign-in."""

        def on_challenge(self, request: Any, response: Any) -> bool:
            if super().on_challenge(request, response):
                return True
            if not token_expired(response.http_response) or not hasattr(credential, "renew"):
                return False
            credential.renew()
            self.authorize_request(request, *scopes)
            return True

    return RenewingChallengePolicy(credential, *scopes)
