"""Accounts: sign-up, sign-in and token rotation, profiles and devices.

Login sessions are refresh-token families: each refresh spends its token and issues the
next; presenting a spent token again revokes the whole family (RFC 9700's reuse
detection), committed before the 401 is raised so the revocation survives the error.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, aliased

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
    AccessTokenOut,
    DeviceIn,
    DeviceOut,
    MeOut,
    Principal,
    ProfileIn,
    ProfileOut,
    ProfilePatch,
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
from reelstack.billing import service as billing
from reelstack.db import utcnow
from reelstack.errors import Conflict, Forbidden, InvalidCredentials, NotFound
from reelstack.ratings import KIDS_DEFAULT_CEILING, Maturity

REFRESH_PREFIX = "rt_"
_CHALLENGE = 'Bearer realm="reelstack"'


class EmailTaken(Conflict):
    code = "email_taken"
    title = "Email already registered"


class KidsProfileForbidden(Forbidden):
    code = "kids_profile"
    title = "Not allowed from a kids profile"


class InvalidPin(Forbidden):
    code = "invalid_pin"
    title = "Wrong profile PIN"


class ProfileLimit(Conflict):
    code = "profile_limit"
    title = "Profile limit reached"


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


def _invalid(detail: str) -> InvalidCredentials:
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
    user = _user(session, user_id)
    user.status = status
    return user_out(user)


def get_user(*, session: Session, user_id: str) -> UserOut:
    return user_out(_user(session, user_id))


def _user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def delete_account(*, session: Session, user_id: str) -> None:
    """Delete the household with its profiles, devices, sessions, tokens and grants."""
    session.delete(_user(session, user_id))
    session.flush()


# --- sign-in and tokens ---------------------------------------------------------------


def _register_device(session: Session, user_id: str, device: DeviceIn | None) -> Device:
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
        raise _invalid("email or password is not correct")
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
) -> TokenOut:
    """A new login session (refresh family) for ``user`` on a known or new device."""
    known = None
    if device_id is not None:
        known = session.scalar(
            select(Device).where(Device.id == device_id, Device.user_id == user.id)
        )
    row = known or _register_device(session, user.id, device)
    row.last_seen_at = utcnow()
    login_row = LoginSession(
        user_id=user.id,
        device_id=row.id,
        expires_at=utcnow() + timedelta(seconds=auth.session_idle_s),
    )
    session.add(login_row)
    session.flush()
    return _issue(session, auth, user, login_row)


def refresh(*, session: Session, auth: Auth, refresh_token: str) -> TokenOut:
    """Spend ``refresh_token`` and issue the next pair; a spent one revokes its family."""
    auth.ring.signing_key()  # loaded before this transaction writes (see KeyRing)
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh(refresh_token))
    )
    if row is None:
        raise _invalid("unknown refresh token")
    login_row = session.get(LoginSession, row.session_id)
    now = utcnow()
    if login_row is None or login_row.revoked_at is not None or login_row.expires_at <= now:
        raise _invalid("the session of this refresh token has ended")
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
        raise _invalid("refresh token reused: the session is revoked, sign in again")
    user = session.get(User, login_row.user_id)
    if user is None:
        raise _invalid("the account no longer exists")
    login_row.expires_at = now + timedelta(seconds=auth.session_idle_s)
    if login_row.device_id is not None:
        session.execute(
            update(Device).where(Device.id == login_row.device_id).values(last_seen_at=now)
        )
    return _issue(session, auth, user, login_row)


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
        raise _invalid(f"the access token is not valid: {exc}") from exc
    found = session.execute(
        _SESSION_OF_TOKEN, {"sid": claims.session_id, "uid": claims.user_id}
    ).first()
    if found is None or found.revoked_at is not None or found.expires_at <= utcnow():
        raise _invalid("the session of this access token has ended")
    return Principal(
        user_id=claims.user_id,
        role=found.role,
        session_id=claims.session_id,
        device_id=claims.device_id,
        # The session's profile, not the token's: a profile switch applies at once.
        profile_id=found.profile_id,
    )


# --- profiles ---------------------------------------------------------------------------


def _profile_out(row: Profile) -> ProfileOut:
    return ProfileOut(
        id=row.id,
        name=row.name,
        kids=row.kids,
        maturity_ceiling=Maturity(row.maturity_ceiling),
        has_pin=row.pin_hash is not None,
        language=row.language,
        created_at=row.created_at,
    )


def _profile(session: Session, user_id: str, profile_id: str) -> Profile:
    row = session.scalar(
        select(Profile).where(Profile.id == profile_id, Profile.user_id == user_id)
    )
    if row is None:
        raise NotFound(f"profile {profile_id} does not exist")
    return row


def get_profile(*, session: Session, user_id: str, profile_id: str) -> ProfileOut:
    return _profile_out(_profile(session, user_id, profile_id))


def list_profiles(*, session: Session, user_id: str) -> list[ProfileOut]:
    rows = session.scalars(
        select(Profile).where(Profile.user_id == user_id).order_by(Profile.created_at, Profile.id)
    )
    return [_profile_out(row) for row in rows]


def _not_from_kids(session: Session, principal: Principal) -> None:
    if principal.profile_id is None:
        return
    current = session.get(Profile, principal.profile_id)
    if current is not None and current.kids:
        raise KidsProfileForbidden("profiles cannot be managed from a kids profile")


def create_profile(*, session: Session, principal: Principal, body: ProfileIn) -> ProfileOut:
    _not_from_kids(session, principal)
    # The household row lock orders concurrent creations, so the limit holds.
    lock_household(session=session, user_id=principal.user_id)
    allowed = billing.limits(session=session, user_id=principal.user_id).max_profiles
    count = session.scalar(
        select(func.count()).select_from(Profile).where(Profile.user_id == principal.user_id)
    )
    if (count or 0) >= allowed:
        raise ProfileLimit(f"this plan allows {allowed} profiles", max_profiles=allowed)
    ceiling = body.maturity_ceiling or (KIDS_DEFAULT_CEILING if body.kids else Maturity.ADULTS)
    if body.kids and ceiling > KIDS_DEFAULT_CEILING:
        ceiling = KIDS_DEFAULT_CEILING
    row = Profile(
        user_id=principal.user_id,
        name=body.name,
        kids=body.kids,
        maturity_ceiling=int(ceiling),
        pin_hash=hash_secret(body.pin) if body.pin else None,
        language=body.language,
    )
    session.add(row)
    # Committed here: the household lock is not held across the request's thread hop
    # (see playback.service.start_playback).
    session.commit()
    return _profile_out(row)


def update_profile(
    *, session: Session, principal: Principal, profile_id: str, body: ProfilePatch
) -> ProfileOut:
    row = _profile(session, principal.user_id, profile_id)
    _not_from_kids(session, principal)
    fields = body.model_fields_set
    if "name" in fields and body.name is not None:
        row.name = body.name
    if "maturity_ceiling" in fields and body.maturity_ceiling is not None:
        ceiling = body.maturity_ceiling
        row.maturity_ceiling = int(min(ceiling, KIDS_DEFAULT_CEILING) if row.kids else ceiling)
    if "pin" in fields:
        row.pin_hash = hash_secret(body.pin) if body.pin else None
    if "language" in fields:
        row.language = body.language
    session.flush()
    return _profile_out(row)


def delete_profile(*, session: Session, principal: Principal, profile_id: str) -> None:
    row = _profile(session, principal.user_id, profile_id)
    _not_from_kids(session, principal)
    count = session.scalar(
        select(func.count()).select_from(Profile).where(Profile.user_id == principal.user_id)
    )
    if (count or 0) <= 1:
        raise Conflict("a household keeps at least one profile")
    session.delete(row)
    session.flush()


def select_profile(
    *,
    session: Session,
    auth: Auth,
    throttle: LoginThrottle,
    principal: Principal,
    profile_id: str,
    pin: str | None,
) -> AccessTokenOut:
    """Pick the profile this device watches as; a PIN-locked profile needs its PIN.

    Wrong PINs are throttled like passwords (per profile). Returns an access token that
    names the profile; the login session remembers it for later refreshes.
    """
    row = _profile(session, principal.user_id, profile_id)
    if row.pin_hash is not None:
        key = f"pin:{row.id}"
        throttle.check(email=key, ip=None)
        if pin is None or not verify_secret(row.pin_hash, pin):
            throttle.failed(email=key, ip=None)
            raise InvalidPin("this profile needs its PIN")
        throttle.succeeded(email=key)
    login_row = session.get(LoginSession, principal.session_id)
    user = session.get(User, principal.user_id)
    if login_row is None or user is None:
        raise _invalid("the session has ended")
    login_row.profile_id = row.id
    session.flush()
    token, _ = issue_access_token(
        ring=auth.ring,
        config=auth.config,
        user_id=user.id,
        role=user.role,
        session_id=login_row.id,
        device_id=login_row.device_id,
        profile_id=row.id,
    )
    return AccessTokenOut(
        access_token=token, expires_in=auth.config.access_ttl_s, profile_id=row.id
    )


def profile_ceiling(*, session: Session, user_id: str, profile_id: str | None) -> Maturity | None:
    """The maturity ceiling of the caller's profile (None: no profile picked)."""
    if profile_id is None:
        return None
    row = session.scalar(
        select(Profile.maturity_ceiling).where(Profile.id == profile_id, Profile.user_id == user_id)
    )
    return None if row is None else Maturity(row)


