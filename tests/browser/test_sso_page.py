"""A real browser through "Sign in with <provider>" (Playwright, Debian's Chromium),
against a real OpenID Connect provider started here (oidc-provider-mock, as in
tests/accounts/test_sso.py).

The sign-in page offers the provider's button; the browser leaves for the provider,
signs in on its form and comes back with a one-time ``#sso=`` code, which the app trades
for its tokens (the code leaves the address at once) before "Who's watching?", or
before the OAuth page it left (its query kept). Denying at the provider comes back to
the sign-in form with the reason.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from pydantic import SecretStr

from reelstack.app import WEB_DIR, create_app
from reelstack.config import Settings
from reelstack.runtime import build_runtime
from tests.browser.test_player import CHROMIUM, _require, page
from tests.conftest import bearer, live_server
from tests.oidc_provider import PROVIDER_WARNINGS, User, run_server_in_thread

__all__ = ["page"]

pytestmark = [pytest.mark.browser, *PROVIDER_WARNINGS]

CAROL = User(
    sub="carol-0003",
    claims={"email": "carol@corp.example", "email_verified": True, "name": "Carol"},
)


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(user_claims=[CAROL]) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def served(settings: Settings, provider: str) -> Iterator[str]:
    """The whole app on a loopback port, signing in with the provider as "Corp"."""
    _require(Path(CHROMIUM).exists(), "Chromium is not installed (apt-get install chromium)")
    _require((WEB_DIR / "index.html").is_file(), "web assets not built (make web)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        configured = settings.model_copy(
            update={
                "oidc_issuer": provider,
                "oidc_client_id": "reelstack-test",
                "oidc_client_secret": SecretStr("sso-client-secret-for-the-test-provider"),
                "oidc_display_name": "Corp",
                "public_url": base,
            }
        )
        runtime = build_runtime(configured)
        try:
            with live_server(create_app(runtime=runtime), sock):
                yield base
        finally:
            runtime.close()


def _leave_for_the_provider(page: Any, base: str, provider: str, path: str) -> None:
    """Open ``path`` signed out and press "Sign in with Corp"; waits for the provider."""
    page.goto(f"{base}{path}")
    _wait_for_view(page, "sign-in")
    button = page.locator("#sso-button", has_text="Sign in with Corp")
    button.wait_for(timeout=15_000)
    assert page.inner_text("#sso .separator") == "or"
    button.click()
    page.wait_for_url(lambda url: url.startswith(f"{provider}/"), timeout=15_000)


def _answer_at_the_provider(page: Any, base: str, button: str, sub: str = "") -> None:
    """The provider's form: press ``button`` (as ``sub``); waits until the app is back."""
    if sub:
        page.locator('input[name="sub"]').fill(sub)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(lambda url: url.startswith(f"{base}/app/"), timeout=15_000)


def _wait_for_view(page: Any, view: str) -> None:
    # The page may still be loading: the harness exists once the app's script runs.
    page.wait_for_function(f"() => window.__reelstack?.view === '{view}'", timeout=15_000)


def _stored_access_token(page: Any) -> str | None:
    token: str | None = page.evaluate("localStorage.getItem('reelstack.access_token')")
    return token


def test_sso_signs_in_and_opens_the_profile_picker(served: str, provider: str, page: Any) -> None:
    base = served
    _leave_for_the_provider(page, base, provider, "/app/")
    _answer_at_the_provider(page, base, "Authorize", CAROL.sub)

    _wait_for_view(page, "profiles")
    assert page.inner_text("#profiles-heading") == "Who's watching?"
    page.locator("#profile-list button.profile", has_text="Carol").wait_for(timeout=15_000)
    # The one-time code left the address before anything else.
    assert page.url == f"{base}/app/"
    assert "#sso=" not in page.url and page.evaluate("location.hash") == ""
    assert page.is_hidden("#error")

    # Stored as a password sign-in's are: the new account's tokens.
    token = _stored_access_token(page)
    assert token
    with httpx.Client(base_url=base) as api:
        me = api.get("/v1/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "carol@corp.example"
    assert [p["name"] for p in me.json()["profiles"]] == ["Carol"]
    assert [str(exc) for exc in page.page_errors(filter="all")] == []


def test_sso_comes_back_to_the_activate_page_with_its_code(
    served: str, provider: str, page: Any
) -> None:
    base = served
    _leave_for_the_provider(page, base, provider, "/app/activate?user_code=WXYZ-2345")
    _answer_at_the_provider(page, base, "Authorize", CAROL.sub)

    _wait_for_view(page, "activate")
    assert page.url == f"{base}/app/activate?user_code=WXYZ-2345"
    assert page.input_value("#activate-code") == "WXYZ-2345"
    assert _stored_access_token(page)
    assert [str(exc) for exc in page.page_errors(filter="all")] == []


def test_denying_at_the_provider_comes_back_to_the_sign_in_form(
    served: str, provider: str, page: Any
) -> None:
    base = served
    _leave_for_the_provider(page, base, provider, "/app/")
    _answer_at_the_provider(page, base, "Deny")

    page.locator("#error", has_text="Sign-in was cancelled at Corp.").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "sign-in"
    assert page.url == f"{base}/app/"
    assert "sso_error" not in page.url
    assert page.is_visible("#sso-button") and page.is_hidden("#nav")
    assert _stored_access_token(page) is None
    assert [str(exc) for exc in page.page_errors(filter="all")] == []
