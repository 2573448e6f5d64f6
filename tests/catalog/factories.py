"""Row factories for the catalog domain."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from reelstack.assets.models import AssetStatus
from reelstack.catalog import service as catalog
from tests.assets.factories import make_asset


def make_title_with_asset(
    session: Session,
    title: str,
    status: AssetStatus,
    *,
    rating: tuple[str, str] | None = None,
    free: bool = False,
    heights: tuple[int, ...] = (),
) -> tuple[str, str]:
    """A title playing a new asset in ``status``; returns ``(title_id, asset_id)``.

    ``rating`` is (system, rating); ``heights`` gives the asset renditions of those
    heights (rows only, no media files)."""
    asset = make_asset(status, heights=heights)
    session.add(asset)
    session.flush()
    row = catalog.create_title(
        session=session,
        title=title,
        rating_system=rating[0] if rating else None,
        rating=rating[1] if rating else None,
        free=free,
    )
    catalog.link_asset(session=session, title_id=row.id, asset_id=asset.id)
    return row.id, asset.id


CMS = "/v1/admin/catalog"


def cms_title(client: TestClient, **body: Any) -> dict[str, Any]:
    """A draft title made through the CMS (``body`` overrides the defaults)."""
    resp = client.post(f"{CMS}/titles", json={"title": "A Title"} | body)
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    return made


def cms_genre(client: TestClient, slug: str, name: str, **body: Any) -> dict[str, Any]:
    resp = client.post(f"{CMS}/genres", json={"slug": slug, "name": name} | body)
    assert resp.status_code == 201, resp.text
    made: dict[str, Any] = resp.json()
    return made


def publish(client: TestClient, title_id: str) -> None:
    """draft -> in_review -> published."""
    for state in ("in_review", "published"):
        resp = client.post(f"{CMS}/titles/{title_id}/transitions", json={"to": state})
        assert resp.status_code == 200, resp.text


def cms_series(
    client: TestClient, title: str = "A Series", seasons: int = 2, episodes: int = 2
) -> dict[str, Any]:
    """A published series with ``seasons`` seasons of ``episodes`` published episodes
    each; returns the series with "seasons": [{id, number, episodes: [ids]}]."""
    series = cms_title(client, title=title, kind="series")
    series["seasons"] = []
    for number in range(1, seasons + 1):
        resp = client.post(f"{CMS}/titles/{series['id']}/seasons", json={"number": number})
        assert resp.status_code == 201, resp.text
        season = resp.json()
        ids = []
        for ep in range(1, episodes + 1):
            made = client.post(
                f"{CMS}/seasons/{season['id']}/episodes",
                json={"title": f"S{number}E{ep}", "episode_number": ep},
            )
            assert made.status_code == 201, made.text
            publish(client, made.json()["id"])
            ids.append(made.json()["id"])
        series["seasons"].append({"id": season["id"], "number": number, "episodes": ids})
    publish(client, series["id"])
    return series
