"""The request context of Authlib's calls (our unit of work, shared by the grants
through a context variable) and the HTTP request as Authlib reads it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from sqlalchemy.orm import Session

from reelstack.accounts import service as accounts
from reelstack.accounts.models import User, UserStatus

SCOPES = ["openid", "profile", "email", "offline_access"]
CODE_TTL_S = 120
DEVICE_CODE_TTL_S = 600
DEVICE_POLL_INTERVAL_S = 5
ID_TOKEN_TTL_S = 3600
# RFC 8628 section 6.1: 8 characters from 20 consonants (no vowels, no look-alikes).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


@dataclass
class Context:
    session: Session
    auth: accounts.Auth
    issuer: str
    verification_uri: str
    # Set by our grants while they run: the device the tokens go to (device grant),
    # the login session they opened, and whether an error answer still commits (the
    # poll state of a device grant, the revocation of a replayed code).
    device_id: str | None = field(default=None)
    issued_session_id: str | None = field(default=None)
    keep_on_error: bool = field(default=False)


_context: ContextVar[Context] = ContextVar("oauth_context")


def ctx() -> Context:
    return _context.get()


@contextmanager
def bound(context: Context) -> Iterator[Context]:
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


# --- requests ------------------------------------------------------------------------


class _Payload(OAuth2Payload):  # type: ignore[misc]
    """Query and form parameters, keeping repeats (a repeated parameter is an error)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class Request(OAuth2Request):  # type: ignore[misc]
    """An HTTP request as Authlib reads it, built by the router from Starlette's."""

    def __init__(
        self,
        *,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = _Payload(query + form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


def active_user(session: Session, user_id: str) -> User | None:
    user = session.get(User, user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        return None
    return user
