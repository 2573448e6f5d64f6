"""Typed settings: one object, environment prefix ``REELSTACK_``."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reelstack.db').resolve()}"

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allow_origins.split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
