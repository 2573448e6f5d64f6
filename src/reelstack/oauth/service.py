"""OAuth clients (registered by operators) and the viewer's side of the grants: the
consent to an authorization request and the approval of a device code."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reelstack.accounts import households
from reelstack.accounts import service as accounts
from reelstack.accounts.models import DeviceType
from reelstack.accounts.schemas import DeviceIn, Principal
from reelstack.db import utcnow
from reelstack.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, ValidationFailed
from reelstack.oauth.context import SCOPES, Context, Request, bound
from reelstack.oauth.device import normalize_user_code
from reelstack.oauth.models import (
    AUTHORIZATION_CODE,
    DEVICE_CODE,
    REFRESH_TOKEN,
    DeviceGrant,
    DeviceGrantStatus,
    OAuthClient,
    hash_secret,
)
from reelstack.oauth.schemas import (
    ClientCreated,
    ClientOut,
    ConsentOut,
    DeviceApproved,
)
from reelstack.oauth.server import Server

GRANTS = {"authorization_code": AUTHORIZATION_CODE, "device_code": DEVICE_CODE}
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")


class ClientExists(Conflict):
    code = "client_exists"
    title = "An OAuth client with this id exists"


class DeviceCodeExpired(Gone):
    code = "device_code_expired"
    title = "This code has expired"


class DeviceCodeDecided(Conflict):
    code = "device_code_used"
    title = "This code was already approved or denied"


class AuthorizationRequestInvalid(BadRequest):
    code = "invalid_authorization_request"
    title = "The authorization request is not valid"


def _out(row: OAuthClient) -> ClientOut:
    return ClientOut(
        client_id=row.id,
        name=row.name,
        public=row.public,
        grant_types=row.grant_types,
        redirect_uris=row.redirect_uris,
        scope=row.scope,
        device_type=row.device_type,
        created_at=row.created_at,
        revoked=row.revoked_at is not None,
    )


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.fragment or (not parts.netloc and parts.scheme in ("http", "https")):
        raise ValidationFailed(f"redirect URI {uri!r} must be absolute with no fragment")
    if parts.scheme == "http" and not loopback:
        raise ValidationFailed(f"redirect URI {uri!r}: http only for loopback (RFC 8252)")
    if not parts.scheme:
        raise ValidationFailed(f"redirect URI {uri!r} has no scheme")


def create_client(
    *,
    session: Session,
    name: str,
    public: bool,
    grants: list[str],
    redirect_uris: list[str],
    client_id: str | None = None,
    device_type: DeviceType = DeviceType.OTHER,
    scope: str = " ".join(SCOPES),
) -> ClientCreated:
    """Register a client; a confidential one gets a secret, shown only here."""
    unknown = [g for g in grants if g not in GRANTS]
    if not grants or unknown:
        raise ValidationFailed(f"grants must be among {sorted(GRANTS)}, got {grants}")
    grant_types = [GRANTS[g] for g in grants] + [REFRESH_TOKEN]
    if AUTHORIZATION_CODE in grant_types and not redirect_uris:
        raise ValidationFailed("an authorization_code client needs at least one redirect URI")
    for uri in redirect_uris:
        _check_redirect_uri(uri)
    client_id = client_id or secrets.token_hex(16)
    if not CLIENT_ID.match(client_id):
        raise ValidationFailed(f"client id {client_id!r} is not valid")
    if session.get(OAuthClient, client_id) is not None:
        raise ClientExists(f"OAuth client {client_id} exists")
    secret = None if public else secrets.token_urlsafe(32)
    row = OAuthClient(
        id=client_id,
        name=name,
        secret_hash=hash_secret(secret) if secret else None,
        grant_types=grant_types,
        redirect_uris=redirect_uris,
        scope=scope,
        device_type=str(device_type),
    )
    session.add(row)
    session.flush()
    return ClientCreated(**_out(row).model_dump(), client_secret=secret)


def list_clients(*, session: Session) -> list[ClientOut]:
    rows = session.scalars(select(OAuthClient).order_by(OAuthClient.created_at))
    return [_out(row) for row in rows]


def revoke_client(*, session: Session, client_id: str) -> None:
    row = session.get(OAuthClient, client_id)
    if row is None:
        raise NotFound(f"OAuth client {client_id} does not exist")
    row.revoked_at = row.revoked_at or utcnow()
    accounts.revoke_client_sessions(session=session, client_id=client_id)


# --- the viewer's consent ----------------------------------------------------------------


def _raise(error: OAuth2Error) -> None:
    raise AuthorizationRequestInvalid(f"{error.error}: {error.description or ''}".strip(": "))


def consent_preview(
    *, server: Server, context: Context, request: Request, principal: Principal
) -> ConsentOut:
    """What /app/authorize shows before the viewer allows or denies."""
    with bound(context):
        households.not_from_kids(context.session, principal, "apps cannot be signed in")
        user = accounts.get_user_row(context.session, principal.user_id)
        try:
            grant = server.get_consent_grant(request, end_user=user)
        except OAuth2Error as error:
            _raise(error)
        client: OAuthClient = grant.client
        return ConsentOut(
            client_id=client.id,
            client_name=client.name,
            scope=client.get_allowed_scope(grant.request.scope or "").split(),
            redirect_uri=grant.redirect_uri,
        )


def consent(
    *,
    server: Server,
    context: Context,
    request: Request,
    principal: Principal,
    approve: bool,
) -> str:
    """The viewer's answer to an authorization request: the URL to send the browser
    to (the client's redirect URI with a code, or with ``error=access_denied``)."""
    with bound(context):
        households.not_from_kids(context.session, principal, "apps cannot be signed in")
        user = accounts.get_user_row(context.session, principal.user_id)
        try:
            grant = server.get_consent_grant(request, end_user=user)
        except OAuth2Error as error:
            _raise(error)
        status, _, headers = server.create_authorization_response(
            request, grant_user=user if approve else None, grant=grant
        )
        location: str | None = dict(headers).get("Location")
        if status != 302 or not location:
            raise AuthorizationRequestInvalid("the authorization request could not be answered")
        return location


# --- the device grant's approval ----------------------------------------------------------


def decide_device(
    *, session: Session, principal: Principal, user_code: str, approve: bool
) -> DeviceApproved:
    """Approve (or deny) the device code shown on a TV; approval registers the device
    in the household, and the TV's next poll gets tokens for it."""
    households.not_from_kids(session, principal, "devices cannot be signed in")
    grant = session.scalar(
        select(DeviceGrant)
        .where(DeviceGrant.user_code == normalize_user_code(user_code))
        .with_for_update()
    )
    if grant is None:
        raise NotFound("no device is waiting for this code")
    if grant.expires_at <= utcnow():
        raise DeviceCodeExpired("this code has expired: start again on the device")
    if grant.status != DeviceGrantStatus.PENDING:
        raise DeviceCodeDecided("this code was already used")
    client = session.get(OAuthClient, grant.client_id)
    if client is None or client.revoked_at is not None:
        raise Forbidden("this app is no longer allowed to sign in")
    # Decided once, race-free: of two answers at the same moment one updates the row.
    decided = session.execute(
        update(DeviceGrant)
        .where(DeviceGrant.id == grant.id, DeviceGrant.status == DeviceGrantStatus.PENDING)
        .values(
            status=DeviceGrantStatus.APPROVED if approve else DeviceGrantStatus.DENIED,
            user_id=principal.user_id,
            auth_time=int(time.time()),
        )
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise DeviceCodeDecided("this code was already used")
    device_id = None
    if approve:
        device = accounts.register_device(
            session,
            principal.user_id,
            DeviceIn(name=client.name, type=DeviceType(client.device_type)),
        )
        device_id = device.id
        session.execute(
            update(DeviceGrant).where(DeviceGrant.id == grant.id).values(device_id=device_id)
        )
    session.flush()
    return DeviceApproved(
        client_id=client.id, client_name=client.name, approved=approve, device_id=device_id
    )


def discovery(issuer: str) -> dict[str, Any]:
    """The OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "device_authorization_endpoint": f"{issuer}/oauth/device_authorization",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "email",
            "email_verified",
            "preferred_username",
            "reelstack_role",
        ],
    }
