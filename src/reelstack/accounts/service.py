"""Accounts: sign-up, sign-in and token rotation (profiles, devices and the household's
own reads live in ``households``).

Login sessions are refresh-token families: each refresh spends its token and issues the
next; presenting a spent token again revokes the whole family (RFC 9700's reuse
detection), committed before the 401 is raised so the revocation survives the error.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from reelstack.accounts.keys import KeyRing
from reelstack.accounts.models import (
    Device,
    LoginSession,
    Profile,
    RefreshToken,
    Role,
    User,
    UserStatus,
)
from reelstack.accounts.passwords import hash_secret, needs_rehash, verify_secret
from reelstack.accounts.schemas import (
    DeviceIn,
    Principal,
    TokenOut,
    UserOut,
)
from reelstack.accounts.throttle import LoginThrottle
from reelstack.accounts.tokens import (
    TokenConfig,
    TokenInvalid,
    issue_access_token,
    verify_access_token,
)
from reelstack.db import utcnow
from reelstack.errors import Conflict, InvalidCredentials, NotFound
from reelstack.ratings import Maturity

REFRESH_PREFIX = "rt_"
_CHALLENGE = 'Bearer realm="reelstack"'


class EmailTaken(Conflict):
    code = "email_taken"
    title = "Email already registered"


@dataclass(frozen=True)
class Auth:
    """What token operations need: the key ring, the token rules, the session lifetime."""

    ring: KeyRing
    config: TokenConfig
    # A login session ends after this long without a refresh.
    session_idle_s: int


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invalid_token(detail: str) -> InvalidCredentials:
    return InvalidCredentials(
        detail, headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'}
    )


# --- users -------------------------------------------------------------------------


def create_user(
    *,
    session: Session,
    email: str,
    password: str | None,
    role: Role = Role.VIEWER,
    verified: bool = False,
    profile_name: str | None = None,
) -> User:
    """A new account with one (adult) profile; 409 ``email_taken`` for a known email."""
    email = normalize_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(f"{email} is already registered")
    user = User(
        email=email,
        password_hash=hash_secret(password) if password is not None else None,
        role=role,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    name = (profile_name or email.split("@", 1)[0])[:50] or "Me"
    session.add(Profile(user_id=user.id, name=name, kids=False, maturity_ceiling=Maturity.ADULTS))
    session.flush()
    return user


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, email=user.email, role=user.role, status=user.status, created_at=user.created_at
    )


def find_user(*, session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def set_status(*, session: Session, user_id: str, status: UserStatus) -> UserOut:
    user = get_user_row(session, user_id)
    user.status = status
    return user_out(user)


def get_user(*, session: Session, user_id: str) -> UserOut:
    return user_out(get_user_row(session, user_id))


def get_user_row(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def delete_account(*, session: Session, user_id: str) -> None:
    """Delete the household with its profiles, devices, sessions, tokens and grants."""
    session.delete(get_user_row(session, user_id))
    session.flush()


# --- sign-in and tokens ---------------------------------------------------------------


def register_device(session: Session, user_id: str, device: DeviceIn | None) -> Device:
    device = device or DeviceIn()
    row = Device(user_id=user_id, name=device.name, type=device.type)
    session.add(row)
    session.flush()
    return row


def _issue(session: Session, auth: Auth, user: User, login: LoginSession) -> TokenOut:
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    session.add(RefreshToken(session_id=login.id, token_hash=_hash_refresh(refresh)))
    access, _ = issue_access_token(
        ring=auth.ring,
        config=auth.config,
        user_id=user.id,
        role=user.role,
        session_id=login.id,
        device_id=login.device_id,
        profile_id=login.profile_id,
    )
    session.flush()
    return TokenOut(
        access_token=access,
        refresh_token=refresh,
        expires_in=auth.config.access_ttl_s,
        device_id=login.device_id,
        profile_id=login.profile_id,
    )


def login(
    *,
    session: Session,
    auth: Auth,
    throttle: LoginThrottle,
    email: str,
    password: str,
    ip: str | None,
    device_id: str | None = None,
    device: DeviceIn | None = None,
) -> TokenOut:
    """Check the password and open a login session on a device (reused or new).

    401 ``invalid_credentials`` for an unknown email or a wrong password alike (same
    work for both); 429 ``too_many_attempts`` once the account or the IP has failed too
    often.
    """
    email = normalize_email(email)
    throttle.check(email=email, ip=ip)
    auth.ring.signing_key()  # loaded before this transaction writes (see KeyRing)
    user = find_user(session=session, email=email)
    if not verify_secret(user.password_hash if user else None, password) or user is None:
        throttle.failed(email=email, ip=ip)
        raise invalid_token("email or password is not correct")
    throttle.succeeded(email=email)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_secret(password)
    return open_session(session=session, auth=auth, user=user, device_id=device_id, device=device)


def open_session(
    *,
    session: Session,
    auth: Auth,
    user: User,
    device_id: str | None = None,
    device: DeviceIn | None = None,
    client_id: str | None = None,
    scope: str | None = None,
) -> TokenOut:
    """A new login session (refresh family) for ``user`` on a known or new device,
    opened by the web app or by the OAuth client ``client_id``."""
    known = None
    if device_id is not None:
        known = session.scalar(
            select(Device).where(Device.id == device_id, Device.user_id == user.id)
        )
    row = known or register_device(session, user.id, device)
    row.last_seen_at = utcnow()
    login_row = LoginSession(
        user_id=user.id,
        device_id=row.id,
        client_id=client_id,
        scope=scope,
        expires_at=utcnow() + timedelta(seconds=auth.session_idle_s),
    )
    session.add(login_row)
    session.flush()
    return _issue(session, auth, user, login_row)


def refresh(
    *, session: Session, auth: Auth, refresh_token: str, client_id: str | None = None
) -> TokenOut:
    """Spend ``refresh_token`` and issue the next pair; a spent one revokes its family.

    A token is accepted only from the client its session was opened by (``client_id``
    None: the web app's own sign-in).
    """
    auth.ring.signing_key()  # loaded before this transaction writes (see KeyRing)
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh(refresh_token))
    )
    if row is None:
        raise invalid_token("unknown refresh token")
    login_row = session.get(LoginSession, row.session_id)
    now = utcnow()
    if login_row is None or login_row.revoked_at is not None or login_row.expires_at <= now:
        raise invalid_token("the session of this refresh token has ended")
    if login_row.client_id != client_id:
        raise invalid_token("this refresh token was issued to another client")
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        login_row.revoked_at = now
        login_row.revoked_reason = "refresh_reuse"
        # Committed before the error, which rolls the request's unit of work back.
        session.commit()
        raise invalid_token("refresh token reused: the session is revoked, sign in again")
    user = session.get(User, login_row.user_id)
    if user is None:
        raise invalid_token("the account no longer exists")
    login_row.expires_at = now + timedelta(seconds=auth.session_idle_s)
    if login_row.device_id is not None:
        session.execute(
            update(Device).where(Device.id == login_row.device_id).values(last_seen_at=now)
        )
    return _issue(session, auth, user, login_row)


def session_of_refresh(session: Session, refresh_token: str) -> str | None:
    """The login session a refresh token belongs to."""
    return session.scalar(
        select(RefreshToken.session_id).where(
            RefreshToken.token_hash == _hash_refresh(refresh_token)
        )
    )


def _revoke(session: Session, *conditions: object, reason: str) -> int:
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.revoked_at.is_(None), *conditions)  # type: ignore[arg-type]
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def logout(*, session: Session, session_id: str) -> None:
    _revoke(session, LoginSession.id == session_id, reason="logout")


def logout_refresh(*, session: Session, refresh_token: str, user_id: str) -> None:
    """Sign out the session a refresh token of ``user_id`` belongs to (another
    household's or an unknown token: nothing happens)."""
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh(refresh_token))
    )
    if row is not None:
        _revoke(
            session,
            LoginSession.id == row.session_id,
            LoginSession.user_id == user_id,
            reason="logout",
        )


