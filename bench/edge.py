"""Benchmark: media delivery through the rendered nginx edge.

Run: .venv/bin/python bench/edge.py [--seconds 10] [--viewers 1000]
(needs nginx with njs, and wrk: apt-get install nginx libnginx-mod-http-js wrk).

1. Segment delivery: wrk on loopback fetches one 1 MB segment, cached at the edge
   (signed URL, token check, cache lookup), and the same file from plain nginx static
   serving, in the same run, alternating (two rounds each, the better of each kept).
   Target: edge >= 0.9x the static throughput.
2. Origin offload: --viewers simulated viewers, each with its own playback token, fetch
   a real packaged title (master, media playlists, init segments, segments) through the
   edge, 64 at a time. Target: >= 99 % of requests from the cache, zero errors.

The origin is the real API (`reelstack api`, SQLite, local storage); the edge is the
config `reelstack edge render` writes. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx

from reelstack.delivery.edge import CONF_NAME, EdgeConfig, prepare_prefix, write_edge
from reelstack.delivery.signing import Scheme, Signer

SECRET = "bench-edge-secret-0123456789abcdef"
ADMIN_KEY = "bench-admin-key-" + "x" * 32
TARGET_RATIO = 0.9
TARGET_HIT = 0.99
SEGMENT_BYTES = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited ({proc.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start")


def _static_conf(prefix: Path, root: Path, port: int) -> Path:
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "static.conf"
    conf.write_text(
        f"""{user}worker_processes auto;
daemon off;
pid {prefix}/static.pid;
error_log {prefix}/logs/static-error.log warn;
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush on;
    # Logged like the edge (which logs every request): the same work for both.
    access_log {prefix}/logs/static-access.log;
    client_body_temp_path {prefix}/tmp/s_client;
    proxy_temp_path {prefix}/tmp/s_proxy;
    fastcgi_temp_path {prefix}/tmp/s_fastcgi;
    uwsgi_temp_path {prefix}/tmp/s_uwsgi;
    scgi_temp_path {prefix}/tmp/s_scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""
    )
    return conf


