"""Series, seasons and episodes; the viewer's list and title page (filters, ordering,
localization, ETag)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reelstack.runtime import Runtime
from tests.catalog.factories import CMS, cms_genre, cms_series, cms_title, publish
from tests.conftest import row_counts


def test_season_and_episode_numbers(client: TestClient, runtime: Runtime) -> None:
    series = cms_title(client, title="Show", kind="series")
    movie = cms_title(client, title="Film")
    season = client.post(f"{CMS}/titles/{series['id']}/seasons", json={"number": 1}).json()
    first = client.post(f"{CMS}/seasons/{season['id']}/episodes", json={"title": "Pilot"}).json()
    second = client.post(f"{CMS}/seasons/{season['id']}/episodes", json={"title": "Two"}).json()
    assert (first["episode_number"], second["episode_number"]) == (1, 2)
    assert first["series_id"] == series["id"] and first["season_id"] == season["id"]
    assert first["kind"] == "episode"
    counts = row_counts(runtime)
    clash = client.post(f"{CMS}/titles/{series['id']}/seasons", json={"number": 1})
    assert clash.status_code == 409 and clash.json()["field"] == "number"
    assert clash.json()["code"] == "duplicate"
    not_series = client.post(f"{CMS}/titles/{movie['id']}/seasons", json={"number": 1})
    assert not_series.status_code == 422 and not_series.json()["field"] == "series_id"
    taken = client.post(
        f"{CMS}/seasons/{season['id']}/episodes", json={"title": "Again", "episode_number": 2}
    )
    assert taken.status_code == 409 and taken.json()["field"] == "episode_number"
    orphan = client.post(f"{CMS}/titles", json={"title": "Orphan", "kind": "episode"})
    assert orphan.status_code == 422 and orphan.json()["field"] == "season_id"
    lost = client.post(
        f"{CMS}/titles", json={"title": "Lost", "kind": "episode", "season_id": "nope"}
    )
    assert lost.status_code == 422 and lost.json()["field"] == "season_id"
    moved = client.patch(f"{CMS}/titles/{second['id']}", json={"episode_number": 1})
    assert moved.status_code == 409 and moved.json()["field"] == "episode_number"
    assert row_counts(runtime) == counts
    seasons = client.get(f"{CMS}/titles/{series['id']}/seasons").json()
    assert seasons[0]["episode_ids"] == [first["id"], second["id"]]
    # A season goes with its episodes; not while one is published.
    publish(client, first["id"])
    refused = client.delete(f"{CMS}/seasons/{season['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "not_deletable"
    client.post(f"{CMS}/titles/{first['id']}/transitions", json={"to": "unpublished"})
    assert client.delete(f"{CMS}/seasons/{season['id']}").status_code == 204
    assert client.get(f"{CMS}/titles/{first['id']}").status_code == 404


def test_series_page_orders_seasons_and_episodes(client: TestClient) -> None:
    series = cms_title(client, title="Ordered", kind="series")
    # Made out of order: the page orders them by number.
    for number in (2, 1):
        season = client.post(
            f"{CMS}/titles/{series['id']}/seasons", json={"number": number, "title": f"S{number}"}
        ).json()
        for ep in (3, 1, 2):
            made = client.post(
                f"{CMS}/seasons/{season['id']}/episodes",
                json={"title": f"{number}x{ep}", "episode_number": ep},
            ).json()
            if ep != 3 or number != 1:
                publish(client, made["id"])
    publish(client, series["id"])
    page = client.get(f"/v1/titles/{series['id']}")
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["kind"] == "series"
    assert [s["number"] for s in body["seasons"]] == [1, 2]
    # The draft 1x3 is left out.
    assert [[e["title"] for e in s["episodes"]] for s in body["seasons"]] == [
        ["1x1", "1x2"],
        ["2x1", "2x2", "2x3"],
    ]
    episode = body["seasons"][0]["episodes"][0]
    assert episode["series_id"] == series["id"] and episode["season_number"] == 1
    assert episode["episode_number"] == 1
    # Episodes are left out of the list unless asked for; each plays through its page.
    listed = client.get("/v1/titles").json()["items"]
    assert [t["id"] for t in listed] == [series["id"]]
    episodes = client.get("/v1/titles", params={"kind": "episode"}).json()["items"]
    assert len(episodes) == 5
    assert client.get(f"/v1/titles/{episode['id']}").json()["season_number"] == 1
    # An unpublished series hides its episodes too.
    client.post(f"{CMS}/titles/{series['id']}/transitions", json={"to": "unpublished"})
    assert client.get(f"/v1/titles/{episode['id']}").status_code == 404
    assert client.get("/v1/titles", params={"kind": "episode"}).json()["items"] == []


def test_viewer_filters_credits_and_genres(client: TestClient) -> None:
    cms_genre(client, "comedy", "Comedy", translations={"fr": "Comédie"})
    cms_genre(client, "drama", "Drama")
    funny = cms_title(client, title="Funny", genres=["comedy"], year=2020)
    sad = cms_title(client, title="Sad", genres=["drama"], year=2019)
    draft = cms_title(client, title="Funny Draft", genres=["comedy"], year=2020)
    person = client.post(f"{CMS}/people", json={"name": "Ann"}).json()
    client.post(
        f"{CMS}/titles/{funny['id']}/credits",
        json={"person_id": person["id"], "role": "cast", "character": "Clown"},
    )
    publish(client, funny["id"])
    publish(client, sad["id"])

    def ids(**params: str | int) -> set[str]:
        return {t["id"] for t in client.get("/v1/titles", params=params).json()["items"]}

    assert ids() == {funny["id"], sad["id"]}
    assert ids(genre="comedy") == {funny["id"]}
    assert ids(year=2019) == {sad["id"]}
    assert ids(q="fun") == {funny["id"]}
    assert ids(kind="series") == set()
    assert client.get(f"/v1/titles/{draft['id']}").status_code == 404
    page = client.get(f"/v1/titles/{funny['id']}", params={"lang": "fr"}).json()
    assert page["genres"] == [{"slug": "comedy", "name": "Comédie"}]
    assert page["credits"] == [
        {"person_id": person["id"], "name": "Ann", "role": "cast", "character": "Clown"}
    ]


def test_localization_falls_back_per_field(client: TestClient) -> None:
    made = cms_title(
        client,
        title="The Cat",
        short_synopsis="A cat.",
        description="A long story about a cat.",
        translations={
            "fr": {"title": "Le Chat", "short_synopsis": "Un chat."},
            "pt-BR": {"title": "O Gato"},
        },
    )
    publish(client, made["id"])
    url = f"/v1/titles/{made['id']}"
    fr = client.get(url, params={"lang": "fr"}).json()
    assert (fr["language"], fr["title"], fr["short_synopsis"]) == ("fr", "Le Chat", "Un chat.")
    # Missing in French: the default language's text.
    assert fr["description"] == "A long story about a cat."
    header = client.get(url, headers={"Accept-Language": "de;q=0.9, fr-CA;q=0.8, en;q=0.1"})
    assert header.json()["title"] == "Le Chat" and header.json()["language"] == "fr"
    pt = client.get(url, params={"lang": "pt"}).json()
    assert (pt["language"], pt["title"], pt["short_synopsis"]) == ("pt-BR", "O Gato", "A cat.")
    # ?lang= wins over the header; an unknown language gets the default.
    assert (
        client.get(url, params={"lang": "ja"}, headers={"Accept-Language": "fr"}).json()["title"]
        == "The Cat"
    )
    assert client.get(url).json()["language"] == "en"
    listed = client.get("/v1/titles", params={"lang": "fr"}).json()["items"][0]
    assert listed["title"] == "Le Chat"
    bad = client.get(url, params={"lang": "not a language"})
    assert bad.status_code == 422


def test_etag_and_if_none_match(client: TestClient) -> None:
    series = cms_series(client, seasons=1, episodes=1)
    for url in ("/v1/titles", f"/v1/titles/{series['id']}"):
        first = client.get(url)
        etag = first.headers["etag"]
        assert first.status_code == 200 and etag.startswith('"')
        assert "Accept-Language" in first.headers["vary"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
        # Another language is another representation.
        assert client.get(
            url, headers={"If-None-Match": etag, "Accept-Language": "fr"}
        ).status_code in (
            200,
            304,
        )
    before = client.get(f"/v1/titles/{series['id']}").headers["etag"]
    client.patch(f"{CMS}/titles/{series['id']}", json={"description": "Changed"})
    changed = client.get(f"/v1/titles/{series['id']}", headers={"If-None-Match": before})
    assert changed.status_code == 200 and changed.headers["etag"] != before