def revoke_client_sessions(*, session: Session, client_id: str) -> int:
    """Sign out every session an OAuth client opened (the client was revoked)."""
    return _revoke(session, LoginSession.client_id == client_id, reason="client_revoked")


def logout_everywhere(*, session: Session, user_id: str) -> int:
    """Revoke every login session of the household; returns how many were live."""
    return _revoke(session, LoginSession.user_id == user_id, reason="logout_all")


# Statements of the per-request hot path are built once (bound parameters): building a
# SQLAlchemy statement costs more Python time than running it on SQLite.
_SESSION_OF_TOKEN = (
    select(LoginSession.revoked_at, LoginSession.expires_at, LoginSession.profile_id, User.role)
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.id == bindparam("sid"), LoginSession.user_id == bindparam("uid"))
)


def authenticate(*, session: Session, auth: Auth, token: str) -> Principal:
    """The caller behind an access token: valid signature and claims, live login session,
    existing account. The role is read from the account, so a demotion applies at once."""
    try:
        claims = verify_access_token(ring=auth.ring, config=auth.config, token=token)
    except TokenInvalid as exc:
        raise invalid_token(f"the access token is not valid: {exc}") from exc
    found = session.execute(
        _SESSION_OF_TOKEN, {"sid": claims.session_id, "uid": claims.user_id}
    ).first()
    if found is None or found.revoked_at is not None or found.expires_at <= utcnow():
        raise invalid_token("the session of this access token has ended")
    return Principal(
        user_id=claims.user_id,
        role=found.role,
        session_id=claims.session_id,
        device_id=claims.device_id,
        # The session's profile, not the token's: a profile switch applies at once.
        profile_id=found.profile_id,
    )