# --- devices ----------------------------------------------------------------------------


def list_devices(*, session: Session, principal: Principal) -> list[DeviceOut]:
    rows = session.scalars(
        select(Device)
        .where(Device.user_id == principal.user_id)
        .order_by(Device.created_at, Device.id)
    )
    return [
        DeviceOut(
            id=row.id,
            name=row.name,
            type=row.type,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.id == principal.device_id,
        )
        for row in rows
    ]


def remove_device(*, session: Session, principal: Principal, device_id: str) -> None:
    """Forget a device and sign it out (its login sessions go with it)."""
    row = session.scalar(
        select(Device).where(Device.id == device_id, Device.user_id == principal.user_id)
    )
    if row is None:
        raise NotFound(f"device {device_id} does not exist")
    session.execute(delete(LoginSession).where(LoginSession.device_id == row.id))
    session.delete(row)
    session.flush()


# --- me -----------------------------------------------------------------------------------


def me(*, session: Session, principal: Principal) -> MeOut:
    user = _user(session, principal.user_id)
    subscription = billing.current_subscription(session=session, user_id=user.id)
    return MeOut(
        id=user.id,
        email=user.email,
        role=user.role,
        status=user.status,
        email_verified=user.email_verified_at is not None,
        created_at=user.created_at,
        plan=subscription.plan if subscription else None,
        subscription=subscription,
        profiles=list_profiles(session=session, user_id=user.id),
        profile_id=principal.profile_id,
    )


