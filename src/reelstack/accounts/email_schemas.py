"""Bodies of the email flows: verification, password reset and password change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field

from reelstack.accounts.passwords import MAX_PASSWORD_CHARS
from reelstack.accounts.schemas import Password, Strict

# token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
EmailTokenStr = Annotated[str, Field(min_length=1, max_length=200)]


class VerifyEmailIn(Strict):
    token: EmailTokenStr


class PasswordResetRequestIn(Strict):
    email: EmailStr


class PasswordResetIn(Strict):
    token: EmailTokenStr
    new_password: Password


class PasswordChangeIn(Strict):
    current_password: Annotated[str, Field(max_length=MAX_PASSWORD_CHARS)]
    new_password: Password


class EmailSentOut(BaseModel):
    """A request for an email was accepted (the message leaves in the background)."""

    status: Literal["accepted"] = "accepted"
    detail: str


class EmailVerifiedOut(BaseModel):
    email: str
    email_verified: Literal[True] = True
    email_verified_at: datetime
