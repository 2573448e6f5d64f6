"""Edge purges: a numbered feed of "purge this asset's cached media" and "refuse its
URLs from now on" records. Edges poll it (``GET /v1/admin/edge/purges?after=N``) and
apply each record within seconds; a pull feed needs no inbound connection to an edge
and survives an edge that was down (it resumes from its last number)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reelstack.assets.models import MediaPurge
from reelstack.assets.schemas import PurgeAction, PurgeFeed, PurgeOut

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
