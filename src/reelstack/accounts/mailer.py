"""The ``Mailer`` seam: how Reelstack sends an email.

- ``SmtpMailer``: any SMTP server, from ``REELSTACK_SMTP_URL``: ``smtps://`` is TLS from
  the first byte; ``smtp://`` upgrades with STARTTLS whenever the server offers it, and
  never sends credentials over a plain connection except to a loopback host.
- ``OutboxMailer``: the demo default (no SMTP URL): each message becomes a row of
  ``outbox_emails`` that an operator reads, plus one log line (without the body, which
  holds the link).
- ``QueuedMailer``: the app's mailer. It hands messages to one background thread, so a
  request never waits on the mail server: the mail server's latency does not tell a
  password-reset request for a known address from one for an unknown address (no account
  enumeration by timing), and a slow or failing server never fails a request. The queue is
  in memory: messages still queued when the process dies are lost (the user asks again).
"""

from __future__ import annotations

import contextlib
import ipaddress
import queue
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

import structlog
from sqlalchemy.orm import Session, sessionmaker

from reelstack.accounts.email_models import OutboxEmail
from reelstack.db import session_scope

if TYPE_CHECKING:
    from reelstack.config import Settings

log = structlog.get_logger(__name__)

SMTP_PORT = 587  # smtp:// without a port: the message submission port (RFC 6409)
SMTPS_PORT = 465  # smtps:// without a port: submission over implicit TLS (RFC 8314)


class Mailer(Protocol):
    def send(self, to: str, subject: str, text_body: str) -> None:
        """Send one plain-text message to ``to`` (raises when it could not)."""
        ...


class MailError(Exception):
    """A message could not be handed over (refused, or unsafe to send)."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp[s]://[user[:password]@]host[:port]``; ValueError says what is wrong.

    User and password are percent-decoded (``%40`` for an ``@`` in a user name).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("the scheme must be smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("a host is needed, e.g. smtp://mail.example.com:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("only smtp[s]://[user:password@]host[:port] is accepted")
    port = parts.port  # ValueError for a port that is not a number in range
    implicit_tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=port or (SMTPS_PORT if implicit_tls else SMTP_PORT),
        implicit_tls=implicit_tls,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cache
def _local_hostname() -> str:
    # What EHLO names this host; looked up once (a reverse lookup can take seconds).
    return socket.getfqdn()


def build_message(*, sender: str, to: str, subject: str, text_body: str) -> EmailMessage:
    """A plain-text UTF-8 message (the header API refuses CR/LF in header values)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text_body)
    return message


class SmtpMailer:
    """One SMTP connection per message (the volume is sign-up and reset emails)."""

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        timeout_s: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.target = parse_smtp_url(url)
        self.sender = sender
        self.timeout_s = timeout_s
        # Certificates and host names are checked (the system's CAs unless one is given).
        self._ssl = ssl_context or ssl.create_default_context()

    def send(self, to: str, subject: str, text_body: str) -> None:
        message = build_message(sender=self.sender, to=to, subject=subject, text_body=text_body)
        target = self.target
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                target.host,
                target.port,
                local_hostname=_local_hostname(),
                timeout=self.timeout_s,
                context=self._ssl,
            )
        else:
            smtp = smtplib.SMTP(
                target.host, target.port, local_hostname=_local_hostname(), timeout=self.timeout_s
            )
        with smtp:
            smtp.ehlo()
            encrypted = target.implicit_tls
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=self._ssl)
                smtp.ehlo()
                encrypted = True
            if target.username is not None:
                if not encrypted and not _is_loopback(target.host):
                    raise MailError(
                        f"{target.host} offers no STARTTLS: refusing to send the SMTP "
                        "credentials in the clear (use smtps:// or a server with STARTTLS)"
                    )
                smtp.login(target.username, target.password or "")
            smtp.send_message(message)
        log.info("mail.sent", subject=subject, message_id=message["Message-ID"])


class OutboxMailer:
    """Keeps each message as a row of ``outbox_emails`` (its own short transaction)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def send(self, to: str, subject: str, text_body: str) -> None:
        with session_scope(self._sessions) as session:
            row = OutboxEmail(recipient=to, subject=subject, body=text_body)
            session.add(row)
            session.flush()
            outbox_id = row.id
        log.info("mail.outbox", outbox_id=outbox_id, to=to, subject=subject)


_Message = tuple[str, str, str]


class QueuedMailer:
    """Sends through ``inner`` on one background thread (started by the first message).

    ``send`` only queues; a failure to send is logged (``mail.send_failed``), not
    raised. ``close`` sends what is queued (up to a time limit) and stops the thread.
    """

    def __init__(self, inner: Mailer, *, max_pending: int = 1000) -> None:
        self.inner = inner
        self._queue: queue.Queue[_Message | None] = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def send(self, to: str, subject: str, text_body: str) -> None:
        # Under the lock: nothing is queued behind the sentinel of close().
        with self._lock:
            if self._closed:
                raise MailError("the mailer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mailer", daemon=True)
                self._thread.start()
            try:
                self._queue.put_nowait((to, subject, text_body))
            except queue.Full:
                raise MailError("too many messages waiting for the mail server") from None

    def wait_idle(self, timeout_s: float = 15.0) -> bool:
        """Wait until every queued message was handled; False when time ran out."""
        deadline = time.monotonic() + timeout_s
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def close(self, timeout_s: float = 15.0) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout_s
        with contextlib.suppress(queue.Full):  # still full: the thread is left behind
            self._queue.put(None, timeout=timeout_s)
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("mail.close_timeout", pending=self._queue.qsize())

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                to, subject, text_body = item
                try:
                    self.inner.send(to, subject, text_body)
                except Exception:
                    log.exception("mail.send_failed", subject=subject)
            finally:
                self._queue.task_done()


def build_mailer(settings: Settings, sessions: sessionmaker[Session]) -> Mailer:
    """The transport the settings ask for: SMTP when ``REELSTACK_SMTP_URL`` is set,
    else the database outbox. A malformed URL is a ValueError naming the variable."""
    if settings.smtp_url is not None:
        try:
            return SmtpMailer(settings.smtp_url.get_secret_value(), sender=settings.mail_from)
        except ValueError as exc:  # the message never repeats the URL (a password)
            raise ValueError(f"REELSTACK_SMTP_URL is not valid: {exc}") from None
    return OutboxMailer(sessions)
