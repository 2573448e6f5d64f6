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
from reelstack.catalog.models import Title, TitleKind
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
    "AuthorizationCode",
    "Base",
    "Device",
    "DeviceGrant",
    "EmailPurpose",
    "EmailToken",
    "ExternalIdentity",
    "Job",
    "JobKind",
    "JobState",
    "LoginSession",
    "MediaKey",
    "MediaPurge",
    "OAuthClient",
    "OutboxEmail",
    "Plan",
    "PlaybackSession",
    "Profile",
    "Purchase",
    "RefreshToken",
    "Rental",
    "SigningKey",
    "SsoLogin",
    "Subscription",
    "Title",
    "TitleKind",
    "User",
]
