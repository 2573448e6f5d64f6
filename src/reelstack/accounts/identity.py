"""This process's identity machinery, built from settings: the key ring and token rules
(``Auth``) and the failed-sign-in counters (``LoginThrottle``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from reelstack.accounts.keys import KeyRing
from reelstack.accounts.service import Auth
from reelstack.accounts.sso import Provider, build_provider
from reelstack.accounts.throttle import FailureCounter, LoginThrottle, MemoryCounter, RedisCounter
from reelstack.accounts.tokens import TokenConfig
from reelstack.config import Settings
from reelstack.db import make_sessionmaker

# The ``aud`` of access tokens for this API.
API_AUDIENCE = "reelstack-api"


@dataclass
class Identity:
    auth: Auth
    # In process, or in Redis when REELSTACK_REDIS_URL is set.
    throttle: LoginThrottle
    # The external OpenID Connect provider (None: SSO is off).
    sso: Provider | None = None

    def close(self) -> None:
        if isinstance(self.throttle.counter, RedisCounter):
            self.throttle.counter.close()


def token_key_secret(settings: Settings) -> str | None:
    """The secret that encrypts signing keys at rest (None: stored in the clear, demo)."""
    secret = settings.token_key_secret
    return secret.get_secret_value() if secret is not None else None


def token_config(settings: Settings) -> TokenConfig:
    return TokenConfig(
        issuer=settings.public_url.rstrip("/"),
        audience=API_AUDIENCE,
        access_ttl_s=settings.access_token_ttl_s,
        leeway_s=settings.token_leeway_s,
    )


def build_identity(settings: Settings, engine: Engine) -> Identity:
    """The key ring reads and writes keys in its own short transactions (its own
    sessions), never inside a request's unit of work."""
    counter: FailureCounter = (
        RedisCounter(settings.redis_url, prefix=f"{settings.redis_prefix}login:")
        if settings.redis_url
        else MemoryCounter()
    )
    return Identity(
        auth=Auth(
            ring=KeyRing(
                make_sessionmaker(engine),
                access_ttl_s=settings.access_token_ttl_s,
                leeway_s=settings.token_leeway_s,
                secret=token_key_secret(settings),
            ),
            config=token_config(settings),
            session_idle_s=settings.session_idle_ttl_s,
        ),
        throttle=LoginThrottle(
            counter=counter,
            max_per_account=settings.login_max_failures_per_account,
            max_per_ip=settings.login_max_failures_per_ip,
            window_s=settings.login_failure_window_s,
        ),
        sso=build_provider(settings),
    )
