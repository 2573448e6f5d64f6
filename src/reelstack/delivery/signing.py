"""Signed media URLs: a token in the path (``/s/<token>/<asset>/v<n>/<file>``) that the
Python origin and an nginx edge verify alike, so relative URLs inside manifests inherit
it and no cache key includes it (the edge strips it before caching).

A token covers one asset version's prefix (like Akamai's ``acl=/path/*``), expires, and
names the playback session it was issued to::

    <expires>.<session id>.<signature>

``expires`` is Unix seconds, the session id 32 lowercase hex digits, the signature
base64url without padding over the prefix ``/<asset>/v<n>/``:

- ``hmac`` (default): HMAC-SHA256 with the signing secret over
  ``"<expires>.<session id>.<prefix>"`` (43 characters; nginx checks it in njs).
- ``md5``: MD5 over ``"<expires><prefix><session id> <secret>"`` (22 characters), what
  stock nginx's ``secure_link_md5`` computes, so any nginx (or a CDN with the same
  scheme) can check it without scripting.

A bad token is refused (403) and an expired one gone (410) at both tiers.

Signed cookies (CloudFront style) carry the same token for players that cannot keep a
token in the path: the cookie ``COOKIE_NAME`` with ``Path=/m/<asset>/v<n>/`` (so each
version's cookie goes only with its own files, and two titles play side by side), and
the files at ``/m/<asset>/v<n>/<file>``.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from reelstack.config import Settings

TOKEN_PATTERN = re.compile(
    r"^(?P<exp>[1-9][0-9]{0,11})\.(?P<sid>[0-9a-f]{32})\.(?P<sig>[A-Za-z0-9_-]{22,43})$"
)


COOKIE_NAME = "rs_media"


class Scheme(enum.StrEnum):
    HMAC = "hmac"
    MD5 = "md5"


class Verdict(enum.StrEnum):
    OK = "ok"
    BAD = "bad"
    EXPIRED = "expired"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def acl_prefix(asset_id: str, version: int) -> str:
    """The path prefix a token covers: every file of one published media version."""
    return f"/{asset_id}/v{version}/"


@dataclass(frozen=True)
class Signer:
    scheme: Scheme
    secret: str

    def signature(self, expires: int, session_id: str, prefix: str) -> str:
        if self.scheme is Scheme.MD5:
            material = f"{expires}{prefix}{session_id} {self.secret}".encode()
            return _b64(hashlib.md5(material, usedforsecurity=False).digest())
        message = f"{expires}.{session_id}.{prefix}".encode()
        return _b64(hmac.new(self.secret.encode(), message, hashlib.sha256).digest())

    def token(self, *, asset_id: str, version: int, session_id: str, expires: datetime) -> str:
        exp = int(expires.timestamp())
        sig = self.signature(exp, session_id, acl_prefix(asset_id, version))
        return f"{exp}.{session_id}.{sig}"

    def verify(self, token: str, *, asset_id: str, version: int, now: float) -> Verdict:
        """Whether ``token`` opens ``/<asset_id>/v<version>/`` at Unix time ``now``.

        The signature is checked first (in constant time), so an expired token tells a
        caller only that it once was valid.
        """
        found = TOKEN_PATTERN.match(token)
        if found is None:
            return Verdict.BAD
        exp, sid, sig = int(found["exp"]), found["sid"], found["sig"]
        expected = self.signature(exp, sid, acl_prefix(asset_id, version))
        if not hmac.compare_digest(expected, sig):
            return Verdict.BAD
        if exp < now:  # as nginx secure_link: valid through its last second
            return Verdict.EXPIRED
        return Verdict.OK


def url_signer(settings: Settings) -> Signer | None:
    """The configured signer (None: signing is off)."""
    if settings.url_signing == "off":
        return None
    return Signer(Scheme(settings.url_signing), settings.url_signing_secret.get_secret_value())
