"""Content keys of encrypted media versions, stored encrypted at rest.

Each key is wrapped with AES-256-GCM under a key-encryption key derived (HKDF-SHA256)
from REELSTACK_MEDIA_KEY_SECRET, with its asset, version, scheme and key id as
associated data (a row copied onto another version does not unwrap). The secret lives
in settings, never beside the segments nor in the database.

:class:`KeyRing` answers the key and licence routes: one primary-key lookup, and the
unwrapped key kept in process memory for a short while (a version's keys never change;
whether a viewer may have them is decided per request by the playback session).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from reelstack.assets.models import MediaKey
from reelstack.media.encrypt import ContentKey, KeyScheme

_NONCE = 12
_INFO = b"reelstack media key encryption v1"
# Built once (a bound parameter): this runs on key requests.
_BY_KID = select(MediaKey.asset_id, MediaKey.version, MediaKey.scheme, MediaKey.wrapped).where(
    MediaKey.kid == bindparam("kid")
)


@lru_cache(maxsize=8)
def _kek(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return AESGCM(key)


def _aad(asset_id: str, version: int, scheme: str, kid: str) -> bytes:
    return f"{asset_id}/v{version}/{scheme}/{kid}".encode()


def wrap(secret: str, *, asset_id: str, version: int, scheme: str, kid: str, key: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + _kek(secret).encrypt(nonce, key, _aad(asset_id, version, scheme, kid))


def unwrap(
    secret: str, *, asset_id: str, version: int, scheme: str, kid: str, wrapped: bytes
) -> bytes:
    """The key; ``InvalidTag`` when the secret or the row's identity does not match."""
    return _kek(secret).decrypt(
        wrapped[:_NONCE], wrapped[_NONCE:], _aad(asset_id, version, scheme, kid)
    )


def store(
    *, session: Session, secret: str, asset_id: str, version: int, keys: Sequence[ContentKey]
) -> None:
    """Keep a version's keys (in the caller's transaction). Idempotent per key id."""
    for key in keys:
        kid = key.kid.hex()
        if session.get(MediaKey, kid) is not None:
            continue
        session.add(
            MediaKey(
                kid=kid,
                asset_id=asset_id,
                version=version,
                scheme=key.scheme,
                period=key.period,
                wrapped=wrap(
                    secret,
                    asset_id=asset_id,
                    version=version,
                    scheme=key.scheme,
                    kid=kid,
                    key=key.key,
                ),
            )
        )
    session.flush()


def delete_versions_below(*, session: Session, asset_id: str, version: int) -> int:
    """Forget the keys of the versions older than ``version`` (their media is purged)."""
    result = session.execute(
        delete(MediaKey).where(MediaKey.asset_id == asset_id, MediaKey.version < version)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class StoredKey:
    asset_id: str
    version: int
    scheme: KeyScheme
    key: bytes


class KeyRing:
    """Unwrapped keys by key id, each kept ``ttl_s`` (at most ``max_keys`` of them);
    unknown key ids are not remembered."""

    def __init__(self, secret: str, *, ttl_s: float = 60.0, max_keys: int = 10_000) -> None:
        self._secret = secret
        self._ttl_s = ttl_s
        self._max = max_keys
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int, str], tuple[float, StoredKey]] = OrderedDict()

    def get(
        self, connection: Connection, *, asset_id: str, version: int, kid: str
    ) -> StoredKey | None:
        """The key ``kid`` (32 lowercase hex digits) of that asset version; None when
        the version has no such key."""
        now = time.monotonic()
        slot = (asset_id, version, kid)
        with self._lock:
            hit = self._cache.get(slot)
            if hit is not None and hit[0] > now:
                return hit[1]
        row = connection.execute(_BY_KID, {"kid": kid}).first()
        if row is None or row.asset_id != asset_id or row.version != version:
            return None
        scheme: KeyScheme
        if row.scheme == "aes128":
            scheme = "aes128"
        elif row.scheme == "cenc":
            scheme = "cenc"
        else:
            return None
        try:
            key = unwrap(
                self._secret,
                asset_id=asset_id,
                version=version,
                scheme=scheme,
                kid=kid,
                wrapped=row.wrapped,
            )
        except InvalidTag:
            # Another secret, or a row altered: served to no one.
            return None
        found = StoredKey(asset_id, version, scheme, key)
        with self._lock:
            self._cache[slot] = (now + self._ttl_s, found)
            self._cache.move_to_end(slot)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return found


_RINGS: dict[str, KeyRing] = {}
_RINGS_LOCK = threading.Lock()


def key_ring(secret: str) -> KeyRing:
    """This process's ring for ``secret``."""
    with _RINGS_LOCK:
        ring = _RINGS.get(secret)
        if ring is None:
            ring = _RINGS[secret] = KeyRing(secret)
        return ring
