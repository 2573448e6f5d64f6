"""Typed application errors, rendered as RFC 9457 problem+json by one handler.

Every error carries a stable machine-readable ``code`` that clients may switch on;
the human ``detail`` may change wording between releases.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error a service raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # HTTP headers the response must carry (e.g. Content-Range on a 416).
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://reelstack.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class AssetNotReady(Conflict):
    code = "asset_not_ready"
    title = "Asset not ready"


class InvalidJobTransition(Conflict):
    code = "invalid_job_transition"
    title = "Invalid job state transition"


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"
    title = "Validation failed"


class InvalidMedia(ValidationFailed):
    """The uploaded file is not a usable video (not decodable, truncated, no video...)."""

    code = "invalid_media"
    title = "Invalid media"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class BadRequest(AppError):
    status = 400
    code = "bad_request"
    title = "Bad request"


class RangeNotSatisfiable(AppError):
    status = 416
    code = "range_not_satisfiable"
    title = "Range not satisfiable"


class Unauthorized(AppError):
    """No credentials: the caller must authenticate (401 with ``WWW-Authenticate``)."""

    status = 401
    code = "unauthorized"
    title = "Authentication required"


class InvalidCredentials(Unauthorized):
    """Credentials were sent but are not valid."""

    code = "invalid_credentials"
    title = "Invalid credentials"


class Forbidden(AppError):
    """A valid identity without the right to do this (403)."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(AppError):
    """Rate limited (429 with ``Retry-After``)."""

    status = 429
    code = "too_many_attempts"
    title = "Too many requests"


class Gone(AppError):
    status = 410
    code = "gone"
    title = "Gone"
