"""The device authorization grant (RFC 8628): the endpoint that hands a TV its codes,
and the grant its polls go through."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import DeviceAuthorizationEndpoint
from authlib.oauth2.rfc8628 import DeviceCodeGrant as _DeviceCodeGrant
from sqlalchemy import select, update

from reelstack.accounts.models import User
from reelstack.db import utcnow
from reelstack.oauth.context import (
    DEVICE_CODE_TTL_S,
    DEVICE_POLL_INTERVAL_S,
    USER_CODE_ALPHABET,
    active_user,
    ctx,
)
from reelstack.oauth.models import (
    DeviceGrant,
    DeviceGrantStatus,
    OAuthClient,
    hash_secret,
)

# --- device authorization grant (RFC 8628) ---------------------------------------------


def _user_code() -> str:
    raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_user_code(value: str) -> str:
    """What the viewer typed, as stored: upper case, dash after four characters."""
    raw = "".join(ch for ch in value.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


class DeviceEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    EXPIRES_IN = DEVICE_CODE_TTL_S
    INTERVAL = DEVICE_POLL_INTERVAL_S

    def get_verification_uri(self) -> str:
        return ctx().verification_uri

    def generate_user_code(self) -> str:
        return _user_code()

    def authenticate_client(self, request: OAuth2Request) -> OAuthClient:
        client: OAuthClient = super().authenticate_client(request)
        if not client.check_grant_type(DeviceCodeGrant.GRANT_TYPE):
            raise UnauthorizedClientError("this client may not use the device grant")
        return client

    def save_device_credential(
        self, client_id: str, scope: str | None, data: dict[str, Any]
    ) -> None:
        client = self.server.query_client(client_id)
        ctx().session.add(
            DeviceGrant(
                device_code_hash=hash_secret(data["device_code"]),
                user_code=data["user_code"],
                client_id=client_id,
                scope=client.get_allowed_scope(scope or "") if client else "",
                interval_s=data["interval"],
                expires_at=utcnow() + timedelta(seconds=data["expires_in"]),
            )
        )
        ctx().session.flush()


class DeviceCodeGrant(_DeviceCodeGrant):  # type: ignore[misc]
    def query_device_credential(self, device_code: str) -> DeviceGrant | None:
        return ctx().session.scalar(
            select(DeviceGrant).where(DeviceGrant.device_code_hash == hash_secret(device_code))
        )

    def validate_device_credential(self, credential: DeviceGrant) -> User:
        if credential.status == DeviceGrantStatus.USED:
            raise InvalidGrantError("this device code was already exchanged")
        user: User = super().validate_device_credential(credential)
        # Tokens go to the device registered when the viewer approved.
        ctx().device_id = credential.device_id
        return user

    def query_user_grant(self, user_code: str) -> tuple[User, bool] | None:
        grant = ctx().session.scalar(select(DeviceGrant).where(DeviceGrant.user_code == user_code))
        if grant is None or grant.status == DeviceGrantStatus.PENDING or grant.user_id is None:
            return None
        user = active_user(ctx().session, grant.user_id)
        if user is None:
            return None
        return user, grant.status == DeviceGrantStatus.APPROVED

    def should_slow_down(self, credential: DeviceGrant) -> bool:
        """Polled faster than the interval (RFC 8628 section 3.5): slow_down, and the
        interval grows by 5 s for this grant."""
        now = utcnow()
        last = credential.last_polled_at
        credential.last_polled_at = now
        too_fast = last is not None and (now - last).total_seconds() < credential.interval_s
        if too_fast:
            credential.interval_s += 5
        ctx().keep_on_error = True
        return too_fast

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        result: tuple[int, dict[str, Any], list[tuple[str, str]]] = super().create_token_response()
        spent = ctx().session.execute(
            update(DeviceGrant)
            .where(
                DeviceGrant.id == self.request.credential.id,
                DeviceGrant.status == DeviceGrantStatus.APPROVED,
            )
            .values(status=DeviceGrantStatus.USED)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidGrantError("this device code was already exchanged")
        return result
