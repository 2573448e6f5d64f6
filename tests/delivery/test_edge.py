"""The nginx edge against the real origin: real nginx on loopback, the app under uvicorn.

Each edge is started from the rendered config (``reelstack.delivery.edge``) in a temp
prefix and stopped after; the origin app is wrapped in a counter of the requests that
reach it, so the tests see what the cache saved."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send
from typer.testing import CliRunner

from reelstack.app import create_app
from reelstack.cli.main import app as cli_app
from reelstack.config import Settings, get_settings
from reelstack.delivery.edge import (
    CONF_NAME,
    NJS_NAME,
    EdgeConfig,
    prepare_prefix,
    render_edge,
    write_edge,
)
from reelstack.delivery.signing import COOKIE_NAME, Scheme, Signer
from reelstack.runtime import Runtime
from tests.conftest import ADMIN_HEADERS, live_server

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx libnginx-mod-http-js)"
)

SECRET = "edge-test-secret_0123456789"
ASSET = "0123456789abcdef0123456789abcdef"
OTHER_ASSET = "fedcba9876543210fedcba9876543210"
SEGMENT = "seg-0-00001.m4s"


class CountingApp:
    """ASGI middleware: how many requests reached the origin, per path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.hits: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.hits[scope["path"]] += 1
        await self.app(scope, receive, send)

    def fetches(self, asset: str, version: int, name: str) -> int:
        """Requests for one file, whatever their token."""
        tail = f"/{asset}/v{version}/{name}"
        return sum(n for path, n in self.hits.items() if path.endswith(tail))


@dataclass
class Edge:
    url: str
    prefix: Path
    conf: Path

    def log(self, name: str = "error.log") -> str:
        path = self.prefix / "logs" / name
        return path.read_text() if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _edge_config(prefix: Path, upstream: str, scheme: Scheme, **extra: object) -> EdgeConfig:
    options: dict[str, object] = {
        "origin": upstream,
        "cache_dir": prefix / "cache",
        "listen": f"127.0.0.1:{_free_port()}",
        "scheme": scheme,
        "secret": SECRET,
        "prefix": prefix,
        "daemon": False,
        "workers": 2,
        # Started as root, workers would be "nobody", who cannot enter pytest's 0700 dirs.
        "user": "root" if os.geteuid() == 0 else None,
        # The tests read the access log right after a request: unbuffered.
        "log_flush_s": 0,
    }
    options.update(extra)
    return EdgeConfig(**options)  # type: ignore[arg-type]


@contextmanager
def running_edge(
    prefix: Path, upstream: str, scheme: Scheme, *, shield: str | None = None, **extra: object
) -> Iterator[Edge]:
    """nginx with the rendered config, in the foreground under ``prefix``."""
    assert NGINX is not None
    config = _edge_config(prefix, upstream, scheme, shield=shield, **extra)
    conf = prefix / CONF_NAME
    prepare_prefix(config)
    write_edge(config, conf)
    edge = Edge(url=f"http://{config.listen}", prefix=prefix, conf=conf)
    with (prefix / "logs" / "stderr.log").open("wb") as stderr:
        proc = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, f"nginx exited: {edge.log('stderr.log')}"
            try:
                if httpx.get(f"{edge.url}/edge-health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"nginx did not start: {edge.log()}"
            time.sleep(0.05)
        yield edge
    finally:
        proc.send_signal(signal.SIGTERM)  # fast shutdown
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    assert "[emerg]" not in edge.log() and "[alert]" not in edge.log(), edge.log()


def _token(
    scheme: Scheme,
    *,
    asset: str = ASSET,
    version: int = 1,
    expires_in: float = 3600,
    secret: str = SECRET,
    session: str | None = None,
) -> str:
    return Signer(scheme, secret).token(
        asset_id=asset,
        version=version,
        session_id=session or uuid.uuid4().hex,
        expires=datetime.now(UTC) + timedelta(seconds=expires_in),
    )


def _url(
    base: str, token: str, name: str = SEGMENT, *, asset: str = ASSET, version: int = 1
) -> str:
    return f"{base}/s/{token}/{asset}/v{version}/{name}"


def _put(runtime: Runtime, name: str, data: bytes, *, asset: str = ASSET, version: int = 1) -> None:
    runtime.storage.put_stream(f"assets/{asset}/media/v{version}/{name}", [data])


@pytest.fixture
def scheme(request: pytest.FixtureRequest) -> Scheme:
    return Scheme(getattr(request, "param", Scheme.HMAC))


@pytest.fixture
def settings(settings: Settings, scheme: Scheme) -> Settings:
    """The suite's settings, signing media URLs with ``scheme`` and the edge's secret."""
    return settings.model_copy(
        update={"url_signing": scheme.value, "url_signing_secret": SecretStr(SECRET)}
    )


@pytest.fixture
def origin(runtime: Runtime) -> Iterator[tuple[str, CountingApp]]:
    counting = CountingApp(create_app(runtime=runtime))
    with live_server(counting) as base:
        yield base, counting


@pytest.fixture
def edge(tmp_path: Path, origin: tuple[str, CountingApp], scheme: Scheme) -> Iterator[Edge]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx libnginx-mod-http-js)")
    with running_edge(tmp_path / "edge", origin[0], scheme) as running:
        yield running


