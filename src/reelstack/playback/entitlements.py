"""The one entitlement decision: may this profile, on this device, play this title now,
and at what maximum resolution? Each refusal is a 403 problem+json whose ``code`` names
the reason.

Checked in this order (the first failing rule is the answer): signed in, account not
suspended, a profile picked, the title within the profile's maturity ceiling, a right to
the title (free, subscription, purchase, live rental), the device within the plan's
device limit. The stream limit is checked after, under the household's row lock, when the
lease is taken (``service.start_playback``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from reelstack.accounts import households
from reelstack.accounts.models import UserStatus
from reelstack.accounts.schemas import Principal
from reelstack.billing import service as billing
from reelstack.billing.schemas import HouseholdLimits
from reelstack.catalog.schemas import PlayableTitle
from reelstack.errors import AppError, Forbidden


class RegionBlocked(AppError):
    status = 451
    code = "region_blocked"
    title = "Not available in your region"


class NotSignedIn(Forbidden):
    code = "not_signed_in"
    title = "Sign in to watch"


class AccountSuspended(Forbidden):
    code = "account_suspended"
    title = "Account suspended"


class ProfileRequired(Forbidden):
    code = "profile_required"
    title = "Pick a profile first"


class MaturityRefused(Forbidden):
    code = "maturity"
    title = "Above this profile's maturity rating"


class NotEntitled(Forbidden):
    code = "not_entitled"
    title = "Not included in your plan"


class RentalExpired(Forbidden):
    code = "rental_expired"
    title = "Rental expired"


class DeviceLimit(Forbidden):
    code = "device_limit"
    title = "Device limit reached"


class StreamLimit(Forbidden):
    code = "stream_limit"
    title = "Too many streams"


@dataclass(frozen=True)
class Grant:
    principal: Principal
    limits: HouseholdLimits
    via: str
    rental_id: str | None


def decide(*, session: Session, principal: Principal | None, title: PlayableTitle) -> Grant:
    """Every rule but the stream limit; raises the refusal or returns the grant."""
    if principal is None:
        raise NotSignedIn("sign in to watch")
    facts = households.viewer_facts(session=session, principal=principal)
    if facts is None or facts.status is not UserStatus.ACTIVE:
        raise AccountSuspended("this account is suspended")
    if facts.ceiling is None:
        raise ProfileRequired("pick a profile (POST /v1/me/profiles/{id}/select) to watch")
    if title.maturity > facts.ceiling:
        raise MaturityRefused(
            "this title is above the profile's maturity rating",
            maturity_level=int(title.maturity),
            profile_ceiling=int(facts.ceiling),
        )
    access = billing.title_access(
        session=session, user_id=principal.user_id, title_id=title.id, free=title.free
    )
    if not access.granted:
        if access.reason == "rental_expired":
            raise RentalExpired("the rental of this title has expired")
        raise NotEntitled("this title is not included in your plan")
    limits = access.limits
    if facts.device_rank is None or facts.device_rank > limits.max_devices:
        raise DeviceLimit(
            f"this plan plays on {limits.max_devices} devices; remove one to watch here",
            max_devices=limits.max_devices,
        )
    return Grant(
        principal=principal, limits=limits, via=access.via or "", rental_id=access.rental_id
    )
