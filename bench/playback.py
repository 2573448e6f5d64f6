"""Benchmark: POST /v1/playback (entitlement + stream lease) at a constant request rate.

Run: .venv/bin/python bench/playback.py [--rate 200] [--seconds 20] [--database-url URL]
(or `make bench-playback`).

The API runs in its own process (uvicorn, one worker, no embedded job worker) on
loopback, on SQLite under a temporary data dir unless --database-url names another
database. The load generator is open-loop: request i is due at start + i/rate whatever
happened to earlier ones, and its latency is measured from that due time (so a stall
counts against every request queued behind it: no coordinated omission). Requests go
over keep-alive HTTP/1.1 connections from a pool, written and parsed by hand with
asyncio streams, so the generator stays cheap on a 2-core machine.

Each playback request is a signed-in household (one of --viewers, round robin, so each
holds a few live leases, as real households do) asking to play a ready title: token
verification, the login-session check, the entitlement decision, the household lock, the
live-lease count and the insert of the session row. A baseline at the same rate,
GET /healthz, shows the floor of the stack (uvicorn + middleware).

Target: playback p99 <= 25 ms at 200 requests/s, with zero errors. Exit status 1 when
missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from loadgen import cpu_s, free_port, pct, report, request_bytes, run_phase, start_api

TARGET_P99_MS = 25.0
# Streams per household in the bench plan: each viewer plays --rate * --seconds /
# --viewers times (4 with the defaults), all leases held to the end, as a Premium
# household watching on four screens would.
MAX_STREAMS = 8
ADMIN_KEY = "bench-admin-key-" + "x" * 32
PASSWORD = "bench password 123"


def _setup_data(env: dict[str, str], viewers: int) -> tuple[str, list[str]]:
    """A bench plan, a ready title and the signed-in viewers; returns the title id and
    one access token per viewer."""
    code = f"""
import json
from reelstack.config import Settings
from reelstack.db import migrate, session_scope
from reelstack.runtime import build_runtime
from reelstack.accounts import service as accounts
from reelstack.accounts.identity import build_identity
from reelstack.accounts.models import LoginSession, Profile, User
from reelstack.accounts.tokens import issue_access_token
from sqlalchemy import select
from reelstack.billing import service as billing
from reelstack.billing.models import BillingPeriod
from reelstack.catalog import service as catalog
from reelstack.assets.models import Asset, AssetStatus

settings = Settings()
migrate(settings.resolved_database_url)
rt = build_runtime(settings)
auth = build_identity(settings, rt.engine).auth
auth.ring.signing_key()  # the first key, before the transaction below writes
with session_scope(rt.sessions) as s:
    billing.create_plan(session=s, code="bench", name="Bench", price_minor=0, currency="USD",
        period=BillingPeriod.MONTH, max_streams={MAX_STREAMS}, max_profiles=5, max_devices=10,
        max_height=2160)
    asset = Asset(status=AssetStatus.READY, source_key="assets/bench/source/original.mp4",
        size_bytes=1, duration_s=60.0, width=1920, height=1080, fps=30.0, video_codec="h264",
        version=1, next_version=2, renditions=[], audio_tracks=[])
    s.add(asset)
    s.flush()
    title = catalog.create_title(session=s, title="Bench feature")
    catalog.link_asset(session=s, title_id=title.id, asset_id=asset.id)
    first = accounts.create_user(session=s, email="bench0@example.com",
        password={PASSWORD!r}, verified=True)
    billing.grant_subscription(session=s, user_id=first.id, plan_code="bench")
    # The others share the first one's argon2 hash (hashing 1000 passwords would take
    # a minute): same password, same rows as create_user makes.
    for i in range(1, {viewers}):
        user = User(email=f"bench{{i}}@example.com", password_hash=first.password_hash,
            email_verified_at=first.email_verified_at)
        s.add(user)
        s.flush()
        s.add(Profile(user_id=user.id, name=f"bench{{i}}", kids=False, maturity_ceiling=4))
        billing.grant_subscription(session=s, user_id=user.id, plan_code="bench")
    # Signed in on one device each with the profile picked, as the web app leaves them
    # (the same service calls as POST /v1/auth/login and /v1/me/profiles/{{id}}/select).
    tokens = []
    for user in s.scalars(select(User).order_by(User.email)):
        opened = accounts.open_session(session=s, auth=auth, user=user)
        login = s.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).one()
        profile = s.scalars(select(Profile).where(Profile.user_id == user.id)).first()
        login.profile_id = profile.id
        token, _ = issue_access_token(ring=auth.ring, config=auth.config, user_id=user.id,
            role=user.role, session_id=login.id, device_id=opened.device_id,
            profile_id=profile.id)
        tokens.append(token)
    print(json.dumps({{"title_id": title.id, "tokens": tokens}}))
