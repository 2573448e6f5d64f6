"""The Mailer seam: the SMTP transport against a real server (aiosmtpd on loopback: plain,
STARTTLS, implicit TLS, AUTH), the demo outbox, and the background queue."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from reelstack.accounts.email_models import OutboxEmail
from reelstack.accounts.mailer import (
    MailError,
    OutboxMailer,
    QueuedMailer,
    SmtpMailer,
    build_mailer,
    parse_smtp_url,
)
from reelstack.config import Settings
from reelstack.db import session_scope
from reelstack.runtime import Runtime

SMTP_USER = "mailer@example.test"
SMTP_PASSWORD = "p@ss:w/rd"


# --- a real SMTP server ---------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.tls: list[bool] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, _server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def authenticate(
        self,
        _server: SMTP,
        _session: Session,
        _envelope: Envelope,
        _mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        expected = (SMTP_USER.encode(), SMTP_PASSWORD.encode())
        return AuthResult(success=(auth_data.login, auth_data.password) == expected, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(inbox: Inbox, **options: Any) -> Iterator[int]:
    """aiosmtpd on 127.0.0.1 and a free port (yielded) until the block ends."""
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, server_hostname="smtp.test", **options
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


# --- the SMTP transport -----------------------------------------------------------------------


def test_smtp_urls() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.host, plain.port, plain.implicit_tls, plain.username) == (
        "mail.example.com",
        587,
        False,
        None,
    )
    tls = parse_smtp_url("smtps://user%40example.com:p%40ss%3Aw%2Frd@mail.example.com")
    assert (tls.port, tls.implicit_tls) == (465, True)
    assert (tls.username, tls.password) == ("user@example.com", "p@ss:w/rd")
    assert parse_smtp_url("smtp://127.0.0.1:2525/").port == 2525
    for bad in (
        "http://mail.example.com",
        "smtp://",
        "smtp://h/path",
        "smtp://h?x=1",
        "smtp://h:x",
    ):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)
    # Refused when the app builds its mailer, without repeating the password.
    bad_url = Settings(smtp_url=SecretStr("http://user:hunter2@mail.example.com"))
    with pytest.raises(ValueError, match="REELSTACK_SMTP_URL is not valid") as refused:
        build_mailer(bad_url, sessionmaker())
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ValidationError):
        Settings(mail_from="no address here")


def test_smtp_login_on_loopback(inbox: Inbox) -> None:
    with smtp_server(inbox, authenticator=inbox.authenticate, auth_require_tls=False) as port:
        url = f"smtp://mailer%40example.test:p%40ss%3Aw%2Frd@127.0.0.1:{port}"
        SmtpMailer(url, sender="Ops <ops@example.test>").send("a@example.com", "Hi", "Body\n")
        bad = f"smtp://mailer%40example.test:wrong@127.0.0.1:{port}"
        with pytest.raises(Exception, match="535"):
            SmtpMailer(bad, sender="ops@example.test").send("b@example.com", "Hi", "Body\n")
    assert inbox.logins[0] == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
    [message] = inbox.messages
    assert message["To"] == "a@example.com" and message["From"] == "Ops <ops@example.test>"
    assert message.get_content().splitlines() == ["Body"]
    assert message["Message-ID"].endswith("@example.test>")


def test_smtp_never_sends_credentials_in_the_clear_to_another_host(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reelstack.accounts.mailer._is_loopback", lambda _host: False)
    with smtp_server(inbox, authenticator=inbox.authenticate, auth_require_tls=False) as port:
        url = f"smtp://mailer%40example.test:p%40ss%3Aw%2Frd@127.0.0.1:{port}"
        with pytest.raises(MailError, match="in the clear"):
            SmtpMailer(url, sender="ops@example.test").send("a@example.com", "Hi", "Body\n")
    assert inbox.logins == [] and inbox.messages == []


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reelstack test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    root = tmp_path_factory.mktemp("tls")
    cert_path, key_path = root / "cert.pem", root / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


def test_smtp_uses_starttls_when_offered(inbox: Inbox, tls_files: tuple[Path, Path]) -> None:
    trusted = ssl.create_default_context(cafile=str(tls_files[0]))
    server = {"tls_context": _server_context(tls_files), "require_starttls": True}
    with smtp_server(inbox, **server) as port:
        SmtpMailer(f"smtp://127.0.0.1:{port}", sender="a@example.test", ssl_context=trusted).send(
            "to@example.com", "Over STARTTLS", "Body\n"
        )
        # An untrusted certificate stops the message.
        with pytest.raises(ssl.SSLError):
            SmtpMailer(f"smtp://127.0.0.1:{port}", sender="a@example.test").send(
                "to@example.com", "Never", "Body\n"
            )
    assert [m["Subject"] for m in inbox.messages] == ["Over STARTTLS"]
    assert inbox.tls == [True]


def test_smtps_is_tls_from_the_first_byte(inbox: Inbox, tls_files: tuple[Path, Path]) -> None:
    trusted = ssl.create_default_context(cafile=str(tls_files[0]))
    with smtp_server(inbox, ssl_context=_server_context(tls_files)) as port:
        SmtpMailer(f"smtps://127.0.0.1:{port}", sender="a@example.test", ssl_context=trusted).send(
            "to@example.com", "Over TLS", "Body\n"
        )
    assert [m["Subject"] for m in inbox.messages] == ["Over TLS"]


# --- the outbox and the queue -----------------------------------------------------------------


def test_the_outbox_keeps_each_message(runtime: Runtime) -> None:
    assert isinstance(build_mailer(runtime.settings, runtime.sessions), OutboxMailer)
    OutboxMailer(runtime.sessions).send("fan@example.com", "Hello", "Line one\nLine two\n")
    with session_scope(runtime.sessions) as s:
        [row] = s.scalars(select(OutboxEmail)).all()
    assert (row.recipient, row.subject, row.body) == (
        "fan@example.com",
        "Hello",
        "Line one\nLine two\n",
    )
    assert row.created_at.tzinfo is not None


class Flaky:
    """Fails its first message, keeps the others."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.calls = 0

    def send(self, to: str, subject: str, text_body: str) -> None:
        self.calls += 1
        if self.calls == 1:
            raise OSError("the mail server went away")
        self.sent.append((to, subject, text_body))


