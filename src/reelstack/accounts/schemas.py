from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from reelstack.accounts.models import DeviceType, Role, UserStatus
from reelstack.accounts.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from reelstack.billing.schemas import PlanOut, SubscriptionOut
from reelstack.ratings import Maturity

__all__ = ["DeviceType", "Maturity", "Role", "UserStatus"]

Password = Annotated[str, Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)]
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Language = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class Strict(BaseModel):
    # Unknown fields are refused (422): no mass assignment of role, plan or limits.
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Principal:
    """Who is calling, from a verified access token whose login session is live."""

    user_id: str
    role: Role
    session_id: str
    device_id: str | None
    profile_id: str | None


class SignUpIn(Strict):
    email: EmailStr
    password: Password


class DeviceIn(Strict):
    name: Name = "Web browser"
    type: DeviceType = DeviceType.WEB


class LoginIn(Strict):
    email: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=MAX_PASSWORD_CHARS)]
    # A device this account registered before (clients keep it); else a new one is made.
    device_id: Annotated[str | None, Field(max_length=32)] = None
    device: DeviceIn | None = None


class RefreshIn(Strict):
    refresh_token: Annotated[str, Field(max_length=200)]


class LogoutIn(Strict):
    refresh_token: Annotated[str | None, Field(max_length=200)] = None


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    # Seconds until the access token expires.
    expires_in: int
    device_id: str | None
    profile_id: str | None


class AccessTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    profile_id: str | None


class ProfileIn(Strict):
    name: Name
    kids: bool = False
    # Defaults: older kids for a kids profile, adults otherwise.
    maturity_ceiling: Maturity | None = None
    pin: Pin | None = None
    language: Language | None = None


class ProfilePatch(Strict):
    name: Name | None = None
    maturity_ceiling: Maturity | None = None
    # Send null to remove the PIN.
    pin: Pin | None = None
    language: Language | None = None


class ProfileOut(BaseModel):
    id: str
    name: str
    kids: bool
    maturity_ceiling: Maturity
    has_pin: bool
    language: str | None
    created_at: datetime


class SelectProfileIn(Strict):
    pin: Pin | None = None


class DeviceOut(BaseModel):
    id: str
    name: str
    type: DeviceType
    created_at: datetime
    last_seen_at: datetime
    # The device this request comes from.
    current: bool


class MeOut(BaseModel):
    id: str
    email: str
    role: Role
    status: UserStatus
    email_verified: bool
    created_at: datetime
    # The limits in force: the subscribed plan's, or the free tier's without one.
    plan: PlanOut | None
    subscription: SubscriptionOut | None
    profiles: list[ProfileOut]
    # The profile picked on this device, if any.
    profile_id: str | None


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    status: UserStatus
    created_at: datetime
