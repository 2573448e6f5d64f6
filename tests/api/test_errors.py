"""An unhandled error leaves as a 500 problem+json with the request id and CORS headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import viewer_headers

ORIGIN = "http://player.example"


class _Idle:
    def submit(self, job_id: str) -> None: ...

    def cancel(self, job_id: str) -> None: ...


def test_unhandled_error_is_problem_json_with_id_and_cors(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = build_runtime(runtime.settings.model_copy(update={"cors_allow_origins": ORIGIN}))
    app = create_app(runtime=rt, executor=_Idle())

    @app.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("kaboom: a bug in a handler")

    with TestClient(app) as c:
        resp = c.get("/test/boom", headers={"Origin": ORIGIN, "X-Request-ID": "req-500-check"})
    rt.close()
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == "internal_error"
    assert "kaboom" not in resp.text  # no internals leak to the client
    assert resp.headers["x-request-id"] == "req-500-check"
    assert resp.headers["access-control-allow-origin"] == ORIGIN

    lines = capsys.readouterr().err.splitlines()
    unhandled = [line for line in lines if "request.unhandled" in line]
    assert unhandled and "req-500-check" in unhandled[0]
    assert any("kaboom" in line for line in lines)  # the traceback is in the log
    access = [line for line in lines if "request " in line and "/test/boom" in line]
    assert access and "status=500" in access[0] and "req-500-check" in access[0]


def test_generated_request_id_matches_the_log(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(runtime=runtime, executor=_Idle())

    @app.get("/test/boom")
    def boom() -> None:
        raise ValueError("broken")

    with TestClient(app) as c:
        resp = c.get("/test/boom")
    request_id = resp.headers["x-request-id"]
    assert resp.status_code == 500 and len(request_id) == 32
    err = capsys.readouterr().err
    assert any("request.unhandled" in line and request_id in line for line in err.splitlines())


def test_value_the_database_refuses_is_400_not_500(client: TestClient) -> None:
    # PostgreSQL text cannot hold NUL; SQLite can. Either way, never a 5xx.
    for resp in (
        client.get("/v1/titles", params={"q": "a\x00b"}),
        client.get("/v1/titles/a%00b"),
        client.post("/v1/playback", json={"title_id": "a\u0000b"}, headers=viewer_headers(client)),
    ):
        assert resp.status_code in {200, 400, 404}, resp.text
        assert resp.status_code < 500
