"""The viewer's country: a trusted header first, else a GeoIP2 country database (a real
MaxMind-format file, written here), and blocked countries refused."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from reelstack.app import create_app
from reelstack.config import Settings
from reelstack.geo import CountryResolver
from reelstack.runtime import build_runtime
from tests.conftest import ADMIN_HEADERS, create_viewer, live_server, sign_in
from tests.playback.test_entitlements import _title


def _country_db(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
    writer.insert_network(IPSet(["127.0.0.0/8"]), {"country": {"iso_code": "KP"}})
    writer.insert_network(IPSet(["192.0.2.0/24"]), {"country": {"iso_code": "FR"}})
    writer.to_db_file(str(path))
    return path


def test_the_header_wins_then_the_database_then_unknown(tmp_path: Path) -> None:
    db = _country_db(tmp_path / "countries.mmdb")
    resolver = CountryResolver(header="X-Viewer-Country", database=db)
    try:
        assert resolver.country({"X-Viewer-Country": "de"}, "127.0.0.1") == "DE"
        assert resolver.country({}, "127.0.0.1") == "KP"
        assert resolver.country({}, "192.0.2.7") == "FR"
        assert resolver.country({}, "198.51.100.1") is None  # not in the database
        assert resolver.country({}, "not-an-address") is None
        assert resolver.country({"X-Viewer-Country": "??"}, None) is None
    finally:
        resolver.close()
    assert CountryResolver().country({"X-Viewer-Country": "DE"}, "127.0.0.1") is None


def test_a_blocked_country_from_the_database_gets_451(tmp_path: Path, settings: Settings) -> None:
    configured = settings.model_copy(
        update={"geoip_db": _country_db(tmp_path / "countries.mmdb"), "blocked_countries": ["KP"]}
    )
    rt = build_runtime(configured)
    try:
        with (
            live_server(create_app(runtime=rt)) as base,
            httpx.Client(base_url=base, headers=ADMIN_HEADERS) as client,
        ):
            title_id = _title(rt)
            create_viewer(client, "loopback@example.com")
            who = sign_in(client, "loopback@example.com")
            resp = client.post("/v1/playback", json={"title_id": title_id}, headers=who["headers"])
            assert resp.status_code == 451 and resp.json()["code"] == "region_blocked"
    finally:
        rt.close()
