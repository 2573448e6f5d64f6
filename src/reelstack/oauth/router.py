"""OAuth 2 and OpenID Connect endpoints.

- public: ``/.well-known/openid-configuration``, ``/oauth/authorize`` (checks the
  request, then sends the browser to the web app's consent page), ``/oauth/token``,
  ``/oauth/device_authorization``, ``/oauth/userinfo``. Their errors follow RFC 6749
  (``{"error", "error_description"}``), which OAuth client libraries expect, not
  problem+json.
- viewer (``/v1``): the consent page's ``/v1/oauth/authorize`` and the activation page's
  ``/v1/auth/device/approve`` and ``/deny``.
- admin (``/v1/admin/oauth/clients``): register, list and revoke clients (admins).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from reelstack.accounts import service as accounts
from reelstack.accounts.identity import Identity
from reelstack.accounts.models import DeviceType, LoginSession
from reelstack.deps import DbSession, RuntimeDep
from reelstack.errors import BadRequest, Forbidden, PayloadTooLarge
from reelstack.oauth import service
from reelstack.oauth.context import Context, bound
from reelstack.oauth.context import Request as OAuthRequest
from reelstack.oauth.schemas import (
    ClientCreated,
    ClientOut,
    ConsentAnswer,
    ConsentIn,
    ConsentOut,
    DeviceApproved,
    DeviceCodeIn,
)
from reelstack.oauth.server import Server, user_info
from reelstack.problems import responses
from reelstack.runtime import Runtime
from reelstack.security import CurrentPrincipal, IdentityDep, require_admin_role

MAX_FORM_BYTES = 16 * 1024
_server = Server()

public_router = APIRouter(tags=["oauth"])
viewer_router = APIRouter(tags=["oauth"], responses=responses(401))
admin_router = APIRouter(
    prefix="/oauth/clients", tags=["oauth"], dependencies=[Depends(require_admin_role)]
)


def _issuer(runtime: Runtime) -> str:
    return runtime.settings.public_url.rstrip("/")


def _context(runtime: Runtime, identity: Identity, session: Any) -> Context:
    issuer = _issuer(runtime)
    return Context(
        session=session,
        auth=identity.auth,
        issuer=issuer,
        verification_uri=f"{issuer}/app/activate",
    )


def _oauth_request(
    runtime: Runtime, request: Request, query: list[tuple[str, str]], form: list[tuple[str, str]]
) -> OAuthRequest:
    # The issuer's URL, not the socket's: behind the edge the public scheme and host count.
    uri = f"{_issuer(runtime)}{request.url.path}"
    if query:
        uri += "?" + urlencode(query)
    return OAuthRequest(
        method=request.method,
        uri=uri,
        # Case-insensitive, as Authlib reads 'Authorization'.
        headers=request.headers,
        query=query,
        form=form,
    )


async def _form(request: Request) -> list[tuple[str, str]]:
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise BadRequest("send the parameters as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadTooLarge(f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        return parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise BadRequest("the form is not UTF-8") from exc


def _answer(status_code: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    out = dict(headers)
    out["Cache-Control"] = "no-store"
    out.pop("Content-Type", None)
    return JSONResponse(body, status_code=status_code, headers=out)


def _run_endpoint(
    runtime: Runtime, identity: Identity, oauth_request: OAuthRequest, endpoint: str | None
) -> tuple[int, Any, list[tuple[str, str]]]:
    """Run Authlib's token or device-authorization endpoint in one unit of work: kept on
    success (and for the few error answers that must stick), rolled back otherwise."""
    identity.auth.ring.signing_key()  # loaded before this transaction writes (KeyRing)
    with runtime.sessions() as session:
        context = _context(runtime, identity, session)
        with bound(context):
            if endpoint is None:
                result = _server.create_token_response(oauth_request)
            else:
                result = _server.create_endpoint_response(endpoint, oauth_request)
        if result[0] < 400 or context.keep_on_error:
            session.commit()
        else:
            session.rollback()
    return result  # type: ignore[no-any-return]


# --- public -------------------------------------------------------------------------------


@public_router.get("/.well-known/openid-configuration", operation_id="getOpenIdConfiguration")
def openid_configuration(runtime: RuntimeDep) -> dict[str, Any]:
    """OpenID Connect discovery: the endpoints, grants and algorithms of this server."""
    return service.discovery(_issuer(runtime))


@public_router.get(
    "/oauth/authorize",
    operation_id="oauthAuthorize",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=responses(400),
)
def authorize(request: Request, runtime: RuntimeDep, identity: IdentityDep) -> Response:
    """Check an authorization request (client, redirect URI, PKCE S256), then send the
    browser to the web app's consent page, where the viewer signs in and answers."""
    query = list(request.query_params.multi_items())
    oauth_request = _oauth_request(runtime, request, query, [])
    with runtime.sessions() as session, bound(_context(runtime, identity, session)):
        try:
            _server.get_consent_grant(oauth_request, end_user=None)
        except OAuth2Error as error:
            redirect = getattr(error, "redirect_uri", None)
            if redirect:
                # The client and its redirect URI are known: the error goes back to it.
                _, _, headers = _server.handle_error_response(oauth_request, error)
                return RedirectResponse(dict(headers)["Location"], status_code=302)
            raise service.AuthorizationRequestInvalid(
                f"{error.error}: {error.description or ''}".strip(": ")
            ) from error
    return RedirectResponse(f"/app/authorize?{urlencode(query)}", status_code=302)


