"""Celery execution with real processes, on Redis and on RabbitMQ.

The API (in-process, REELSTACK_EXECUTOR=celery) only publishes job ids. Two
``reelstack worker --executor celery`` processes, each with its own data dir and scratch
dir, run the jobs; they share only the database, the broker and S3 (moto's server).
Every test uses broker queues of its own (a fresh namespace) and removes them after.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr

from reelstack.app import create_app
from reelstack.config import Settings
from reelstack.ingest.service import ingest_file
from reelstack.jobs.celery_app import (
    HARD_LIMIT_GRACE_S,
    QUEUES,
    CeleryExecutor,
    make_celery,
    queue_name,
    queue_of,
    time_limits,
)
from reelstack.jobs.models import JobKind
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import ADMIN_HEADERS, PG_URL, child_job, wait_for_job
from tests.jobs.test_fencing_procs import _db_is_free
from tests.procs import live_ffmpeg
from tests.s3server import TEST_AWS_ENV, moto_server

pytestmark = pytest.mark.e2e

BROKERS = {
    "redis": "redis://127.0.0.1:6379/9",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
# Short enough for a test: a dead worker's job is taken over within seconds, a lost
# message re-published after LOST_S.
STALE_S = 4.0
LOST_S = 2.0


def _reachable(url: str) -> bool:
    host, port = ("127.0.0.1", 6379) if url.startswith("redis") else ("127.0.0.1", 5672)
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _purge(url: str, namespace: str) -> None:
    """Remove every queue, exchange and key this test's namespace made on the broker."""
    if url.startswith("redis"):
        client = redis.Redis.from_url(url)
        try:
            for pattern in (f"{namespace}.*", f"_kombu.binding*.{namespace}.*"):
                keys = list(client.scan_iter(match=pattern))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()
        return
    app = make_celery(Settings(broker_url=SecretStr(url), broker_namespace=namespace))
    try:
        with app.connection_for_write() as conn:
            for name in QUEUES:
                full = f"{namespace}.{name}"
                for delete in ("queue_delete", "exchange_delete"):
                    channel = conn.channel()
                    try:
                        getattr(channel, delete)(full)
                    except conn.channel_errors:
                        pass  # never declared
                    finally:
                        channel.close()
    finally:
        app.close()


# Each pass of the suite runs the cluster tests on one broker, so both brokers and both
# databases are covered without running every pairing (the suite's time budget): Redis in
# the SQLite pass, RabbitMQ in the PostgreSQL pass.
PASS_BROKERS = ["rabbitmq"] if PG_URL else ["redis"]


