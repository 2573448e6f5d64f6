"""Email rows: the single-use tokens that email links carry, and the demo outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reelstack.db import Base, enum_type, new_id, utcnow


class EmailPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class EmailToken(Base):
    """A token mailed in a link, stored as a SHA-256 hash; used once, then spent.

    ``email`` is the address it was sent to: the token proves control of that address
    only, so it does nothing once the account's address is another.
    """

    __tablename__ = "email_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[EmailPurpose] = mapped_column(enum_type(EmailPurpose, "email_token_purpose"))
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class OutboxEmail(Base):
    """A message the demo mailer kept instead of sending it (no SMTP server set)."""

    __tablename__ = "outbox_emails"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The To address ("to" itself is an SQL keyword, awkward in hand-written queries).
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