BOTH = pytest.mark.parametrize("scheme", list(Scheme), indirect=True)


# --- the renderer and the command ------------------------------------------------------


def test_renderer_refuses_what_would_break_the_config(tmp_path: Path) -> None:
    good = _edge_config(tmp_path, "http://127.0.0.1:8000", Scheme.MD5)
    assert "proxy_cache_lock on;" in render_edge(good).conf
    for secret in (
        "short",
        'quote"inside-secret',
        "semi;colon-secret-x",
        "space inside secret",
        "d$llar-secret-here",
        "new\nline-secret-here",
    ):
        with pytest.raises(ValueError, match="secret"):
            render_edge(_edge_config(tmp_path, "http://127.0.0.1:8000", Scheme.MD5, secret=secret))
    for origin in ("ftp://x", "http://x/path", "http://u:p@x", "http://x?q=1", "http://a b"):
        with pytest.raises(ValueError, match="upstream"):
            render_edge(_edge_config(tmp_path, origin, Scheme.HMAC))
    for listen in ("127.0.0.1:80; include /etc/passwd", "a b:80", ""):
        with pytest.raises(ValueError, match="listen"):
            render_edge(_edge_config(tmp_path, "http://x", Scheme.HMAC, listen=listen))
    with pytest.raises(ValueError, match="cache dir"):
        render_edge(_edge_config(tmp_path, "http://x", Scheme.HMAC, cache_dir=Path("/a b")))


def test_config_never_keys_the_cache_on_the_token(tmp_path: Path) -> None:
    for scheme in Scheme:
        files = render_edge(_edge_config(tmp_path, "http://127.0.0.1:8000", scheme))
        assert 'proxy_cache_key "$asset/v$ver/$file$slice_range:g$asset_generation";' in files.conf
        assert "$token" not in next(
            line for line in files.conf.splitlines() if "proxy_cache_key" in line
        )
        assert (files.njs is not None) is (scheme is Scheme.HMAC)
        assert ("secure_link_md5" in files.conf) is (scheme is Scheme.MD5)


def test_edge_render_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELSTACK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("REELSTACK_URL_SIGNING", "hmac")
    monkeypatch.setenv("REELSTACK_URL_SIGNING_SECRET", SECRET)
    get_settings.cache_clear()
    try:
        args = ["edge", "render", "--origin", "http://127.0.0.1:8000", "--listen", "8080"]
        shown = CliRunner().invoke(cli_app, [*args, "--cache-dir", str(tmp_path / "c")])
        assert shown.exit_code == 0, shown.output
        assert "proxy_cache_lock on;" in shown.stdout
        assert f'js_var $edge_signing_secret "{SECRET}";' in shown.stdout
        out = tmp_path / "conf" / "edge.conf"
        wrote = CliRunner().invoke(
            cli_app, [*args, "--cache-dir", str(tmp_path / "c"), "--out", str(out)]
        )
        assert wrote.exit_code == 0, wrote.output
        assert "proxy_cache_lock on;" in out.read_text()
        assert f"pid {out.parent}/nginx.pid;" in out.read_text()
        assert "checkToken" in (out.parent / NJS_NAME).read_text()
        assert out.stat().st_mode & 0o077 == 0  # it holds the secret
        refused = CliRunner().invoke(cli_app, [*args, "--cache-dir", "relative dir"])
        assert refused.exit_code == 2
        monkeypatch.setenv("REELSTACK_URL_SIGNING", "off")
        get_settings.cache_clear()
        off = CliRunner().invoke(cli_app, [*args, "--cache-dir", str(tmp_path / "c")])
        assert off.exit_code == 2
    finally:
        get_settings.cache_clear()


