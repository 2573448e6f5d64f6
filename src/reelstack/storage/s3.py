"""S3 (and S3-compatible: MinIO, R2, moto) storage with boto3.

Credentials come from boto3's own chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
a profile, an instance role...); nothing here reads or stores them.
"""

from __future__ import annotations

import builtins
import io
import mimetypes
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reelstack.storage.base import (
    ObjectNotFound,
    ObjectStream,
    SizeCheckedChunks,
    StorageError,
    StoredObject,
    check_range,
    put_tree_files,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

DEFAULT_MULTIPART_THRESHOLD = 16 * 1024 * 1024
DEFAULT_MULTIPART_CHUNK = 8 * 1024 * 1024
# S3's own ceiling for both a ListObjectsV2 page and a DeleteObjects batch.
MAX_PAGE = 1000
_READ_CHUNK = 256 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# Players and edges need these right; mimetypes does not know them everywhere.
_CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt",
}


def _content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    guessed = _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0]
    return guessed or "application/octet-stream"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _mapped(key: str) -> Iterator[None]:
    """Turn botocore/boto3 failures into ObjectNotFound or StorageError."""
    try:
        yield
    except ClientError as exc:
        if _error_code(exc) in _NOT_FOUND:
            raise ObjectNotFound(key) from None
        raise StorageError(f"S3 request for {key!r} failed: {exc}") from exc
    except (BotoCoreError, S3UploadFailedError) as exc:
        raise StorageError(f"S3 request for {key!r} failed: {exc}") from exc


