"""Typed settings: one object, environment prefix ``REELSTACK_``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelstack.storage.factory import parse_storage_url


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
    log_level: str = "INFO"
    log_json: bool = False
    # Largest accepted upload, bytes (default 20 GiB).
    max_upload_bytes: int = 20 * 1024**3
    # Comma-separated list; "*" allows any origin.
    cors_allow_origins: str = "*"
    # In-process executor width: concurrent FFmpeg jobs in the embedded topology.
    worker_concurrency: int = 1
    job_max_attempts: int = 3
    # Wait before retry n is base * n**2 seconds (5, 20, 45, ...), capped at 5 minutes.
    job_retry_base_s: float = 5.0
    ladder: str = "default"
    playback_ttl_s: int = 6 * 3600
    # Seconds a VOD manifest may be cached by players and edges.
    manifest_max_age_s: int = 10
    # Start the in-process executor with the API (embedded topology).
    embedded_worker: bool = True
    # "production" refuses to start with demo secrets, wildcard CORS or a weak admin key.
    env: Literal["demo", "production"] = "demo"
    # Bearer key for /v1/admin; `reelstack run`/`api` keep one in the data dir when unset.
    admin_api_key: SecretStr | None = None
    # Share of /metrics, /healthz and .m4s access-log lines kept (others always logged).
    access_log_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)

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
        if "*" in self.cors_origins:
            problems.append("REELSTACK_CORS_ALLOW_ORIGINS allows any origin ('*')")
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
