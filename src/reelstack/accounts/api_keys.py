"""API keys with scopes, for server-to-server calls to the admin API.

Scopes are checked centrally by the admin guard, by method and route family:
``admin:read`` (GET/HEAD under /v1/admin), ``admin:write`` (any method, reads included),
``users:manage`` (/v1/admin/users, /v1/admin/plans, /v1/admin/api-keys). The bootstrap
admin key (REELSTACK_ADMIN_API_KEY) holds every scope.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reelstack.accounts.models import ApiKey
from reelstack.db import utcnow
from reelstack.errors import NotFound

Scope = Literal["admin:read", "admin:write", "users:manage"]
ALL_SCOPES: frozenset[str] = frozenset({"admin:read", "admin:write", "users:manage"})
PREFIX = "rsk_"
# last_used_at is refreshed at most this often (a write per call would be wasteful).
TOUCH_EVERY = timedelta(minutes=1)
_SHAPE = re.compile(r"^rsk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=3)]


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    # Shown once: only a hash is kept.
    key: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        scopes=list(row.scopes),
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def looks_like_api_key(value: str) -> bool:
    return value.startswith(PREFIX)


def create(
    *, session: Session, name: str, scopes: list[str], created_by: str | None
) -> ApiKeyCreated:
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        name=name, secret_hash=_hash(secret), scopes=sorted(set(scopes)), created_by=created_by
    )
    session.add(row)
    session.flush()
    return ApiKeyCreated(**_out(row).model_dump(), key=f"{PREFIX}{row.id}_{secret}")


def list_keys(*, session: Session) -> list[ApiKeyOut]:
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
    return [_out(row) for row in rows]


def revoke(*, session: Session, key_id: str) -> ApiKeyOut:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return _out(row)


def key_id(presented: str) -> str | None:
    """The id part of a well-formed key (its row's id), for logs and audit trails."""
    match = _SHAPE.match(presented)
    return match.group(1) if match else None


def authenticate(*, session: Session, presented: str) -> frozenset[str] | None:
    """The scopes of a live key, or None for an unknown, malformed or revoked one.
    The secret is compared in constant time."""
    match = _SHAPE.match(presented)
    row = session.get(ApiKey, match.group(1)) if match else None
    expected = row.secret_hash if row is not None else _hash(secrets.token_urlsafe(32))
    given = _hash(match.group(2)) if match else _hash(presented)
    if not hmac.compare_digest(expected, given) or row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        # In a short transaction of its own: a row lock held by the request's transaction
        # would make every concurrent call with this key wait for that request to end.
        with Session(bind=session.get_bind()) as touch:
            touch.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
            touch.commit()
    return frozenset(row.scopes)