@pytest.fixture(params=PASS_BROKERS)
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(broker URL, a namespace of this test's own)."""
    url = BROKERS[request.param]
    if not _reachable(url):
        pytest.skip(f"no {request.param} broker on this machine")
    namespace = f"t{uuid.uuid4().hex[:12]}"
    try:
        yield url, namespace
    finally:
        _purge(url, namespace)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh bucket; dummy AWS credentials for this process, nothing from ~/.aws."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    for name, value in TEST_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    name = f"celery-{uuid.uuid4().hex[:16]}"
    _s3(s3_endpoint).create_bucket(Bucket=name)
    return name


def _s3(endpoint: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing"
    ).client("s3", endpoint_url=endpoint, region_name="us-east-1")


def _keys(endpoint: str, bucket: str) -> list[str]:
    listed = _s3(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    work: Path

    def pids(self) -> set[int]:
        """The worker's processes: its own session (main process, pool, FFmpeg)."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[3]) == self.proc.pid:  # session id
                found.add(int(entry.name))
        return found

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    api: Runtime
    settings: Settings
    workers: list[Worker]
    s3_endpoint: str
    bucket: str

    def owner(self, worker_column: str | None) -> Worker:
        """The worker process a job row's ``worker`` ("host:pid") names."""
        assert worker_column is not None
        host, _, pid = worker_column.rpartition(":")
        assert host == socket.gethostname(), worker_column
        owners = [w for w in self.workers if int(pid) in w.pids()]
        assert len(owners) == 1, (worker_column, [w.name for w in self.workers])
        return owners[0]


def _wait(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _started(worker: Worker) -> bool:
    return "celery.worker_ready" in worker.text() or worker.proc.poll() is not None


def _running(client: TestClient, parent_id: str) -> dict[str, Any] | None:
    """The graph's transcode once it is running and has made progress, else None."""
    job = child_job(client, parent_id)
    return job if job["state"] == "running" and job["progress"] > 0 else None


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings of the API and the workers alike (a test parametrizes it to change some)."""
    return {}


@pytest.fixture
def cluster(
    settings: Settings,
    broker: tuple[str, str],
    s3_endpoint: str,
    bucket: str,
    tmp_path: Path,
    overrides: dict[str, Any],
) -> Iterator[Cluster]:
    """The API's runtime (executor celery) and two running Celery workers."""
    url, namespace = broker
    storage_url = f"s3://{bucket}/media-root"
    api_settings = settings.model_copy(
        update={
            "data_dir": tmp_path / "api",
            "storage_url": storage_url,
            "s3_endpoint_url": s3_endpoint,
            "ladder": "tiny",
            "executor": "celery",
            "broker_url": SecretStr(url),
            "broker_namespace": namespace,
            **overrides,
        }
    )
    api = build_runtime(api_settings)
    env = {
        **os.environ,
        **TEST_AWS_ENV,
        "REELSTACK_DATABASE_URL": api_settings.resolved_database_url,
        "REELSTACK_STORAGE_URL": storage_url,
        "REELSTACK_S3_ENDPOINT_URL": s3_endpoint,
        "REELSTACK_LADDER": "tiny",
        "REELSTACK_EXECUTOR": "celery",
        "REELSTACK_BROKER_URL": url,
        "REELSTACK_BROKER_NAMESPACE": namespace,
        "REELSTACK_JOB_STALE_AFTER_S": str(STALE_S),
        "REELSTACK_JOB_HEARTBEAT_INTERVAL_S": "0.5",
        "REELSTACK_JOB_LOST_AFTER_S": str(LOST_S),
        "REELSTACK_JOB_MAX_ATTEMPTS": "2",
        **{f"REELSTACK_{k.upper()}": str(v) for k, v in overrides.items()},
    }
    workers: list[Worker] = []
    try:
        for name in ("a", "b"):
            log = tmp_path / f"worker-{name}.log"
            data = tmp_path / f"worker-{name}"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "reelstack", "worker", "--queues", "short,long"],
                    env={**env, "REELSTACK_DATA_DIR": str(data)},
                    stdout=out,
                    stderr=out,
                    # Its own session: the test can kill it with its pool and FFmpeg at once.
                    start_new_session=True,
                )
            workers.append(Worker(name, proc, log, data / "work"))
        for w in workers:
            _wait(partial(_started, w), 30, f"worker {w.name} to start")
            assert w.proc.poll() is None, w.text()
        yield Cluster(api, api_settings, workers, s3_endpoint, bucket)
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.proc.terminate()  # warm shutdown
        for w in workers:
            try:
                w.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(w.proc.pid, signal.SIGKILL)
                w.proc.wait(5)
        api.close()


@contextmanager
def _api(cluster: Cluster) -> Iterator[TestClient]:
    app = create_app(runtime=cluster.api)
    assert isinstance(app.state.executor, CeleryExecutor)  # runs nothing itself
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        yield client


def _upload(client: TestClient, clip: Path, title: str) -> dict[str, str]:
    resp = client.post(
        "/v1/admin/uploads",
        params={"title": title, "filename": "clip.mp4"},
        content=clip.read_bytes(),
    )
    assert resp.status_code == 201, resp.text
    ids: dict[str, str] = resp.json()
    return ids


def test_upload_is_transcoded_by_the_workers(cluster: Cluster, clips: dict[str, Path]) -> None:
    with _api(cluster) as client:
        ids = _upload(client, clips["landscape"], "Distributed")
        job = wait_for_job(client, ids["job_id"], timeout_s=60)
        assert job["state"] == "succeeded", job
        transcode = child_job(client, ids["job_id"])
        assert (transcode["state"], transcode["attempts"]) == ("succeeded", 1)
        assert transcode["parent_id"] == ids["job_id"]
        # Both steps ran in a worker's pool process, never in this (the API's) process.
        cluster.owner(transcode["worker"])
        cluster.owner(job["worker"])
        assert not transcode["worker"].endswith(f":{os.getpid()}")
        asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
        assert (asset["status"], asset["version"]) == ("ready", 1)
    keys = _keys(cluster.s3_endpoint, cluster.bucket)
    prefix = f"media-root/assets/{ids['asset_id']}"
    assert f"{prefix}/media/v1/master.m3u8" in keys
    assert f"{prefix}/media/v1/manifest.mpd" in keys
    for w in cluster.workers:
        assert not (w.work.parent / "media").exists()  # media went to S3 only


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough to be caught mid-encode (the tiny ladder runs ~15x realtime here)."""
    root = tmp_path_factory.mktemp("celery-clips")
    return make_test_clip(root / "long.mp4", width=320, height=180, duration_s=100)


def test_killed_worker_job_completes_on_the_other(cluster: Cluster, long_clip: Path) -> None:
    with _api(cluster) as client:
        ids = _upload(client, long_clip, "Killed")
        running = _wait(partial(_running, client, ids["job_id"]), 30, "the transcode to run")
        victim = cluster.owner(running["worker"])
        [survivor] = [w for w in cluster.workers if w is not victim]
        # The whole worker at once: main process, pool process and its FFmpeg.
        os.killpg(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(10)

        job = wait_for_job(client, ids["job_id"], timeout_s=60)
        assert job["state"] == "succeeded", job
        transcode = child_job(client, ids["job_id"])
        assert (transcode["state"], transcode["attempts"]) == ("succeeded", 2)
        assert cluster.owner(transcode["worker"]) is survivor
        asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
        assert (asset["status"], asset["version"]) == ("ready", 2)
    # The killed attempt had taken version 1 and uploaded nothing; only v2 is stored.
    media = [k for k in _keys(cluster.s3_endpoint, cluster.bucket) if "/media/" in k]
    assert media and all("/media/v2/" in k for k in media)
    assert "job.recovered" in survivor.text()
    assert not live_ffmpeg(argument=str(victim.work))
    _wait(lambda: not any(survivor.work.iterdir()), 10, "the survivor's scratch to empty")


def test_lost_message_is_republished_by_the_sweep(cluster: Cluster, clips: dict[str, Path]) -> None:
    # Rows committed, nothing published: as if the message had been lost.
    ids = ingest_file(runtime=cluster.api, path=clips["landscape"], title="Lost")
    with _api(cluster) as client:
        job = wait_for_job(client, ids.job_id, timeout_s=60)
        assert job["state"] == "succeeded", job
        transcode = child_job(client, ids.job_id)
        assert transcode["state"] == "succeeded"
        cluster.owner(transcode["worker"])
    lines = "".join(w.text() for w in cluster.workers).splitlines()
    assert any("job.republished" in line and transcode["id"] in line for line in lines)


def test_stopped_worker_hands_its_job_back(cluster: Cluster, long_clip: Path) -> None:
    """A warm shutdown (SIGTERM) stops FFmpeg and re-queues the running job without
    spending an attempt; the other worker runs it."""
    with _api(cluster) as client:
        ids = _upload(client, long_clip, "Stopped")
        running = _wait(partial(_running, client, ids["job_id"]), 30, "the transcode to run")
        victim = cluster.owner(running["worker"])
        [survivor] = [w for w in cluster.workers if w is not victim]
        victim.proc.terminate()
        assert victim.proc.wait(20) == 0

        job = wait_for_job(client, ids["job_id"], timeout_s=60)
        assert job["state"] == "succeeded", job
        transcode = child_job(client, ids["job_id"])
        assert (transcode["state"], transcode["attempts"]) == ("succeeded", 1)
        assert cluster.owner(transcode["worker"]) is survivor
    assert "state=queued" in next(
        line for line in victim.text().splitlines() if "job.stopped" in line
    )
    # The stopped attempt removed what it had (version 1); only v2 is stored.
    media = [k for k in _keys(cluster.s3_endpoint, cluster.bucket) if "/media/" in k]
    assert media and all("/media/v2/" in k for k in media)
    assert not live_ffmpeg(argument=str(victim.work))
    assert not any(victim.work.iterdir())


def _freeze(worker: Worker, url: str, job_id: str) -> None:
    """SIGSTOP every process of ``worker`` at a moment none holds a database lock (a
    frozen lock holder would stall the other worker: not what this test is about)."""
    for _ in range(20):
        os.killpg(worker.proc.pid, signal.SIGSTOP)
        if _db_is_free(url, job_id):
            return
        os.killpg(worker.proc.pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"worker {worker.name} kept holding a database lock")


@pytest.mark.parametrize("broker", ["redis"], indirect=True)  # the broker plays no part
def test_frozen_worker_is_taken_over_and_fenced_out(cluster: Cluster, long_clip: Path) -> None:
    """A worker that stops answering without dying (SIGSTOP: a partitioned or stalled
    host) loses its job when its heartbeat goes stale; resumed, it writes nothing."""
    with _api(cluster) as client:
        ids = _upload(client, long_clip, "Frozen")
        running = _wait(partial(_running, client, ids["job_id"]), 30, "the transcode to run")
        victim = cluster.owner(running["worker"])
        [survivor] = [w for w in cluster.workers if w is not victim]
        _freeze(victim, cluster.settings.resolved_database_url, running["id"])
        try:
            job = wait_for_job(client, ids["job_id"], timeout_s=60)
        finally:
            os.killpg(victim.proc.pid, signal.SIGCONT)
        assert job["state"] == "succeeded", job
        done = child_job(client, ids["job_id"])
        assert (done["state"], done["attempts"]) == ("succeeded", 2)
        assert cluster.owner(done["worker"]) is survivor
        _wait(lambda: "job.claim_lost" in victim.text(), 30, "the victim to see it lost")
        _wait(lambda: not live_ffmpeg(argument=str(victim.work)), 15, "the victim's FFmpeg")
        _wait(lambda: not any(victim.work.iterdir()), 15, "the victim's scratch to empty")
        time.sleep(1.0)  # anything the victim still tried to write would land by now
        after = child_job(client, ids["job_id"])
        assert {k: after[k] for k in ("state", "attempts", "worker", "finished_at")} == {
            k: done[k] for k in ("state", "attempts", "worker", "finished_at")
        }
        asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
        assert (asset["status"], asset["version"]) == ("ready", 2)
    media = [k for k in _keys(cluster.s3_endpoint, cluster.bucket) if "/media/" in k]
    assert media and all("/media/v2/" in k for k in media)
    assert victim.proc.poll() is None  # it lives on as a healthy worker


@pytest.mark.parametrize("broker", ["redis"], indirect=True)
@pytest.mark.parametrize(
    "overrides", [{"job_time_limit_long_s": 1.5, "job_retry_base_s": 0.2, "job_max_attempts": 2}]
)
def test_soft_time_limit_fails_the_attempt(cluster: Cluster, long_clip: Path) -> None:
    """An encode that outlives its queue's soft time limit fails that attempt (FFmpeg
    stopped, scratch removed) and is retried; out of attempts, the job fails with why."""
    with _api(cluster) as client:
        ids = _upload(client, long_clip, "Too slow")
        job = wait_for_job(client, ids["job_id"], timeout_s=60)
        assert job["state"] == "failed", job
        transcode = child_job(client, ids["job_id"])
        assert (transcode["state"], transcode["attempts"]) == ("failed", 2)
        assert "SoftTimeLimitExceeded" in transcode["error"]
        asset = client.get(f"/v1/admin/assets/{ids['asset_id']}").json()
        assert asset["status"] == "failed"
    for w in cluster.workers:
        assert not live_ffmpeg(argument=str(w.work))
        assert not any(w.work.iterdir())
        assert w.proc.poll() is None
    # Nothing of either attempt is left in the store (only the source).
    media = [k for k in _keys(cluster.s3_endpoint, cluster.bucket) if "/media/" in k]
    assert media == []


def test_settings_need_a_broker_url_they_never_print() -> None:
    with pytest.raises(ValueError, match="needs REELSTACK_BROKER_URL"):
        Settings(executor="celery")
    with pytest.raises(ValueError, match="must start with one of") as caught:
        Settings(broker_url=SecretStr("http://user:hunter2-secret@host/"))
    assert "hunter2" not in str(caught.value)
    ok = Settings(executor="celery", broker_url=SecretStr("amqp://u:p@host:5672//"))
    assert ok.executor == "celery" and "u:p" not in repr(ok)


def test_routing_and_limits() -> None:
    settings = Settings(
        broker_url=SecretStr("redis://127.0.0.1:6379/9"),
        broker_namespace="ns1",
        job_time_limit_short_s=100,
        job_time_limit_long_s=1000,
        job_retry_cap_s=300,
    )
    assert queue_of(JobKind.TRANSCODE) == "long"
    assert {queue_of(k) for k in JobKind if k is not JobKind.TRANSCODE} == {"short"}
    assert queue_name(settings, "long") == "ns1.long"
    assert time_limits(settings, "short") == (100, 100 + HARD_LIMIT_GRACE_S)
    assert time_limits(settings, "long") == (1000, 1000 + HARD_LIMIT_GRACE_S)
    app = make_celery(settings)
    try:
        conf = app.conf
        assert (conf.task_acks_late, conf.task_reject_on_worker_lost) == (True, True)
        assert conf.worker_prefetch_multiplier == 1
        assert conf.task_serializer == "json" and conf.accept_content == ["json"]
        assert sorted(q.name for q in conf.task_queues) == ["ns1.long", "ns1.short"]
        # Above the longest attempt (its hard limit) plus the longest retry countdown.
        visibility = conf.broker_transport_options["visibility_timeout"]
        assert visibility > 1000 + HARD_LIMIT_GRACE_S + 300
    finally:
        app.close()
