"""The email flows over HTTP: /v1/auth/verify-email..., /v1/auth/password-reset...,
/v1/me/password."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from reelstack.accounts import email_service as service
from reelstack.accounts.email_schemas import (
    EmailSentOut,
    EmailVerifiedOut,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    VerifyEmailIn,
)
from reelstack.accounts.router import client_ip
from reelstack.deps import DbSession, RuntimeDep
from reelstack.problems import responses
from reelstack.security import CurrentPrincipal, IdentityDep, MailerDep

# Mounted under the viewer parent router (reelstack.api), next to accounts.router's.
auth_router = APIRouter(prefix="/auth", tags=["auth"])
me_router = APIRouter(prefix="/me", tags=["me"], responses=responses(401))


@auth_router.post(
    "/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EmailSentOut,
    operation_id="requestEmailVerification",
    responses=responses(401, 409, 429),
)
def request_email_verification(
    session: DbSession,
    principal: CurrentPrincipal,
    identity: IdentityDep,
    mailer: MailerDep,
    runtime: RuntimeDep,
) -> EmailSentOut:
    """Mail the caller a new link that confirms the account's address."""
    service.request_verification(
        session=session,
        mailer=mailer,
        throttle=identity.throttle,
        principal=principal,
        public_url=runtime.settings.public_url,
    )
    return EmailSentOut(detail=service.VERIFY_REQUESTED)


@auth_router.post(
    "/verify-email",
    response_model=EmailVerifiedOut,
    operation_id="verifyEmail",
    responses=responses(400),
)
def verify_email(body: VerifyEmailIn, session: DbSession) -> EmailVerifiedOut:
    """Confirm the address with the token of a verification link (once)."""
    return service.verify_email(session=session, token=body.token)


@auth_router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EmailSentOut,
    operation_id="requestPasswordReset",
    responses=responses(429),
)
def request_password_reset(
    body: PasswordResetRequestIn,
    request: Request,
    session: DbSession,
    identity: IdentityDep,
    mailer: MailerDep,
    runtime: RuntimeDep,
) -> EmailSentOut:
    """Mail a reset link if the address has an account: the answer is the same either
    way (no account enumeration)."""
    service.request_password_reset(
        session=session,
        mailer=mailer,
        throttle=identity.throttle,
        email=body.email,
        ip=client_ip(request),
        public_url=runtime.settings.public_url,
    )
    return EmailSentOut(detail=service.RESET_REQUESTED)


@auth_router.post(
    "/password-reset",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="resetPassword",
    responses=responses(400),
)
def reset_password(
    body: PasswordResetIn,
    session: DbSession,
    identity: IdentityDep,
    mailer: MailerDep,
    runtime: RuntimeDep,
) -> Response:
    """Set a new password with the token of a reset link (once); every device of the
    household is signed out."""
    service.reset_password(
        session=session,
        mailer=mailer,
        throttle=identity.throttle,
        token=body.token,
        new_password=body.new_password,
        public_url=runtime.settings.public_url,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me_router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="changePassword",
    responses=responses(403, 429),
)
def change_password(
    body: PasswordChangeIn,
    session: DbSession,
    principal: CurrentPrincipal,
    identity: IdentityDep,
    mailer: MailerDep,
    runtime: RuntimeDep,
) -> Response:
    """Change the password (the current one is needed: 403 ``wrong_password``); every
    other device of the household is signed out, this one stays signed in."""
    service.change_password(
        session=session,
        mailer=mailer,
        throttle=identity.throttle,
        principal=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        public_url=runtime.settings.public_url,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
