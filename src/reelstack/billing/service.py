"""Plans, subscriptions, rentals, purchases, and what they grant."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, column, select, table
from sqlalchemy.orm import Session

from reelstack.billing.models import (
    ENTITLING,
    BillingPeriod,
    Plan,
    Purchase,
    Rental,
    Subscription,
    SubscriptionStatus,
)
from reelstack.billing.schemas import (
    Access,
    HouseholdLimits,
    PlanOut,
    RentalOut,
    SubscriptionOut,
)
from reelstack.db import UTCDateTime, utcnow
from reelstack.errors import Conflict, NotFound

# A signed-in household with no subscription (free titles, rentals, purchases).
FREE_LIMITS = HouseholdLimits(max_streams=1, max_profiles=2, max_devices=2, max_height=720)

DEMO_PLANS = (
    # code, name, price (cents), streams, profiles, devices, max height
    ("basic", "Basic", 799, 1, 2, 2, 720),
    ("standard", "Standard", 1399, 2, 5, 4, 1080),
    ("premium", "Premium", 1999, 4, 5, 8, 2160),
)


def ensure_demo_plans(*, session: Session) -> list[Plan]:
    """The demo's Basic, Standard and Premium plans (USD, monthly), made when missing."""
    plans = []
    for code, name, price, streams, profiles, devices, height in DEMO_PLANS:
        plan = session.scalar(select(Plan).where(Plan.code == code))
        if plan is None:
            plan = Plan(
                code=code,
                name=name,
                price_minor=price,
                currency="USD",
                period=BillingPeriod.MONTH,
                max_streams=streams,
                max_profiles=profiles,
                max_devices=devices,
                max_height=height,
            )
            session.add(plan)
        plans.append(plan)
    session.flush()
    return plans


class PlanExists(Conflict):
    code = "plan_exists"
    title = "Plan code taken"


def create_plan(
    *,
    session: Session,
    code: str,
    name: str,
    price_minor: int,
    currency: str,
    period: BillingPeriod,
    max_streams: int,
    max_profiles: int,
    max_devices: int,
    max_height: int,
) -> PlanOut:
    if session.scalar(select(Plan.id).where(Plan.code == code)) is not None:
        raise PlanExists(f"plan {code!r} exists")
    plan = Plan(
        code=code,
        name=name,
        price_minor=price_minor,
        currency=currency,
        period=period,
        max_streams=max_streams,
        max_profiles=max_profiles,
        max_devices=max_devices,
        max_height=max_height,
    )
    session.add(plan)
    session.flush()
    return PlanOut.model_validate(plan)


def list_plans(*, session: Session) -> list[PlanOut]:
    rows = session.scalars(select(Plan).order_by(Plan.price_minor, Plan.code))
    return [PlanOut.model_validate(row) for row in rows]


def _plan_by_code(session: Session, code: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise NotFound(f"plan {code!r} does not exist")
    return plan


# Built once (bound parameters): this runs on every play request.
_CURRENT = (
    select(Subscription, Plan)
    .join(Plan, Plan.id == Subscription.plan_id)
    .where(
        Subscription.user_id == bindparam("uid"),
        Subscription.status.in_(ENTITLING),
        (Subscription.current_period_end.is_(None))
        | (Subscription.current_period_end > bindparam("now", type_=UTCDateTime())),
    )
    .order_by(Subscription.created_at.desc())
    .limit(1)
)


def _current(session: Session, user_id: str, now: datetime) -> tuple[Subscription, Plan] | None:
    """The household's entitling subscription in its current period, newest first."""
    row = session.execute(_CURRENT, {"uid": user_id, "now": now}).first()
    return None if row is None else (row[0], row[1])


def _out(sub: Subscription, plan: Plan) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        user_id=sub.user_id,
        plan=PlanOut.model_validate(plan),
        status=sub.status,
        current_period_start=sub.current_period_start,
        current_period_end=sub.current_period_end,
    )


def current_subscription(*, session: Session, user_id: str) -> SubscriptionOut | None:
    found = _current(session, user_id, utcnow())
    return None if found is None else _out(*found)


def limits(*, session: Session, user_id: str) -> HouseholdLimits:
    """The limits in force: the subscribed plan's, else the free tier's."""
    found = _current(session, user_id, utcnow())
    return _limits_of(found[1] if found else None)