@public_router.post("/oauth/token", operation_id="oauthToken")
async def token(request: Request, runtime: RuntimeDep, identity: IdentityDep) -> Response:
    """The token endpoint: ``authorization_code`` (with ``code_verifier``), the device
    code grant, and ``refresh_token`` (rotating; a reused one revokes its family)."""
    form = await _form(request)
    oauth_request = _oauth_request(runtime, request, [], form)
    result = await run_in_threadpool(_run_endpoint, runtime, identity, oauth_request, None)
    return _answer(*result)


@public_router.post("/oauth/device_authorization", operation_id="oauthDeviceAuthorization")
async def device_authorization(
    request: Request, runtime: RuntimeDep, identity: IdentityDep
) -> Response:
    """RFC 8628: a device code for the TV to poll with and a user code to show."""
    form = await _form(request)
    oauth_request = _oauth_request(runtime, request, [], form)
    result = await run_in_threadpool(
        _run_endpoint, runtime, identity, oauth_request, "device_authorization"
    )
    return _answer(*result)


@public_router.get("/oauth/userinfo", operation_id="oauthUserInfo", responses=responses(401, 403))
def userinfo(principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    """OpenID Connect userinfo for the bearer of an access token (a client's token needs
    the ``openid`` scope)."""
    login = session.get(LoginSession, principal.session_id)
    scope = "openid email profile"
    if login is not None and login.client_id is not None:
        scope = login.scope or ""
        if "openid" not in scope.split():
            raise Forbidden(
                "this token was not granted the 'openid' scope",
                headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
    return user_info(accounts.get_user_row(session, principal.user_id), scope)


# --- viewer: consent and device approval ------------------------------------------------


def _viewer_request(runtime: Runtime, request: Request, query: str) -> OAuthRequest:
    pairs = parse_qsl(query, keep_blank_values=True)
    return _oauth_request(runtime, request, pairs, [])


@viewer_router.get(
    "/oauth/authorize",
    response_model=ConsentOut,
    operation_id="getConsent",
    responses=responses(400),
)
def consent_preview(
    request: Request,
    query: Annotated[str, Query(min_length=1, max_length=4096)],
    principal: CurrentPrincipal,
    session: DbSession,
    runtime: RuntimeDep,
    identity: IdentityDep,
) -> ConsentOut:
    """Which app asks for what: the consent page's text, from the authorization request's
    query string."""
    return service.consent_preview(
        server=_server,
        context=_context(runtime, identity, session),
        request=_viewer_request(runtime, request, query),
        principal=principal,
    )


@viewer_router.post(
    "/oauth/authorize",
    response_model=ConsentAnswer,
    operation_id="answerConsent",
    responses=responses(400, 403),
)
def consent(
    body: ConsentIn,
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
    runtime: RuntimeDep,
    identity: IdentityDep,
) -> ConsentAnswer:
    """Allow or deny: the answer is where the browser goes next (the app's redirect URI
    with a one-time code, or with ``error=access_denied``)."""
    location = service.consent(
        server=_server,
        context=_context(runtime, identity, session),
        request=_viewer_request(runtime, request, body.query),
        principal=principal,
        approve=body.approve,
    )
    return ConsentAnswer(redirect_to=location)


@viewer_router.post(
    "/auth/device/approve",
    response_model=DeviceApproved,
    operation_id="approveDevice",
    responses=responses(403, 404, 409, 410),
)
def approve_device(
    body: DeviceCodeIn, principal: CurrentPrincipal, session: DbSession
) -> DeviceApproved:
    """Sign the TV showing ``user_code`` in to this household (what /app/activate
    calls); the device appears in the account's devices."""
    return service.decide_device(
        session=session, principal=principal, user_code=body.user_code, approve=True
    )


@viewer_router.post(
    "/auth/device/deny",
    response_model=DeviceApproved,
    operation_id="denyDevice",
    responses=responses(403, 404, 409, 410),
)
def deny_device(
    body: DeviceCodeIn, principal: CurrentPrincipal, session: DbSession
) -> DeviceApproved:
    """Refuse the device showing ``user_code``: its next poll gets ``access_denied``."""
    return service.decide_device(
        session=session, principal=principal, user_code=body.user_code, approve=False
    )


# --- admin: clients ------------------------------------------------------------------------


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    public: bool
    grants: list[str] = Field(min_length=1, max_length=2)
    redirect_uris: list[str] = Field(default_factory=list, max_length=10)
    client_id: str | None = Field(default=None, max_length=64)
    device_type: DeviceType = DeviceType.OTHER

    model_config = {"extra": "forbid"}


@admin_router.get("", response_model=list[ClientOut], operation_id="listOAuthClients")
def list_clients(session: DbSession) -> list[ClientOut]:
    return service.list_clients(session=session)


@admin_router.post(
    "",
    response_model=ClientCreated,
    status_code=status.HTTP_201_CREATED,
    operation_id="createOAuthClient",
    responses=responses(409, 422),
)
def create_client(body: ClientIn, session: DbSession) -> ClientCreated:
    """Register a client; a confidential client's secret is in this answer only."""
    return service.create_client(
        session=session,
        name=body.name,
        public=body.public,
        grants=body.grants,
        redirect_uris=body.redirect_uris,
        client_id=body.client_id,
        device_type=body.device_type,
    )


@admin_router.delete(
    "/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeOAuthClient",
    responses=responses(404),
)
def revoke_client(client_id: str, session: DbSession) -> None:
    """Stop the client: no new grants, and every session it opened is signed out."""
    service.revoke_client(session=session, client_id=client_id)