@needs_nginx
@pytest.mark.parametrize("shield", [None, "http://127.0.0.1:9"])
@pytest.mark.parametrize("scheme", list(Scheme))
def test_rendered_config_passes_nginx_t(tmp_path: Path, scheme: Scheme, shield: str | None) -> None:
    assert NGINX is not None
    config = _edge_config(tmp_path, "http://127.0.0.1:8000", scheme, shield=shield)
    prepare_prefix(config)
    write_edge(config, tmp_path / CONF_NAME)
    done = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / CONF_NAME)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


# --- the edge in front of the origin ---------------------------------------------------


@needs_nginx
def test_health(edge: Edge) -> None:
    resp = httpx.get(f"{edge.url}/edge-health")
    assert resp.status_code == 200
    assert resp.text == "ok\n"
    for path in ("/", "/media/x/v1/seg.m4s", "/s/", "/healthz"):
        assert httpx.get(f"{edge.url}{path}").status_code == 404, path


@needs_nginx
@BOTH
def test_miss_then_hit_whatever_the_session(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    data = os.urandom(300_000)
    _put(runtime, SEGMENT, data)
    url = _url(edge.url, _token(scheme))
    first = httpx.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache-status"] == "MISS"
    assert first.content == data
    again = httpx.get(url)
    assert again.headers["x-cache-status"] == "HIT"
    assert again.content == data
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert again.headers["etag"] == first.headers["etag"]
    # Another viewer (another session, another token): the same cached copy.
    other = httpx.get(_url(edge.url, _token(scheme)))
    assert other.status_code == 200
    assert other.headers["x-cache-status"] == "HIT"
    assert other.content == data
    assert origin[1].fetches(ASSET, 1, SEGMENT) == 1
    head = httpx.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))
    # The access log keeps the session, never the signature.
    log = edge.log("access.log")
    assert "cache=HIT" in log and url.split("/")[4].rsplit(".", 1)[1] not in log


@needs_nginx
def test_concurrent_misses_make_one_origin_request(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    data = os.urandom(500_000)
    _put(runtime, "seg-0-00002.m4s", data)

    def fetch(_: int) -> tuple[int, bytes]:
        resp = httpx.get(_url(edge.url, _token(scheme), "seg-0-00002.m4s"), timeout=30)
        return resp.status_code, resp.content

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(fetch, range(20)))
    assert results == [(200, data)] * 20
    assert origin[1].fetches(ASSET, 1, "seg-0-00002.m4s") == 1


