"""Authlib's authorization server, wired to our rows and our tokens.

Authlib decides the protocol (parameters, client authentication, PKCE, the device
grant's polling answers, OpenID Connect ID tokens); this module answers its questions
from the database. Each call runs in one worker thread with the request's unit of work
in a context variable (Authlib's server object is shared by every request).

Tokens are the accounts domain's: a grant opens a login session (refresh family) on a
device, exactly as the web app's sign-in does, so revoking a device or "sign out
everywhere" ends an OAuth client's access too.
"""

from __future__ import annotations

import time
import warnings
from datetime import timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, BaseGrant, TokenEndpointMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey
from sqlalchemy import select, update

from reelstack.accounts import service as accounts
from reelstack.accounts.models import DeviceType, LoginSession, User
from reelstack.accounts.schemas import DeviceIn
from reelstack.db import utcnow
from reelstack.errors import Unauthorized
from reelstack.oauth.context import (
    CODE_TTL_S,
    ID_TOKEN_TTL_S,
    SCOPES,
    Request,
    active_user,
    ctx,
)
from reelstack.oauth.device import DeviceCodeGrant, DeviceEndpoint
from reelstack.oauth.models import (
    AuthorizationCode,
    OAuthClient,
    hash_secret,
)

# --- tokens --------------------------------------------------------------------------


def _user_info(user: User, scope: str) -> UserInfo:
    info = UserInfo(sub=user.id)
    scopes = scope.split()
    if "email" in scopes:
        info["email"] = user.email
        info["email_verified"] = user.email_verified_at is not None
    if "profile" in scopes:
        info["preferred_username"] = user.email
        info["reelstack_role"] = str(user.role)
    return info


def user_info(user: User, scope: str) -> dict[str, Any]:
    return dict(_user_info(user, scope))


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(scopes_supported=SCOPES)
        self.register_grant(CodeGrant, [S256Challenge(required=True), IdToken()])
        self.register_grant(DeviceCodeGrant)
        self.register_grant(RefreshGrant)
        self.register_endpoint(DeviceEndpoint)

    def query_client(self, client_id: str) -> OAuthClient | None:
        client = ctx().session.get(OAuthClient, client_id)
        if client is None or client.revoked_at is not None:
            return None
        return client

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Stored already: issuing opened the login session and its refresh token."""

    def generate_token(
        self,
        grant_type: str,  # noqa: ARG002
        client: OAuthClient,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,  # noqa: ARG002
        include_refresh_token: bool = True,  # noqa: ARG002
    ) -> dict[str, Any]:
        """A login session for ``user`` through ``client``: on the device the viewer
        approved (device grant), or on a new device named after the client."""
        if user is None:
            raise InvalidGrantError("no user for this grant")
        c = ctx()
        device_id = c.device_id
        issued = accounts.open_session(
            session=c.session,
            auth=c.auth,
            user=user,
            device_id=device_id,
            device=DeviceIn(name=client.name, type=DeviceType(client.device_type)),
            client_id=client.id,
            scope=scope or "",
        )
        c.issued_session_id = accounts.session_of_refresh(c.session, issued.refresh_token)
        return token_response(issued, scope or "")

    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def create_json_request(self, request: Request) -> Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners."""


def token_response(issued: Any, scope: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        # An extension member (RFC 6749 section 5.1 allows them): the household device
        # this client is signed in as.
        "device_id": issued.device_id,
    }
    if scope:
        out["scope"] = scope
    return out


# --- authorization code with PKCE ------------------------------------------------------


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE on every authorization request, S256 only (RFC 9700 section 2.1.1): a
    missing challenge or ``plain`` is refused, public and confidential clients alike."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: 'code_challenge' is missing")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE: 'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("PKCE: 'code_verifier' is missing")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.code_challenge_method


class IdToken(OpenIDCode):  # type: ignore[misc]
    """ID tokens signed by the same Ed25519 key as access tokens (kid in the header)."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        # joserfc flags "EdDSA" since RFC 9864 named "Ed25519" for the same signature;
        # relying parties know "EdDSA" (our access tokens and JWKS use it), so we keep it.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            encoded: str = super().encode_id_token(token, request)
        return encoded

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        found = ctx().session.scalar(
            select(AuthorizationCode.id).where(
                AuthorizationCode.nonce == nonce,
                AuthorizationCode.client_id == request.payload.client_id,
            )
        )
        return found is not None

    def resolve_client_private_key(self, client: OAuthClient) -> OKPKey:  # noqa: ARG002
        key = ctx().auth.ring.signing_key()
        return OKPKey.import_key(key.private)

    def get_client_algorithm(self, client: OAuthClient) -> str:  # noqa: ARG002
        return "EdDSA"

    def get_encode_header(self, client: OAuthClient) -> dict[str, str]:  # noqa: ARG002
        return {"alg": "EdDSA", "kid": ctx().auth.ring.signing_key().kid, "typ": "JWT"}

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        return {
            "iss": ctx().issuer,
            "aud": [client.id],
            "exp": int(time.time()) + ID_TOKEN_TTL_S,
        }

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        return _user_info(user, scope)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        ctx().session.add(
            AuthorizationCode(
                code_hash=hash_secret(code),
                client_id=request.client.id,
                user_id=request.user.id,
                redirect_uri=data.get("redirect_uri"),
                scope=request.client.get_allowed_scope(request.scope or ""),
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                auth_time=int(time.time()),
                expires_at=utcnow() + timedelta(seconds=CODE_TTL_S),
            )
        )
        ctx().session.flush()

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        session = ctx().session
        row = session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code_hash == hash_secret(code),
                AuthorizationCode.client_id == client.id,
            )
        )
        if row is None or row.expires_at <= utcnow():
            return None
        if row.used_at is not None:
            # A replayed code (RFC 6749 section 4.1.2): revoke what it was exchanged
            # for (kept although the answer is invalid_grant).
            if row.session_id is not None:
                session.execute(
                    update(LoginSession)
                    .where(LoginSession.id == row.session_id, LoginSession.revoked_at.is_(None))
                    .values(revoked_at=utcnow(), revoked_reason="code_reuse")
                )
                ctx().keep_on_error = True
            return None
        return row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Spend the code, race-free: of two concurrent exchanges one updates the row,
        the other gets invalid_grant and its transaction (with its tokens) rolls back."""
        spent = ctx().session.execute(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.id == authorization_code.id,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=utcnow(), session_id=ctx().issued_session_id)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidGrantError("this authorization code was already used")

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        return active_user(ctx().session, authorization_code.user_id)


# --- refresh ---------------------------------------------------------------------------


class RefreshGrant(BaseGrant, TokenEndpointMixin):  # type: ignore[misc]
    """``grant_type=refresh_token``: the accounts domain's rotation (a reused token
    revokes its family), for the client the session was opened by."""

    GRANT_TYPE = "refresh_token"
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("this client may not use refresh tokens")
        if not self.request.form.get("refresh_token"):
            raise InvalidRequestError("'refresh_token' is missing")
        self.request.client = client

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        c = ctx()
        try:
            issued = accounts.refresh(
                session=c.session,
                auth=c.auth,
                refresh_token=self.request.form["refresh_token"],
                client_id=self.request.client.id,
            )
        except Unauthorized as exc:
            raise InvalidGrantError(exc.detail) from exc
        return 200, token_response(issued, ""), self.TOKEN_RESPONSE_HEADER
