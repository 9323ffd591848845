"""Entra ID (the identity platform): OIDC discovery, the client-credentials token endpoint, and ARM's token check.

Tokens are JWTs signed RS256 with a key generated when the app starts; they carry `tid`, `oid`, `appid`, `aud`,
`iat`, `nbf`, `exp`. Token lifetimes run on the wall clock (not the scaled Azure clock) because azure-identity caches
tokens by wall-clock expiry.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from typing import Any, Optional

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, Response, current_app, g, jsonify, request

from emulator import arm
from emulator.world import World

bp = Blueprint("entra", __name__)

# Default lifetime of an access token in wall-clock seconds (Entra issues 60-90 minute tokens).
TOKEN_LIFETIME_S = 3599


class SigningKey:
    """The RSA key the local Entra ID signs tokens with, plus its JWKS form."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex

    def jwk(self) -> dict[str, Any]:
        """The public key as a JSON Web Key."""
        numbers = self.private_key.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"kty": "RSA", "use": "sig", "kid": self.kid, "n": b64(numbers.n), "e": b64(numbers.e), "alg": "RS256"}


def signing_key() -> SigningKey:
    """The app's signing key."""
    return current_app.config["SIGNING_KEY"]


def _world() -> World:
    return current_app.config["WORLD"]


def aad_error(status: int, error: str, code: int, description: str) -> Response:
    """Entra's OAuth error body: error, error_description (with the AADSTS code), error_codes, ids, timestamp."""
    trace_id = str(uuid.uuid4())
    corr = request.headers.get("client-request-id") or str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {corr} "
                             f"Timestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": corr,
        "error_uri": f"{arm.base_url()}/error?code={code}",
    }
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _unknown_tenant(tenant: str) -> Response:
    return aad_error(400, "invalid_tenant", 90002,
                     f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
                     "into the correct cloud. Check with your subscription administrator, this may happen if there "
                     "are no active subscriptions for the tenant.")


def _tenant_ok(tenant: str) -> bool:
    return tenant.lower() in (_world().tenant_id.lower(), "organizations", "common")


@bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
def openid_configuration(tenant: str) -> Response:
    """OIDC discovery document for the tenant (MSAL reads token_endpoint and issuer from it)."""
    if not _tenant_ok(tenant):
        return _unknown_tenant(tenant)
    base = arm.base_url()
    tid = _world().tenant_id
    return jsonify({
        "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{tid}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "appid"],
        "tenant_region_scope": "EU",
    })


@bp.get("/<tenant>/discovery/v2.0/keys")
def jwks(tenant: str) -> Response:
    """The signing keys."""
    if not _tenant_ok(tenant):
        return _unknown_tenant(tenant)
    return jsonify({"keys": [signing_key().jwk()]})


