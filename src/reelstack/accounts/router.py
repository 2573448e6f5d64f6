"""Sign-in and the household's own objects: /v1/auth/... and /v1/me/...

Every object route filters by the caller's household: another household's id is 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from reelstack.accounts import email_service, households, service
from reelstack.accounts.schemas import (
    AccessTokenOut,
    DeviceOut,
    LoginIn,
    LogoutIn,
    MeOut,
    ProfileIn,
    ProfileOut,
    ProfilePatch,
    RefreshIn,
    SelectProfileIn,
    SignUpIn,
    TokenOut,
    UserOut,
)
from reelstack.deps import DbSession, RuntimeDep
from reelstack.problems import responses
from reelstack.security import CurrentPrincipal, IdentityDep, MailerDep

# Mounted under the viewer parent router (reelstack.api).
auth_router = APIRouter(prefix="/auth", tags=["auth"])
me_router = APIRouter(prefix="/me", tags=["me"], responses=responses(401))
# Mounted on the public router: /.well-known/...
wellknown_router = APIRouter(prefix="/.well-known", tags=["auth"])


@wellknown_router.get("/jwks.json", operation_id="getJwks")
def jwks(identity: IdentityDep) -> dict[str, Any]:
    """The public keys that verify access tokens (retired keys stay until their tokens
    expire)."""
    return identity.auth.ring.jwks()


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@auth_router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    operation_id="signUp",
    responses=responses(409),
)
def sign_up(body: SignUpIn, session: DbSession, mailer: MailerDep, runtime: RuntimeDep) -> UserOut:
    """Open an account and mail a link that confirms its address (sent after commit)."""
    user = service.create_user(session=session, email=body.email, password=body.password)
    email_service.send_verification(
        session=session, mailer=mailer, user_id=user.id, public_url=runtime.settings.public_url
    )
    return service.user_out(user)


@auth_router.post(
    "/login", response_model=TokenOut, operation_id="login", responses=responses(401, 429)
)
def login(body: LoginIn, request: Request, session: DbSession, identity: IdentityDep) -> TokenOut:
    return service.login(
        session=session,
        auth=identity.auth,
        throttle=identity.throttle,
        email=body.email,
        password=body.password,
        ip=client_ip(request),
        device_id=body.device_id,
        device=body.device,
    )


@auth_router.post(
    "/refresh", response_model=TokenOut, operation_id="refreshToken", responses=responses(401)
)
def refresh(body: RefreshIn, session: DbSession, identity: IdentityDep) -> TokenOut:
    return service.refresh(session=session, auth=identity.auth, refresh_token=body.refresh_token)


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="logout",
    responses=responses(401),
)
def logout(body: LogoutIn, session: DbSession, principal: CurrentPrincipal) -> Response:
    """End this sign-in (the bearer token's session; with ``refresh_token``, that
    token's session too when it is the same household's)."""
    service.logout(session=session, session_id=principal.session_id)
    if body.refresh_token:
        service.logout_refresh(
            session=session, refresh_token=body.refresh_token, user_id=principal.user_id
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="logoutEverywhere",
    responses=responses(401),
)
def logout_all(session: DbSession, principal: CurrentPrincipal) -> Response:
    """Sign out every device of the household, this one included."""
    service.logout_everywhere(session=session, user_id=principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get("", response_model=MeOut, operation_id="getMe")
def get_me(session: DbSession, principal: CurrentPrincipal) -> MeOut:
    return households.me(session=session, principal=principal)


@me_router.delete("", status_code=status.HTTP_204_NO_CONTENT, operation_id="deleteAccount")
def delete_me(session: DbSession, principal: CurrentPrincipal) -> Response:
    """Delete the account with its profiles, devices, sessions and grants."""
    service.delete_account(session=session, user_id=principal.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.get("/profiles", response_model=list[ProfileOut], operation_id="listProfiles")
def list_profiles(session: DbSession, principal: CurrentPrincipal) -> list[ProfileOut]:
    return households.list_profiles(session=session, user_id=principal.user_id)


@me_router.post(
    "/profiles",
    status_code=status.HTTP_201_CREATED,
    response_model=ProfileOut,
    operation_id="createProfile",
    responses=responses(403, 409),
)
def create_profile(body: ProfileIn, session: DbSession, principal: CurrentPrincipal) -> ProfileOut:
    return households.create_profile(session=session, principal=principal, body=body)


@me_router.patch(
    "/profiles/{profile_id}",
    response_model=ProfileOut,
    operation_id="updateProfile",
    responses=responses(403, 404),
)
def update_profile(
    profile_id: str, body: ProfilePatch, session: DbSession, principal: CurrentPrincipal
) -> ProfileOut:
    return households.update_profile(
        session=session, principal=principal, profile_id=profile_id, body=body
    )


@me_router.delete(
    "/profiles/{profile_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteProfile",
    responses=responses(403, 404, 409),
)
def delete_profile(profile_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    households.delete_profile(session=session, principal=principal, profile_id=profile_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.post(
    "/profiles/{profile_id}/select",
    response_model=AccessTokenOut,
    operation_id="selectProfile",
    responses=responses(403, 404, 429),
)
def select_profile(
    profile_id: str,
    body: SelectProfileIn,
    session: DbSession,
    identity: IdentityDep,
    principal: CurrentPrincipal,
) -> AccessTokenOut:
    """Watch as this profile on this device; a PIN-locked profile needs its PIN."""
    return households.select_profile(
        session=session,
        auth=identity.auth,
        throttle=identity.throttle,
        principal=principal,
        profile_id=profile_id,
        pin=body.pin,
    )


@me_router.get("/devices", response_model=list[DeviceOut], operation_id="listDevices")
def list_devices(session: DbSession, principal: CurrentPrincipal) -> list[DeviceOut]:
    return households.list_devices(session=session, principal=principal)


@me_router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="removeDevice",
    responses=responses(404),
)
def remove_device(device_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    """Forget a device and sign it out."""
    households.remove_device(session=session, principal=principal, device_id=device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
