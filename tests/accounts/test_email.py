"""The email flows of accounts (verification, password reset and change) against a real
SMTP server (aiosmtpd on loopback), and with the demo's outbox mailer."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update

from reelstack.accounts import email_service
from reelstack.accounts import service as accounts
from reelstack.accounts.email_models import EmailPurpose, EmailToken, OutboxEmail
from reelstack.accounts.mailer import OutboxMailer, QueuedMailer
from reelstack.accounts.models import User
from reelstack.app import create_app
from reelstack.config import Settings
from reelstack.db import session_scope
from reelstack.runtime import Runtime, build_runtime
from tests.accounts.test_mailer import Inbox, free_port, smtp_server
from tests.conftest import VIEWER_PASSWORD, create_viewer, sign_in

PUBLIC_URL = "https://watch.example.test"
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port(inbox: Inbox) -> Iterator[int]:
    with smtp_server(inbox) as port:
        yield port


@contextmanager
def app_client(settings: Settings, **changes: Any) -> Iterator[tuple[TestClient, FastAPI]]:
    """A client of an app on the test's database with some settings changed."""
    rt = build_runtime(settings.model_copy(update=changes))
    try:
        app = create_app(runtime=rt)
        with TestClient(app) as c:
            yield c, app
    finally:
        rt.close()


@pytest.fixture
def smtp_app(settings: Settings, smtp_port: int) -> Iterator[tuple[TestClient, FastAPI]]:
    """An app whose mailer is SMTP to the test server, public at ``PUBLIC_URL``."""
    smtp_url = SecretStr(f"smtp://127.0.0.1:{smtp_port}")
    with app_client(settings, smtp_url=smtp_url, public_url=PUBLIC_URL) as pair:
        yield pair


def settle(app: FastAPI) -> None:
    """Wait until the app's mailer has handed over every queued message."""
    mailer = app.state.mailer
    assert isinstance(mailer, QueuedMailer)
    assert mailer.wait_idle(15), "the mailer did not finish in time"


def link_token(message: EmailMessage, key: str, base: str = PUBLIC_URL) -> str:
    body = message.get_content()
    found = re.search(rf"^{re.escape(base)}/app/#{key}=([A-Za-z0-9_-]+)\r?$", body, re.MULTILINE)
    assert found, f"no #{key}= link in:\n{body}"
    return found.group(1)


# --- verification -----------------------------------------------------------------------------


