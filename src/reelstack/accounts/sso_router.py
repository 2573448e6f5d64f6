"""Sign-in with an external OpenID Connect provider: /v1/auth/sso/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from reelstack.accounts import sso
from reelstack.accounts.schemas import DeviceIn, Strict, TokenOut
from reelstack.deps import DbSession
from reelstack.problems import responses
from reelstack.security import IdentityDep

router = APIRouter(prefix="/auth/sso", tags=["auth"])


class SsoConfigOut(BaseModel):
    enabled: bool
    # "Sign in with <name>".
    name: str | None


class SsoExchangeIn(Strict):
    handoff: str = Field(min_length=10, max_length=100)
    # A device this account registered before (the browser keeps it); else a new one.
    device_id: str | None = Field(default=None, max_length=32)
    device: DeviceIn | None = None


@router.get("", response_model=SsoConfigOut, operation_id="getSsoConfig")
def sso_config(identity: IdentityDep) -> SsoConfigOut:
    """Whether the sign-in page offers single sign-on, and its button's name."""
    provider = identity.sso
    return SsoConfigOut(
        enabled=provider is not None, name=provider.display_name if provider else None
    )


@router.get(
    "/start",
    operation_id="startSso",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=responses(401, 404),
)
def start(
    session: DbSession,
    identity: IdentityDep,
    return_to: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    """Send the browser to the provider (state, nonce and PKCE S256 kept server-side);
    ``return_to`` is a path of the web app to come back to."""
    url = sso.start(session=session, provider=identity.sso, return_to=return_to)
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND)


@router.get(
    "/callback",
    operation_id="ssoCallback",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=responses(404),
)
def callback(
    session: DbSession,
    identity: IdentityDep,
    state: Annotated[str | None, Query(max_length=200)] = None,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    """The provider's redirect: on success the web app continues with a one-time
    ``#sso=`` code; on failure with ``#sso_error=<code>`` (and nothing is kept but the
    spent state)."""
    try:
        target = sso.callback(
            session=session, provider=identity.sso, state=state, code=code, error=error
        )
    except sso.SsoFailed as exc:
        session.rollback()
        sso.burn_state(session=session, state=state)
        target = f"/app/#sso_error={exc.code}"
    return RedirectResponse(target, status_code=status.HTTP_302_FOUND)


@router.post(
    "/exchange", response_model=TokenOut, operation_id="exchangeSso", responses=responses(401, 403)
)
def exchange(body: SsoExchangeIn, session: DbSession, identity: IdentityDep) -> TokenOut:
    """Trade the one-time code from the callback for this app's tokens."""
    return sso.exchange(
        session=session,
        auth=identity.auth,
        handoff=body.handoff,
        device_id=body.device_id,
        device=body.device,
    )
