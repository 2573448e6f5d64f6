"""The household: its profiles (maturity ceilings, PINs, the plan's limit), its devices,
``/v1/me``, and what playback reads of it (``viewer_facts``) and locks (``lock_household``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import Session, aliased

from reelstack.accounts.models import Device, LoginSession, Profile, User, UserStatus
from reelstack.accounts.passwords import hash_secret, verify_secret
from reelstack.accounts.schemas import (
    AccessTokenOut,
    DeviceOut,
    MeOut,
    Principal,
    ProfileIn,
    ProfileOut,
    ProfilePatch,
)
from reelstack.accounts.service import Auth, get_user_row, invalid_token
from reelstack.accounts.throttle import LoginThrottle
from reelstack.accounts.tokens import issue_access_token
from reelstack.billing import service as billing
from reelstack.errors import Conflict, Forbidden, NotFound
from reelstack.ratings import KIDS_DEFAULT_CEILING, Maturity


class KidsProfileForbidden(Forbidden):
    code = "kids_profile"
    title = "Not allowed from a kids profile"


class InvalidPin(Forbidden):
    code = "invalid_pin"
    title = "Wrong profile PIN"


class ProfileLimit(Conflict):
    code = "profile_limit"
    title = "Profile limit reached"


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


def not_from_kids(
    session: Session, principal: Principal, what: str = "profiles cannot be managed"
) -> None:
    """403 ``kids_profile`` when the caller's current profile is a kids profile."""
    if principal.profile_id is None:
        return
    current = session.get(Profile, principal.profile_id)
    if current is not None and current.kids:
        raise KidsProfileForbidden(f"{what} from a kids profile")


def create_profile(*, session: Session, principal: Principal, body: ProfileIn) -> ProfileOut:
    not_from_kids(session, principal)
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
    not_from_kids(session, principal)
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
    not_from_kids(session, principal)
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
        raise invalid_token("the session has ended")
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
    user = get_user_row(session, principal.user_id)
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