def grant_subscription(
    *,
    session: Session,
    user_id: str,
    plan_code: str,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    days: int | None = 30,
) -> SubscriptionOut:
    """Subscribe a household to a plan (ending any entitling subscription it had)."""
    plan = _plan_by_code(session, plan_code)
    now = utcnow()
    for old in session.scalars(
        select(Subscription).where(
            Subscription.user_id == user_id, Subscription.status.in_(ENTITLING)
        )
    ):
        old.status = SubscriptionStatus.CANCELLED
        old.cancelled_at = now
    sub = Subscription(
        user_id=user_id,
        plan_id=plan.id,
        status=status,
        current_period_start=now,
        current_period_end=None if days is None else now + timedelta(days=days),
    )
    session.add(sub)
    session.flush()
    return _out(sub, plan)


def list_subscriptions(*, session: Session, user_id: str) -> list[SubscriptionOut]:
    rows = session.execute(
        select(Subscription, Plan)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.user_id == user_id)
        .order_by(Subscription.created_at.desc())
    ).all()
    return [_out(sub, plan) for sub, plan in rows]


def cancel_subscription(*, session: Session, user_id: str, subscription_id: str) -> SubscriptionOut:
    """Cancel now (admin); 404 unless the subscription is this household's."""
    row = session.execute(
        select(Subscription, Plan)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(Subscription.id == subscription_id, Subscription.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    sub, plan = row
    if sub.status in ENTITLING:
        sub.status = SubscriptionStatus.CANCELLED
        sub.cancelled_at = utcnow()
    return _out(sub, plan)


_TITLES = table("titles", column("id"))


def require_title(*, session: Session, title_id: str) -> None:
    """404 unless the title exists (billing knows titles by id only, as its foreign keys
    do, so it asks the table rather than the catalog)."""
    if session.scalar(select(_TITLES.c.id).where(_TITLES.c.id == title_id)) is None:
        raise NotFound(f"title {title_id} does not exist")


def rent(
    *,
    session: Session,
    user_id: str,
    title_id: str,
    start_within_days: int = 30,
    watch_within_hours: int = 48,
) -> RentalOut:
    require_title(session=session, title_id=title_id)
    row = Rental(
        user_id=user_id,
        title_id=title_id,
        start_by=utcnow() + timedelta(days=start_within_days),
        watch_window_s=watch_within_hours * 3600,
    )
    session.add(row)
    session.flush()
    return RentalOut.model_validate(row)


def purchase(*, session: Session, user_id: str, title_id: str) -> None:
    require_title(session=session, title_id=title_id)
    exists = session.scalar(
        select(Purchase.id).where(Purchase.user_id == user_id, Purchase.title_id == title_id)
    )
    if exists is None:
        session.add(Purchase(user_id=user_id, title_id=title_id))
        session.flush()


def rental_live(rental: Rental, now: datetime) -> bool:
    if rental.first_played_at is None:
        return now < rental.start_by
    return now < rental.first_played_at + timedelta(seconds=rental.watch_window_s)


def _limits_of(plan: Plan | None) -> HouseholdLimits:
    if plan is None:
        return FREE_LIMITS
    return HouseholdLimits(
        max_streams=plan.max_streams,
        max_profiles=plan.max_profiles,
        max_devices=plan.max_devices,
        max_height=plan.max_height,
    )


def title_access(*, session: Session, user_id: str, title_id: str, free: bool) -> Access:
    """May this household watch ``title_id`` (ignoring device, stream and maturity
    rules), and under which limits? One query for a subscriber."""
    now = utcnow()
    current = _current(session, user_id, now)
    limits_now = _limits_of(current[1] if current else None)
    if free:
        return Access(granted=True, via="free", limits=limits_now)
    if current is not None:
        return Access(granted=True, via="subscription", limits=limits_now)
    bought = session.scalar(
        select(Purchase.id).where(Purchase.user_id == user_id, Purchase.title_id == title_id)
    )
    if bought is not None:
        return Access(granted=True, via="purchase", limits=limits_now)
    rentals = session.scalars(
        select(Rental)
        .where(Rental.user_id == user_id, Rental.title_id == title_id)
        .order_by(Rental.created_at.desc())
    ).all()
    for rental in rentals:
        if rental_live(rental, now):
            return Access(granted=True, via="rental", rental_id=rental.id, limits=limits_now)
    if rentals:
        return Access(granted=False, reason="rental_expired", limits=limits_now)
    return Access(granted=False, reason="not_entitled", limits=limits_now)


def start_rental_clock(*, session: Session, rental_id: str) -> None:
    """The first play starts the watch window (later plays leave it as it is)."""
    rental = session.get(Rental, rental_id)
    if rental is not None and rental.first_played_at is None:
        rental.first_played_at = utcnow()
