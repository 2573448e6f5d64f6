"""Imports every domain's models so metadata (and Alembic) sees all tables."""

from reelstack.accounts.email_models import EmailPurpose, EmailToken, OutboxEmail
from reelstack.accounts.models import (
    ApiKey,
    Device,
    LoginSession,
    Profile,
    RefreshToken,
    SigningKey,
    User,
)
from reelstack.accounts.sso_models import ExternalIdentity, SsoLogin
from reelstack.analytics.models import AnalyticsEvent, AnalyticsView
from reelstack.assets.models import Asset, AssetStatus, MediaKey, MediaPurge
from reelstack.billing.models import Plan, Purchase, Rental, Subscription
from reelstack.catalog.models import (
    AuditEntry,
    AvailabilityWindow,
    Credit,
    ExternalId,
    Genre,
    Person,
    Season,
    Title,
    TitleGenre,
    TitleKind,
    TitleRevision,
    TitleSchedule,
)
from reelstack.db import Base
from reelstack.jobs.models import Job, JobKind, JobState
from reelstack.oauth.models import AuthorizationCode, DeviceGrant, OAuthClient
from reelstack.playback.models import PlaybackSession

__all__ = [
    "AnalyticsEvent",
    "AnalyticsView",
    "ApiKey",
    "Asset",
    "AssetStatus",
    "AuditEntry",
    "AuthorizationCode",
    "AvailabilityWindow",
    "Base",
    "Credit",
    "Device",
    "DeviceGrant",
    "EmailPurpose",
    "EmailToken",
    "ExternalId",
    "ExternalIdentity",
    "Genre",
    "Job",
    "JobKind",
    "JobState",
    "LoginSession",
    "MediaKey",
    "MediaPurge",
    "OAuthClient",
    "OutboxEmail",
    "Person",
    "Plan",
    "PlaybackSession",
    "Profile",
    "Purchase",
    "RefreshToken",
    "Rental",
    "Season",
    "SigningKey",
    "SsoLogin",
    "Subscription",
    "Title",
    "TitleGenre",
    "TitleKind",
    "TitleRevision",
    "TitleSchedule",
    "User",
]
