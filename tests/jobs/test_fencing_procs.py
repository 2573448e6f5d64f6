"""Fencing with real processes: worker A claims a job and is frozen (SIGSTOP) past the
stale limit; worker B takes the job over and finishes it; A is resumed (SIGCONT) and
every write it tries is refused. The asset is published once; nothing is left over."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from reelstack.db import session_scope
from reelstack.ingest.service import ingest_file
from reelstack.jobs import service as job_service
from reelstack.jobs.models import Job, JobState
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime
from tests.conftest import media_files
from tests.procs import live_ffmpeg

pytestmark = pytest.mark.e2e

STALE_S = 3.0


def _worker(runtime: Runtime, name: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"worker-{name}.log"
    env = {
        **os.environ,
        "REELSTACK_DATA_DIR": str(runtime.settings.data_dir),
        "REELSTACK_DATABASE_URL": runtime.settings.resolved_database_url,
        "REELSTACK_WORK_DIR": str(tmp_path / f"work-{name}"),
        "REELSTACK_LADDER": "tiny",
        "REELSTACK_JOB_STALE_AFTER_S": str(STALE_S),
        "REELSTACK_JOB_HEARTBEAT_INTERVAL_S": "0.5",
        "REELSTACK_JOB_POLL_INTERVAL_S": "0.2",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reelstack", "worker"], env=env, stdout=out, stderr=out
        )
    return proc, log


def _job(runtime: Runtime, job_id: str) -> Job:
    with session_scope(runtime.sessions) as s:
        job = job_service.get_job(session=s, job_id=job_id)
        s.expunge(job)
        return job


def _db_is_free(url: str, job_id: str) -> bool:
    """True when nobody holds a write lock we would wait on (the job row, or SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        lite = sqlite3.connect(str(parsed.database), timeout=0.2)
        try:
            lite.execute("BEGIN IMMEDIATE")
            lite.rollback()
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            lite.close()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("SELECT id FROM jobs WHERE id = :id FOR UPDATE NOWAIT"), {"id": job_id}
            )
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _freeze(proc: subprocess.Popen[bytes], url: str, job_id: str) -> None:
    """SIGSTOP ``proc`` at a moment it holds no database lock (a frozen lock holder
    would stall the other worker, which is not what this test is about)."""
    for _ in range(20):
        proc.send_signal(signal.SIGSTOP)
        if _db_is_free(url, job_id):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("worker A kept holding a database lock")


def _wait(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_frozen_worker_is_fenced_out(runtime: Runtime, tmp_path: Path) -> None:
    clip = make_test_clip(tmp_path / "clip.mp4", width=320, height=180, duration_s=40)
    ids = ingest_file(runtime=runtime, path=clip, title="Fenced")
    with session_scope(runtime.sessions) as s:
        [child] = job_service.children(session=s, parent_id=ids.job_id)
        child_id = child.id
    url = runtime.settings.resolved_database_url

    a, a_log = _worker(runtime, "a", tmp_path)
    b: subprocess.Popen[bytes] | None = None
    try:
        _wait(
            lambda: (j := _job(runtime, child_id)).state is JobState.RUNNING and j.progress > 0,
            60,
            "worker A to start encoding",
        )
        first = _job(runtime, child_id)
        assert first.worker is not None and first.worker.endswith(f":{a.pid}")
        assert first.attempts == 1
        _freeze(a, url, child_id)

        b, _ = _worker(runtime, "b", tmp_path)
        _wait(
            lambda: _job(runtime, ids.job_id).state is JobState.SUCCEEDED,
            120,
            "worker B to take over and publish",
        )
        done = _job(runtime, child_id)
        assert done.worker is not None and done.worker.endswith(f":{b.pid}")
        assert (done.state, done.attempts, done.progress) == (JobState.SUCCEEDED, 2, 100.0)

        a.send_signal(signal.SIGCONT)
        # A notices at its next heartbeat or progress write, stops FFmpeg, cleans up.
        _wait(lambda: b"job.claim_lost" in a_log.read_bytes(), 30, "worker A to see it lost")
        _wait(lambda: not live_ffmpeg(parent=a.pid), 15, "worker A's FFmpeg to stop")
        _wait(lambda: not any((tmp_path / "work-a").iterdir()), 15, "worker A's scratch to go")
        time.sleep(1.0)  # anything A still tried to write would land by now

        # Nothing A did after losing the claim reached the database...
        after = _job(runtime, child_id)
        assert (after.state, after.attempts, after.progress) == (JobState.SUCCEEDED, 2, 100.0)
        assert after.worker == done.worker and after.finished_at == done.finished_at
        parent = _job(runtime, ids.job_id)
        assert (parent.state, parent.attempts) == (JobState.SUCCEEDED, 1)  # published once
        # ...or storage: A's attempt took version 1 and left nothing; B published 2.
        with session_scope(runtime.sessions) as s:
            from reelstack.assets.service import get_asset

            asset = get_asset(session=s, asset_id=ids.asset_id)
            assert (asset.version, asset.next_version) == (2, 3)
        media = [k for k in media_files(runtime) if "/media/" in k]
        assert media and all("/media/v2/" in k for k in media)
        assert a.poll() is None  # A lives on as a healthy worker
    finally:
        for proc in (a, b):
            if proc is None:
                continue
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            proc.wait(20)
    assert not any((tmp_path / "work-a").iterdir())
    assert not any((tmp_path / "work-b").iterdir())