rt.close()
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    made = json.loads(out.stdout.strip().splitlines()[-1])
    return str(made["title_id"]), [str(t) for t in made["tokens"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--workers", type=int, default=1, help="API processes (REELSTACK_API_WORKERS)"
    )
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="reelstack-bench-play-"))
    port = free_port()
    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(data),
        "REELSTACK_ADMIN_API_KEY": ADMIN_KEY,
        "REELSTACK_EMBEDDED_WORKER": "false",
        "REELSTACK_LOG_LEVEL": "WARNING",
        "REELSTACK_ACCESS_LOG_SAMPLE_RATE": "0",
        "REELSTACK_PORT": str(port),
        "REELSTACK_API_WORKERS": str(args.workers),
    }
    if args.database_url:
        env["REELSTACK_DATABASE_URL"] = args.database_url
    title_id, tokens = _setup_data(env, args.viewers)
    server = start_api(env, port)
    try:
        n = int(args.rate * args.seconds)
        print(
            f"cpu cores: {os.cpu_count()}; API processes: {args.workers}; "
            f"database: {args.database_url or 'SQLite'}"
        )
        # Warm-up (imports, caches, the first key load), not measured; the households
        # it plays for hold those leases like any other.
        # Every API process must have run the measured route (lazy caches: compiled SQL,
        # validators), so the warm-up plays too, as 300 of the households.
        body = json.dumps({"title_id": title_id}).encode()
        warm = [request_bytes("GET", "/v1/me", token=t) for t in tokens[:200]]
        warm += [request_bytes("POST", "/v1/playback", body, t) for t in tokens[:300]]
        run_phase(port, warm, 100.0, args.connections, 0)

        health = [request_bytes("GET", "/healthz")] * n
        cpu_start = cpu_s(server.pid)
        baseline = run_phase(port, health, args.rate, args.connections, 200)
        cpu_health = cpu_s(server.pid)
        plays = [
            request_bytes("POST", "/v1/playback", body, tokens[i % len(tokens)]) for i in range(n)
        ]
        playback = run_phase(port, plays, args.rate, args.connections, 201)
        cpu_play = cpu_s(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    report("GET /healthz (baseline)", baseline, args.rate)
    report("POST /v1/playback", playback, args.rate)
    p99 = pct(playback.latencies_ms, 99)
    ratio = pct(playback.latencies_ms, 50) / pct(baseline.latencies_ms, 50)
    print(f"playback p50 / baseline p50 = {ratio:.2f}")
    if args.workers == 1:
        # What one request costs the API process (all its threads, user + system time):
        # at --rate requests/s one process (one GIL) needs rate x this of one core.
        per_health = (cpu_health - cpu_start) / n * 1000
        per_play = (cpu_play - cpu_health) / n * 1000
        print(
            f"API process CPU per request: healthz {per_health:.2f} ms, playback "
            f"{per_play:.2f} ms (x {args.rate:.0f}/s = {per_play * args.rate / 1000:.2f} cores)"
        )
    ok = p99 <= TARGET_P99_MS and playback.errors == 0
    verdict = "PASS" if ok else "MISS"
    print(f"playback p99 = {p99:.2f} ms  target <= {TARGET_P99_MS:.0f} ms, 0 errors  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
