"""The media library's own errors: no HTTP status, no job semantics.

Services map them at their boundary (ingest -> 422 ``invalid_media``; the transcode
handler -> a permanent or retryable job failure, or a cancelled job).
"""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error the media library raises on purpose."""


class InvalidSource(MediaError):
    """The input is not a usable video (not decodable, truncated, no video...).

    Retrying cannot help: the file itself is the problem.
    """


class ProcessingFailed(MediaError):
    """FFmpeg or packaging failed on input that passed validation (may be transient)."""


class TranscodeCancelled(MediaError):
    """The caller's cancel event was set; FFmpeg was stopped and its output removed."""

    def __init__(self, detail: str = "Transcode cancelled.") -> None:
        super().__init__(detail)
