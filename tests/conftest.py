"""One fixture set for SQLite and PostgreSQL.

The suite runs on SQLite by default; ``REELSTACK_TEST_DATABASE_URL`` (a PostgreSQL URL)
runs the same tests there. Each test gets an empty, fully migrated schema.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reelstack.app import create_app
from reelstack.config import DEMO_ADMIN_API_KEY, Settings
from reelstack.db import migrate
from reelstack.media.testclips import make_test_clip
from reelstack.models import Base
from reelstack.runtime import Runtime, build_runtime

PG_URL = os.environ.get("REELSTACK_TEST_DATABASE_URL")
# The suite's admin key; send ADMIN_HEADERS on any /v1/admin call from a client of your own.
ADMIN_KEY = DEMO_ADMIN_API_KEY
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="session")
def _db_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file to copy per test, or a migrated PostgreSQL database."""
    if PG_URL:
        url = make_url(PG_URL)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        migrate(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(_db_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        engine = create_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} CASCADE"))
        engine.dispose()
        yield PG_URL
        return
    path = tmp_path / "reelstack.db"
    shutil.copyfile(_db_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        max_upload_bytes=50 * 1024 * 1024,
        worker_concurrency=1,
        job_max_attempts=2,
        admin_api_key=SecretStr(ADMIN_KEY),
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """A client that sends the admin key (``ADMIN_HEADERS``) with every request."""
    with TestClient(create_app(runtime=runtime), headers=ADMIN_HEADERS) as c:
        yield c


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny generated clips shared by the session (made once: FFmpeg is the slow part)."""
    root = tmp_path_factory.mktemp("clips")
    return {
        "landscape": make_test_clip(root / "landscape.mp4", width=320, height=180, duration_s=4),
        "portrait": make_test_clip(root / "portrait.mp4", width=180, height=320, duration_s=3),
        "audio_only": make_test_clip(root / "audio.m4a", video=False, duration_s=2),
        # Index first, so a cut file still parses and only decoding shows the damage.
        "faststart": make_test_clip(
            root / "faststart.mp4", duration_s=4, extra_args=["-movflags", "+faststart"]
        ),
    }


@contextmanager
def live_server(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port (or on ``sock``, bound
    beforehand when the app must know its URL); yields the base URL."""
    if sock is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_for_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    """Poll the job API until the job reaches a terminal state (a TestClient, or an HTTP
    client of a live server that sends the admin key)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/v1/admin/jobs/{job_id}").json()
        if job["state"] in {"succeeded", "failed", "cancelled"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s}s")


def child_job(client: TestClient, parent_id: str, kind: str = "transcode") -> dict[str, Any]:
    """The (newest) child of ``kind`` in a job graph, e.g. a process_asset's transcode."""
    kids = client.get("/v1/admin/jobs", params={"parent_id": parent_id, "kind": kind}).json()
    assert kids, f"job {parent_id} has no {kind} child"
    child: dict[str, Any] = kids[0]
    return child


def media_files(runtime: Runtime) -> list[str]:
    """Every stored object (staging excluded): used to prove nothing was left behind."""
    return [o.key for o in runtime.storage.list("assets")]


# Rows an app makes for itself at start-up (the first token-signing key), not for a request.
INFRASTRUCTURE_TABLES = frozenset({"signing_keys"})


def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows per table (start-up infrastructure left out): proves what a request left."""
    with runtime.engine.connect() as conn:
        return {
            t.name: int(conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one())
            for t in Base.metadata.sorted_tables
            if t.name not in INFRASTRUCTURE_TABLES
        }


# The fixture that gives a test the database under test: only tests that use it (directly or
# through settings, runtime, client, ...) have anything to prove on PostgreSQL.
DATABASE_FIXTURE = "database_url"
_db_free_key = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, deselect the tests that never touch the database.

    The PostgreSQL URL reaches a test only through ``database_url``, so a test without it
    in its fixture closure runs exactly as it did in the SQLite pass. Deselected, not
    skipped: a skip fails under CI=true. (A test that asks for the database with
    ``request.getfixturevalue`` must also name ``database_url`` in its signature.)
    """
    if not PG_URL:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        # ``fixturenames`` is the whole closure, so indirect use counts.
        uses_db = DATABASE_FIXTURE in getattr(item, "fixturenames", ())
        (keep if uses_db else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    config.stash[_db_free_key] = len(drop)


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    if not PG_URL:
        return None
    dropped = config.stash.get(_db_free_key, 0)
    return f"PostgreSQL pass: {dropped} test(s) that never use {DATABASE_FIXTURE} deselected"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test is a failure: CI installs everything the suite needs."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; nothing may skip in CI")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


VIEWER_PASSWORD = "correct horse battery staple"


def ensure_demo_plans(client: httpx.Client) -> None:
    """The demo's Basic, Standard and Premium plans, created through the admin API."""
    from reelstack.billing.service import DEMO_PLANS

    for code, name, price, streams, profiles, devices, height in DEMO_PLANS:
        body = {
            "code": code,
            "name": name,
            "price_minor": price,
            "currency": "USD",
            "max_streams": streams,
            "max_profiles": profiles,
            "max_devices": devices,
            "max_height": height,
        }
        resp = client.post("/v1/admin/plans", json=body, headers=ADMIN_HEADERS)
        assert resp.status_code in (201, 409), resp.text


def create_viewer(
    client: httpx.Client, email: str, *, plan: str | None = "premium", role: str = "viewer"
) -> str:
    """A verified account (through the admin API), subscribed to ``plan``; its id."""
    ensure_demo_plans(client)
    resp = client.post(
        "/v1/admin/users",
        json={"email": email, "password": VIEWER_PASSWORD, "role": role},
        headers=ADMIN_HEADERS,
    )
    assert resp.status_code == 201, resp.text
    user_id: str = resp.json()["id"]
    if plan is not None:
        sub = client.post(
            f"/v1/admin/users/{user_id}/subscriptions", json={"plan": plan}, headers=ADMIN_HEADERS
        )
        assert sub.status_code == 201, sub.text
    return user_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: httpx.Client, email: str, *, pick_profile: bool = True) -> dict[str, Any]:
    """Log in (a new device) and pick the first profile; returns the login response with
    ``headers`` (the bearer header of the profile's access token) added."""
    resp = client.post("/v1/auth/login", json={"email": email, "password": VIEWER_PASSWORD})
    assert resp.status_code == 200, resp.text
    tokens: dict[str, Any] = resp.json()
    tokens["headers"] = bearer(tokens["access_token"])
    if pick_profile:
        profiles = client.get("/v1/me/profiles", headers=tokens["headers"]).json()
        picked = client.post(
            f"/v1/me/profiles/{profiles[0]['id']}/select", json={}, headers=tokens["headers"]
        )
        assert picked.status_code == 200, picked.text
        tokens["access_token"] = picked.json()["access_token"]
        tokens["headers"] = bearer(tokens["access_token"])
    return tokens


def viewer_headers(client: httpx.Client, email: str = "viewer@test.example") -> dict[str, str]:
    """Bearer headers of a Premium viewer with a profile picked (created on first use)."""
    probe = client.post("/v1/auth/login", json={"email": email, "password": VIEWER_PASSWORD})
    if probe.status_code != 200:
        create_viewer(client, email)
    headers: dict[str, str] = sign_in(client, email)["headers"]
    return headers