def test_the_queue_sends_in_order_and_survives_a_failure() -> None:
    inner = Flaky()
    queued = QueuedMailer(inner)
    assert queued.wait_idle(0.1)  # nothing queued, no thread started
    for n in range(4):
        queued.send("a@example.com", f"message {n}", "Body\n")
    assert queued.wait_idle(15)
    assert [subject for _, subject, _ in inner.sent] == ["message 1", "message 2", "message 3"]
    queued.send("a@example.com", "last", "Body\n")
    queued.close()
    assert inner.sent[-1] == ("a@example.com", "last", "Body\n")  # close sends what is queued
    with pytest.raises(MailError, match="closed"):
        queued.send("a@example.com", "too late", "Body\n")


class Stuck:
    """A mail server that hangs until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, text_body: str) -> None:
        self.started.set()
        assert self.release.wait(15)
        self.sent.append((to, subject, text_body))


def test_a_full_queue_refuses_more() -> None:
    inner = Stuck()
    queued = QueuedMailer(inner, max_pending=1)
    queued.send("a@example.com", "first", "Body\n")  # taken by the thread, which hangs
    assert inner.started.wait(15)
    queued.send("a@example.com", "second", "Body\n")  # waits in the queue
    with pytest.raises(MailError, match="too many messages"):
        queued.send("a@example.com", "third", "Body\n")
    assert not queued.wait_idle(0.05)
    inner.release.set()
    queued.close()
    assert [subject for _, subject, _ in inner.sent] == ["first", "second"]