def _wrk(url: str, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{max(1, round(seconds))}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if found is None or "Non-2xx" in out:
        raise SystemExit(f"wrk failed on {url}:\n{out}")
    return float(found.group(1))


def _package(work: Path) -> Path:
    """A real packaged title (tiny ladder) to serve."""
    from reelstack.media.package import transcode_and_package
    from reelstack.media.testclips import make_test_clip

    clip = work / "clip.mp4"
    make_test_clip(clip, duration_s=12)
    out = work / "package"
    transcode_and_package(source=clip, out_dir=out, ladder="tiny", preset="ultrafast")
    return out


def _title_urls(package: Path) -> list[str]:
    """Every file a player fetches for the whole title over HLS, relative."""
    names = ["master.m3u8"]
    for playlist in sorted(package.glob("*.m3u8")):
        if playlist.name == "master.m3u8":
            continue
        names.append(playlist.name)
        for line in playlist.read_text().splitlines():
            init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', line)
            if init:
                names.append(init.group(1))
            elif line and not line.startswith("#"):
                names.append(line)
    return list(dict.fromkeys(names))


async def _viewers(
    edge: str, asset: str, names: list[str], viewers: int, signer: Signer
) -> tuple[Counter[str], int, float]:
    statuses: Counter[str] = Counter()
    errors = 0
    sem = asyncio.Semaphore(64)
    expires = datetime.now(UTC) + timedelta(hours=1)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)

    async with httpx.AsyncClient(base_url=edge, limits=limits, timeout=30) as client:

        async def viewer() -> None:
            nonlocal errors
            token = signer.token(
                asset_id=asset, version=1, session_id=uuid.uuid4().hex, expires=expires
            )
            async with sem:
                for name in names:
                    resp = await client.get(f"/s/{token}/{asset}/v1/{name}")
                    if resp.status_code != 200:
                        errors += 1
                    statuses[resp.headers.get("x-cache-status", "none")] += 1

        start = time.monotonic()
        await asyncio.gather(*(viewer() for _ in range(viewers)))
        return statuses, errors, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--scheme", choices=[x.value for x in Scheme], default="hmac")
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is not installed")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"

    work = Path(tempfile.mkdtemp(prefix="reelstack-bench-edge-"))
    data = work / "var"
    asset = uuid.uuid4().hex
    media = data / "media" / "assets" / asset / "media" / "v1"
    media.mkdir(parents=True)
    package = _package(work)
    for path in package.iterdir():
        shutil.copy(path, media / path.name)
    (media / "bench-1mb.m4s").write_bytes(os.urandom(SEGMENT_BYTES))
    # Plain nginx serves the same bytes at the same path shape (no token, no cache).
    static_root = work / "static"
    (static_root / asset / "v1").mkdir(parents=True)
    shutil.copy(media / "bench-1mb.m4s", static_root / asset / "v1" / "bench-1mb.m4s")

    api_port, edge_port, static_port = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(data),
        "REELSTACK_ADMIN_API_KEY": ADMIN_KEY,
        "REELSTACK_EMBEDDED_WORKER": "false",
        "REELSTACK_LOG_LEVEL": "WARNING",
        "REELSTACK_ACCESS_LOG_SAMPLE_RATE": "0",
        "REELSTACK_PORT": str(api_port),
        "REELSTACK_URL_SIGNING": args.scheme,
        "REELSTACK_URL_SIGNING_SECRET": SECRET,
    }
    subprocess.run([sys.executable, "-m", "reelstack", "migrate"], env=env, check=True)
    prefix = work / "edge"
    config = EdgeConfig(
        origin=f"http://127.0.0.1:{api_port}",
        cache_dir=prefix / "cache",
        listen=f"127.0.0.1:{edge_port}",
        scheme=Scheme(args.scheme),
        secret=SECRET,
        prefix=prefix,
        daemon=False,
        user="root" if os.geteuid() == 0 else None,
    )
    prepare_prefix(config)
    write_edge(config, prefix / CONF_NAME)
    static_conf = _static_conf(prefix, static_root, static_port)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen([sys.executable, "-m", "reelstack", "api"], env=env, **quiet),  # type: ignore[call-overload]
        subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / CONF_NAME)], **quiet),  # type: ignore[call-overload]
        subprocess.Popen([nginx, "-p", str(prefix), "-c", str(static_conf)], **quiet),  # type: ignore[call-overload]
    ]
    signer = Signer(Scheme(args.scheme), SECRET)
    ok = True
    try:
        _wait(f"http://127.0.0.1:{api_port}/healthz", procs[0], "the API")
        _wait(f"http://127.0.0.1:{edge_port}/edge-health", procs[1], "the edge")
        _wait(f"http://127.0.0.1:{static_port}/", procs[2], "static nginx")
        expires = datetime.now(UTC) + timedelta(hours=1)
        token = signer.token(
            asset_id=asset, version=1, session_id=uuid.uuid4().hex, expires=expires
        )
        edge_url = f"http://127.0.0.1:{edge_port}/s/{token}/{asset}/v1/bench-1mb.m4s"
        static_url = f"http://127.0.0.1:{static_port}/{asset}/v1/bench-1mb.m4s"
        first = httpx.get(edge_url)
        second = httpx.get(edge_url)
        assert len(first.content) == SEGMENT_BYTES, first.status_code
        assert second.headers.get("x-cache-status") == "HIT", second.headers
        static_rates, edge_rates = [], []
        for _ in range(2):
            static_rates.append(_wrk(static_url, args.seconds))
            edge_rates.append(_wrk(edge_url, args.seconds))
        best_static, best_edge = max(static_rates), max(edge_rates)
        ratio = best_edge / best_static
        print(
            f"cpu cores: {os.cpu_count()}; {args.scheme} tokens; 1 MiB segment, "
            f"wrk -t2 -c32 -d{args.seconds:.0f}s"
        )
        print(
            f"plain nginx static: {', '.join(f'{r:.0f}' for r in static_rates)} req/s; "
            f"edge (token check + cache HIT): {', '.join(f'{r:.0f}' for r in edge_rates)} req/s"
        )
        verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
        print(f"edge / static = {ratio:.3f}  target >= {TARGET_RATIO}  {verdict}")
        ok &= ratio >= TARGET_RATIO

        names = _title_urls(package)
        statuses, errors, took = asyncio.run(
            _viewers(f"http://127.0.0.1:{edge_port}", asset, names, args.viewers, signer)
        )
        total = sum(statuses.values())
        hit = statuses["HIT"] / total
        print(
            f"offload: {args.viewers} viewers x {len(names)} files = {total} requests in "
            f"{took:.1f} s, cache statuses {dict(statuses)}, errors {errors}"
        )
        verdict = "PASS" if hit >= TARGET_HIT and errors == 0 else "MISS"
        target = f"target >= {100 * TARGET_HIT:.0f} %, 0 errors"
        print(f"from cache: {100 * hit:.2f} %  {target}  {verdict}")
        ok &= hit >= TARGET_HIT and errors == 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
