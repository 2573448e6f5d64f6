"""The admin guard: every route under /v1/admin needs the key, found from the app itself."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.testclient import TestClient

from reelstack.api import ADMIN_PREFIX
from reelstack.app import create_app
from reelstack.runtime import Runtime, build_runtime
from reelstack.security import require_admin
from tests.conftest import ADMIN_HEADERS, ADMIN_KEY


class _NoExecutor:
    def submit(self, job_id: str) -> None:
        raise AssertionError(f"an unauthenticated request submitted {job_id}")

    def cancel(self, job_id: str) -> None:
        raise AssertionError(f"an unauthenticated request cancelled {job_id}")


def admin_routes(app: FastAPI) -> list[RouteContext]:
    """Every effective route under /v1/admin, however it was included."""
    return [
        ctx
        for ctx in iter_route_contexts(app.routes)
        if ctx.path == ADMIN_PREFIX or (ctx.path or "").startswith(ADMIN_PREFIX + "/")
    ]


def admin_requests(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) for every route and method under /v1/admin."""
    found = []
    for ctx in admin_routes(app):
        concrete = re.sub(r"\{[^}]+\}", "x", ctx.path or "")
        found += [(method, concrete) for method in sorted(ctx.methods or {"GET"})]
    return found


def _guarded(ctx: RouteContext) -> bool:
    dependant = getattr(ctx, "dependant", None)
    return dependant is not None and any(
        dep.call is require_admin for dep in dependant.dependencies
    )


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime=runtime, executor=_NoExecutor())


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _assert_401(code: str, resp: httpx.Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert resp.json()["code"] == code


def test_every_admin_route_refuses_without_the_key(app: FastAPI, anonymous: TestClient) -> None:
    requests = admin_requests(app)
    # The known admin surface is all there (a route that vanished would pass silently).
    paths = {path for _, path in requests}
    assert {"/v1/admin/uploads", "/v1/admin/jobs", "/v1/admin/jobs/x/cancel"} <= paths
    for method, path in requests:
        _assert_401("unauthorized", anonymous.request(method, path))
        wrong = {"Authorization": f"Bearer {ADMIN_KEY}x"}
        _assert_401("invalid_credentials", anonymous.request(method, path, headers=wrong))
        basic = {"Authorization": "Basic YWRtaW46YWRtaW4="}
        _assert_401("unauthorized", anonymous.request(method, path, headers=basic))


def test_every_admin_route_hangs_under_the_guarded_parent(app: FastAPI) -> None:
    routes = admin_routes(app)
    assert len(routes) >= 6
    assert [ctx.path for ctx in routes if not _guarded(ctx)] == []


def test_an_admin_route_mounted_outside_the_parent_is_caught(runtime: Runtime) -> None:
    """What the two tests above catch: someone adds /v1/admin/... straight on the app."""
    app = create_app(runtime=runtime, executor=_NoExecutor())

    @app.get("/v1/admin/oops")
    def oops() -> dict[str, str]:
        return {"leaked": "yes"}

    leaked = [ctx for ctx in admin_routes(app) if ctx.path == "/v1/admin/oops"]
    assert len(leaked) == 1 and not _guarded(leaked[0])
    assert ("GET", "/v1/admin/oops") in admin_requests(app)
    with TestClient(app) as anonymous:
        assert anonymous.get("/v1/admin/oops").status_code == 200  # the leak the test finds


def test_the_right_key_passes(client: TestClient, anonymous: TestClient) -> None:
    assert client.get("/v1/admin/jobs").status_code == 200
    assert anonymous.get("/v1/admin/jobs", headers=ADMIN_HEADERS).status_code == 200
    missing = client.get("/v1/admin/jobs/none")
    assert missing.status_code == 404  # past the guard, into the route


def test_viewer_and_public_routes_need_no_key(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/v1/titles").status_code == 200
    assert anonymous.get("/metrics").status_code == 200
    # Playback needs a signed-in viewer: anonymous is refused with the reason.
    refused = anonymous.post("/v1/playback", json={"title_id": "nope"})
    assert refused.status_code == 404 or refused.json()["code"] == "not_signed_in"


def test_no_configured_key_refuses_everyone(runtime: Runtime) -> None:
    """Fail closed: an app built without a key accepts no admin request at all."""
    rt = build_runtime(runtime.settings.model_copy(update={"admin_api_key": None}))
    with TestClient(create_app(runtime=rt, executor=_NoExecutor())) as c:
        _assert_401("unauthorized", c.get("/v1/admin/jobs"))
        _assert_401("invalid_credentials", c.get("/v1/admin/jobs", headers=ADMIN_HEADERS))
        empty = {"Authorization": "Bearer "}
        _assert_401("unauthorized", c.get("/v1/admin/jobs", headers=empty))
    rt.close()


def test_openapi_declares_the_key_on_admin_operations_only(anonymous: TestClient) -> None:
    spec = anonymous.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["adminCredentials"]["scheme"].lower() == "bearer"
    assert schemes["accessToken"]["scheme"].lower() == "bearer"
    for path, ops in spec["paths"].items():
        for op in ops.values():
            security = op.get("security", [])
            admin = any("adminCredentials" in s for s in security)
            assert admin == path.startswith(ADMIN_PREFIX + "/"), path
            if admin:
                assert "401" in op["responses"]
                # Viewer tokens are not admin credentials.
                assert not any("accessToken" in s for s in security), path
