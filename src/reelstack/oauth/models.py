"""OAuth rows: registered clients, authorization codes and device grants.

Secrets and codes are stored as SHA-256 hashes (each is 256 random bits, so a fast
hash is enough); only the user code of a device grant is kept in the clear, since the
viewer types it and it lives ten minutes.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow

AUTHORIZATION_CODE = "authorization_code"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_TOKEN = "refresh_token"


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class OAuthClient(Base):
    """A registered client application (a TV app, a mobile app, a partner site).

    The methods are the ones Authlib's grants call on a client.
    """

    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # None for a public client (no secret; PKCE or the device grant protect it).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    scope: Mapped[str] = mapped_column(String(200))
    # The type of the devices its sign-ins register (a TV app: "tv").
    device_type: Mapped[str] = mapped_column(String(20), default="other")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    # --- authlib.oauth2.rfc6749.ClientMixin -------------------------------------------

    def get_client_id(self) -> str:
        return self.id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string match (RFC 9700 section 2.1): no prefixes, no wildcards.
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:  # noqa: ARG002
        if self.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and AUTHORIZATION_CODE in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {}


class AuthorizationCode(Base):
    """A code handed to a client's redirect URI; spent once, within minutes."""

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str | None] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(200), default="")
    nonce: Mapped[str | None] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    auth_time: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    # The login session the code was exchanged for: revoked if the code is replayed.
    session_id: Mapped[str | None] = mapped_column(String(32))

    # --- authlib AuthorizationCodeMixin (+ OpenID Connect) -----------------------------

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class DeviceGrantStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    # Exchanged for tokens: a device code works once.
    USED = "used"


class DeviceGrant(Base):
    """A device authorization (RFC 8628): the TV polls with the device code while a
    signed-in viewer approves the user code at /app/activate."""

    __tablename__ = "oauth_device_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code: Mapped[str] = mapped_column(String(16), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[DeviceGrantStatus] = mapped_column(
        enum_type(DeviceGrantStatus, "device_grant_status"), default=DeviceGrantStatus.PENDING
    )
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The device registered on approval; the tokens are issued for it.
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    interval_s: Mapped[int] = mapped_column(Integer)
    last_polled_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    # Set when approved; an OpenID Connect id_token carries it.
    auth_time: Mapped[int | None] = mapped_column(Integer)

    # --- authlib DeviceCredentialMixin --------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_user_code(self) -> str:
        return self.user_code

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> int | None:
        return self.auth_time

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()