@bp.get("/common/discovery/instance")
def instance_discovery() -> Response:
    """Instance discovery (only used when a client does not turn it off)."""
    base = arm.base_url()
    host = base.split("://", 1)[1]
    return jsonify({
        "tenant_discovery_endpoint": f"{base}/{_world().tenant_id}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    })


def _resource_from_scope(scope: str) -> Optional[str]:
    """The audience a client-credentials scope asks for: `<resource>/.default` → `<resource>`."""
    for item in scope.split():
        if item.endswith("/.default"):
            return item[: -len("/.default")]
    return None


def _client_secret_from_request() -> tuple[Optional[str], Optional[str]]:
    """client_id/client_secret from the form, or from HTTP Basic auth (client_secret_basic)."""
    client_id = request.form.get("client_id")
    secret = request.form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        client_id = client_id or request.authorization.username
        secret = secret or request.authorization.password
    return client_id, secret


# --- an external OIDC issuer (like a Kubernetes service-account issuer) for workload identity federation -----------

ISSUER_PATH = "/oidc-issuer"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def issuer_url() -> str:
    """The issuer URL of the local external identity provider."""
    return f"{arm.base_url()}{ISSUER_PATH}"


@bp.get(f"{ISSUER_PATH}/.well-known/openid-configuration")
def issuer_configuration() -> Response:
    """Discovery document of the external issuer."""
    return jsonify({"issuer": issuer_url(), "jwks_uri": f"{issuer_url()}/keys", "response_types_supported": ["id_token"],
                    "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"]})


@bp.get(f"{ISSUER_PATH}/keys")
def issuer_keys() -> Response:
    """The external issuer's signing keys."""
    return jsonify({"keys": [current_app.config["ISSUER_KEY"].jwk()]})


def federated_token(subject: str, audience: str = TOKEN_EXCHANGE_AUDIENCE, lifetime_s: int = 3600) -> str:
    """A token the external issuer hands a workload (what AZURE_FEDERATED_TOKEN_FILE holds)."""
    now = int(time.time())
    key: SigningKey = current_app.config["ISSUER_KEY"]
    claims = {"iss": issuer_url(), "sub": subject, "aud": audience, "iat": now, "nbf": now, "exp": now + lifetime_s}
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def _no_federation_match(claims: dict) -> Response:
    return aad_error(400, "invalid_request", 70021,
                     "No matching federated identity record found for presented assertion. Assertion Issuer: "
                     f"'{claims.get('iss')}'. Assertion Subject: '{claims.get('sub')}'. Assertion Audience: "
                     f"'{claims.get('aud')}'.")


def _federated_principal(w: World, client_id: str, assertion: str) -> tuple[Optional[dict], Optional[Response]]:
    """Check a client assertion against the federated identity credentials of the identity `client_id` names."""
    principal = w.principal_by_app_id(client_id or "")
    if principal is None:
        return None, aad_error(400, "unauthorized_client", 700016,
                               f"Application with identifier '{client_id}' was not found in the directory "
                               f"'{w.tenant_id}'.")
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, aad_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
    if unverified.get("iss") != issuer_url():
        return None, _no_federation_match(unverified)
    key = current_app.config["ISSUER_KEY"].private_key.public_key()
    try:
        claims = jwt.decode(assertion, key, algorithms=["RS256"], options={"verify_aud": False})
    except jwt.ExpiredSignatureError:
        return None, aad_error(400, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    except jwt.PyJWTError:
        return None, aad_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
    audiences = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    for fic in w.list("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"):
        props = fic["properties"]
        owner = w.get(fic["id"].rsplit("/federatedIdentityCredentials/", 1)[0])
        if (owner and owner["properties"]["principalId"] == principal["object_id"]
                and props.get("issuer") == claims["iss"] and props.get("subject") == claims.get("sub")
                and set(props.get("audiences") or []) & set(audiences)):
            return principal, None
    return None, _no_federation_match(claims)


@bp.post("/<tenant>/oauth2/v2.0/token")
def token(tenant: str) -> Response:
    """Client-credentials grant: verify the app's secret and issue an access token for the requested resource."""
    w = _world()
    if tenant.lower() != w.tenant_id.lower():
        return _unknown_tenant(tenant)
    if request.form.get("grant_type") != "client_credentials":
        return aad_error(400, "unsupported_grant_type", 70003,
                         "The app requested an unsupported grant type "
                         f"'{request.form.get('grant_type')}'.")
    client_id, secret = _client_secret_from_request()
    resource = _resource_from_scope(request.form.get("scope", ""))
    if resource is None:
        return aad_error(400, "invalid_scope", 1002012,
                         f"The provided value for scope {request.form.get('scope', '')} is not valid. Client "
                         "credential flows must have a scope value with /.default suffixed to the resource identifier "
                         "(application ID URI).")
    if request.form.get("client_assertion_type") == JWT_BEARER:
        with w.lock:
            principal, error = _federated_principal(w, client_id or "", request.form.get("client_assertion", ""))
            if error is not None:
                return error
            lifetime = int(w.config.get("token_lifetime_s", TOKEN_LIFETIME_S))
            access_token = issue_token(w, principal, resource, lifetime)  # type: ignore[arg-type]
        return jsonify({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                        "access_token": access_token})
    with w.lock:
        principal = w.principal_by_app_id(client_id or "")
        if principal is None or principal["kind"] != "ServicePrincipal":
            return aad_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{w.tenant_id}'. This can happen if the application has not been installed by the "
                             "administrator of the tenant or consented to by any user in the tenant. You may have "
                             "sent your authentication request to the wrong tenant.")
        if not secret or not principal.get("client_secret") or not secrets.compare_digest(
                secret, principal["client_secret"]):
            return aad_error(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the request is the "
                             "client secret value, not the client secret ID, for a secret added to app "
                             f"'{client_id}'.")
        lifetime = int(w.config.get("token_lifetime_s", TOKEN_LIFETIME_S))
        access_token = issue_token(w, principal, resource, lifetime)
    return jsonify({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                    "access_token": access_token})


def issue_token(w: World, principal: dict, audience: str, lifetime_s: int = TOKEN_LIFETIME_S) -> str:
    """A signed access token for `principal` with audience `audience` (wall-clock expiry)."""
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": f"{arm.base_url()}/{w.tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_s,
        "appid": principal["app_id"],
        "appidacr": "1",
        "idtyp": "app",
        "oid": principal["object_id"],
        "sub": principal["object_id"],
        "tid": w.tenant_id,
        "ver": "1.0",
        "uti": uuid.uuid4().hex[:22],
    }
    key = signing_key()
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})


# --- managed identity endpoint (the App Service / Azure Functions protocol, api-version 2019-08-01) ----------------


