"""The CMS's titles: metadata, bad input (each a 4xx naming the field, nothing written),
revisions, the audit log, roles."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from reelstack.runtime import Runtime
from tests.catalog.factories import CMS, cms_genre, cms_title
from tests.conftest import create_viewer, row_counts, sign_in


def _problem(resp: object, status: int, field: str, code: str | None = None) -> dict[str, object]:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = resp.json()  # type: ignore[attr-defined]
    assert body["field"] == field, body
    if code is not None:
        assert body["code"] == code
    return body


def test_full_metadata_round_trip(client: TestClient) -> None:
    cms_genre(client, "drama", "Drama")
    cms_genre(client, "crime", "Crime")
    made = cms_title(
        client,
        title="The Long Night",
        slug="the-long-night",
        short_synopsis="Short.",
        description="Long synopsis.",
        release_date="2021-03-04",
        runtime_s=5400,
        genres=["crime", "drama"],
        tags=["noir", "noir", "rain"],
        studios=["Reel Studios"],
        original_language="en",
        rating_system="mpaa",
        rating="pg-13",
        external_ids={"imdb": "tt0111161", "tmdb": "278"},
        custom_fields={"box_office_minor": 123, "awards": ["x"]},
        translations={"fr": {"title": "La Longue Nuit"}},
    )
    assert made["state"] == "draft" and made["kind"] == "movie" and made["revision"] == 1
    assert made["sort_title"] == "Long Night"
    assert made["year"] == 2021
    assert made["genres"] == ["crime", "drama"]
    assert made["tags"] == ["noir", "rain"]
    assert (made["rating_system"], made["rating"], made["maturity_level"]) == ("MPAA", "PG-13", 3)
    assert made["external_ids"] == {"imdb": "tt0111161", "tmdb": "278"}
    assert made["translations"] == {"fr": {"title": "La Longue Nuit"}}
    got = client.get(f"{CMS}/titles/{made['id']}").json()
    assert got == made
    patched = client.patch(
        f"{CMS}/titles/{made['id']}",
        json={"title": "The Longest Night", "genres": ["drama"], "short_synopsis": None},
    )
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["revision"] == 2 and after["sort_title"] == "Longest Night"
    assert after["genres"] == ["drama"] and after["short_synopsis"] is None
    # An empty change is no revision.
    assert client.patch(f"{CMS}/titles/{made['id']}", json={}).json()["revision"] == 2


def test_bad_input_names_the_field_and_writes_nothing(client: TestClient, runtime: Runtime) -> None:
    cms_genre(client, "drama", "Drama")
    cms_title(client, title="First", slug="taken", external_ids={"imdb": "tt0000001"})
    before = row_counts(runtime)
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"slug": "taken"}, 409, "slug"),
        ({"genres": ["drama", "space-opera"]}, 422, "genres"),
        ({"rating_system": "MPAA", "rating": "TV-Y"}, 422, "rating"),
        ({"rating_system": "XX", "rating": "G"}, 422, "rating_system"),
        ({"rating": "G"}, 422, "rating_system"),
        ({"external_ids": {"imdb": "tt0000001"}}, 409, "external_ids.imdb"),
        ({"external_ids": {"imdb": "nm123"}}, 422, "external_ids.imdb"),
        ({"kind": "episode"}, 422, "season_id"),
        ({"episode_number": 3}, 422, "episode_number"),
        ({"release_date": "2020-01-01", "year": 2019}, 422, "year"),
        ({"translations": {"en": {"title": "Same as default"}}}, 422, "translations.en"),
        ({"custom_fields": {"blob": "x" * 20_000}}, 422, "custom_fields"),
    ]
    for body, status, field in bad:
        resp = client.post(f"{CMS}/titles", json={"title": "Second", "slug": "second"} | body)
        _problem(resp, status, field)
    # Schema-level refusals name the field too (FastAPI's errors list).
    unknown = client.post(f"{CMS}/titles", json={"title": "X", "state": "published"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["body", "state"]
    bad_slug = client.post(f"{CMS}/titles", json={"title": "X", "slug": "Not A Slug"})
    assert bad_slug.status_code == 422 and bad_slug.json()["errors"][0]["loc"] == ["body", "slug"]
    assert row_counts(runtime) == before
    # A PATCH that fails half-way leaves the title as it was.
    other = cms_title(client, title="Other", slug="other")
    counts = row_counts(runtime)
    resp = client.patch(
        f"{CMS}/titles/{other['id']}",
        json={"rating_system": "MPAA", "rating": "PG", "genres": ["nope"]},
    )
    _problem(resp, 422, "genres")
    assert client.get(f"{CMS}/titles/{other['id']}").json() == other
    assert row_counts(runtime) == counts
    _problem(client.patch(f"{CMS}/titles/{other['id']}", json={"slug": "taken"}), 409, "slug")


def test_revisions_and_audit(client: TestClient) -> None:
    made = cms_title(client, title="Rev", slug="rev")
    client.patch(f"{CMS}/titles/{made['id']}", json={"description": "v2"})
    client.patch(f"{CMS}/titles/{made['id']}", json={"description": "v3"})
    client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": "in_review"})
    revisions = client.get(f"{CMS}/titles/{made['id']}/revisions").json()
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    assert [r["data"]["description"] for r in revisions] == ["v3", "v2", None]
    one = client.get(f"{CMS}/titles/{made['id']}/revisions/2").json()
    assert one["data"]["description"] == "v2" and one["actor_type"] == "admin_key"
    assert client.get(f"{CMS}/titles/{made['id']}/revisions/9").status_code == 404
    log = client.get(f"{CMS}/audit", params={"title_id": made["id"]}).json()["items"]
    assert [e["action"] for e in log] == ["transition", "update", "update", "create"]
    transition, update = log[0], log[1]
    assert transition["before"] == {"state": "draft"}
    assert transition["after"] == {"state": "in_review"}
    assert update["before"] == {"description": "v2"} and update["after"] == {"description": "v3"}
    assert log[3]["before"] is None and log[3]["after"]["slug"] == "rev"
    assert all(e["actor_type"] == "admin_key" and e["at"] for e in log)
    # Keyset pages of the log.
    first = client.get(f"{CMS}/audit", params={"title_id": made["id"], "limit": 3}).json()
    rest = client.get(
        f"{CMS}/audit", params={"title_id": made["id"], "cursor": first["next_cursor"]}
    ).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in log]


def test_roles_and_the_acting_principal(client: TestClient) -> None:
    create_viewer(client, "viewer@cms.example", plan=None)
    create_viewer(client, "support@cms.example", plan=None, role="support")
    create_viewer(client, "editor@cms.example", plan=None, role="editor")
    for email in ("viewer@cms.example", "support@cms.example"):
        headers = sign_in(client, email, pick_profile=False)["headers"]
        for method, path in (("GET", "/titles"), ("POST", "/titles"), ("GET", "/genres")):
            resp = client.request(method, f"{CMS}{path}", json={"title": "x"}, headers=headers)
            assert resp.status_code == 403, (email, path, resp.text)
    editor = sign_in(client, "editor@cms.example", pick_profile=False)
    made = client.post(f"{CMS}/titles", json={"title": "By an editor"}, headers=editor["headers"])
    assert made.status_code == 201, made.text
    editor_id = client.get("/v1/me", headers=editor["headers"]).json()["id"]
    entry = client.get(f"{CMS}/audit", params={"title_id": made.json()["id"]}).json()["items"][0]
    assert (entry["actor_type"], entry["actor_id"]) == ("user", editor_id)
    # A scoped API key is named by its id.
    key = client.post("/v1/admin/api-keys", json={"name": "cms", "scopes": ["admin:write"]})
    assert key.status_code == 201, key.text
    by_key = client.post(
        f"{CMS}/titles",
        json={"title": "By a key"},
        headers={"Authorization": f"Bearer {key.json()['key']}"},
    )
    assert by_key.status_code == 201, by_key.text
    entry = client.get(f"{CMS}/audit", params={"title_id": by_key.json()["id"]}).json()["items"][0]
    assert (entry["actor_type"], entry["actor_id"]) == ("api_key", key.json()["id"])
    anonymous = client.get(f"{CMS}/titles", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_admin_list_keyset_filters_and_sorting(client: TestClient) -> None:
    cms_genre(client, "comedy", "Comedy")
    names = ["Delta", "alpha", "Charlie", "Bravo", "Echo", "Foxtrot", "Golf"]
    ids = {
        n: cms_title(client, title=n, genres=["comedy"] if n in {"Delta", "Echo"} else [])
        for n in names
    }
    for sort in ("sort_title", "-sort_title", "created_at", "-created_at"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, str | int] = {"limit": 2, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = client.get(f"{CMS}/titles", params=params).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(t["id"] for t in ids.values()) and len(seen) == 7
    by_title = client.get(f"{CMS}/titles", params={"sort": "sort_title", "limit": 100}).json()
    titles = [t["title"] for t in by_title["items"]]
    assert titles.index("Bravo") < titles.index("Charlie") < titles.index("Delta")
    comedy = client.get(f"{CMS}/titles", params={"genre": "comedy"}).json()["items"]
    assert {t["title"] for t in comedy} == {"Delta", "Echo"}
    assert client.get(f"{CMS}/titles", params={"state": "published"}).json()["items"] == []
    assert len(client.get(f"{CMS}/titles", params={"q": "HA"}).json()["items"]) == 2
    wrong = client.get(
        f"{CMS}/titles",
        params={
            "sort": "created_at",
            "cursor": client.get(f"{CMS}/titles", params={"sort": "sort_title", "limit": 1}).json()[
                "next_cursor"
            ],
        },
    )
    _problem(wrong, 400, "cursor")


def test_genres_people_credits(client: TestClient, runtime: Runtime) -> None:
    genre = cms_genre(client, "sci-fi", "Science fiction", translations={"fr": "Science-fiction"})
    _problem(client.post(f"{CMS}/genres", json={"slug": "sci-fi", "name": "X"}), 409, "slug")
    renamed = client.patch(f"{CMS}/genres/{genre['id']}", json={"name": "Sci-fi"})
    assert renamed.json()["name"] == "Sci-fi"
    title = cms_title(client, title="Space", genres=["sci-fi"])
    person = client.post(f"{CMS}/people", json={"name": "Ada Actor"}).json()
    director = client.post(f"{CMS}/people", json={"name": "Dee Director"}).json()
    cast = client.post(
        f"{CMS}/titles/{title['id']}/credits",
        json={"person_id": person["id"], "role": "cast", "character": "Captain"},
    )
    assert cast.status_code == 201, cast.text
    client.post(
        f"{CMS}/titles/{title['id']}/credits",
        json={"person_id": director["id"], "role": "director"},
    )
    counts = row_counts(runtime)
    _problem(
        client.post(
            f"{CMS}/titles/{title['id']}/credits",
            json={"person_id": director["id"], "role": "director", "character": "Nope"},
        ),
        422,
        "character",
    )
    _problem(
        client.post(
            f"{CMS}/titles/{title['id']}/credits", json={"person_id": "nobody", "role": "writer"}
        ),
        422,
        "person_id",
    )
    assert row_counts(runtime) == counts
    credits = client.get(f"{CMS}/titles/{title['id']}/credits").json()
    assert [(c["name"], c["role"], c["character"], c["position"]) for c in credits] == [
        ("Ada Actor", "cast", "Captain", 0),
        ("Dee Director", "director", None, 1),
    ]
    people = client.get(f"{CMS}/people", params={"q": "dee"}).json()["items"]
    assert [p["name"] for p in people] == ["Dee Director"]
    assert client.delete(f"{CMS}/people/{director['id']}").status_code == 204
    assert len(client.get(f"{CMS}/titles/{title['id']}/credits").json()) == 1
    assert client.delete(f"{CMS}/genres/{genre['id']}").status_code == 204
    assert client.get(f"{CMS}/titles/{title['id']}").json()["genres"] == []


def test_delete_rules(client: TestClient) -> None:
    made = cms_title(client, title="Doomed")
    for state in ("in_review", "published"):
        client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": state})
    refused = client.delete(f"{CMS}/titles/{made['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "not_deletable"
    client.post(f"{CMS}/titles/{made['id']}/transitions", json={"to": "unpublished"})
    assert client.delete(f"{CMS}/titles/{made['id']}").status_code == 204
    assert client.get(f"{CMS}/titles/{made['id']}").status_code == 404
    log = client.get(f"{CMS}/audit", params={"entity_id": made["id"]}).json()["items"]
    assert log[0]["action"] == "delete" and log[0]["before"]["title"] == "Doomed"
