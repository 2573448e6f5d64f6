"""The email flows of accounts: address verification, password reset, password change.

Links carry a random token (``secrets.token_urlsafe(32)``) stored only as its SHA-256
hash, bound to one purpose and to the address it was mailed to, used once (a conditional
UPDATE spends it, so two concurrent uses cannot both succeed) and short-lived. A spent,
expired or unknown token is 400 ``invalid_token``. The token travels in the URL's
fragment (``/app/#reset=...``), which browsers never send to a server or in a Referer.

Messages are handed to the mailer only after the request's transaction commits
(``reelstack.uow.on_commit``): a request that fails sends nothing, and no link names a
token that was never stored.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reelstack.accounts import service as accounts
from reelstack.accounts.email_models import EmailPurpose, EmailToken
from reelstack.accounts.email_schemas import EmailVerifiedOut
from reelstack.accounts.mailer import Mailer
from reelstack.accounts.models import LoginSession, User
from reelstack.accounts.passwords import hash_secret, verify_secret
from reelstack.accounts.schemas import Principal
from reelstack.accounts.throttle import LoginThrottle
from reelstack.db import utcnow
from reelstack.errors import BadRequest, Conflict, Forbidden, NotFound, TooManyRequests
from reelstack.uow import on_commit

VERIFY_TTL = timedelta(hours=48)
RESET_TTL = timedelta(hours=1)

# What every password-reset request answers, whether the address has an account or not.
RESET_REQUESTED = (
    "If an account uses this address, a link to reset its password is on its way; "
    f"it works once, within {math.ceil(RESET_TTL.total_seconds() / 60)} minutes."
)
VERIFY_REQUESTED = "A link to confirm your email address is on its way."


class InvalidEmailToken(BadRequest):
    code = "invalid_token"
    title = "Invalid or expired link"


class EmailAlreadyVerified(Conflict):
    code = "email_already_verified"
    title = "Email address already verified"


class WrongPassword(Forbidden):
    code = "wrong_password"
    title = "Current password is not correct"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link(public_url: str, key: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/app/#{key}={token}"


def _issue(session: Session, user: User, purpose: EmailPurpose, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose,
            email=user.email,
            token_hash=hash_token(token),
            expires_at=utcnow() + ttl,
        )
    )
    session.flush()
    return token


def _send_after_commit(session: Session, mailer: Mailer, to: str, subject: str, body: str) -> None:
    on_commit(session, partial(mailer.send, to, subject, body))


def _limit(throttle: LoginThrottle, *, key: str, ip: str | None, what: str) -> None:
    """Count one request under ``key`` (and the IP); 429 with Retry-After when over."""
    try:
        throttle.check(email=key, ip=ip)
    except TooManyRequests as exc:
        raise TooManyRequests(f"too many {what}; try again later", headers=exc.headers) from None
    throttle.failed(email=key, ip=ip)


def _spend_all(session: Session, user_id: str, purpose: EmailPurpose) -> None:
    """Spend every outstanding token of ``purpose``: older links stop working."""
    session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == user_id,
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def _consume(session: Session, token: str, purpose: EmailPurpose) -> User:
    """Spend ``token`` and return its account; 400 ``invalid_token`` otherwise.

    One conditional UPDATE spends it: of two concurrent uses, the second waits for the
    first's row lock (SQLite: the write lock) and then matches nothing.
    """
    now = utcnow()
    spent = session.execute(
        update(EmailToken)
        .where(
            EmailToken.token_hash == hash_token(token),
            EmailToken.purpose == purpose,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(EmailToken.user_id, EmailToken.email)
        .execution_options(synchronize_session=False)
    ).first()
    if spent is None:
        row = session.scalar(
            select(EmailToken).where(
                EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose
            )
        )
        if row is None:
            raise InvalidEmailToken("this link is not valid")
        if row.used_at is not None:
            raise InvalidEmailToken("this link was already used")
        raise InvalidEmailToken("this link has expired: ask for a new one")
    user = session.get(User, spent.user_id)
    if user is None or user.email != spent.email:
        raise InvalidEmailToken("this link was sent to an address the account no longer uses")
    return user


# --- verification -----------------------------------------------------------------------


def send_verification(*, session: Session, mailer: Mailer, user_id: str, public_url: str) -> None:
    """Mail ``user_id`` a link that confirms its address (after this transaction commits).

    The sign-up route calls it for a new account; 409 ``email_already_verified`` when
    there is nothing to confirm.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    if user.email_verified_at is not None:
        raise EmailAlreadyVerified(f"{user.email} is already verified")
    token = _issue(session, user, EmailPurpose.VERIFY_EMAIL, VERIFY_TTL)
    hours = int(VERIFY_TTL.total_seconds() // 3600)
    body = (
        "Hello,\n\n"
        "Confirm the email address of your Reelstack account by opening this link:\n\n"
        f"{_link(public_url, 'verify', token)}\n\n"
        f"The link works once and expires in {hours} hours. If you did not create a "
        "Reelstack account, ignore this message.\n"
    )
    _send_after_commit(session, mailer, user.email, "Confirm your email address", body)


def request_verification(
    *,
    session: Session,
    mailer: Mailer,
    throttle: LoginThrottle,
    principal: Principal,
    public_url: str,
) -> None:
    """A new verification link for the caller's address (throttled per account)."""
    _limit(
        throttle,
        key=f"verify:{principal.user_id}",
        ip=None,
        what="verification emails requested",
    )
    send_verification(
        session=session, mailer=mailer, user_id=principal.user_id, public_url=public_url
    )


def verify_email(*, session: Session, token: str) -> EmailVerifiedOut:
    """Mark the account's address as verified (once per link)."""
    user = _consume(session, token, EmailPurpose.VERIFY_EMAIL)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    _spend_all(session, user.id, EmailPurpose.VERIFY_EMAIL)
    session.flush()
    return EmailVerifiedOut(email=user.email, email_verified_at=user.email_verified_at)


# --- passwords --------------------------------------------------------------------------


def request_password_reset(
    *,
    session: Session,
    mailer: Mailer,
    throttle: LoginThrottle,
    email: str,
    ip: str | None,
    public_url: str,
) -> None:
    """Mail a reset link when ``email`` has an account; the caller answers the same
    either way. Throttled per address and per IP, known or not."""
    email = accounts.normalize_email(email)
    _limit(
        throttle,
        key=f"reset:{email}",
        ip=f"reset:{ip}" if ip else None,
        what="password reset requests",
    )
    user = accounts.find_user(session=session, email=email)
    if user is None:
        return
    token = _issue(session, user, EmailPurpose.RESET_PASSWORD, RESET_TTL)
    minutes = math.ceil(RESET_TTL.total_seconds() / 60)
    body = (
        "Hello,\n\n"
        "Someone (we hope you) asked to reset the password of your Reelstack account. "
        "Choose a new password by opening this link:\n\n"
        f"{_link(public_url, 'reset', token)}\n\n"
        f"The link works once and expires in {minutes} minutes. If you did not ask for it, "
        "ignore this message: your password stays as it is.\n"
    )
    _send_after_commit(session, mailer, user.email, "Reset your Reelstack password", body)


def _password_changed_notice(
    session: Session, mailer: Mailer, user: User, public_url: str, how: str
) -> None:
    body = (
        "Hello,\n\n"
        f"The password of your Reelstack account ({user.email}) was just changed {how}.\n\n"
        "If this was not you, reset your password at once from the sign-in page:\n\n"
        f"{public_url.rstrip('/')}/app/\n"
    )
    _send_after_commit(session, mailer, user.email, "Your Reelstack password was changed", body)


def reset_password(
    *,
    session: Session,
    mailer: Mailer,
    throttle: LoginThrottle,
    token: str,
    new_password: str,
    public_url: str,
) -> None:
    """Set a new password from a reset link and sign the household out everywhere.

    The link proves control of the address, so an unverified one becomes verified; the
    account's failed-sign-in counter is cleared.
    """
    user = _consume(session, token, EmailPurpose.RESET_PASSWORD)
    user.password_hash = hash_secret(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    _spend_all(session, user.id, EmailPurpose.RESET_PASSWORD)
    accounts.logout_everywhere(session=session, user_id=user.id)
    session.flush()
    throttle.succeeded(email=user.email)
    _password_changed_notice(session, mailer, user, public_url, "with a reset link")


def revoke_other_sessions(*, session: Session, user_id: str, keep_session_id: str) -> int:
    """Revoke every live login session of the household but ``keep_session_id``."""
    result = session.execute(
        update(LoginSession)
        .where(
            LoginSession.user_id == user_id,
            LoginSession.id != keep_session_id,
            LoginSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason="password_changed")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def change_password(
    *,
    session: Session,
    mailer: Mailer,
    throttle: LoginThrottle,
    principal: Principal,
    current_password: str,
    new_password: str,
    public_url: str,
) -> None:
    """Replace the password (the current one is needed) and sign out every other device.

    A wrong current password is 403 ``wrong_password`` (the access token itself is fine,
    so not 401); wrong guesses are throttled like sign-ins (429 ``too_many_attempts``).
    """
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("the account no longer exists")
    key = f"password:{user.id}"
    try:
        throttle.check(email=key, ip=None)
    except TooManyRequests as exc:
        raise TooManyRequests(
            "too many wrong passwords; try again later", headers=exc.headers
        ) from None
    if not verify_secret(user.password_hash, current_password):
        throttle.failed(email=key, ip=None)
        raise WrongPassword("the current password is not correct")
    throttle.succeeded(email=key)
    user.password_hash = hash_secret(new_password)
    revoke_other_sessions(session=session, user_id=user.id, keep_session_id=principal.session_id)
    _spend_all(session, user.id, EmailPurpose.RESET_PASSWORD)
    session.flush()
    _password_changed_notice(session, mailer, user, public_url, "from a signed-in device")