def _msi_principal(w: World) -> Optional[dict]:
    """The identity a managed-identity token request asks for: a user-assigned one by client id, object id or
    resource id, else the controller host's system-assigned identity."""
    client_id = request.args.get("client_id")
    object_id = request.args.get("principal_id") or request.args.get("object_id")
    res_id = request.args.get("mi_res_id") or request.args.get("msi_res_id")
    if client_id:
        found = w.principal_by_app_id(client_id)
        return found if found and found["kind"] == "ManagedIdentity" else None
    if object_id:
        found = w.principals.get(object_id)
        return found if found and found["kind"] == "ManagedIdentity" else None
    if res_id:
        body = w.get(res_id)
        return w.principals.get(body["properties"]["principalId"]) if body else None
    return w.principals.get(w.automation.get("host_identity_object_id", ""))


@bp.get("/msi/token")
def msi_token() -> Response:
    """Tokens for the managed identities of the machine running Ansible (IDENTITY_ENDPOINT / IDENTITY_HEADER)."""
    w = _world()
    if request.headers.get("X-IDENTITY-HEADER") != w.automation.get("identity_header"):
        resp = jsonify({"error": "invalid_request", "error_description": "The X-IDENTITY-HEADER header is missing "
                        "or does not match."})
        resp.status_code = 401
        return resp
    resource = request.args.get("resource", "")
    with w.lock:
        principal = _msi_principal(w)
        if principal is None or not resource:
            resp = jsonify({"statusCode": 400, "message": "No managed identity found for the specified identity "
                            "or resource." if resource else "The resource parameter is required.",
                            "correlationId": str(uuid.uuid4())})
            resp.status_code = 400
            return resp
        lifetime = int(w.config.get("token_lifetime_s", TOKEN_LIFETIME_S))
        access_token = issue_token(w, principal, resource.rstrip("/"), lifetime)
    return jsonify({"access_token": access_token, "expires_on": str(int(time.time()) + lifetime),
                    "resource": resource, "token_type": "Bearer", "client_id": principal["app_id"]})


# --- ARM's side: the bearer token on every management request ------------------------------------------------------


def _www_authenticate(w: World, error_description: str) -> str:
    return (f'Bearer authorization_uri="{arm.base_url()}/{w.tenant_id}", error="invalid_token", '
            f'error_description="{error_description}"')


def _auth_error(w: World, code: str, message: str, description: str) -> arm.ArmError:
    return arm.ArmError(401, code, message, headers={"WWW-Authenticate": _www_authenticate(w, description)})


def authenticate_arm_request(w: World) -> dict:
    """Validate the bearer token of an ARM request like ARM does; return the calling principal.

    Raises ArmError 401: AuthenticationFailed (no header), InvalidAuthenticationToken (not a valid JWT from this
    tenant's signing key), ExpiredAuthenticationToken, InvalidAuthenticationTokenAudience,
    InvalidAuthenticationTokenTenant.
    """
    header = request.headers.get("Authorization", "")
    if not header:
        raise _auth_error(w, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                          "The authentication failed because of missing 'Authorization' header.")
    scheme, raw = header.partition(" ")[::2]
    if scheme.lower() != "bearer" or not raw.strip():
        raise _auth_error(w, "AuthenticationFailed",
                          "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                          "The authentication failed because of invalid 'Authorization' header format.")
    claims = _decode(w, raw.strip())
    base = arm.base_url()
    if claims.get("aud", "").rstrip("/") != base.rstrip("/"):
        raise _auth_error(w, "InvalidAuthenticationTokenAudience",
                          f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. "
                          f"It should exactly match with one of the allowed audiences '{base}/','{base}'.",
                          "The access token has been obtained from wrong audience or resource.")
    if str(claims.get("tid", "")).lower() != w.tenant_id.lower():
        raise _auth_error(w, "InvalidAuthenticationTokenTenant",
                          f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the tenant "
                          f"'{base}/{w.tenant_id}/' associated with this subscription. Please use the authority (URL) "
                          f"'{base}/{w.tenant_id}' to get the token.",
                          "The access token is from the wrong issuer.")
    with w.lock:
        principal = w.principals.get(claims["oid"])
    return principal or {"object_id": claims["oid"], "principal_id": claims["oid"], "app_id": claims.get("appid"),
                         "kind": "ServicePrincipal", "display_name": "(deleted principal)"}


def _decode(w: World, raw: str) -> dict:
    key = signing_key().private_key.public_key()
    try:
        return jwt.decode(raw, key, algorithms=["RS256"], options={"verify_aud": False, "require": ["exp", "oid"]})
    except jwt.ExpiredSignatureError:
        unverified = jwt.decode(raw, options={"verify_signature": False})
        exp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(unverified.get("exp", 0)))
        now = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime())
        raise _auth_error(w, "ExpiredAuthenticationToken",
                          f"The access token expiry UTC time '{exp}' is earlier than current UTC time '{now}'.",
                          "The access token expiry UTC time is earlier than current UTC time.") from None
    except jwt.PyJWTError:
        raise _auth_error(w, "InvalidAuthenticationToken", "The access token is invalid.",
                          "The access token is invalid.") from None


def current_caller() -> dict:
    """The principal making the current ARM request (set by the app's before_request hook)."""
    return g.caller
