"""Who is calling: the admin guard, and the access-token dependencies of viewer routes.

The admin guard sits on the admin parent router (``reelstack.api``), so every route
under ``/v1/admin`` is protected without a line of its own. It accepts the admin API key
(a bootstrap and automation credential) or the access token of an admin or editor;
user management additionally needs an admin (``require_admin_role``).
"""

from __future__ import annotations

import enum
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from sqlalchemy.orm import Session

from reelstack.accounts import api_keys, households
from reelstack.accounts import service as accounts
from reelstack.accounts.identity import Identity
from reelstack.accounts.mailer import Mailer
from reelstack.accounts.models import Role
from reelstack.accounts.schemas import Principal
from reelstack.config import Settings
from reelstack.deps import DbSession, RuntimeDep
from reelstack.errors import Forbidden, InvalidCredentials, Unauthorized

ADMIN_KEY_FILE = "admin-api-key"
STAFF_ROLES = frozenset({Role.ADMIN, Role.EDITOR})
_READS = frozenset({"GET", "HEAD"})

# auto_error=False: the guards answer with our own problem codes; these objects only
# parse the header and declare the schemes in the OpenAPI document.
_admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="adminCredentials",
    description=(
        "The admin API key (REELSTACK_ADMIN_API_KEY, or the one `reelstack run` prints), "
        "or an admin's or editor's access token"
    ),
)
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="accessToken",
    description="An access token from POST /v1/auth/login or /v1/auth/refresh",
)

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]

_ADMIN_CHALLENGE = 'Bearer realm="reelstack admin"'
_CHALLENGE = 'Bearer realm="reelstack"'


async def get_identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def get_mailer(request: Request) -> Mailer:
    """The app's mailer (``app.state.mailer``: queued, SMTP or outbox behind it)."""
    mailer: Mailer = request.app.state.mailer
    return mailer


MailerDep = Annotated[Mailer, Depends(get_mailer)]


def _looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


@dataclass(frozen=True)
class Actor:
    """The caller of an admin route: a staff member (``principal``) or an API key (its
    ``scopes``; the bootstrap key holds them all)."""

    principal: Principal | None
    scopes: frozenset[str] = frozenset()
    # The scoped API key's id (None for a staff member and for the bootstrap key).
    api_key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        if self.principal is not None:
            return self.principal.role is Role.ADMIN
        return "users:manage" in self.scopes


def _check_api_key(settings: Settings, given: str) -> None:
    expected = settings.admin_api_key.get_secret_value() if settings.admin_api_key else ""
    # Compared even when nothing is configured, so both paths cost the same.
    matches = hmac.compare_digest(
        given.encode(), expected.encode() if expected else secrets.token_bytes(32)
    )
    if not (expected and matches):
        raise InvalidCredentials(
            "the admin API key is not valid",
            headers={"WWW-Authenticate": f'{_ADMIN_CHALLENGE}, error="invalid_token"'},
        )


def require_admin(
    request: Request,
    session: DbSession,
    runtime: RuntimeDep,
    identity: IdentityDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> Actor:
    """Let the request through with the admin API key, a scoped API key (``rsk_...``,
    ``reelstack.accounts.api_keys``) or a staff access token.

    A missing header (or another scheme) is 401 ``unauthorized``; a wrong key or an
    invalid token 401 ``invalid_credentials``; a valid token of a viewer or support
    agent 403 ``forbidden``. With no key configured, keys are refused (fail closed).
    """
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "send the admin API key or a staff access token as 'Authorization: Bearer ...'",
            headers={"WWW-Authenticate": _ADMIN_CHALLENGE},
        )
    given = credentials.credentials
    if _looks_like_jwt(given):
        principal = accounts.authenticate(session=session, auth=identity.auth, token=given)
        if principal.role not in STAFF_ROLES:
            raise Forbidden("admin routes need an admin or editor account")
        request.state.principal = principal
        return Actor(principal=principal)
    if api_keys.looks_like_api_key(given):
        scopes = api_keys.authenticate(session=session, presented=given)
        if scopes is None:
            raise InvalidCredentials(
                "the API key is not valid (unknown or revoked)",
                headers={"WWW-Authenticate": f'{_ADMIN_CHALLENGE}, error="invalid_token"'},
            )
        needed = {"admin:read", "admin:write"} if request.method in _READS else {"admin:write"}
        if not scopes & needed:
            raise Forbidden(
                f"this API key lacks the scope for this call ({' or '.join(sorted(needed))})"
            )
        return Actor(principal=None, scopes=scopes, api_key_id=api_keys.key_id(given))
    _check_api_key(runtime.settings, given)
    return Actor(principal=None, scopes=api_keys.ALL_SCOPES)


AdminActor = Annotated[Actor, Depends(require_admin)]


def require_admin_role(actor: AdminActor) -> Actor:
    """Admin-only routes (users, plans, API keys): an admin, the bootstrap key, or an API
    key with ``users:manage``; not an editor."""
    if not actor.is_admin:
        raise Forbidden("this route needs an admin account")
    return actor


def principal_from(
    session: Session, identity: Identity, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    """The signed-in caller, or None without an access token; an invalid one is 401.

    A bearer value that is not JWT-shaped (the admin API key) is not a viewer
    credential: the caller is anonymous here.
    """
    if credentials is None or not _looks_like_jwt(credentials.credentials):
        return None
    return accounts.authenticate(session=session, auth=identity.auth, token=credentials.credentials)


def optional_principal(
    request: Request,
    session: DbSession,
    identity: IdentityDep,
    credentials: BearerCredentials,
) -> Principal | None:
    """``principal_from`` as a dependency (it also tags the request for logs)."""
    principal = principal_from(session, identity, credentials)
    request.state.principal = principal
    return principal


def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized(
            "sign in and send the access token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
# ``openapi_extra`` of routes where signing in is optional (``MaybePrincipal``): the empty
# requirement tells clients and checkers that anonymous calls are valid too.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}, {"accessToken": []}]}
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


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


def viewer_ceiling(session: DbSession, principal: MaybePrincipal) -> int | None:
    """The maturity ceiling of the caller's profile; None for anonymous or unpicked."""
    if principal is None:
        return None
    ceiling = households.profile_ceiling(
        session=session, user_id=principal.user_id, profile_id=principal.profile_id
    )
    return None if ceiling is None else int(ceiling)


ViewerCeiling = Annotated[int | None, Depends(viewer_ceiling)]