def test_verification_link_arrives_by_smtp_and_works_once(
    smtp_app: tuple[TestClient, FastAPI], inbox: Inbox
) -> None:
    client, app = smtp_app
    signed_up = client.post(
        "/v1/auth/signup", json={"email": "New@Example.com", "password": VIEWER_PASSWORD}
    )
    assert signed_up.status_code == 201, signed_up.text
    headers = sign_in(client, "new@example.com", pick_profile=False)["headers"]
    assert client.get("/v1/me", headers=headers).json()["email_verified"] is False
    # Sign-up mails the first link; asking again mails another (both stay valid).
    settle(app)
    [at_sign_up] = inbox.to("new@example.com")
    assert at_sign_up["Subject"] == "Confirm your email address"
    link_token(at_sign_up, "verify")

    asked = client.post("/v1/auth/verify-email/request", headers=headers)
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "accepted"
    settle(app)
    [_, message] = inbox.to("new@example.com")
    assert message["Subject"] == "Confirm your email address"
    assert message["From"] == "Reelstack <no-reply@localhost>"
    assert message["Message-ID"] and message["Date"]
    assert inbox.envelopes[-1] == ("no-reply@localhost", ["new@example.com"])
    token = link_token(message, "verify")
    # Only the hash is stored.
    assert token not in str(client.get("/v1/me", headers=headers).json())

    verified = client.post("/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email"] == "new@example.com"
    assert verified.json()["email_verified"] is True
    assert client.get("/v1/me", headers=headers).json()["email_verified"] is True

    again = client.post("/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "invalid_token"
    assert again.json()["detail"] == "this link was already used"
    # Nothing left to verify.
    more = client.post("/v1/auth/verify-email/request", headers=headers)
    assert more.status_code == 409 and more.json()["code"] == "email_already_verified"


def test_verification_request_needs_a_token_and_is_throttled(
    runtime: Runtime, settings: Settings
) -> None:
    with app_client(settings, login_max_failures_per_account=2) as (client, app):
        assert client.post("/v1/auth/verify-email/request").status_code == 401
        client.post("/v1/auth/signup", json={"email": "v@example.com", "password": VIEWER_PASSWORD})
        headers = sign_in(client, "v@example.com", pick_profile=False)["headers"]
        codes = [
            client.post("/v1/auth/verify-email/request", headers=headers).status_code
            for _ in range(3)
        ]
        assert codes == [202, 202, 429]
        limited = client.post("/v1/auth/verify-email/request", headers=headers)
        assert limited.json()["code"] == "too_many_attempts"
        assert int(limited.headers["retry-after"]) >= 1
        settle(app)
        with session_scope(runtime.sessions) as s:
            # One at sign-up, then the two requests the throttle let through.
            assert len(s.scalars(select(OutboxEmail)).all()) == 3


@pytest.mark.parametrize(
    "token",
    ["", "x" * 201, "not-a-token-we-issued"],
)
def test_bad_verification_tokens(client: TestClient, token: str) -> None:
    resp = client.post("/v1/auth/verify-email", json={"token": token})
    if 1 <= len(token) <= 200:
        assert resp.status_code == 400 and resp.json()["code"] == "invalid_token"
    else:
        assert resp.status_code == 422
    extra = client.post("/v1/auth/verify-email", json={"token": "abc", "user_id": "x"})
    assert extra.status_code == 422


def test_expired_and_wrong_purpose_tokens_are_refused(client: TestClient, runtime: Runtime) -> None:
    user_id = create_viewer(client, "exp@example.com")
    with session_scope(runtime.sessions) as s:
        user = s.get(User, user_id)
        assert user is not None
        reset = email_service._issue(s, user, EmailPurpose.RESET_PASSWORD, timedelta(hours=1))
        stale = email_service._issue(s, user, EmailPurpose.RESET_PASSWORD, timedelta(hours=1))
        s.execute(
            update(EmailToken)
            .where(EmailToken.token_hash == email_service.hash_token(stale))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    # A reset token is no verification token.
    wrong = client.post("/v1/auth/verify-email", json={"token": reset})
    assert wrong.status_code == 400 and wrong.json()["detail"] == "this link is not valid"
    expired = client.post(
        "/v1/auth/password-reset", json={"token": stale, "new_password": NEW_PASSWORD}
    )
    assert expired.status_code == 400 and expired.json()["code"] == "invalid_token"
    assert "expired" in expired.json()["detail"]


def test_a_token_is_spent_once_under_concurrency(client: TestClient, runtime: Runtime) -> None:
    client.post("/v1/auth/signup", json={"email": "race@example.com", "password": VIEWER_PASSWORD})
    with session_scope(runtime.sessions) as s:
        user = accounts.find_user(session=s, email="race@example.com")
        assert user is not None
        token = email_service._issue(s, user, EmailPurpose.VERIFY_EMAIL, timedelta(hours=1))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def use() -> None:
        barrier.wait()
        try:
            with session_scope(runtime.sessions) as s:
                email_service.verify_email(session=s, token=token)
            outcomes.append("ok")
        except email_service.InvalidEmailToken:
            outcomes.append("refused")

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]


# --- the sign-up hook -------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, text_body: str) -> None:
        self.sent.append((to, subject, text_body))


def test_send_verification_sends_only_after_the_commit(runtime: Runtime) -> None:
    mailer = Recorder()
    with session_scope(runtime.sessions) as s:
        user = accounts.create_user(session=s, email="hook@example.com", password=VIEWER_PASSWORD)
        email_service.send_verification(
            session=s, mailer=mailer, user_id=user.id, public_url=PUBLIC_URL + "/"
        )
        assert mailer.sent == []  # not before the commit
    [(to, subject, body)] = mailer.sent
    assert (to, subject) == ("hook@example.com", "Confirm your email address")
    assert f"\n{PUBLIC_URL}/app/#verify=" in body and "48 hours" in body

    # A request that fails sends nothing and leaves no token behind.
    with pytest.raises(RuntimeError), session_scope(runtime.sessions) as s:
        user = accounts.create_user(session=s, email="gone@example.com", password=VIEWER_PASSWORD)
        email_service.send_verification(
            session=s, mailer=mailer, user_id=user.id, public_url=PUBLIC_URL
        )
        raise RuntimeError("the request failed later on")
    assert len(mailer.sent) == 1
    with session_scope(runtime.sessions) as s:
        assert len(s.scalars(select(EmailToken)).all()) == 1


# --- password reset ---------------------------------------------------------------------------


def test_reset_by_smtp_works_once_and_signs_out_everywhere(
    smtp_app: tuple[TestClient, FastAPI], inbox: Inbox
) -> None:
    client, app = smtp_app
    create_viewer(client, "forgot@example.com")
    phone = sign_in(client, "forgot@example.com")
    tv = sign_in(client, "forgot@example.com")

    asked = client.post("/v1/auth/password-reset/request", json={"email": "Forgot@Example.com"})
    assert asked.status_code == 202, asked.text
    settle(app)
    [message] = inbox.to("forgot@example.com")
    assert message["Subject"] == "Reset your Reelstack password"
    token = link_token(message, "reset")

    short = client.post("/v1/auth/password-reset", json={"token": token, "new_password": "short"})
    assert short.status_code == 422
    done = client.post(
        "/v1/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204, done.text
    assert done.content == b""

    for device in (phone, tv):
        me = client.get("/v1/me", headers=device["headers"])
        assert me.status_code == 401
        refreshed = client.post("/v1/auth/refresh", json={"refresh_token": device["refresh_token"]})
        assert refreshed.status_code == 401
    old = {"email": "forgot@example.com", "password": VIEWER_PASSWORD}
    assert client.post("/v1/auth/login", json=old).status_code == 401
    new = {"email": "forgot@example.com", "password": NEW_PASSWORD}
    assert client.post("/v1/auth/login", json=new).status_code == 200

    again = client.post(
        "/v1/auth/password-reset", json={"token": token, "new_password": "yet another one 123"}
    )
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    assert client.post("/v1/auth/login", json=new).status_code == 200
    settle(app)
    notice = inbox.to("forgot@example.com")[-1]
    assert notice["Subject"] == "Your Reelstack password was changed"
    assert "#reset=" not in notice.get_content()


def test_a_new_reset_link_spends_none_but_a_reset_spends_all(
    smtp_app: tuple[TestClient, FastAPI], inbox: Inbox
) -> None:
    client, app = smtp_app
    create_viewer(client, "twice@example.com")
    for _ in range(2):
        resp = client.post("/v1/auth/password-reset/request", json={"email": "twice@example.com"})
        assert resp.status_code == 202
    settle(app)
    first, second = (link_token(m, "reset") for m in inbox.to("twice@example.com"))
    body = {"token": second, "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/password-reset", json=body).status_code == 204
    body = {"token": first, "new_password": "someone else's 12345"}
    stale = client.post("/v1/auth/password-reset", json=body)
    assert stale.status_code == 400 and stale.json()["code"] == "invalid_token"


def test_unknown_email_gets_the_same_answer_and_no_message(
    smtp_app: tuple[TestClient, FastAPI], inbox: Inbox
) -> None:
    client, app = smtp_app
    create_viewer(client, "known@example.com")
    known = client.post("/v1/auth/password-reset/request", json={"email": "known@example.com"})
    unknown = client.post("/v1/auth/password-reset/request", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.headers["content-type"] == unknown.headers["content-type"]
    settle(app)
    assert [m["To"] for m in inbox.messages] == ["known@example.com"]
    malformed = client.post("/v1/auth/password-reset/request", json={"email": "not-an-email"})
    assert malformed.status_code == 422


def test_reset_requests_are_throttled_per_email_and_per_ip(
    runtime: Runtime, settings: Settings
) -> None:
    with app_client(settings, login_max_failures_per_account=2, login_max_failures_per_ip=5) as (
        client,
        app,
    ):
        create_viewer(client, "spam@example.com")

        def ask(email: str) -> int:
            return client.post("/v1/auth/password-reset/request", json={"email": email}).status_code

        assert [ask("spam@example.com") for _ in range(3)] == [202, 202, 429]
        # An unknown address is throttled the same way (no enumeration by the limit).
        assert [ask("ghost@example.com") for _ in range(3)] == [202, 202, 429]
        limited = client.post(
            "/v1/auth/password-reset/request", json={"email": "ghost@example.com"}
        )
        assert limited.json()["code"] == "too_many_attempts"
        assert "password reset" in limited.json()["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= settings.login_failure_window_s
        # Per IP: the fifth accepted request from this client is its last.
        assert ask("third@example.com") == 202
        assert ask("fourth@example.com") == 429
        # Sign-in is not throttled by reset requests (separate counters).
        login = {"email": "spam@example.com", "password": VIEWER_PASSWORD}
        assert client.post("/v1/auth/login", json=login).status_code == 200
        settle(app)
        with session_scope(runtime.sessions) as s:
            sent = s.scalars(select(OutboxEmail.recipient)).all()
        assert sent == ["spam@example.com", "spam@example.com"]


# --- password change --------------------------------------------------------------------------


def test_password_change_keeps_this_session_and_revokes_the_others(
    client: TestClient, runtime: Runtime
) -> None:
    create_viewer(client, "mover@example.com")
    laptop = sign_in(client, "mover@example.com")
    phone = sign_in(client, "mover@example.com")
    create_viewer(client, "bystander@example.com")
    other = sign_in(client, "bystander@example.com")

    wrong = client.post(
        "/v1/me/password",
        json={"current_password": "not my password", "new_password": NEW_PASSWORD},
        headers=laptop["headers"],
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_password"
    assert client.get("/v1/me", headers=phone["headers"]).status_code == 200
    anonymous = client.post(
        "/v1/me/password",
        json={"current_password": VIEWER_PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": ""},
    )
    assert anonymous.status_code == 401

    changed = client.post(
        "/v1/me/password",
        json={"current_password": VIEWER_PASSWORD, "new_password": NEW_PASSWORD},
        headers=laptop["headers"],
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/v1/me", headers=laptop["headers"]).status_code == 200
    kept = client.post("/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    assert kept.status_code == 200
    assert client.get("/v1/me", headers=phone["headers"]).status_code == 401
    gone = client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert gone.status_code == 401
    # Another household is untouched.
    assert client.get("/v1/me", headers=other["headers"]).status_code == 200

    old = {"email": "mover@example.com", "password": VIEWER_PASSWORD}
    assert client.post("/v1/auth/login", json=old).status_code == 401
    new = {"email": "mover@example.com", "password": NEW_PASSWORD}
    assert client.post("/v1/auth/login", json=new).status_code == 200
    settle(client.app)  # type: ignore[arg-type]
    with session_scope(runtime.sessions) as s:
        notices = s.scalars(select(OutboxEmail).where(OutboxEmail.recipient == old["email"]))
        assert [n.subject for n in notices] == ["Your Reelstack password was changed"]


def test_password_change_refuses_extra_fields_and_throttles_guesses(
    settings: Settings,
) -> None:
    with app_client(settings, login_max_failures_per_account=2) as (client, _app):
        create_viewer(client, "guess@example.com")
        headers = sign_in(client, "guess@example.com")["headers"]
        body = {"current_password": VIEWER_PASSWORD, "new_password": NEW_PASSWORD, "role": "admin"}
        assert client.post("/v1/me/password", json=body, headers=headers).status_code == 422
        guess = {"current_password": "guess number one", "new_password": NEW_PASSWORD}
        codes = [
            client.post("/v1/me/password", json=guess, headers=headers).status_code
            for _ in range(3)
        ]
        assert codes == [403, 403, 429]
        right = {"current_password": VIEWER_PASSWORD, "new_password": NEW_PASSWORD}
        locked = client.post("/v1/me/password", json=right, headers=headers)
        assert locked.status_code == 429 and "retry-after" in locked.headers


# --- the outbox (demo default) ----------------------------------------------------------------


def test_outbox_mailer_is_the_default_and_keeps_the_message(
    client: TestClient, runtime: Runtime
) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    mailer = app.state.mailer
    assert isinstance(mailer, QueuedMailer)
    assert isinstance(mailer.inner, OutboxMailer)
    create_viewer(client, "demo@example.com")
    resp = client.post("/v1/auth/password-reset/request", json={"email": "demo@example.com"})
    assert resp.status_code == 202
    assert mailer.wait_idle(15)
    with session_scope(runtime.sessions) as s:
        [row] = s.scalars(select(OutboxEmail)).all()
    assert row.recipient == "demo@example.com"
    assert row.subject == "Reset your Reelstack password"
    assert row.created_at.tzinfo is not None
    found = re.search(r"http://127\.0\.0\.1:8000/app/#reset=([A-Za-z0-9_-]+)", row.body)
    assert found, row.body
    body = {"token": found.group(1), "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/password-reset", json=body).status_code == 204


def test_a_failing_server_fails_no_request(settings: Settings, runtime: Runtime) -> None:
    """SMTP down: the request still answers 202 and the failure is only logged."""
    dead = free_port()
    with app_client(settings, smtp_url=SecretStr(f"smtp://127.0.0.1:{dead}")) as (client, app):
        create_viewer(client, "down@example.com")
        resp = client.post("/v1/auth/password-reset/request", json={"email": "down@example.com"})
        assert resp.status_code == 202
        settle(app)
    with session_scope(runtime.sessions) as s:
        assert len(s.scalars(select(EmailToken)).all()) == 1
