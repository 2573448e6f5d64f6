"""Account rows: the household (user), its profiles and devices, login sessions with
their rotating refresh tokens, and the keys that sign access tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    SUPPORT = "support"
    VIEWER = "viewer"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class DeviceType(enum.StrEnum):
    WEB = "web"
    TV = "tv"
    MOBILE = "mobile"
    TABLET = "tablet"
    CONSOLE = "console"
    OTHER = "other"


class User(Base):
    """An account: one household, signed in with an email and a password."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Stored lower-cased; unique.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # argon2id; None for an account that signs in only through an external provider.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"), default=Role.VIEWER)
    status: Mapped[UserStatus] = mapped_column(
        enum_type(UserStatus, "user_status"), default=UserStatus.ACTIVE
    )
    email_verified_at: Mapped[datetime | None] = mapped_column()
    # Bumped (under the row lock) by every stream-lease grant: serialises the household's
    # concurrent play requests on SQLite and PostgreSQL alike.
    lease_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Profile(Base):
    """A viewer inside a household; a kids profile has a maturity ceiling."""

    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    kids: Mapped[bool] = mapped_column(Boolean, default=False)
    # The highest maturity level (reelstack.ratings) this profile may watch.
    maturity_ceiling: Mapped[int] = mapped_column(Integer)
    # argon2id of the optional 4-digit PIN.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(35))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Device(Base):
    """A device a household signed in on; removing it signs it out."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[DeviceType] = mapped_column(enum_type(DeviceType, "device_type"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginSession(Base):
    """One sign-in on one device: a family of rotating refresh tokens.

    Access tokens name it (``sid``); revoking it signs that device out at once, since
    every authenticated request checks it.
    """

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[str | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    # The profile picked on this device; access tokens carry it (``pid``).
    profile_id: Mapped[str | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_reason: Mapped[str | None] = mapped_column(String(50))
    # The OAuth client that opened it (None: the web app's own sign-in); its refresh
    # tokens are accepted only from that client.
    client_id: Mapped[str | None] = mapped_column(String(64))
    # The scopes granted to that client (OpenID Connect: userinfo needs "openid").
    scope: Mapped[str | None] = mapped_column(String(200))


class RefreshToken(Base):
    """One refresh token of a login session, stored as a SHA-256 hash; used once."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()


class SigningKey(Base):
    """An Ed25519 key that signs access tokens; the newest unretired one signs.

    A retired key keeps verifying (and stays in the JWKS) until every token it signed
    has expired.
    """

    __tablename__ = "signing_keys"
    __table_args__ = (UniqueConstraint("kid"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kid: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(20), default="EdDSA")
    # PKCS#8 PEM of the private key.
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class ApiKey(Base):
    """A server-to-server credential for the admin API, with scopes.

    The key is shown once (``rsk_<id>_<secret>``); only a SHA-256 of the secret is kept
    (the secret is 256 random bits, so a fast hash is enough).
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
