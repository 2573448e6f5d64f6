"""Playback sessions: the gate between a play request and the stream URLs, and the
stream leases that enforce a household's concurrent-stream limit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, ColumnElement, bindparam, func, select
from sqlalchemy.orm import Session

from reelstack.accounts import households
from reelstack.accounts.schemas import Principal
from reelstack.assets import service as assets_service
from reelstack.billing import service as billing
from reelstack.catalog import service as catalog_service
from reelstack.config import Settings
from reelstack.db import UTCDateTime, serialized_writes, utcnow
from reelstack.delivery import urls
from reelstack.delivery.signing import COOKIE_NAME, Signer, url_signer
from reelstack.errors import AssetNotReady, Forbidden, Gone, NotFound
from reelstack.media.ffmpeg import MPD_NAME
from reelstack.media.limits import limit_hls_master, limit_mpd
from reelstack.media.package import MASTER_NAME
from reelstack.playback.drm import BY_ENCRYPTION, licence_path
from reelstack.playback.entitlements import RegionBlocked, StreamLimit, decide
from reelstack.playback.models import PlaybackSession
from reelstack.playback.schemas import (
    AlternateUrls,
    DrmOut,
    HeartbeatOut,
    MediaCookie,
    PlaybackOut,
    PlaybackSessionOut,
)
from reelstack.storage import Storage
from reelstack.storage.base import media_version_key

HLS_TYPE = "application/vnd.apple.mpegurl"
DASH_TYPE = "application/dash+xml"


class SessionEnded(Gone):
    code = "session_ended"
    title = "Playback session ended"


@dataclass(frozen=True)
class PlaybackConfig:
    ttl_s: int
    heartbeat_interval_s: int
    # Where players fetch media (an edge, a CDN, or this API's own origin), no slash at
    # the end; "" gives same-origin paths.
    media_base: str = ""
    # Signs media URLs (None: plain /media/... URLs, signing off).
    signer: Signer | None = None
    # The delivery network of media_base (None: the origin), and the other healthy ones
    # as (name, base URL) fallbacks.
    cdn: str | None = None
    alternates: tuple[tuple[str, str], ...] = ()
    # The viewer's country as a trusted edge stated it (None: unknown), and where
    # nothing plays.
    country: str | None = None
    blocked_countries: frozenset[str] = frozenset()
    # Media URLs without a token, opened by a signed cookie scoped to the version's path.
    signed_cookie: bool = False
    cookie_domain: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        media_base: str = "",
        cdn: str | None = None,
        alternates: tuple[tuple[str, str], ...] = (),
        country: str | None = None,
        signed_cookie: bool = False,
    ) -> PlaybackConfig:
        return cls(
            country=country,
            signed_cookie=signed_cookie,
            cookie_domain=settings.media_cookie_domain,
            blocked_countries=frozenset(settings.blocked_countries),
            ttl_s=settings.playback_ttl_s,
            heartbeat_interval_s=settings.playback_heartbeat_interval_s,
            media_base=media_base,
            signer=url_signer(settings),
            cdn=cdn,
            alternates=alternates,
        )

    def urls(
        self, base: str, cdn: str | None, row: PlaybackSession, capped: bool
    ) -> tuple[str, str]:
        """The session's HLS and DASH URLs through ``base``."""
        if capped:
            # The session's own manifests, without the renditions above the plan's
            # limit (theirs point at the signed media prefix of the same network).
            params = [f"cdn={cdn}"] if cdn else []
            if self.signed_cookie and self.signer is not None:
                params.append("signed=cookie")
            query = f"?{'&'.join(params)}" if params else ""
            return (
                f"{base}/v1/playback/{row.id}/{MASTER_NAME}{query}",
                f"{base}/v1/playback/{row.id}/{MPD_NAME}{query}",
            )
        prefix = replace(self, media_base=base).media_prefix(
            row.asset_id, row.version, row.id, row.expires_at
        )
        return f"{prefix}{MASTER_NAME}", f"{prefix}{MPD_NAME}"

    def media_prefix(self, asset_id: str, version: int, session_id: str, expires: datetime) -> str:
        """The URL prefix of a session's media version, ending in "/": signed for the
        session and its lifetime, so the manifests' relative URLs inherit the token."""
        if self.signer is None:
            return f"{self.media_base}{urls.media_url(asset_id, version, '')}"
        if self.signed_cookie:
            return f"{self.media_base}{urls.cookie_media_url(asset_id, version, '')}"
        token = self.signer.token(
            asset_id=asset_id, version=version, session_id=session_id, expires=expires
        )
        return f"{self.media_base}{urls.signed_media_url(token, asset_id, version, '')}"

    def drm(self, base: str, row: PlaybackSession, encryption: str | None) -> DrmOut | None:
        """The licence servers of the session's media through ``base`` (None when the
        version is clear): under its signed prefix, so they name the session."""
        providers = BY_ENCRYPTION.get(encryption or "", ())
        if not providers or self.signer is None:
            return None
        prefix = replace(self, media_base=base).media_prefix(
            row.asset_id, row.version, row.id, row.expires_at
        )
        return DrmOut(servers={p.key_system: f"{prefix}{licence_path(p)}" for p in providers})

    def media_cookie(self, row: PlaybackSession) -> MediaCookie | None:
        """The signed cookie of a session's media version (cookie mode only)."""
        if not self.signed_cookie or self.signer is None:
            return None
        value = self.signer.token(
            asset_id=row.asset_id,
            version=row.version,
            session_id=row.id,
            expires=row.expires_at,
        )
        return MediaCookie(
            name=COOKIE_NAME,
            value=value,
            path=urls.cookie_media_url(row.asset_id, row.version, ""),
            domain=self.cookie_domain,
            expires_at=row.expires_at,
            # Over https (an edge or CDN in production) the cookie never goes in clear.
            secure=self.media_base.startswith("https://"),
        )

    @property
    def lease_s(self) -> int:
        # A lease whose heartbeats stop ends within two intervals.
        return 2 * self.heartbeat_interval_s