class _ChunkReader(io.RawIOBase):
    """A non-seekable file over an iterator of chunks, for ``upload_fileobj``."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        multipart_threshold_bytes: int = DEFAULT_MULTIPART_THRESHOLD,
        multipart_chunk_bytes: int = DEFAULT_MULTIPART_CHUNK,
        max_concurrency: int = 8,
        page_size: int = MAX_PAGE,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 60.0,
        max_attempts: int = 5,
        session: boto3.session.Session | None = None,
    ) -> None:
        """``session``: share one boto3 session between stores (it caches loaded models)."""
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}, got {page_size}")
        self.bucket = bucket
        self.prefix = validate_prefix(prefix.strip("/"), allow_empty=True)
        self.page_size = page_size
        config = Config(
            region_name=region,
            signature_version="s3v4",
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=max(10, max_concurrency + 2),
            # A custom endpoint (MinIO, moto, an IP) rarely has per-bucket DNS names.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # The newer default checksums are not understood by every S3-compatible store.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client: S3Client = (session or boto3.session.Session()).client(
            "s3", endpoint_url=endpoint_url, config=config
        )
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold_bytes,
            multipart_chunksize=multipart_chunk_bytes,
            max_concurrency=max_concurrency,
            use_threads=True,
            preferred_transfer_client="classic",
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    # -- keys --------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _full_prefix(self, prefix: str) -> str:
        """The S3 prefix (with its trailing '/') below which ``prefix``'s objects live."""
        if prefix == "":
            return f"{self.prefix}/" if self.prefix else ""
        return self._full(prefix) + "/"

    def _strip(self, full: str) -> str:
        return full[len(self.prefix) + 1 :] if self.prefix else full

    # -- writes ------------------------------------------------------------------------

    def put_file(self, key: str, path: Path) -> None:
        full = self._full(key)
        with _mapped(key):
            self.client.upload_file(
                str(path),
                self.bucket,
                full,
                ExtraArgs={"ContentType": _content_type(key)},
                Config=self.transfer,
            )

    def put_stream(
        self, key: str, stream: BinaryIO | Iterable[bytes], *, size: int | None = None
    ) -> None:
        full = self._full(key)
        chunks = SizeCheckedChunks(stream, size, _READ_CHUNK)
        reader = io.BufferedReader(_ChunkReader(chunks), buffer_size=_READ_CHUNK)
        with _mapped(key):
            self.client.upload_fileobj(
                reader,
                self.bucket,
                full,
                ExtraArgs={"ContentType": _content_type(key)},
                Config=self.transfer,
            )

    def put_tree(self, prefix: str, src_dir: Path) -> None:
        put_tree_files(self, prefix, src_dir)

    # -- reads -------------------------------------------------------------------------

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> ObjectStream:
        check_range(start, end)
        full = self._full(key)
        if end is not None and end == start:
            size = self.stat(key).size
            return _empty(min(start, size), size)
        try:
            with _mapped(key):
                if start == 0 and end is None:
                    # No Range: an empty object would answer a range with 416.
                    resp = self.client.get_object(Bucket=self.bucket, Key=full)
                else:
                    # HTTP ranges are inclusive at both ends.
                    upto = "" if end is None else str(end - 1)
                    resp = self.client.get_object(
                        Bucket=self.bucket, Key=full, Range=f"bytes={start}-{upto}"
                    )
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and _error_code(cause) == "InvalidRange":
                # The range starts at or past the end (or the object is empty).
                size = self.stat(key).size
                return _empty(min(start, size), size)
            raise
        body = resp["Body"]
        match = _CONTENT_RANGE.match(resp.get("ContentRange", ""))
        if match:
            first, last, size = int(match[1]), int(match[2]) + 1, int(match[3])
        else:
            length = resp["ContentLength"]
            first, last, size = 0, length, length

        def chunks() -> Iterator[bytes]:
            with _mapped(key):
                yield from body.iter_chunks(_READ_CHUNK)

        return ObjectStream(chunks(), start=first, end=last, size=size, close=body.close)

    def read_bytes(self, key: str) -> bytes:
        return self.open_range(key).read_all()

    def stat(self, key: str) -> StoredObject:
        full = self._full(key)
        with _mapped(key):
            head = self.client.head_object(Bucket=self.bucket, Key=full)
        return StoredObject(
            key=key,
            size=head["ContentLength"],
            mtime=head["LastModified"].timestamp(),
            etag=head["ETag"].strip('"'),
        )

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def _pages(self, prefix: str) -> Iterator[builtins.list[StoredObject]]:
        full_prefix = self._full_prefix(validate_prefix(prefix, allow_empty=True))
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=full_prefix,
            PaginationConfig={"PageSize": self.page_size},
        )
        with _mapped(prefix or "/"):
            for page in pages:
                yield [
                    StoredObject(
                        key=self._strip(obj["Key"]),
                        size=obj["Size"],
                        mtime=obj["LastModified"].timestamp(),
                        etag=obj["ETag"].strip('"'),
                    )
                    for obj in page.get("Contents", [])
                ]

    def list(self, prefix: str) -> Iterator[StoredObject]:
        # S3 lists in UTF-8 byte order, which is also Python's str order.
        for page in self._pages(prefix):
            yield from page

    def download(self, key: str, dest: Path) -> None:
        full = self._full(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # s3transfer writes to a temporary name and renames, so dest is never half written.
        with _mapped(key):
            self.client.download_file(self.bucket, full, str(dest), Config=self.transfer)

    def url(self, key: str, expires_s: int) -> str | None:
        full = self._full(key)
        with _mapped(key):
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": full}, ExpiresIn=expires_s
            )

    # -- deletes -----------------------------------------------------------------------

    def delete(self, key: str) -> None:
        full = self._full(key)
        with _mapped(key):
            self.client.delete_object(Bucket=self.bucket, Key=full)

    def delete_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        # Each page (at most 1000 keys) is one DeleteObjects batch: S3's limit per call.
        for page in self._pages(prefix):
            if not page:
                continue
            batch: builtins.list[ObjectIdentifierTypeDef] = [
                {"Key": self._full(obj.key)} for obj in page
            ]
            with _mapped(prefix):
                resp = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            errors = resp.get("Errors", [])
            if errors:
                first = errors[0]
                raise StorageError(
                    f"could not delete {len(errors)} objects under {prefix!r}, e.g. "
                    f"{first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                )


def _empty(at: int, size: int) -> ObjectStream:
    return ObjectStream(iter(()), start=at, end=at, size=size, close=lambda: None)
