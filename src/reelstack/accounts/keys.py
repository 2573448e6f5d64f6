"""Signing keys for access tokens: Ed25519 (JWS ``EdDSA``), kept in the database so
every API process signs and verifies with the same set.

The newest unretired key signs. ``rotate`` adds a key and retires the others; a retired
key still verifies (and stays in the JWKS) until the tokens it signed have expired, so
rotation needs no downtime. Each process caches the set and reloads it every
``RELOAD_S`` or when a token names a key it does not know (at most once a second).

With ``REELSTACK_TOKEN_KEY_SECRET`` set (required in production), private keys are stored
encrypted (Fernet: AES-128-CBC + HMAC-SHA256, keyed by a SHA-256 of the secret), so a
database dump alone cannot mint tokens. Keys stored before the secret was set stay
readable; the next rotation stores an encrypted one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelstack.accounts.models import SigningKey
from reelstack.db import session_scope, utcnow

ALGORITHM = "EdDSA"
RELOAD_S = 60.0
UNKNOWN_KID_RELOAD_S = 1.0


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey
    jwk: dict[str, str]
    created_at: datetime
    retired_at: datetime | None


def _thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an OKP key: the key id."""
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


ENCRYPTED_PREFIX = "fernet:"


class KeySecretMismatch(Exception):
    """A stored private key cannot be decrypted with the configured secret."""


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def _seal(pem: str, secret: str | None) -> str:
    if secret is None:
        return pem
    return ENCRYPTED_PREFIX + _fernet(secret).encrypt(pem.encode()).decode()


def _unseal(stored: str, secret: str | None, kid: str) -> str:
    if not stored.startswith(ENCRYPTED_PREFIX):
        return stored
    if secret is None:
        raise KeySecretMismatch(
            f"signing key {kid} is encrypted: set REELSTACK_TOKEN_KEY_SECRET to read it"
        )
    try:
        return _fernet(secret).decrypt(stored.removeprefix(ENCRYPTED_PREFIX)).decode()
    except InvalidToken as exc:
        raise KeySecretMismatch(
            f"signing key {kid} does not decrypt with REELSTACK_TOKEN_KEY_SECRET"
        ) from exc


def new_key(*, session: Session, secret: str | None = None) -> SigningKey:
    """Generate an Ed25519 key and store it, encrypted with ``secret`` when given (the
    caller's transaction commits it)."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk: dict[str, str] = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    kid = _thumbprint(jwk)
    jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    row = SigningKey(kid=kid, algorithm=ALGORITHM, private_pem=_seal(pem, secret), public_jwk=jwk)
    session.add(row)
    session.flush()
    return row


def rotate(*, session: Session, secret: str | None = None) -> SigningKey:
    """Add a signing key and retire every other: new tokens use it from the next reload."""
    now = utcnow()
    for row in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    return new_key(session=session, secret=secret)


def prune(*, session: Session, access_ttl_s: int, leeway_s: int) -> int:
    """Delete retired keys whose tokens have all expired; returns how many."""
    cutoff = utcnow() - timedelta(seconds=access_ttl_s + leeway_s)
    rows = session.scalars(select(SigningKey).where(SigningKey.retired_at < cutoff)).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def _load(row: SigningKey, secret: str | None) -> LoadedKey:
    pem = _unseal(row.private_pem, secret, row.kid)
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise TypeError(f"signing key {row.kid} is not Ed25519")
    return LoadedKey(
        kid=row.kid,
        public=private.public_key(),
        private=private,
        jwk=dict(row.public_jwk),
        created_at=row.created_at,
        retired_at=row.retired_at,
    )


class VerifiedTokens:
    """Tokens this process has already verified, by their exact text, with what they
    said (thread-safe, bounded; the oldest go first).

    A device sends the same access token on every call for its lifetime (15 minutes), so
    checking the signature and the claims once per token instead of once per request
    saves about a third of a millisecond a call. An entry serves only while its key is
    still the ring's key for that kid (a reload or a retirement that drops it ends the
    entry) and only until the token's ``exp`` plus the leeway.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._items: dict[str, tuple[Any, str, Ed25519PublicKey, float]] = {}

    def get(self, token: str, ring: KeyRing, now: float) -> Any | None:
        found = self._items.get(token)
        if found is None:
            return None
        value, kid, key, valid_until = found
        if now >= valid_until or ring.verification_key(kid) is not key:
            with self._lock:
                self._items.pop(token, None)
            return None
        return value

    def put(self, token: str, value: Any, *, kid: str, key: Ed25519PublicKey, until: float) -> None:
        with self._lock:
            if len(self._items) >= self._capacity:
                self._items.pop(next(iter(self._items)))
            self._items[token] = (value, kid, key, until)


class KeyRing:
    """This process's view of the signing keys (thread-safe)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        access_ttl_s: int,
        leeway_s: int,
        secret: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._secret = secret
        self._verify_window = timedelta(seconds=access_ttl_s + leeway_s)
        self._lock = threading.Lock()
        self._keys: dict[str, LoadedKey] = {}
        self._signing: LoadedKey | None = None
        self._loaded_at = float("-inf")
        self.verified = VerifiedTokens()

    def _reload(self) -> None:
        with session_scope(self._sessions) as session:
            rows = list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))
            if not any(row.retired_at is None for row in rows):
                # First start: make the first key. Two processes racing both add one;
                # both keys are valid and the newer signs.
                rows.append(new_key(session=session, secret=self._secret))
        now = utcnow()
        keys = {
            row.kid: _load(row, self._secret)
            for row in rows
            if row.retired_at is None or row.retired_at + self._verify_window > now
        }
        active = [k for k in keys.values() if k.retired_at is None]
        self._keys = keys
        self._signing = max(active, key=lambda k: k.created_at)
        self._loaded_at = time.monotonic()

    def _fresh(self, max_age_s: float) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at >= max_age_s:
                self._reload()

    def signing_key(self) -> LoadedKey:
        """The key new tokens are signed with. Call it before a request writes anything:
        the first call may write the first key, in its own transaction."""
        self._fresh(RELOAD_S)
        assert self._signing is not None
        return self._signing

    def verification_key(self, kid: str) -> Ed25519PublicKey | None:
        self._fresh(RELOAD_S)
        key = self._keys.get(kid)
        if key is None:
            # Perhaps a key made by another process since the last reload.
            self._fresh(UNKNOWN_KID_RELOAD_S)
            key = self._keys.get(kid)
        if key is None:
            return None
        if key.retired_at is not None and key.retired_at + self._verify_window <= utcnow():
            return None
        return key.public

    def jwks(self) -> dict[str, Any]:
        self._fresh(RELOAD_S)
        return {"keys": [key.jwk for key in self._keys.values()]}

    def invalidate(self) -> None:
        """Reload on next use (after a rotation made by this process)."""
        with self._lock:
            self._loaded_at = float("-inf")
