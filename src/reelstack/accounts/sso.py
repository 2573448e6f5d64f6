"""Sign-in with an external OpenID Connect provider (the authorization code flow with
PKCE, as a confidential or public relying party).

The browser leaves for the provider from ``/v1/auth/sso/start`` and comes back to
``/v1/auth/sso/callback``; the callback checks the ID token (signature from the
provider's JWKS, issuer, audience, expiry, nonce), finds or creates the account, and
sends the browser to the web app with a one-time handoff code, which the app trades for
its own tokens at ``/v1/auth/sso/exchange`` (tokens never travel in a URL).

Authlib's httpx client builds the authorization URL and exchanges the code; joserfc
verifies the ID token.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reelstack.accounts import service as accounts
from reelstack.accounts.models import Role, User, UserStatus
from reelstack.accounts.schemas import DeviceIn, TokenOut
from reelstack.accounts.sso_models import ExternalIdentity, SsoLogin
from reelstack.config import Settings
from reelstack.db import utcnow
from reelstack.errors import AppError, InvalidCredentials, NotFound

LOGIN_TTL_S = 600
HANDOFF_TTL_S = 120
METADATA_TTL_S = 3600.0
HTTP_TIMEOUT_S = 10.0
# Never "none" or an HMAC algorithm (keyed with the client secret an attacker may hold).
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
ROLE_RANK = {Role.VIEWER: 0, Role.SUPPORT: 1, Role.EDITOR: 2, Role.ADMIN: 3}
CALLBACK_PATH = "/v1/auth/sso/callback"


class SsoDisabled(NotFound):
    code = "sso_disabled"
    title = "Single sign-on is not configured"


class SsoFailed(AppError):
    """The provider's answer was refused; the code says why (shown by the web app)."""

    status = 401
    code = "sso_failed"
    title = "Single sign-on failed"


class SsoDenied(SsoFailed):
    code = "sso_denied"
    title = "The identity provider refused the sign-in"


class SsoEmailTaken(SsoFailed):
    status = 409
    code = "sso_email_taken"
    title = "An account with this email exists"


class SsoNoEmail(SsoFailed):
    code = "sso_no_email"
    title = "The identity provider sent no email"


class SsoAccountSuspended(SsoFailed):
    status = 403
    code = "account_suspended"
    title = "This account is suspended"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Provider:
    """One configured provider: its settings and cached discovery document and keys."""

    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    display_name: str
    role_claim: str
    role_map: dict[str, Role]
    link_by_email: bool
    redirect_uri: str
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _metadata: dict[str, Any] | None = None
    _metadata_at: float = 0.0
    _keys: KeySet | None = None

    def _get(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = httpx.get(url, timeout=HTTP_TIMEOUT_S, **kwargs)
            resp.raise_for_status()
            body: dict[str, Any] = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoFailed(f"the identity provider did not answer {url}: {exc}") from exc
        return body

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL_S:
                url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
                found = self._get(url)
                if found.get("issuer") != self.issuer:
                    raise SsoFailed(
                        f"the provider's discovery document names issuer {found.get('issuer')!r},"
                        f" not {self.issuer!r}"
                    )
                self._metadata, self._metadata_at, self._keys = found, time.monotonic(), None
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(self._get(jwks_uri))  # type: ignore[arg-type]
            return self._keys

    def client(self) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.client_secret else "none",
            timeout=HTTP_TIMEOUT_S,
        )


def build_provider(settings: Settings) -> Provider | None:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    secret = settings.oidc_client_secret
    return Provider(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        scopes=settings.oidc_scopes,
        display_name=settings.oidc_display_name,
        role_claim=settings.oidc_role_claim,
        role_map={group: Role(role) for group, role in settings.oidc_role_map.items()},
        link_by_email=settings.oidc_link_by_email,
        redirect_uri=settings.public_url.rstrip("/") + CALLBACK_PATH,
    )


def _enabled(provider: Provider | None) -> Provider:
    if provider is None:
        raise SsoDisabled("no OpenID Connect provider is configured (REELSTACK_OIDC_ISSUER)")
    return provider


def safe_return_path(value: str | None) -> str:
    """Only a path of the web app: never another origin (no open redirect)."""
    value = (value or "").split("#", 1)[0]
    path = value.split("?", 1)[0]
    if not path.startswith("/app/") or "//" in path or "\\" in path:
        return "/app/"
    return value


def start(*, session: Session, provider: Provider | None, return_to: str | None) -> str:
    """Open a sign-in and return the provider URL to send the browser to."""
    provider = _enabled(provider)
    endpoint = provider.metadata()["authorization_endpoint"]
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)
    session.add(
        SsoLogin(
            state_hash=_digest(state),
            nonce=nonce,
            code_verifier=verifier,
            return_to=safe_return_path(return_to),
            expires_at=utcnow() + timedelta(seconds=LOGIN_TTL_S),
        )
    )
    session.flush()
    with provider.client() as client:
        url, _ = client.create_authorization_url(
            endpoint, state=state, nonce=nonce, code_verifier=verifier
        )
    return str(url)


