"""`reelstack run` seeds one demo title into an empty catalog, and only then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reelstack.cli import seed
from reelstack.config import Settings
from reelstack.media import testclips
from tests.conftest import row_counts


def test_seed_demo_once(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    real = testclips.make_test_clip
    asked: dict[str, Any] = {}

    def small_clip(path: Path, **kwargs: Any) -> Path:
        asked.update(kwargs)
        # The real seed is 30 s of 1080p; a tiny clip keeps the test fast.
        return real(path, width=320, height=180, duration_s=2)

    monkeypatch.setattr(testclips, "make_test_clip", small_clip)
    console = Console(quiet=True)
    title_id = seed.seed_demo(settings, console=console)
    assert title_id is not None
    assert (asked["width"], asked["height"], asked["duration_s"]) == (1920, 1080, 30)

    from reelstack.runtime import build_runtime

    rt = build_runtime(settings)
    counts = row_counts(rt)
    # One title, one asset, and its processing graph (parent + transcode); and a series
    # (two seasons of two episodes) playing the same asset.
    assert (counts["titles"], counts["assets"], counts["jobs"]) == (1 + 1 + 4, 1, 2)
    assert (counts["seasons"], counts["genres"]) == (2, 2)
    assert seed.seed_demo(settings, console=console) is None  # not twice
    assert row_counts(rt)["titles"] == 6
    from fastapi.testclient import TestClient

    from reelstack.app import create_app

    with TestClient(create_app(runtime=rt)) as client:
        listed = client.get("/v1/titles").json()["items"]
        shows = [t for t in listed if t["kind"] == "series"]
        assert [t["title"] for t in shows] == [seed.DEMO_SERIES]
        page = client.get(f"/v1/titles/{shows[0]['id']}").json()
        assert [[e["title"] for e in s["episodes"]] for s in page["seasons"]] == [
            ["Pattern 1.1", "Pattern 1.2"],
            ["Pattern 2.1", "Pattern 2.2"],
        ]
    rt.close()


def test_demo_accounts_sign_in_and_are_made_once(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from reelstack.app import create_app
    from reelstack.runtime import build_runtime

    console = Console(quiet=True)
    seed.seed_demo_accounts(settings, console=console)
    password, generated = seed.demo_password(settings)
    assert not generated and len(password) >= 32
    assert (settings.data_dir / seed.DEMO_PASSWORD_FILE).stat().st_mode & 0o077 == 0
    seed.seed_demo_accounts(settings, console=console)  # idempotent
    rt = build_runtime(settings)
    try:
        assert row_counts(rt)["users"] == 2
        with TestClient(create_app(runtime=rt)) as c:
            login = c.post("/v1/auth/login", json={"email": seed.DEMO_VIEWER, "password": password})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            me = c.get("/v1/me", headers=headers).json()
            assert me["plan"]["code"] == "standard" and me["plan"]["max_streams"] == 2
            assert [(p["name"], p["kids"]) for p in me["profiles"]] == [
                ("Viewer", False),
                ("Kids", True),
            ]
            admin = c.post("/v1/auth/login", json={"email": seed.DEMO_ADMIN, "password": password})
            staff = {"Authorization": f"Bearer {admin.json()['access_token']}"}
            assert c.get("/v1/admin/jobs", headers=staff).status_code == 200
            # The TV app's public device-grant client.
            tv = c.post("/oauth/device_authorization", data={"client_id": seed.DEMO_TV_CLIENT})
            assert tv.status_code == 200 and tv.json()["user_code"]
    finally:
        rt.close()


def test_production_makes_no_demo_accounts(settings: Settings) -> None:
    from reelstack.runtime import build_runtime

    production = settings.model_copy(update={"env": "production"})
    seed.seed_demo_accounts(production, console=Console(quiet=True))
    rt = build_runtime(settings)
    try:
        assert row_counts(rt)["users"] == 0
    finally:
        rt.close()
