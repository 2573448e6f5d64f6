"""Access tokens: short-lived JWTs signed with EdDSA (RFC 9068 shape, ``typ: at+jwt``).

Verification is strict, in this order: a well-formed header with ``alg`` exactly
``EdDSA`` (so ``none`` in any case and HS256 keyed with the public key fail), no
``jku``/``x5u``/``jwk``/``x5c``/``crit`` header (never fetched, never trusted), a ``kid``
this service issued, then the signature, ``exp``/``nbf``/``iat`` with a small leeway,
``iss``, ``aud`` and ``token_use == "access"`` (a refresh, playback or reset token is
refused even if it were a JWT). Every failure is the same ``TokenInvalid``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from reelstack.accounts.keys import ALGORITHM, KeyRing
from reelstack.accounts.models import Role
from reelstack.db import utcnow

ACCESS_TYP = "at+jwt"
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"})
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "sid", "jti"]


class TokenInvalid(Exception):
    """The token is not a valid access token of this service (the reason is for logs)."""


@dataclass(frozen=True)
class TokenConfig:
    issuer: str
    audience: str
    access_ttl_s: int
    leeway_s: int


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    role: Role
    session_id: str
    device_id: str | None
    profile_id: str | None
    expires_at: datetime


def issue_access_token(
    *,
    ring: KeyRing,
    config: TokenConfig,
    user_id: str,
    role: Role,
    session_id: str,
    device_id: str | None,
    profile_id: str | None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A signed access token and its expiry."""
    now = now or utcnow()
    expires = now + timedelta(seconds=config.access_ttl_s)
    key = ring.signing_key()
    claims: dict[str, Any] = {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": user_id,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(12),
        "sid": session_id,
        "role": str(role),
        "token_use": "access",
    }
    if device_id:
        claims["did"] = device_id
    if profile_id:
        claims["pid"] = profile_id
    token = jwt.encode(
        claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": ACCESS_TYP}
    )
    return token, expires


def verify_access_token(*, ring: KeyRing, config: TokenConfig, token: str) -> AccessClaims:
    """The claims of a valid access token; ``TokenInvalid`` otherwise. A token this
    process verified before answers from ``ring.verified`` while it and its key last."""
    cached: AccessClaims | None = ring.verified.get(token, ring, time.time())
    if cached is not None:
        return cached
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid(f"malformed token: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise TokenInvalid(f"algorithm {header.get('alg')!r} is not accepted")
    if FORBIDDEN_HEADERS & set(header):
        raise TokenInvalid(
            f"header parameters not accepted: {sorted(FORBIDDEN_HEADERS & set(header))}"
        )
    if header.get("typ") != ACCESS_TYP:
        raise TokenInvalid("not an access token (typ)")
    kid = header.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= 64:
        raise TokenInvalid("missing or malformed kid")
    key = ring.verification_key(kid)
    if key is None:
        raise TokenInvalid("unknown kid")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=config.audience,
            issuer=config.issuer,
            leeway=config.leeway_s,
            options={"require": REQUIRED_CLAIMS, "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    if claims.get("token_use") != "access":
        raise TokenInvalid("not an access token (token_use)")
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise TokenInvalid("unknown role") from exc
    strings = [claims.get(name) for name in ("sub", "sid")]
    if not all(isinstance(value, str) and value for value in strings):
        raise TokenInvalid("sub and sid must be strings")
    verified = AccessClaims(
        user_id=claims["sub"],
        role=role,
        session_id=claims["sid"],
        device_id=_optional_str(claims.get("did")),
        profile_id=_optional_str(claims.get("pid")),
        expires_at=datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo),
    )
    ring.verified.put(
        token, verified, kid=kid, key=key, until=float(claims["exp"]) + config.leeway_s
    )
    return verified


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TokenInvalid("did and pid must be strings")
    return value