def _verify_id_token(provider: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    try:
        header = jws.extract_compact(id_token.encode()).protected
        keys = provider.keys()
        if header.get("kid") and not any(k.kid == header["kid"] for k in keys.keys):
            keys = provider.keys(refresh=True)  # the provider rotated its keys
        token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise SsoFailed(f"the provider's ID token was refused: {exc}") from exc
    claims: dict[str, Any] = dict(token.claims)
    return claims


def _mapped_role(provider: Provider, claims: dict[str, Any]) -> Role | None:
    """The highest role the provider's claim maps to (None: no map configured)."""
    if not provider.role_map:
        return None
    raw = claims.get(provider.role_claim)
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    mapped = [provider.role_map[v] for v in values if isinstance(v, str) and v in provider.role_map]
    return max(mapped, key=ROLE_RANK.__getitem__, default=Role.VIEWER)


def _account_for(session: Session, provider: Provider, claims: dict[str, Any]) -> User:
    subject = str(claims["sub"])
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    verified = claims.get("email_verified") is True
    link = session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == provider.issuer, ExternalIdentity.subject == subject
        )
    )
    if link is not None:
        user = accounts.get_user_row(session, link.user_id)
        link.email, link.last_login_at = email, utcnow()
    else:
        if email is None:
            raise SsoNoEmail("the provider sent no email for this account")
        user_or_none = accounts.find_user(session=session, email=email)
        if user_or_none is not None and not (provider.link_by_email and verified):
            raise SsoEmailTaken("an account with this email exists: sign in with its password")
        user = user_or_none or accounts.create_user(
            session=session,
            email=email,
            password=None,
            verified=verified,
            profile_name=claims.get("given_name") or claims.get("name"),
        )
        session.add(
            ExternalIdentity(user_id=user.id, issuer=provider.issuer, subject=subject, email=email)
        )
    role = _mapped_role(provider, claims)
    if role is not None:
        user.role = role
    if user.status != UserStatus.ACTIVE:
        raise SsoAccountSuspended("this account is suspended")
    session.flush()
    return user


def callback(
    *,
    session: Session,
    provider: Provider | None,
    state: str | None,
    code: str | None,
    error: str | None,
) -> str:
    """The provider sent the browser back: the web app URL to continue at, with a
    one-time handoff code (``#sso=...``). Raises ``SsoFailed``."""
    provider = _enabled(provider)
    if error:
        # Said before the state is looked at: some providers drop it from errors.
        raise SsoDenied(f"the provider refused the sign-in: {error}")
    if not state:
        raise SsoFailed("the provider's answer has no state")
    row = session.scalar(
        select(SsoLogin).where(SsoLogin.state_hash == _digest(state)).with_for_update()
    )
    if row is None or row.user_id is not None or row.expires_at <= utcnow():
        raise SsoFailed("this sign-in is unknown, used or expired: start again")
    if not code:
        raise SsoFailed("the provider's answer has no code")
    try:
        with provider.client() as client:
            token = client.fetch_token(
                provider.metadata()["token_endpoint"], code=code, code_verifier=row.code_verifier
            )
    except Exception as exc:  # Authlib raises OAuthError, httpx its own errors
        raise SsoFailed(f"the provider refused the code: {exc}") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoFailed("the provider sent no ID token (is 'openid' in the scopes?)")
    claims = _verify_id_token(provider, id_token, row.nonce)
    user = _account_for(session, provider, claims)
    handoff = secrets.token_urlsafe(32)
    row.user_id = user.id
    row.handoff_hash = _digest(handoff)
    row.expires_at = utcnow() + timedelta(seconds=HANDOFF_TTL_S)
    return f"{row.return_to}#sso={handoff}"


def burn_state(*, session: Session, state: str | None) -> None:
    """A failed callback still uses up its state (a second try must start again)."""
    if state:
        session.execute(
            update(SsoLogin)
            .where(SsoLogin.state_hash == _digest(state), SsoLogin.user_id.is_(None))
            .values(expires_at=utcnow())
        )


def exchange(
    *,
    session: Session,
    auth: accounts.Auth,
    handoff: str,
    device_id: str | None,
    device: DeviceIn | None,
) -> TokenOut:
    """Trade the one-time handoff code for the web app's tokens, on the account's device
    ``device_id`` (another account's id or an unknown one: a new device)."""
    auth.ring.signing_key()  # loaded before this transaction writes (see KeyRing)
    now = utcnow()
    spent = session.execute(
        update(SsoLogin)
        .where(
            SsoLogin.handoff_hash == _digest(handoff),
            SsoLogin.used_at.is_(None),
            SsoLogin.expires_at > now,
        )
        .values(used_at=now)
        .returning(SsoLogin.user_id)
    ).first()
    if spent is None or spent.user_id is None:
        raise InvalidCredentials("this sign-in code is unknown, used or expired")
    user = accounts.get_user_row(session, spent.user_id)
    if user.status != UserStatus.ACTIVE:
        raise SsoAccountSuspended("this account is suspended")
    return accounts.open_session(
        session=session, auth=auth, user=user, device_id=device_id, device=device
    )