@dataclass(frozen=True)
class ViewerFacts:
    """What playback needs to know of the caller, read in one query."""

    status: UserStatus
    # The picked profile's ceiling (None: no profile picked, or not this household's).
    ceiling: Maturity | None
    # 1 for the household's first-registered device... (None: unknown device).
    device_rank: int | None


def _viewer_facts_statement() -> Select[UserStatus, int | None, str | None, int]:
    earlier = aliased(Device)
    rank = (
        select(func.count())
        .select_from(earlier)
        .where(
            earlier.user_id == User.id,
            (earlier.created_at < Device.created_at)
            | ((earlier.created_at == Device.created_at) & (earlier.id < Device.id)),
        )
        .correlate(User, Device)
        .scalar_subquery()
    )
    return (
        select(User.status, Profile.maturity_ceiling, Device.id, rank)
        .select_from(User)
        .outerjoin(Profile, (Profile.id == bindparam("pid")) & (Profile.user_id == User.id))
        .outerjoin(Device, (Device.id == bindparam("did")) & (Device.user_id == User.id))
        .where(User.id == bindparam("uid"))
    )


_VIEWER_FACTS = _viewer_facts_statement()


def viewer_facts(*, session: Session, principal: Principal) -> ViewerFacts | None:
    """The account's status, the profile's ceiling and the device's rank in one query
    (None when the account is gone). A plan allowing N devices lets the first N play."""
    row = session.execute(
        _VIEWER_FACTS,
        {
            "uid": principal.user_id,
            "pid": principal.profile_id or "",
            "did": principal.device_id or "",
        },
    ).first()
    if row is None:
        return None
    status, ceiling, device_id, earlier_count = row
    return ViewerFacts(
        status=status,
        ceiling=None if ceiling is None else Maturity(ceiling),
        device_rank=None if device_id is None else int(earlier_count or 0) + 1,
    )


_LOCK_HOUSEHOLD = (
    update(User).where(User.id == bindparam("uid")).values(lease_epoch=User.lease_epoch + 1)
)


def lock_household(*, session: Session, user_id: str) -> None:
    """Take the household's row lock for this transaction (orders concurrent grants)."""
    session.execute(_LOCK_HOUSEHOLD, {"uid": user_id})
