"""/metrics: route templates (not raw paths), job figures, and sampled access logs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from reelstack import metrics
from reelstack.app import create_app
from reelstack.logs import configure_logging
from reelstack.middleware import RequestContext
from reelstack.runtime import Runtime


def _samples(text: str, name: str) -> list[dict[str, str]]:
    return [
        dict(sample.labels)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_requests_are_counted_by_route_template(client: TestClient) -> None:
    client.get("/v1/titles/some-title-id")
    client.get("/media/abc123/v1/seg_0001.m4s")
    client.get("/v1/admin/jobs/job-42")
    client.get("/no/such/route")
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    counted = _samples(resp.text, "reelstack_http_requests_total")
    routes = {(s["route"], s["status"]) for s in counted}
    assert ("/v1/titles/{title_id}", "404") in routes
    # Refused without a signed token (403), counted under its template all the same.
    assert ("/media/{asset_id}/{path:path}", "403") in routes
    assert ("/v1/admin/jobs/{job_id}", "404") in routes
    assert ("unmatched", "404") in routes
    assert not any("some-title-id" in s["route"] or "abc123" in s["route"] for s in counted)
    latency = _samples(resp.text, "reelstack_http_request_duration_seconds_count")
    assert {"method": "GET", "route": "/v1/titles/{title_id}"} in latency


def test_job_metrics_are_exposed(client: TestClient) -> None:
    metrics.observe_job("transcode", "succeeded", 12.5)
    metrics.observe_realtime_factor(3.2)
    text = client.get("/metrics").text
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"reelstack_jobs", "reelstack_job_duration_seconds"} <= names
    assert "reelstack_ffmpeg_realtime_factor" in names
    durations = _samples(text, "reelstack_job_duration_seconds_count")
    assert {"kind": "transcode", "outcome": "succeeded"} in durations


def test_jobs_gauge_counts_at_scrape_time_and_survives_a_db_error() -> None:
    rows = [("transcode", "queued", 2)]
    app_metrics = metrics.AppMetrics(job_counts=lambda: rows)
    text = app_metrics.render().decode()
    assert 'reelstack_jobs{kind="transcode",state="queued"} 2.0' in text
    rows = [("transcode", "queued", 0), ("transcode", "running", 1)]
    assert 'reelstack_jobs{kind="transcode",state="running"} 1.0' in app_metrics.render().decode()

    def broken() -> list[tuple[str, str, int]]:
        raise RuntimeError("database gone")

    text = metrics.AppMetrics(job_counts=broken).render().decode()
    assert "reelstack_http_requests" in text  # the rest of the scrape still answers


def test_two_apps_in_one_process_do_not_clash(runtime: Runtime) -> None:
    first, second = create_app(runtime=runtime), create_app(runtime=runtime)
    assert first.state.metrics.registry is not second.state.metrics.registry


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("ok")(scope, receive, send)


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_access_log_sampling(rate: float, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    sampled = ["/metrics", "/healthz", "/media/a1/v1/seg_0001.m4s"]
    always = ["/v1/titles", "/media/a1/v1/master.m3u8", "/readyz"]
    c = TestClient(RequestContext(_ok, sample_rate=rate))  # no lifespan: a bare ASGI app
    for path in sampled + always:
        assert c.get(path).status_code == 200
    lines = [line for line in capsys.readouterr().err.splitlines() if "request " in line]
    logged = {path for path in sampled + always if any(f"path={path} " in ln for ln in lines)}
    assert logged == (set(always) if rate == 0.0 else set(sampled + always))


def test_sampling_never_hides_errors(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()

    async def missing(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("gone", status_code=404)(scope, receive, send)

    TestClient(RequestContext(missing, sample_rate=0.0)).get("/media/a1/v1/seg_0009.m4s")
    assert "seg_0009.m4s" in capsys.readouterr().err


def test_sample_rate_setting_reaches_the_app(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = runtime.settings.model_copy(update={"access_log_sample_rate": 0.0})
    app = create_app(quiet, runtime=runtime)
    with TestClient(app) as c:
        c.get("/healthz")
        c.get("/v1/titles")
    err = capsys.readouterr().err
    assert "path=/v1/titles" in err
    assert "path=/healthz" not in err
