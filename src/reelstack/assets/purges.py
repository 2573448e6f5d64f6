"""Edge purges: a numbered feed of "purge this asset's cached media" and "refuse its
URLs from now on" records. Edges poll it (``GET /v1/admin/edge/purges?after=N``) and
apply each record within seconds; a pull feed needs no inbound connection to an edge
and survives an edge that was down (it resumes from its last number)."""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reelstack.assets.models import MediaPurge
from reelstack.assets.schemas import PurgeAction, PurgeFeed, PurgeOut

log = structlog.get_logger(__name__)

FEED_PAGE = 1000


def record(*, session: Session, asset_id: str, action: PurgeAction) -> PurgeOut:
    row = MediaPurge(asset_id=asset_id, action=action)
    session.add(row)
    session.flush()
    return PurgeOut.model_validate(row)


def feed(*, session: Session, after: int) -> PurgeFeed:
    rows = list(
        session.scalars(
            select(MediaPurge)
            .where(MediaPurge.seq > after)
            .order_by(MediaPurge.seq)
            .limit(FEED_PAGE)
        )
    )
    items = [PurgeOut.model_validate(row) for row in rows]
    return PurgeFeed(items=items, last_seq=items[-1].seq if items else after)


class RevokedAssets:
    """The assets revoked so far, as this API process last read them from the feed: the
    origin refuses their signed URLs as the edges do (410 ``media_revoked``), within one
    poll interval of the revocation. A thread follows the feed (only records newer than
    the last one read), so a media request only looks at a set in memory."""

    def __init__(self, sessions: sessionmaker[Session], *, interval_s: float = 2.0) -> None:
        self._sessions = sessions
        self.interval_s = interval_s
        self._revoked: frozenset[str] = frozenset()
        self._after = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __contains__(self, asset_id: object) -> bool:
        return asset_id in self._revoked

    def refresh(self) -> None:
        """Read the records since the last one read (callers: the thread, tests)."""
        with self._lock:
            with self._sessions() as session:  # a read: nothing to commit
                rows = session.execute(
                    select(MediaPurge.seq, MediaPurge.asset_id, MediaPurge.action)
                    .where(MediaPurge.seq > self._after)
                    .order_by(MediaPurge.seq)
                ).all()
            if not rows:
                return
            self._after = rows[-1].seq
            new = {row.asset_id for row in rows if row.action is PurgeAction.REVOKE}
            if new:
                self._revoked = self._revoked | new

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="revoked-assets", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.interval_s + 5)

    def _run(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception:  # the database away for a moment: keep the last view
                log.warning("revoked_assets_refresh_failed", exc_info=True)
            if self._stop.wait(self.interval_s):
                return
