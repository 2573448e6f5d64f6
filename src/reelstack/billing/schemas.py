from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from reelstack.billing.models import BillingPeriod, SubscriptionStatus

__all__ = ["BillingPeriod", "SubscriptionStatus"]


@dataclass(frozen=True)
class HouseholdLimits:
    max_streams: int
    max_profiles: int
    max_devices: int
    max_height: int


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    price_minor: int
    currency: str
    period: BillingPeriod
    max_streams: int
    max_profiles: int
    max_devices: int
    max_height: int


class SubscriptionOut(BaseModel):
    id: str
    user_id: str
    plan: PlanOut
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime | None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Annotated[str, Field(max_length=50)]
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    # Length of the current period; None grants an open-ended subscription.
    days: Annotated[int | None, Field(ge=1, le=3660)] = 30


class RentalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_id: Annotated[str, Field(max_length=32)]
    start_within_days: Annotated[int, Field(ge=1, le=365)] = 30
    watch_within_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 48


class RentalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    title_id: str
    created_at: datetime
    start_by: datetime
    watch_window_s: int
    first_played_at: datetime | None


@dataclass(frozen=True)
class Access:
    """Whether a household may watch a title, and through what."""

    granted: bool
    # The household's limits now (its plan's, or the free tier's).
    limits: HouseholdLimits
    # "free", "subscription", "purchase" or "rental" when granted.
    via: str | None = None
    # "not_entitled" or "rental_expired" when refused.
    reason: str | None = None
    rental_id: str | None = None
