"""Licence servers of encrypted media: the :class:`DrmProvider` seam and ClearKey.

A provider turns a player's licence request (the EME message its CDM made) into the
licence, given the content keys of the session's media version. Every provider sits
behind the same route, ``POST /s/<token>/<asset>/v<n>/drm/<name>``, and so behind the
same checks (a signed token naming a live playback session for that version: see
``playback.keys``). ClearKey (W3C EME, ``org.w3.clearkey``) is the one implemented;
Widevine, PlayReady or FairPlay would be providers that forward the request to their
licence service with the keys (or key ids) it needs.
"""

from __future__ import annotations

import base64
import binascii
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelstack.errors import BadRequest, NotFound

# A key id (16 bytes) -> the CENC key of the session's version with that id, or None.
KeyLookup = Callable[[bytes], bytes | None]
LICENCE_DIR = "drm"


class UnknownKeyId(NotFound):
    code = "key_not_found"
    title = "No such key"


class BadLicenceRequest(BadRequest):
    code = "bad_licence_request"
    title = "Malformed licence request"


@dataclass(frozen=True, slots=True)
class Licence:
    body: bytes
    media_type: str


class DrmProvider(ABC):
    """One DRM system's licence server."""

    # The path segment of its licence URL (drm/<name>) and its EME key system.
    name: ClassVar[str]
    key_system: ClassVar[str]

    @abstractmethod
    def licence(self, request: bytes, keys: KeyLookup) -> Licence:
        """The licence answering ``request``; raises an ``AppError`` to refuse."""


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ClearKeyRequest(BaseModel):
    """The W3C ClearKey licence request (EME, 9.1.3)."""

    model_config = ConfigDict(extra="ignore")

    kids: list[str] = Field(min_length=1, max_length=64)
    type: str = "temporary"


class ClearKeyKey(BaseModel):
    kty: str = "oct"
    k: str
    kid: str


class ClearKeyLicence(BaseModel):
    """The W3C ClearKey licence: a JSON Web Key Set of the keys asked for."""

    keys: list[ClearKeyKey]
    type: str = "temporary"


class ClearKeyProvider(DrmProvider):
    """W3C ClearKey: ``{kids: [b64url], type}`` -> ``{keys: [{kty, k, kid}], type}``.

    Keys this version does not have are left out; when none of the asked ids is known
    the answer is 404 ``key_not_found``. The licence is always ``temporary``.
    """

    name = "clearkey"
    key_system = "org.w3.clearkey"

    def licence(self, request: bytes, keys: KeyLookup) -> Licence:
        try:
            asked = ClearKeyRequest.model_validate_json(request)
            kids = [_b64url_decode(kid) for kid in asked.kids]
        except (ValidationError, ValueError, binascii.Error) as exc:
            raise BadLicenceRequest(
                'expected a W3C ClearKey licence request: {"kids": [base64url], "type": ...}'
            ) from exc
        found = []
        for kid in dict.fromkeys(kids):
            key = keys(kid) if len(kid) == 16 else None
            if key is not None:
                found.append(ClearKeyKey(k=_b64url(key), kid=_b64url(kid)))
        if not found:
            raise UnknownKeyId("none of the requested key ids belongs to this media")
        body = ClearKeyLicence(keys=found).model_dump(mode="json")
        return Licence(json.dumps(body, separators=(",", ":")).encode(), "application/json")


PROVIDERS: dict[str, DrmProvider] = {p.name: p for p in (ClearKeyProvider(),)}
# The providers a version encrypted one way (assets.encryption) is offered through.
BY_ENCRYPTION: dict[str, tuple[DrmProvider, ...]] = {"clearkey": (PROVIDERS["clearkey"],)}


def licence_path(provider: DrmProvider) -> str:
    """The provider's licence URL relative to the session's signed media prefix."""
    return f"{LICENCE_DIR}/{provider.name}"