def _live(
    now: datetime | BindParameter[datetime],
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """A lease is live until it is ended or lapses (the stream limit counts these)."""
    return (PlaybackSession.ended_at.is_(None), PlaybackSession.lease_expires_at > now)


# Built once (bound parameters): this runs on every play request.
_LIVE_COUNT = (
    select(func.count())
    .select_from(PlaybackSession)
    .where(
        PlaybackSession.user_id == bindparam("uid"),
        *_live(bindparam("now", type_=UTCDateTime())),
    )
)


def start_playback(
    *, session: Session, principal: Principal | None, title_id: str, config: PlaybackConfig
) -> PlaybackOut:
    """Check entitlement, take a stream lease and open a session.

    403 with the refusal's code (``entitlements``), 404 for an unknown title, 409
    ``asset_not_ready`` while the media is not published. The URLs name the asset's
    current version, so a session keeps playing the bytes it started on even if a
    reprocess publishes a new version meanwhile.

    The lease is race-free: the household's row lock (an UPDATE of the user row) orders
    concurrent requests, and each counts the live leases only once it holds the lock,
    on SQLite and PostgreSQL alike. The lease transaction commits before this returns.
    """
    if config.country is not None and config.country in config.blocked_countries:
        raise RegionBlocked(f"playback is not offered in {config.country}", country=config.country)
    title = catalog_service.playable(session=session, title_id=title_id, country=config.country)
    grant = decide(session=session, principal=principal, title=title)
    asset = None
    if title.main_asset_id is not None:
        asset = assets_service.summaries(session=session, asset_ids=[title.main_asset_id]).get(
            title.main_asset_id
        )
    if asset is None or not asset.playable or asset.version is None:
        state = "no_media" if asset is None else asset.status
        raise AssetNotReady(
            f"title {title_id} cannot be played yet: its media is {state}", asset_status=state
        )
    user_id = grant.principal.user_id
    with serialized_writes(session):
        households.lock_household(session=session, user_id=user_id)
        now = utcnow()
        live = session.scalar(_LIVE_COUNT, {"uid": user_id, "now": now})
        if (live or 0) >= grant.limits.max_streams:
            # Release the household lock now, not after the response's thread hop.
            session.rollback()
            raise StreamLimit(
                f"this plan allows {grant.limits.max_streams} streams at once; "
                "stop one (DELETE /v1/playback/{session_id}) to start another",
                max_streams=grant.limits.max_streams,
            )
        if grant.rental_id is not None:
            billing.start_rental_clock(session=session, rental_id=grant.rental_id)
        row = PlaybackSession(
            title_id=title_id,
            asset_id=asset.id,
            version=asset.version,
            user_id=user_id,
            profile_id=grant.principal.profile_id,
            device_id=grant.principal.device_id,
            granted_via=grant.via,
            max_height=grant.limits.max_height,
            heartbeat_interval_s=config.heartbeat_interval_s,
            created_at=now,
            expires_at=now + timedelta(seconds=config.ttl_s),
            lease_expires_at=now + timedelta(seconds=config.lease_s),
        )
        session.add(row)
        # Commit here, in this thread: the household lock must never be held across the
        # thread hop to the request's own commit, or requests queued on the lock could take
        # every worker thread while the holder waits for one to commit (a deadlock).
        session.commit()
    capped = any(height > row.max_height for height in asset.rendition_heights)
    hls, dash = config.urls(config.media_base, config.cdn, row, capped)
    alternates = []
    for name, base in config.alternates:
        alt_hls, alt_dash = config.urls(base, name, row, capped)
        alternates.append(AlternateUrls(cdn=name, hls=alt_hls, dash=alt_dash))
    return PlaybackOut(
        session_id=row.id,
        title_id=row.title_id,
        hls=hls,
        dash=dash,
        cdn=config.cdn,
        alternates=alternates,
        poster=f"{config.media_base}{urls.poster_url(asset.id, asset.version)}",
        expires_at=row.expires_at,
        heartbeat_interval_s=row.heartbeat_interval_s,
        lease_expires_at=row.lease_expires_at,
        max_height=row.max_height,
        cookie=config.media_cookie(row),
        drm=config.drm(config.media_base, row, asset.encryption),
    )


def _own(session: Session, principal: Principal, session_id: str) -> PlaybackSession:
    row = session.scalar(
        select(PlaybackSession).where(
            PlaybackSession.id == session_id, PlaybackSession.user_id == principal.user_id
        )
    )
    if row is None:
        raise NotFound(f"playback session {session_id} does not exist")
    return row


def heartbeat(
    *, session: Session, principal: Principal, session_id: str, config: PlaybackConfig
) -> HeartbeatOut:
    """Renew the lease; 410 ``session_ended`` once it was stopped or has lapsed.

    The entitlement is decided again (the title, the plan, the account, the profile): a
    session whose right was revoked meanwhile (a cancelled subscription, a suspended
    account, a title withdrawn) is ended here, with the refusal as the reason, so its key
    and licence requests fail from now on."""
    row = _own(session, principal, session_id)
    now = utcnow()
    if row.ended_at is not None or row.lease_expires_at <= now or row.expires_at <= now:
        raise SessionEnded("this playback session has ended; start a new one")
    try:
        title = catalog_service.playable(
            session=session, title_id=row.title_id, country=config.country
        )
        decide(session=session, principal=principal, title=title)
    except (Forbidden, NotFound) as refused:
        row.ended_at = now
        row.end_reason = "revoked"
        # Kept whatever the request does next: the error below rolls its unit back.
        session.commit()
        raise SessionEnded(
            f"this playback session has ended: {refused.detail}", reason=refused.code
        ) from refused
    row.last_heartbeat_at = now
    row.lease_expires_at = min(now + timedelta(seconds=config.lease_s), row.expires_at)
    session.flush()
    return HeartbeatOut(
        session_id=row.id,
        lease_expires_at=row.lease_expires_at,
        heartbeat_interval_s=row.heartbeat_interval_s,
    )


def stop(*, session: Session, principal: Principal, session_id: str) -> None:
    """End a session and free its stream (idempotent for the household's own sessions)."""
    row = _own(session, principal, session_id)
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = "stopped"
        session.flush()


def list_live(*, session: Session, principal: Principal) -> list[PlaybackSessionOut]:
    """The household's streams holding a lease now."""
    rows = session.scalars(
        select(PlaybackSession)
        .where(PlaybackSession.user_id == principal.user_id, *_live(utcnow()))
        .order_by(PlaybackSession.created_at)
    )
    return [
        PlaybackSessionOut(
            session_id=row.id,
            title_id=row.title_id,
            profile_id=row.profile_id,
            device_id=row.device_id,
            created_at=row.created_at,
            last_heartbeat_at=row.last_heartbeat_at,
            lease_expires_at=row.lease_expires_at,
            current_device=row.device_id is not None and row.device_id == principal.device_id,
        )
        for row in rows
    ]


def session_manifest(
    *, session: Session, storage: Storage, session_id: str, name: str, config: PlaybackConfig
) -> tuple[str, str]:
    """The session's own master playlist or MPD (renditions above its limit left out),
    and its content type. The session id is the credential here: players fetch manifests
    without headers, and the id is unguessable and dies with the session."""
    row = session.get(PlaybackSession, session_id)
    if row is None or name not in (MASTER_NAME, MPD_NAME):
        raise NotFound("no such session manifest")
    now = utcnow()
    if row.ended_at is not None or row.expires_at <= now:
        raise SessionEnded("this playback session has ended; start a new one")
    text = storage.read_bytes(media_version_key(row.asset_id, row.version, name)).decode()
    base = config.media_prefix(row.asset_id, row.version, row.id, row.expires_at)
    if name == MASTER_NAME:
        return limit_hls_master(text, max_height=row.max_height, base=base), HLS_TYPE
    return limit_mpd(text, max_height=row.max_height, base=base), DASH_TYPE
