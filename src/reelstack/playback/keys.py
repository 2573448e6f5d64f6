"""Content keys and licences for live playback sessions.

The HLS key URI (``keys/<kid>.key``) and the licence URL (``drm/<system>``) sit under
the session's signed media prefix ``/s/<token>/<asset>/v<n>/``, so the token says which
session asks. A request is answered only when:

1. the token is good for that asset version (bad: 403 ``invalid_url_token``, expired:
   410 ``url_token_expired``, as for media);
2. its session plays that version and is live: not ended (the viewer stopped it, or it
   was ended for them), its lease not lapsed (heartbeats stopped) and not past its
   expiry (else 410 ``session_ended``);
3. the key belongs to that version (else 404 ``key_not_found``).

It runs at segment-fetch rates, so it is lean: the token check is one HMAC, the session
one primary-key lookup, the key a cached unwrap (``assets.keys.KeyRing``). Answers are
``Cache-Control: no-store``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from reelstack.assets.keys import KeyRing, key_ring
from reelstack.config import Settings
from reelstack.db import utcnow
from reelstack.delivery.router import InvalidUrlToken, UrlTokenExpired
from reelstack.delivery.signing import TOKEN_PATTERN, Signer, Verdict, url_signer
from reelstack.errors import NotFound
from reelstack.playback.drm import PROVIDERS, Licence, UnknownKeyId
from reelstack.playback.models import PlaybackSession
from reelstack.playback.service import SessionEnded

NO_STORE = {"Cache-Control": "no-store"}
KEY_MEDIA_TYPE = "application/octet-stream"

# Built once (a bound parameter): this runs on every key request.
_SESSION = select(
    PlaybackSession.asset_id,
    PlaybackSession.version,
    PlaybackSession.ended_at,
    PlaybackSession.lease_expires_at,
    PlaybackSession.expires_at,
).where(PlaybackSession.id == bindparam("sid"))


@dataclass(frozen=True)
class KeyAccess:
    """What answering a key or licence request needs from the settings."""

    signer: Signer | None
    ring: KeyRing

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyAccess:
        return cls(url_signer(settings), key_ring(settings.media_key_secret.get_secret_value()))


def check_session(
    connection: Connection, access: KeyAccess, *, token: str, asset_id: str, version: int
) -> str:
    """The id of the live session ``token`` names for ``asset_id`` version ``version``."""
    if access.signer is None:
        raise NotFound("URL signing is off: there are no media keys")
    verdict = access.signer.verify(token, asset_id=asset_id, version=version, now=time.time())
    if verdict is Verdict.EXPIRED:
        raise UrlTokenExpired("this media URL has expired: start playback again")
    found = TOKEN_PATTERN.match(token)
    if verdict is not Verdict.OK or found is None:
        raise InvalidUrlToken("this media URL's token is not valid for this file")
    sid = found["sid"]
    row = connection.execute(_SESSION, {"sid": sid}).first()
    if row is None or row.asset_id != asset_id or row.version != version:
        raise InvalidUrlToken("this media URL's token names no session of this media")
    now = utcnow()
    if row.ended_at is not None or row.lease_expires_at <= now or row.expires_at <= now:
        raise SessionEnded("this playback session has ended; start a new one")
    return sid


def media_key(
    connection: Connection,
    access: KeyAccess,
    *,
    token: str,
    asset_id: str,
    version: int,
    kid: str,
) -> bytes:
    """The 16-byte HLS AES-128 key ``kid`` (32 lowercase hex digits) of the version."""
    check_session(connection, access, token=token, asset_id=asset_id, version=version)
    stored = access.ring.get(connection, asset_id=asset_id, version=version, kid=kid)
    if stored is None or stored.scheme != "aes128":
        raise UnknownKeyId(f"no key {kid} in version {version} of asset {asset_id}")
    return stored.key


def licence(
    connection: Connection,
    access: KeyAccess,
    *,
    token: str,
    asset_id: str,
    version: int,
    system: str,
    request: bytes,
) -> Licence:
    """The licence of DRM system ``system`` (``drm.PROVIDERS``) for the session."""
    provider = PROVIDERS.get(system)
    if provider is None:
        raise NotFound(f"no licence server for {system!r}; known: {sorted(PROVIDERS)}")
    check_session(connection, access, token=token, asset_id=asset_id, version=version)

    def lookup(kid: bytes) -> bytes | None:
        stored = access.ring.get(connection, asset_id=asset_id, version=version, kid=kid.hex())
        return stored.key if stored is not None and stored.scheme == "cenc" else None

    return provider.licence(request, lookup)
