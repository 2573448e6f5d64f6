"""Typed settings: one object, environment prefix ``REELSTACK_``."""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelstack.storage.factory import parse_storage_url


class CdnConfig(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    base_url: HttpUrl
    weight: int = Field(default=1, ge=1, le=1000)
    # Default: <base_url>/edge-health (what a Reelstack edge answers).
    health_url: HttpUrl | None = None

    @property
    def base(self) -> str:
        return str(self.base_url).rstrip("/")

    @property
    def probe_url(self) -> str:
        return str(self.health_url) if self.health_url else f"{self.base}/edge-health"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELSTACK_", env_file=None, extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite under the data dir."
    )
    # Where media objects live: file:///abs/path, memory:// (tests) or s3://bucket/prefix.
    # Unset: local disk under {data_dir}/media. S3 credentials come from the standard
    # AWS variables (boto3's chain), never from here.
    storage_url: str | None = None
    # S3-compatible endpoint (MinIO, R2, a test server); unset for AWS itself.
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # Files at least this big are uploaded in parts (several at once).
    s3_multipart_threshold_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    # This worker's local scratch space for FFmpeg; unset: {data_dir}/work.
    work_dir: Path | None = None

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_storage_url(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _check_s3_endpoint_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+/?$", value):
            raise ValueError(f"REELSTACK_S3_ENDPOINT_URL {value!r} must be http(s)://host[:port]")
        return value

    @property
    def resolved_work_dir(self) -> Path:
        return self.work_dir if self.work_dir is not None else self.data_dir / "work"

    host: str = "127.0.0.1"
    port: int = 8000
    # API processes `reelstack api`/`run` start (uvicorn workers); each runs the embedded
    # job worker too unless REELSTACK_EMBEDDED_WORKER=false.
    api_workers: int = Field(default=1, ge=1, le=64)
    # Threads per API process that run handlers (reelstack.threads: more of them only
    # split one GIL and convoy on SQLite's writer lock), and those that wait on storage.
    api_threads: int = Field(default=4, ge=1, le=256)
    io_threads: int = Field(default=32, ge=1, le=1024)
    log_level: str = "INFO"
    log_json: bool = False
    # Largest accepted upload, bytes (default 20 GiB).
    max_upload_bytes: int = 20 * 1024**3
    # Comma-separated list; "*" allows any origin.
    cors_allow_origins: str = "*"
    # In-process executor width (pool size): concurrent jobs in the embedded topology.
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    job_max_attempts: int = Field(default=3, ge=1, le=100)
    # Wait before retry n is base * n**2 seconds (5, 20, 45, ...), capped at the cap.
    job_retry_base_s: float = Field(default=5.0, ge=0.0)
    job_retry_cap_s: float = Field(default=300.0, ge=0.0)
    # A running job whose heartbeat is older than this is taken over by another worker.
    job_stale_after_s: float = Field(default=60.0, gt=0.0)
    # A running job's heartbeat period (from its own thread); well under stale_after_s.
    job_heartbeat_interval_s: float = Field(default=5.0, gt=0.0)
    # How often an idle worker looks for due jobs (submits wake it at once).
    job_poll_interval_s: float = Field(default=2.0, gt=0.0)
    # Who runs jobs. "embedded": threads of `reelstack api`/`run`/`worker` claim due jobs
    # from the database. "celery": the API only publishes job ids to the broker after
    # commit (and runs no FFmpeg); `reelstack worker` processes (Celery) run them.
    executor: Literal["embedded", "celery"] = "embedded"
    # The Celery broker: redis://host:6379/0 or amqp://user:password@host:5672/vhost
    # (rediss://, amqps:// with TLS); required with REELSTACK_EXECUTOR=celery.
    broker_url: SecretStr | None = None
    # Names the broker queues (<namespace>.short, <namespace>.long) and, on Redis, their
    # bookkeeping keys: deployments sharing one broker use different namespaces.
    broker_namespace: str = Field(default="reelstack", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    # Soft time limit of one attempt of a short job (publish, purge) and of a long one (an
    # encode) on Celery: the attempt fails (and is retried) when it runs longer; its
    # process is killed a minute later if it has not stopped by then.
    job_time_limit_short_s: float = Field(default=15 * 60.0, gt=0.0)
    job_time_limit_long_s: float = Field(default=6 * 3600.0, gt=0.0)
    # A queued job due this long that no worker claimed had its broker message lost: the
    # Celery workers' sweep publishes it again (the database is the source of truth).
    job_lost_after_s: float = Field(default=60.0, gt=0.0)
    # Old media versions stay this long after a new one is published (default 24 h).
    media_grace_s: float = Field(default=24 * 3600.0, ge=0.0)
    ladder: str = "default"
    playback_ttl_s: int = 6 * 3600
    # Send media requests to the store's own time-limited URL (S3) instead of streaming
    # them through the API; stores without such URLs (local disk) are always streamed.
    delivery_redirect: bool = False
    delivery_url_ttl_s: int = Field(default=300, ge=10, le=7 * 24 * 3600)
    # Media URLs carry a signed token in the path (/s/<token>/<asset>/v<n>/...), checked
    # here and at nginx edges: "hmac" (HMAC-SHA256, checked by njs at the edge), "md5"
    # (stock nginx secure_link, many CDNs) or "off" (plain /media/... URLs, development).
    url_signing: Literal["hmac", "md5", "off"] = "hmac"
    # The shared secret of that signature (edges get the same; refused at its demo
    # default in production). Letters, digits, "-" and "_" only: it goes into nginx.conf.
    url_signing_secret: SecretStr = SecretStr("reelstack-demo-url-signing-secret")
    # Media encryption of newly packaged versions: "none" (clear segments) or "clearkey"
    # (HLS AES-128 whole-segment + DASH CENC with a W3C ClearKey licence server; both
    # copies are stored, so about twice the storage). Needs URL signing: the key and
    # licence URLs name the playback session in their token.
    encryption: Literal["none", "clearkey"] = "none"
    # A new HLS AES-128 key every this many segments (0: one key per media version).
    key_rotation_segments: int = Field(default=0, ge=0, le=100_000)
    # Encrypts the content keys stored in the database (the key-encryption key is derived
    # from it; refused at its demo default in production). Never stored with the media.
    media_key_secret: SecretStr = SecretStr("reelstack-demo-media-key-secret")
    # Where players fetch media: an edge or CDN origin, e.g. https://cdn.example.com.
    # Unset: the API's own origin (the URL the request came to).
    delivery_base_url: str | None = None
    # Signed cookies ("signed": "cookie" at POST /v1/playback): the cookie's Domain, so a
    # cookie the API sets reaches the media host (e.g. ".example.com" for an API at
    # api.example.com and media at cdn.example.com). Unset: host-only.
    media_cookie_domain: str | None = None
    # Several delivery networks (edges or CDNs), as JSON: [{"name": "a", "base_url":
    # "https://a.example.com", "weight": 3}, ...]. Each session gets a healthy one by
    # weight and the others as alternates; health is asked every interval.
    cdns: list[CdnConfig] = Field(default_factory=list)
    # The request header in which a trusted edge or CDN states the viewer's country
    # (ISO 3166 alpha-2), e.g. CF-IPCountry; unset: countries are unknown. Only set it
    # when every request passes such a tier (which overwrites what clients send).
    country_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    # Analytics: the rollup job adds ended views to the hourly rollups this often; raw
    # player events (and views) are deleted after this many days (the rollups stay).
    analytics_rollup_interval_s: float = Field(default=300.0, gt=0.0)
    analytics_retention_days: int = Field(default=90, ge=1)
    # The language (BCP 47) of a new catalog title's text fields when the CMS is not told.
    catalog_default_language: str = Field(
        default="en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35
    )
    # A MaxMind GeoIP2/GeoLite2 country database: the country of a request without the
    # trusted header comes from its client address.
    geoip_db: Path | None = None
    # Countries where nothing plays: 451 region_blocked at the API, 403 at the edge.
    blocked_countries: list[str] = Field(default_factory=list)
    cdn_health_interval_s: float = Field(default=10.0, gt=0)
    # `reelstack run` also starts an nginx edge (`reelstack edge run`) on this port and
    # points the players' media URLs at it (demo of the production delivery path).
    edge: bool = False
    edge_port: int = Field(default=8001, ge=1, le=65535)
    # Start the in-process executor with the API (embedded topology).
    embedded_worker: bool = True
    # "production" refuses to start with demo secrets, wildcard CORS or a weak admin key.
    env: Literal["demo", "production"] = "demo"
    # Bearer key for /v1/admin; `reelstack run`/`api` keep one in the data dir when unset.
    admin_api_key: SecretStr | None = None
    # Share of /metrics, /healthz and .m4s access-log lines kept (others always logged).
    access_log_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)

    # --- accounts ---
    # This service's public origin: the issuer of its tokens (``iss``) and the base of
    # absolute URLs it hands out.
    public_url: str = "http://127.0.0.1:8000"
    access_token_ttl_s: int = Field(default=900, ge=60, le=24 * 3600)
    # A login session (refresh-token family) ends after this long without a refresh.
    session_idle_ttl_s: int = Field(default=30 * 24 * 3600, ge=300)
    # Clock skew allowed on exp/nbf/iat.
    token_leeway_s: int = Field(default=30, ge=0, le=300)
    # Encrypts the token-signing private keys stored in the database (required in
    # production; unset in demo mode: stored in the clear).
    token_key_secret: SecretStr | None = None
    # Shared counters (login throttling) across API processes; unset: in-process.
    redis_url: str | None = None
    # Prefix of every key Reelstack writes in Redis (deployments may share one server).
    redis_prefix: str = "reelstack:"
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=50, ge=1)
    login_failure_window_s: int = Field(default=900, ge=1)
    # Password of the demo users that `make run` seeds; unset: generated and printed once.
    demo_password: SecretStr | None = None
    # A playback lease is renewed by heartbeats at this interval and expires after two.
    playback_heartbeat_interval_s: int = Field(default=30, ge=1, le=600)
    # Outgoing email (verification and password-reset links): smtp://user:pass@host:587
    # (STARTTLS whenever the server offers it) or smtps://user:pass@host:465 (implicit
    # TLS). Unset: messages are kept in the database's outbox_emails table instead.
    # Checked when the app builds its mailer (reelstack.accounts.mailer.build_mailer), not
    # here: a validation error would print the URL, password included.
    smtp_url: SecretStr | None = None
    # The From header (and envelope sender) of every message.
    mail_from: str = "Reelstack <no-reply@localhost>"
    # Sign-in with an external OpenID Connect provider (SSO); off while the issuer is
    # unset. The provider must allow the redirect URI <public_url>/v1/auth/sso/callback.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    # The button's text: "Sign in with <name>".
    oidc_display_name: str = "single sign-on"
    # A claim (a string or a list of strings, e.g. groups) mapped onto roles, as JSON:
    # REELSTACK_OIDC_ROLE_MAP='{"reelstack-admins": "admin", "editors": "editor"}'.
    # With a map set, the provider decides the role at every SSO sign-in (nothing
    # mapped: viewer); with none, SSO accounts keep the role they have (new: viewer).
    oidc_role_claim: str = "groups"
    oidc_role_map: dict[str, Literal["admin", "editor", "support", "viewer"]] = Field(
        default_factory=dict
    )
    # An SSO sign-in whose verified email matches an existing account is linked to it.
    oidc_link_by_email: bool = True

    @field_validator("mail_from")
    @classmethod
    def _check_mail_from(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1] or any(c in value for c in "\r\n"):
            raise ValueError(
                f"REELSTACK_MAIL_FROM {value!r} must be an address, e.g. "
                "'Reelstack <no-reply@example.com>'"
            )
        return value

    @field_validator("url_signing_secret")
    @classmethod
    def _check_url_signing_secret(cls, value: SecretStr) -> SecretStr:
        if re.fullmatch(r"[A-Za-z0-9_-]{16,200}", value.get_secret_value()) is None:
            raise ValueError(
                "REELSTACK_URL_SIGNING_SECRET must be 16 to 200 letters, digits, '-' or '_'"
            )
        return value

    @field_validator("blocked_countries")
    @classmethod
    def _check_countries(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        bad = [code for code in codes if re.fullmatch(r"[A-Z]{2}", code) is None]
        if bad:
            raise ValueError(f"REELSTACK_BLOCKED_COUNTRIES: not ISO 3166 alpha-2 codes: {bad}")
        return codes

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("REELSTACK_OIDC_ISSUER is set: REELSTACK_OIDC_CLIENT_ID is needed")
        return self

    @model_validator(mode="after")
    def _check_encryption(self) -> Settings:
        if self.encryption != "none" and self.url_signing == "off":
            raise ValueError(
                f"REELSTACK_ENCRYPTION={self.encryption} needs URL signing "
                "(REELSTACK_URL_SIGNING=hmac or md5): key and licence URLs carry the "
                "playback session in their signed token"
            )
        return self

    @model_validator(mode="after")
    def _check_job_timing(self) -> Settings:
        if self.job_heartbeat_interval_s * 2 > self.job_stale_after_s:
            raise ValueError(
                "REELSTACK_JOB_HEARTBEAT_INTERVAL_S must be at most half of "
                "REELSTACK_JOB_STALE_AFTER_S, or live jobs would look dead"
            )
        if self.job_retry_cap_s < self.job_retry_base_s:
            raise ValueError(
                "REELSTACK_JOB_RETRY_CAP_S must not be below REELSTACK_JOB_RETRY_BASE_S"
            )
        return self

    @model_validator(mode="after")
    def _check_broker(self) -> Settings:
        # The URL may hold a password: errors name its scheme only.
        if self.broker_url is None:
            if self.executor == "celery":
                raise ValueError("REELSTACK_EXECUTOR=celery needs REELSTACK_BROKER_URL")
            return self
        scheme, sep, _ = self.broker_url.get_secret_value().partition("://")
        if not sep or scheme not in BROKER_SCHEMES:
            raise ValueError(
                "REELSTACK_BROKER_URL must start with one of "
                + ", ".join(f"{s}://" for s in BROKER_SCHEMES)
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reelstack.db').resolve()}"

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allow_origins.split(",") if o.strip()]

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe to serve in production, one line per setting.

        Checked whatever ``env`` says; start-up refuses only when ``env`` is production.
        Every ``SecretStr`` setting is covered, so a secret added later is checked too.
        """
        problems: list[str] = []
        key = self.admin_api_key.get_secret_value() if self.admin_api_key else ""
        if not key:
            problems.append("REELSTACK_ADMIN_API_KEY is not set")
        elif len(key) < MIN_ADMIN_KEY_CHARS:
            problems.append(
                f"REELSTACK_ADMIN_API_KEY is weak: {len(key)} characters, "
                f"at least {MIN_ADMIN_KEY_CHARS} needed"
            )
        # One line per setting: a short key is not also reported as a demo value.
        flagged = {"admin_api_key"} if problems else set()
        secret = self.token_key_secret.get_secret_value() if self.token_key_secret else ""
        if not secret:
            problems.append(
                "REELSTACK_TOKEN_KEY_SECRET is not set: signing keys would be stored unencrypted"
            )
            flagged.add("token_key_secret")
        elif len(secret) < MIN_ADMIN_KEY_CHARS:
            problems.append(
                f"REELSTACK_TOKEN_KEY_SECRET is weak: {len(secret)} characters, "
                f"at least {MIN_ADMIN_KEY_CHARS} needed"
            )
            flagged.add("token_key_secret")
        if self.demo_password is not None:
            problems.append(
                "REELSTACK_DEMO_PASSWORD is set: demo accounts belong to demo mode only"
            )
            flagged.add("demo_password")
        if "*" in self.cors_origins:
            problems.append("REELSTACK_CORS_ALLOW_ORIGINS allows any origin ('*')")
        if self.url_signing == "off":
            problems.append("REELSTACK_URL_SIGNING is off: media URLs would be unsigned")
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            problems.append("REELSTACK_OIDC_ISSUER must be an https:// URL")
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if not isinstance(value, SecretStr) or name in flagged:
                continue
            secret = value.get_secret_value()
            default = field.get_default(call_default_factory=True)
            if isinstance(default, SecretStr) and secret == default.get_secret_value():
                problems.append(f"REELSTACK_{name.upper()} has its demo default")
            elif secret.lower() in DEMO_SECRETS:
                problems.append(f"REELSTACK_{name.upper()} is a known demo value")
        return problems


# The Celery brokers Reelstack is tested on (Redis and RabbitMQ), with TLS variants.
BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps")
# Below this an admin key is refused in production (token_urlsafe(32) gives 43).
MIN_ADMIN_KEY_CHARS = 32
# The admin key the test suite and the README examples use: never valid in production.
DEMO_ADMIN_API_KEY = "reelstack-demo-admin-key-not-for-production"
# Values that are demo secrets wherever they appear, compared lower-cased.
DEMO_SECRETS = frozenset(
    {
        DEMO_ADMIN_API_KEY,
        "changeme",
        "change-me",
        "secret",
        "password",
        "demo",
        "admin",
        "reelstack",
    }
)


class UnsafeProductionSettings(Exception):
    """Start-up refused: production mode with demo or missing secrets."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"refusing to start with REELSTACK_ENV=production:\n{lines}")


def check_production(settings: Settings) -> None:
    """Raise ``UnsafeProductionSettings`` when production mode meets unsafe settings."""
    if settings.env == "production":
        problems = settings.production_problems()
        if problems:
            raise UnsafeProductionSettings(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
