"""Sign-in throttling on a real Redis (the production counter), beside the in-process one."""

from __future__ import annotations

import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from reelstack.accounts.throttle import LoginThrottle, MemoryCounter, RedisCounter
from reelstack.app import create_app
from reelstack.errors import TooManyRequests
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import VIEWER_PASSWORD, create_viewer

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:  # pragma: no cover - the machine runs Redis
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    return f"reelstack-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", "redis"])
def throttle(request: pytest.FixtureRequest, redis_prefix: str) -> LoginThrottle:
    counter = (
        MemoryCounter()
        if request.param == "memory"
        else RedisCounter(REDIS_URL, prefix=redis_prefix)
    )
    return LoginThrottle(counter=counter, max_per_account=3, max_per_ip=5, window_s=60)


def test_both_counters_lock_then_reset(throttle: LoginThrottle) -> None:
    for _ in range(3):
        throttle.check(email="a@example.com", ip="10.0.0.1")
        throttle.failed(email="a@example.com", ip="10.0.0.1")
    with pytest.raises(TooManyRequests) as locked:
        throttle.check(email="a@example.com", ip="10.0.0.1")
    assert 55 <= int(locked.value.headers["Retry-After"]) <= 60
    # Another account from the same IP: two more failures reach the IP's limit of 5.
    throttle.failed(email="b@example.com", ip="10.0.0.1")
    throttle.failed(email="b@example.com", ip="10.0.0.1")
    with pytest.raises(TooManyRequests):
        throttle.check(email="b@example.com", ip="10.0.0.1")
    throttle.check(email="b@example.com", ip="10.0.0.2")  # another IP is fine
    throttle.succeeded(email="b@example.com")
    throttle.check(email="b@example.com", ip="10.0.0.2")


def test_redis_counts_are_shared_between_api_processes(redis_prefix: str) -> None:
    # Two counters (two API processes) on one Redis see each other's failures.
    one = LoginThrottle(RedisCounter(REDIS_URL, prefix=redis_prefix), 2, 100, 60)
    two = LoginThrottle(RedisCounter(REDIS_URL, prefix=redis_prefix), 2, 100, 60)
    one.failed(email="shared@example.com", ip=None)
    two.failed(email="shared@example.com", ip=None)
    with pytest.raises(TooManyRequests):
        one.check(email="shared@example.com", ip=None)
    for throttle in (one, two):
        assert isinstance(throttle.counter, RedisCounter)
        throttle.counter.close()


def test_the_api_throttles_through_redis(runtime: Runtime, redis_prefix: str) -> None:
    settings = runtime.settings.model_copy(
        update={
            "redis_url": REDIS_URL,
            "redis_prefix": redis_prefix,
            "login_max_failures_per_account": 2,
        }
    )
    rt = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=rt)) as c:
            create_viewer(c, "redis@example.com")
            bad = {"email": "redis@example.com", "password": "wrong-password"}
            assert [c.post("/v1/auth/login", json=bad).status_code for _ in range(2)] == [401, 401]
            assert c.post("/v1/auth/login", json=bad).status_code == 429
            keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
            assert f"{redis_prefix}login:account:redis@example.com".encode() in keys
            good = {"email": "redis@example.com", "password": VIEWER_PASSWORD}
            assert c.post("/v1/auth/login", json=good).status_code == 429
    finally:
        rt.close()
