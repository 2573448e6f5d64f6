"""A real browser through the web app's OAuth pages (Playwright, Debian's Chromium).

/app/activate: a TV starts the device grant (RFC 8628), the viewer opens its
``verification_uri_complete``, signs in on the way and approves; the TV's next poll gets
a working access token. /app/authorize: an app's authorization request goes through
/oauth/authorize to the consent page, where the viewer signs in and allows (the app gets
a code that exchanges for an ID token) or denies (``error=access_denied``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import jwt
import pytest

from reelstack.app import WEB_DIR, create_app
from reelstack.runtime import Runtime
from tests.browser.test_player import CHROMIUM, _require, page
from tests.conftest import ADMIN_HEADERS, VIEWER_PASSWORD, bearer, create_viewer, live_server

__all__ = ["page"]
pytestmark = [pytest.mark.browser]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
EMAIL = "oauth@browser.example"
# A loopback redirect URI (RFC 8252); nothing listens there: the tests intercept it.
REDIRECT = "http://127.0.0.1:47017/cb"


@pytest.fixture
def served(runtime: Runtime) -> Iterator[tuple[str, Runtime]]:
    """The whole app on a loopback port, with a Premium viewer."""
    _require(Path(CHROMIUM).exists(), "Chromium is not installed (apt-get install chromium)")
    _require((WEB_DIR / "index.html").is_file(), "web assets not built (make web)")
    with live_server(create_app(runtime=runtime)) as base:
        with httpx.Client(base_url=base) as api:
            create_viewer(api, EMAIL)
        yield base, runtime


def _register(api: httpx.Client, **body: Any) -> dict[str, Any]:
    resp = api.post("/v1/admin/oauth/clients", json=body, headers=ADMIN_HEADERS)
    assert resp.status_code == 201, resp.text
    created: dict[str, Any] = resp.json()
    return created


def _sign_in_on_the_way(page: Any, prompt: str) -> None:
    """The OAuth page sent this signed-out browser to the sign-in form: sign in there."""
    page.wait_for_function("() => window.__reelstack.view === 'sign-in'", timeout=15_000)
    assert prompt in page.inner_text("#notice")
    assert page.is_hidden("#nav")
    page.locator("#sign-in-email").fill(EMAIL)
    page.locator("#sign-in-password").fill(VIEWER_PASSWORD)
    page.click("#sign-in-submit")


def test_tv_is_signed_in_through_the_activate_page(served: tuple[str, Runtime], page: Any) -> None:
    base, rt = served
    with httpx.Client(base_url=base) as api:
        tv = _register(
            api, name="Reelstack TV", public=True, grants=["device_code"], device_type="tv"
        )
        resp = api.post("/oauth/device_authorization", data={"client_id": tv["client_id"]})
        assert resp.status_code == 200, resp.text
        started = resp.json()

    # The server names its public URL; this one listens on another port.
    complete = urlsplit(started["verification_uri_complete"])
    issuer = rt.settings.public_url.rstrip("/")
    assert started["verification_uri_complete"].startswith(f"{issuer}/app/activate?")
    assert parse_qs(complete.query)["user_code"] == [started["user_code"]]
    page.goto(f"{base}{complete.path}?{complete.query}")
    _sign_in_on_the_way(page, "connect your device")

    # Back on the activate page, the code still filled in.
    page.wait_for_function("() => window.__reelstack.view === 'activate'", timeout=15_000)
    assert page.evaluate("location.pathname") == "/app/activate"
    assert page.input_value("#activate-code") == started["user_code"]
    page.click("#activate-approve")
    page.locator("#notice", has_text="Reelstack TV is now signed in").wait_for(timeout=15_000)
    assert page.is_hidden("#error") and page.is_hidden("#activate-form")

    # The TV's first poll since the approval (none before: no slow_down) gets tokens.
    with httpx.Client(base_url=base) as tv_http:
        granted = tv_http.post(
            "/oauth/token",
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
                "client_id": tv["client_id"],
            },
        )
        assert granted.status_code == 200, granted.text
        me = tv_http.get("/v1/me", headers=bearer(granted.json()["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == EMAIL

    # The same code again, then a code no device shows: said so, on the page.
    page.click("#activate-again")
    page.locator("#activate-code").fill(started["user_code"])
    page.click("#activate-approve")
    page.locator("#error", has_text="already used").wait_for(timeout=15_000)
    page.locator("#activate-code").fill("ZZZZ-ZZZZ")
    page.click("#activate-deny")
    page.locator("#error", has_text="No device is waiting for this code").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "activate"
    assert [str(exc) for exc in page.page_errors(filter="all")] == []


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def partner(served: tuple[str, Runtime]) -> dict[str, Any]:
    """A confidential app of the authorization code flow."""
    base, _ = served
    with httpx.Client(base_url=base) as api:
        return _register(
            api,
            name="Partner site",
            public=False,
            grants=["authorization_code"],
            redirect_uris=[REDIRECT],
        )


def _answer_consent(page: Any, base: str, client_id: str, challenge: str, button: str) -> Any:
    """Open the app's authorization request, sign in on the way, press ``button`` on the
    consent page; the query of the redirect URI the browser lands on."""
    landed: list[str] = []

    def back_at_the_app(route: Any) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="back at the app")

    page.route(f"{REDIRECT}**", back_at_the_app)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(f"{base}/oauth/authorize?{urlencode(params)}")
    assert page.evaluate("location.pathname") == "/app/authorize"
    _sign_in_on_the_way(page, "continue to the app")

    page.wait_for_function("() => window.__reelstack.view === 'consent'", timeout=15_000)
    page.locator("#consent-allow").wait_for(timeout=15_000)
    assert page.inner_text("#consent-heading") == "Partner site wants to:"
    scopes = page.eval_on_selector_all("#consent-scopes li", "els => els.map(e => e.dataset.scope)")
    assert scopes == ["openid", "email"]
    assert page.inner_text("#consent-return-host") == "127.0.0.1:47017"
    page.click(button)
    page.wait_for_url(lambda url: url.startswith(f"{REDIRECT}?"), timeout=15_000)
    assert landed == [page.url]
    return parse_qs(urlsplit(page.url).query)


def test_app_gets_a_code_when_the_viewer_allows(
    served: tuple[str, Runtime], partner: dict[str, Any], page: Any
) -> None:
    base, _ = served
    verifier, challenge = _pkce()
    query = _answer_consent(page, base, partner["client_id"], challenge, "#consent-allow")
    assert query["state"] == ["s1"] and "error" not in query
    with httpx.Client(base_url=base) as app_http:
        tokens = app_http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            auth=(partner["client_id"], partner["client_secret"]),
        )
    assert tokens.status_code == 200, tokens.text
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["aud"] in (partner["client_id"], [partner["client_id"]])
    assert claims["email"] == EMAIL


def test_app_gets_access_denied_when_the_viewer_denies(
    served: tuple[str, Runtime], partner: dict[str, Any], page: Any
) -> None:
    base, _ = served
    _, challenge = _pkce()
    query = _answer_consent(page, base, partner["client_id"], challenge, "#consent-deny")
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"]
    assert "code" not in query
