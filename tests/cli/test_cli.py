"""The reelstack command as a user runs it: a real process, real signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reelstack.media.testclips import make_test_clip
from tests.procs import live_ffmpeg

pytestmark = pytest.mark.e2e

REELSTACK = [sys.executable, "-m", "reelstack"]


def test_package_prints_manifest_paths(tmp_path: Path, clips: dict[str, Path]) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [*REELSTACK, "package", str(clips["landscape"]), "--out", str(out), "--ladder", "tiny"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"HLS master: {out / 'master.m3u8'}" in done.stdout
    assert f"DASH MPD:   {out / 'manifest.mpd'}" in done.stdout
    assert (out / "master.m3u8").is_file() and (out / "manifest.mpd").is_file()


def test_package_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    done = subprocess.run(
        [*REELSTACK, "package", str(text), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "not a recognised audio/video file" in done.stdout
    assert not (tmp_path / "out").exists()


def test_sigterm_stops_ffmpeg_and_removes_output(tmp_path: Path) -> None:
    clip = make_test_clip(tmp_path / "long.mp4", width=640, height=360, duration_s=60)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*REELSTACK, "package", str(clip), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not live_ffmpeg(parent=proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = live_ffmpeg(parent=proc.pid)
    if not children:
        proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError(
            f"FFmpeg should be running; reelstack package exited {proc.returncode}: {err[-2000:]}"
        )
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert not set(children) & set(live_ffmpeg())
    assert not out.exists()


def test_main_module_runs() -> None:
    done = subprocess.run(
        [*REELSTACK, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0
    assert "package" in done.stdout and "ingest" in done.stdout


def test_users_create_and_keys_rotate(tmp_path: Path, database_url: str) -> None:
    import json
    import os

    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(tmp_path),
        "REELSTACK_DATABASE_URL": database_url,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*REELSTACK, *args], env=env, capture_output=True, text=True, timeout=60
        )

    assert run("plans", "seed-demo").returncode == 0
    made = run(
        "users",
        "create",
        "--email",
        "Ops@Example.com",
        "--password",
        "long enough password",
        "--role",
        "admin",
        "--plan",
        "premium",
    )
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert (out["email"], out["role"], out["plan"]) == ("ops@example.com", "admin", "premium")
    again = run(
        "users", "create", "--email", "ops@example.com", "--password", "long enough password"
    )
    assert again.returncode == 1 and "already registered" in again.stderr
    weak = run(
        "users", "create", "--email", "x@example.com", "--password", "short", "--role", "viewer"
    )
    assert weak.returncode == 2
    first = json.loads(run("keys", "rotate").stdout)
    second = json.loads(run("keys", "rotate").stdout)
    assert first["kid"] != second["kid"]

    # OAuth clients: a confidential one gets a secret (printed once), a public one none.
    server = run(
        "oauth", "clients", "create", "--name", "Partner", "--confidential",
        "--grant", "authorization_code", "--redirect-uri", "https://partner.example/cb", "--json",
    )  # fmt: skip
    assert server.returncode == 0, server.stderr
    made_client = json.loads(server.stdout)
    assert set(made_client) == {"client_id", "client_secret"} and made_client["client_secret"]
    tv = run(
        "oauth", "clients", "create", "--name", "TV", "--public", "--grant", "device_code",
        "--client-id", "living-room-tv", "--device-type", "tv", "--json",
    )  # fmt: skip
    assert json.loads(tv.stdout) == {"client_id": "living-room-tv", "client_secret": None}
    no_redirect = run(
        "oauth", "clients", "create", "--name", "X", "--public", "--grant", "authorization_code"
    )
    assert no_redirect.returncode == 1 and "redirect URI" in no_redirect.stderr
    listed = [json.loads(line) for line in run("oauth", "clients", "list").stdout.splitlines()]
    assert {c["client_id"] for c in listed} == {made_client["client_id"], "living-room-tv"}
    assert made_client["client_secret"] not in run("oauth", "clients", "list").stdout
