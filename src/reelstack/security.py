"""The admin guard: an API key sent as ``Authorization: Bearer <key>``.

It sits on the admin parent router (``reelstack.api``), so every route under
``/v1/admin`` is protected without a line of its own. Accounts and role-bearing access
tokens will join it later; the key stays for automation.
"""

from __future__ import annotations

import enum
import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from reelstack.config import Settings
from reelstack.errors import InvalidCredentials, Unauthorized

ADMIN_KEY_FILE = "admin-api-key"

# auto_error=False: the guard answers with our own problem codes; this object only
# parses the header and declares the scheme in the OpenAPI document.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="adminApiKey",
    description="The admin API key (REELSTACK_ADMIN_API_KEY, or the one `reelstack run` prints)",
)

_CHALLENGE = 'Bearer realm="reelstack admin"'


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the request through only with the admin API key; otherwise 401 problem+json.

    A missing header (or another scheme) is ``unauthorized``; a wrong key is
    ``invalid_credentials``. The comparison takes the same time whatever the key.
    With no key configured at all, every admin request is refused (fail closed).
    """
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "send the admin API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    settings: Settings = request.app.state.runtime.settings
    expected = settings.admin_api_key.get_secret_value() if settings.admin_api_key else ""
    given = credentials.credentials.encode()
    # Compared even when nothing is configured, so both paths cost the same.
    matches = hmac.compare_digest(given, expected.encode() if expected else secrets.token_bytes(32))
    if not (expected and matches):
        raise InvalidCredentials(
            "the admin API key is not valid",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )


class KeySource(enum.StrEnum):
    ENV = "env"
    FILE = "file"
    GENERATED = "generated"
    NONE = "none"


def admin_key_path(settings: Settings) -> Path:
    return settings.data_dir / ADMIN_KEY_FILE


def load_or_create_admin_key(path: Path) -> tuple[str, bool]:
    """The key stored at ``path``, made there first (mode 0600) when absent or empty.

    Returns the key and whether it was just generated.
    """
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key, False
        path.unlink()
    key = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once cannot both write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_admin_key(path)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key, True


def with_admin_key(settings: Settings) -> tuple[Settings, KeySource]:
    """Settings carrying an admin key, and where it came from.

    ``REELSTACK_ADMIN_API_KEY`` wins. Otherwise, in demo mode, the data dir's key file
    is used, generated on first start. Production never falls back to a file: its key is
    set explicitly, and the production check refuses to start without one.
    """
    if settings.admin_api_key is not None:
        return settings, KeySource.ENV
    if settings.env == "production":
        return settings, KeySource.NONE
    key, generated = load_or_create_admin_key(admin_key_path(settings))
    updated = settings.model_copy(update={"admin_api_key": SecretStr(key)})
    return updated, KeySource.GENERATED if generated else KeySource.FILE