@needs_nginx
@BOTH
def test_bad_tokens_stop_at_the_edge(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    _put(runtime, SEGMENT, b"x" * 1000)
    _put(runtime, SEGMENT, b"y" * 1000, version=2)
    good = _token(scheme)
    sig = good.rsplit(".", 1)[1]
    tampered = good[: -len(sig)] + sig[:5] + ("B" if sig[5] == "A" else "A") + sig[6:]
    cases = {
        tampered: 403,
        _token(scheme, expires_in=-60): 410,
        _token(scheme, asset=OTHER_ASSET): 403,
        _token(scheme, version=2): 403,
    }
    for token, status in cases.items():
        resp = httpx.get(_url(edge.url, token))
        assert resp.status_code == status, token
        assert resp.headers["content-type"] == "application/problem+json"
        code = {403: "invalid_url_token", 410: "url_token_expired"}[status]
        assert resp.json()["code"] == code
    assert origin[1].hits.total() == 0
    # A valid token opens its own version only, and an expired one after a hit still not.
    assert httpx.get(_url(edge.url, good)).status_code == 200
    assert httpx.get(_url(edge.url, _token(scheme, expires_in=-60))).status_code == 410


def _vectors(scheme: Scheme) -> dict[str, tuple[str, int]]:
    """Token test vectors for ASSET/v1/SEGMENT: name -> (token, expected status)."""
    good = _token(scheme)
    head, sig = good.rsplit(".", 1)
    flip = "B" if sig[7] == "A" else "A"
    # The last base64url character carries unused bits: a different character there
    # decodes to the same bytes, yet is not the signature the origin made.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # (MD5: 4 bits, HMAC-SHA256: 2; a signature's own last character has them all 0).
    noncanonical = last[last.index(sig[-1]) + 1]
    other = Scheme.MD5 if scheme is Scheme.HMAC else Scheme.HMAC
    return {
        "good": (good, 200),
        "good, other session": (_token(scheme), 200),
        "tampered signature": (f"{head}.{sig[:7]}{flip}{sig[8:]}", 403),
        "non-canonical signature": (f"{head}.{sig[:-1]}{noncanonical}", 403),
        "truncated signature": (f"{head}.{sig[:-1]}", 403),
        "tampered session": (f"{head[:-1]}{'0' if head[-1] != '0' else '1'}.{sig}", 403),
        "later expiry": (f"{int(head.split('.')[0]) + 1}.{good.split('.', 1)[1]}", 403),
        "expired": (_token(scheme, expires_in=-120), 410),
        "wrong asset": (_token(scheme, asset=OTHER_ASSET), 403),
        "wrong version": (_token(scheme, version=2), 403),
        "other secret": (_token(scheme, secret="another-secret-0123456789"), 403),
        "other scheme": (_token(other), 403),
        "malformed": ("not-a-token", 403),
        "empty parts": ("1..", 403),
        "uppercase session": (good.upper(), 403),
    }


@needs_nginx
@BOTH
def test_edge_and_origin_agree_on_every_token(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    data = b"segment bytes " * 100
    _put(runtime, SEGMENT, data)
    vectors = _vectors(scheme)
    at_edge = {
        name: httpx.get(_url(edge.url, tok)).status_code for name, (tok, _) in vectors.items()
    }
    # Only the first good token reached the origin (a miss); the second was a hit.
    assert origin[1].hits.total() == 1
    at_origin = {
        name: httpx.get(_url(origin[0], tok)).status_code for name, (tok, _) in vectors.items()
    }
    expected = {name: status for name, (_, status) in vectors.items()}
    assert at_origin == expected
    assert at_edge == expected


def _cookie_get(
    base: str, token: str | None, name: str = SEGMENT, **headers: str
) -> httpx.Response:
    """GET /m/<asset>/v1/<name> with the signed media cookie (or none)."""
    if token is not None:
        headers["Cookie"] = f"{COOKIE_NAME}={token}"
    return httpx.get(f"{base}/m/{ASSET}/v1/{name}", headers=headers)


@needs_nginx
@BOTH
def test_signed_cookies_agree_with_path_tokens_and_share_the_cache(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    data = b"cookie bytes " * 100
    _put(runtime, SEGMENT, data)
    vectors = _vectors(scheme)
    at_edge = {name: _cookie_get(edge.url, tok).status_code for name, (tok, _) in vectors.items()}
    # Only the first good cookie reached the origin (a miss); the second was a hit.
    assert origin[1].fetches(ASSET, 1, SEGMENT) == 1
    at_origin = {
        name: _cookie_get(origin[0], tok).status_code for name, (tok, _) in vectors.items()
    }
    expected = {name: status for name, (_, status) in vectors.items()}
    assert at_origin == expected
    assert at_edge == expected
    # One cached copy for both forms: the path form is a hit after the cookie's miss.
    path_form = httpx.get(_url(edge.url, _token(scheme)))
    assert path_form.headers["x-cache-status"] == "HIT" and path_form.content == data
    cookie_form = _cookie_get(edge.url, _token(scheme))
    assert cookie_form.headers["x-cache-status"] == "HIT" and cookie_form.content == data
    for base in (edge.url, origin[0]):
        missing = _cookie_get(base, None)
        assert missing.status_code == 403, base
        assert missing.json()["code"] == "media_cookie_required", base
    # The cookie never reaches the access log.
    assert _token(scheme).split(".")[2][:10] not in edge.log("access.log")


@needs_nginx
def test_cookie_media_answers_cors_with_credentials_for_listed_origins_only(
    tmp_path: Path, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    _put(runtime, SEGMENT, b"z" * 500)
    with running_edge(
        tmp_path / "edge", origin[0], scheme, cookie_origins=("http://app.test:8000",)
    ) as edge:
        listed = _cookie_get(edge.url, _token(scheme), Origin="http://app.test:8000")
        assert listed.status_code == 200
        assert listed.headers["access-control-allow-origin"] == "http://app.test:8000"
        assert listed.headers["access-control-allow-credentials"] == "true"
        assert listed.headers["vary"] == "Origin"
        other = _cookie_get(edge.url, _token(scheme), Origin="http://evil.test")
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
        # Path tokens need no credentials: any page.
        path_form = httpx.get(_url(edge.url, _token(scheme)), headers={"Origin": "http://x.test"})
        assert path_form.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in path_form.headers
    with pytest.raises(ValueError):
        render_edge(_edge_config(tmp_path, origin[0], scheme, cookie_origins=("app.test",)))


@needs_nginx
def test_range_requests_are_served_from_slices(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    mib = 1024 * 1024
    data = os.urandom(2 * mib + 12345)  # three 1 MiB slices
    _put(runtime, "video.mp4", data)
    url = _url(edge.url, _token(scheme), "video.mp4")
    # Across the first slice boundary: two slices fetched.
    resp = httpx.get(url, headers={"Range": f"bytes={mib - 100}-{mib + 99}"})
    assert resp.status_code == 206
    assert resp.headers["content-range"] == f"bytes {mib - 100}-{mib + 99}/{len(data)}"
    assert resp.content == data[mib - 100 : mib + 100]
    assert origin[1].fetches(ASSET, 1, "video.mp4") == 2
    # Inside a cached slice: nothing new upstream.
    inside = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert inside.status_code == 206
    assert inside.content == data[10:20]
    assert inside.headers["x-cache-status"] == "HIT"
    assert origin[1].fetches(ASSET, 1, "video.mp4") == 2
    # The last bytes (a suffix range), then the whole file: only the third slice is new.
    tail = httpx.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206
    assert tail.content == data[-10:]
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert origin[1].fetches(ASSET, 1, "video.mp4") == 3


@needs_nginx
def test_api_passes_through_uncached(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime
) -> None:
    for _ in range(2):
        resp = httpx.get(f"{edge.url}/v1/admin/jobs", headers=ADMIN_HEADERS)
        assert resp.status_code == 200
        assert "x-cache-status" not in resp.headers
    assert origin[1].hits["/v1/admin/jobs"] == 2
    assert httpx.get(f"{edge.url}/v1/admin/jobs").status_code == 401


@needs_nginx
def test_edges_fill_from_a_shield(
    tmp_path: Path, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    data = os.urandom(200_000)
    _put(runtime, SEGMENT, data)
    with (
        running_edge(tmp_path / "shield", origin[0], scheme) as shield,
        running_edge(tmp_path / "e1", origin[0], scheme, shield=shield.url) as first,
        running_edge(tmp_path / "e2", origin[0], scheme, shield=shield.url) as second,
    ):
        one = httpx.get(_url(first.url, _token(scheme)))
        two = httpx.get(_url(second.url, _token(scheme)))
        assert (one.status_code, two.status_code) == (200, 200)
        assert one.content == two.content == data
        # One status a tier, the shield's first: the second edge missed, the shield hit.
        assert one.headers["x-cache-status"] == "MISS, MISS"
        assert two.headers["x-cache-status"] == "HIT, MISS"
        again = httpx.get(_url(second.url, _token(scheme)))
        assert again.headers["x-cache-status"] == "HIT, HIT"
        assert origin[1].fetches(ASSET, 1, SEGMENT) == 1
        # The shield refuses on its own, too.
        assert httpx.get(_url(shield.url, _token(scheme, expires_in=-60))).status_code == 410


@needs_nginx
def _start_edge_run(tmp_path: Path, scheme: Scheme, args: list[str]) -> subprocess.Popen[bytes]:
    """`reelstack edge run` as its own process (the real command), logging to run.log."""
    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(tmp_path / "var"),
        "REELSTACK_URL_SIGNING": scheme.value,
        "REELSTACK_URL_SIGNING_SECRET": SECRET,
    }
    args = [*args, "--prefix", str(tmp_path / "edge"), "--cache-dir", str(tmp_path / "cache")]
    if os.geteuid() == 0:
        args += ["--user", "root"]
    with (tmp_path / "run.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "reelstack", "edge", "run", *args],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


def _until(tmp_path: Path, proc: subprocess.Popen[bytes], check: Any, what: str) -> Any:
    """Poll ``check()`` until it returns something true (10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        assert proc.poll() is None, (tmp_path / "run.log").read_text()
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: {(tmp_path / 'run.log').read_text()}"
        time.sleep(0.1)


def test_edge_run_applies_purges_and_revocations_from_the_feed(
    tmp_path: Path, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    from reelstack.assets import purges
    from reelstack.assets.schemas import PurgeAction
    from reelstack.db import session_scope

    _put(runtime, SEGMENT, b"purge" * 1000)
    listen = f"127.0.0.1:{_free_port()}"
    url = _url(f"http://{listen}", _token(scheme))
    args = ["--origin", origin[0], "--listen", listen, "--api-url", origin[0]]
    args += ["--api-key", ADMIN_HEADERS["Authorization"].split()[1], "--poll-s", "0.3"]
    proc = _start_edge_run(tmp_path, scheme, args)
    try:
        first = _until(tmp_path, proc, lambda: httpx.get(url, timeout=1), "edge up")
        assert first.headers["x-cache-status"] == "MISS"
        assert httpx.get(url).headers["x-cache-status"] == "HIT"
        with session_scope(runtime.sessions) as s:
            purges.record(session=s, asset_id=ASSET, action=PurgeAction.PURGE)
        # Within the poll period and a reload, the cached copy is no longer found.
        refetched = _until(
            tmp_path,
            proc,
            lambda: (r := httpx.get(url)).headers.get("x-cache-status") == "MISS" and r,
            "purge applied",
        )
        assert refetched.content == b"purge" * 1000
        assert httpx.get(url).headers["x-cache-status"] == "HIT"
        with session_scope(runtime.sessions) as s:
            purges.record(session=s, asset_id=ASSET, action=PurgeAction.REVOKE)
        gone = _until(
            tmp_path, proc, lambda: (r := httpx.get(url)).status_code == 410 and r, "revoked"
        )
        assert gone.json()["code"] == "media_revoked"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, (tmp_path / "run.log").read_text()
    # A restarted edge resumes from its saved state: still revoked.
    state = (tmp_path / "edge" / "purges.json").read_text()
    assert ASSET in state


def test_edge_run_serves_in_the_foreground(
    tmp_path: Path, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    _put(runtime, SEGMENT, b"run" * 1000)
    listen = f"127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(tmp_path / "var"),
        "REELSTACK_URL_SIGNING": scheme.value,
        "REELSTACK_URL_SIGNING_SECRET": SECRET,
    }
    args = ["--origin", origin[0], "--listen", listen, "--prefix", str(tmp_path / "edge")]
    args += ["--cache-dir", str(tmp_path / "cache")]
    if os.geteuid() == 0:
        args += ["--user", "root"]
    with (tmp_path / "run.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reelstack", "edge", "run", *args],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            try:
                resp = httpx.get(_url(f"http://{listen}", _token(scheme)), timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
                time.sleep(0.1)
        assert resp.status_code == 200
        assert resp.content == b"run" * 1000
    finally:
        proc.send_signal(signal.SIGTERM)  # nginx itself (exec'd): a fast shutdown
        assert proc.wait(10) == 0
    assert (tmp_path / "edge" / CONF_NAME).is_file()


def test_blocked_countries_are_refused_at_the_edge(
    tmp_path: Path, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    _put(runtime, SEGMENT, b"geo" * 100)
    with running_edge(
        tmp_path / "edge",
        origin[0],
        scheme,
        country_header="X-Viewer-Country",
        blocked_countries=("CN", "kp"),
    ) as edge:
        url = _url(edge.url, _token(scheme))
        refused = httpx.get(url, headers={"X-Viewer-Country": "KP"})
        assert refused.status_code == 403 and refused.json()["code"] == "region_blocked"
        assert httpx.get(url, headers={"X-Viewer-Country": "US"}).status_code == 200
        assert httpx.get(url).status_code == 200  # no country stated: not blocked
    assert origin[1].fetches(ASSET, 1, SEGMENT) == 1


def test_one_cached_copy_whatever_the_origin_header_and_posters_pass(
    edge: Edge, origin: tuple[str, CountingApp], runtime: Runtime, scheme: Scheme
) -> None:
    _put(runtime, SEGMENT, b"vary" * 100)
    _put(runtime, "poster.jpg", b"\xff\xd8jpeg")
    url = _url(edge.url, _token(scheme))
    web = httpx.get(url, headers={"Origin": "https://watch.example"})
    assert web.headers["x-cache-status"] == "MISS"
    assert web.headers["access-control-allow-origin"] == "*" and "vary" not in web.headers
    # An app (no Origin) and another site get the same copy.
    assert httpx.get(url).headers["x-cache-status"] == "HIT"
    other = httpx.get(url, headers={"Origin": "https://other.example"})
    assert other.headers["x-cache-status"] == "HIT"
    assert other.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" not in other.headers
    assert origin[1].fetches(ASSET, 1, SEGMENT) == 1
    poster = f"{edge.url}/media/{ASSET}/v1/poster.jpg"
    first, second = httpx.get(poster), httpx.get(poster)
    assert first.status_code == 200 and first.content == b"\xff\xd8jpeg"
    assert second.headers["x-cache-status"] == "HIT"
