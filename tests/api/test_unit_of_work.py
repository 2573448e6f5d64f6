"""Commit before respond: a 2xx is only sent for committed rows, and after-commit actions
run only once the commit has happened."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi import status
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelstack.app import create_app
from reelstack.catalog import service as catalog
from reelstack.catalog.models import Title
from reelstack.db import session_scope
from reelstack.deps import DbSession
from reelstack.runtime import Runtime
from reelstack.uow import on_commit, pending


class _Idle:
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> None: ...


def _titles_seen_elsewhere(runtime: Runtime) -> int:
    """Count titles on a separate engine: only committed rows are visible there."""
    engine = create_engine(runtime.settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM titles")).scalar_one())
    finally:
        engine.dispose()


def _app_with_create_route(runtime: Runtime, actions: list[str]) -> Any:
    app = create_app(runtime=runtime, executor=_Idle())

    @app.post("/test/titles", status_code=status.HTTP_201_CREATED)
    def create(session: DbSession) -> dict[str, str]:
        title = catalog.create_title(session=session, title="Committed?")
        on_commit(session, lambda: actions.append(f"after-commit {title.id}"))
        return {"id": title.id}

    return app


class _SeeAtResponseStart:
    """Looks at the database the moment the response starts, as a client would."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.seen: list[tuple[int, int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen.append((message["status"], _titles_seen_elsewhere(self.runtime)))
            await send(message)

        await self.app(scope, receive, watch if scope["type"] == "http" else send)


def test_row_is_committed_when_the_201_leaves(runtime: Runtime) -> None:
    actions: list[str] = []
    watched = _SeeAtResponseStart(_app_with_create_route(runtime, actions), runtime)
    with TestClient(watched) as c:
        resp = c.post("/test/titles")
    assert resp.status_code == 201
    # Visible from another connection before a single byte of the response was sent.
    assert watched.seen == [(201, 1)]
    assert actions == [f"after-commit {resp.json()['id']}"]


class _FailingCommit(Session):
    def commit(self) -> None:
        raise RuntimeError("disk full (simulated) at commit")


def test_failed_commit_is_a_500_and_no_row(runtime: Runtime) -> None:
    broken = dataclasses.replace(
        runtime,
        sessions=sessionmaker(bind=runtime.engine, class_=_FailingCommit, expire_on_commit=False),
    )
    actions: list[str] = []
    with TestClient(_app_with_create_route(broken, actions)) as c:
        resp = c.post("/test/titles")
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "internal_error"
    assert _titles_seen_elsewhere(runtime) == 0
    assert actions == []  # nothing was submitted for a row that does not exist


def test_error_in_the_endpoint_rolls_back_and_drops_actions(runtime: Runtime) -> None:
    actions: list[str] = []
    app = create_app(runtime=runtime, executor=_Idle())

    @app.post("/test/half")
    def half(session: DbSession) -> None:
        catalog.create_title(session=session, title="Half done")
        session.flush()
        on_commit(session, lambda: actions.append("ran"))
        catalog.get_title(session=session, title_id="missing")  # raises NotFound (404)

    with TestClient(app) as c:
        resp = c.post("/test/half")
    assert resp.status_code == 404
    assert _titles_seen_elsewhere(runtime) == 0
    assert actions == []


def test_on_commit_runs_after_commit_only(runtime: Runtime) -> None:
    ran: list[str] = []
    with session_scope(runtime.sessions) as s:
        catalog.create_title(session=s, title="A")
        on_commit(s, lambda: ran.append(f"seen {_titles_seen_elsewhere(runtime)}"))
        assert pending(s) == 1 and ran == []
    assert ran == ["seen 1"]

    with pytest.raises(RuntimeError), session_scope(runtime.sessions) as s:
        catalog.create_title(session=s, title="B")
        on_commit(s, lambda: ran.append("rolled back"))
        raise RuntimeError("abort")
    assert ran == ["seen 1"]


def test_savepoint_release_is_not_the_commit(runtime: Runtime) -> None:
    ran: list[str] = []
    with session_scope(runtime.sessions) as s:
        on_commit(s, lambda: ran.append("outer committed"))
        with s.begin_nested():
            catalog.create_title(session=s, title="Nested")
        assert ran == []  # releasing the SAVEPOINT committed nothing durable
    assert ran == ["outer committed"]


def test_a_failing_action_is_logged_and_the_rest_run(runtime: Runtime) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("executor unreachable")

    with session_scope(runtime.sessions) as s:
        catalog.create_title(session=s, title="C")
        on_commit(s, broken)
        on_commit(s, lambda: ran.append("second"))
    assert ran == ["second"]
    with session_scope(runtime.sessions) as s:
        assert s.scalar(select(func.count()).select_from(Title)) == 1


def test_session_reused_after_commit_starts_clean(runtime: Runtime) -> None:
    ran: list[str] = []
    s = runtime.sessions()
    try:
        on_commit(s, lambda: ran.append("first"))
        s.commit()
        s.execute(text("SELECT 1"))
        s.commit()
        assert ran == ["first"]
    finally:
        s.close()
