"""A real browser: Playwright drives Debian's Chromium through the player page.

A Premium viewer signs in through the form and picks a profile; Shaka Player then loads
the DASH and the HLS stream of a freshly transcoded title and plays past 3 s with no
player error, heartbeating its stream lease. The links the server mails (password reset,
address confirmation) are read from the outbox and followed through the page. Skips (with
the reason) only off CI when Chromium is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from reelstack.app import WEB_DIR, create_app
from reelstack.bootstrap import job_registry
from reelstack.ingest.service import IngestResult, ingest_file
from reelstack.jobs.executor import LocalExecutor
from reelstack.media.testclips import make_test_clip
from reelstack.runtime import Runtime, build_runtime
from tests.conftest import live_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run every test: .ci/run installs it)")
    pytest.skip(reason)


def _browser_runtime(runtime: Runtime) -> Runtime:
    """Checks what the browser tests need, then a runtime on the two-rung 'tiny' ladder
    whose stream leases want a heartbeat every 2 s (so a test sees some)."""
    _require(Path(CHROMIUM).exists(), "Chromium is not installed (apt-get install chromium)")
    _require((WEB_DIR / "index.html").is_file(), "web assets not built (make web)")
    update = {"ladder": "tiny", "playback_heartbeat_interval_s": 2}
    return build_runtime(runtime.settings.model_copy(update=update))


VIEWER_EMAIL = "viewer@browser.example"
VIEWER_PASSWORD = "correct horse battery staple"
KIDS_PIN = "1234"


def _make_viewer(rt: Runtime, *, kids_pin: str | None = None) -> str:
    """A verified Premium household (profile "Viewer"); with ``kids_pin`` also a
    PIN-locked kids profile "Kids". Returns the user id."""
    from reelstack.accounts import households
    from reelstack.accounts import service as accounts
    from reelstack.accounts.models import Role
    from reelstack.accounts.schemas import Principal, ProfileIn
    from reelstack.billing import service as billing
    from reelstack.db import session_scope

    with session_scope(rt.sessions) as s:
        billing.ensure_demo_plans(session=s)
        user = accounts.create_user(
            session=s,
            email=VIEWER_EMAIL,
            password=VIEWER_PASSWORD,
            verified=True,
            profile_name="Viewer",
        )
        billing.grant_subscription(session=s, user_id=user.id, plan_code="premium")
        if kids_pin is not None:
            owner = Principal(
                user_id=user.id, role=Role.VIEWER, session_id="", device_id=None, profile_id=None
            )
            body = ProfileIn(name="Kids", kids=True, pin=kids_pin)
            households.create_profile(session=s, principal=owner, body=body)
        return user.id


def _sign_in(page: Any) -> None:
    """Fill in the sign-in form; leaves the page on "Who's watching?"."""
    page.locator("#sign-in-email").fill(VIEWER_EMAIL, timeout=15_000)
    page.locator("#sign-in-password").fill(VIEWER_PASSWORD)
    page.click("#sign-in-submit")
    page.locator("#profile-list button.profile").first.wait_for(timeout=15_000)


def _pick_profile(page: Any, name: str) -> None:
    page.locator("#profile-list button.profile", has_text=name).click()


def _sign_in_as_viewer(page: Any) -> None:
    _sign_in(page)
    _pick_profile(page, "Viewer")
    page.wait_for_function("() => window.__reelstack.view === 'catalog'", timeout=15_000)


def _ready_title(rt: Runtime, clip: Path, title: str) -> IngestResult:
    """Ingest ``clip`` and transcode it here and now."""
    ids = ingest_file(runtime=rt, path=clip, title=title)
    executor = LocalExecutor(rt, job_registry())
    executor.start(recover=False)
    assert executor.wait_for([ids.job_id], 120)
    executor.stop()
    return ids


@pytest.fixture
def served(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, str, Runtime]]:
    """The whole app on a loopback port with one ready two-rung title."""
    rt = _browser_runtime(runtime)
    clip = make_test_clip(tmp_path / "play.mp4", width=320, height=180, duration_s=8)
    ids = _ready_title(rt, clip, "Browser clip")
    with live_server(create_app(runtime=rt)) as base:
        yield base, ids.title_id, rt
    rt.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # A fresh profile directory per test.
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        yield context.new_page()
        context.close()


def _play_past(page: Any, seconds: float) -> float:
    page.wait_for_function("() => window.__reelstack && window.__reelstack.loaded", timeout=30_000)
    page.wait_for_function(
        f"() => document.getElementById('video').currentTime > {seconds}", timeout=30_000
    )
    current: float = page.evaluate("document.getElementById('video').currentTime")
    return current


def _playback_sessions(rt: Runtime, user_id: str) -> list[Any]:
    from sqlalchemy import select

    from reelstack.db import session_scope
    from reelstack.playback.models import PlaybackSession

    with session_scope(rt.sessions) as s:
        rows = list(s.scalars(select(PlaybackSession).where(PlaybackSession.user_id == user_id)))
        s.expunge_all()
        return rows


@pytest.mark.parametrize("protocol", ["dash", "hls"])
def test_player_plays_past_3s(served: tuple[str, str, Runtime], page: Any, protocol: str) -> None:
    base, title_id, rt = served
    user_id = _make_viewer(rt)
    page.goto(f"{base}/app/?title={title_id}&protocol={protocol}&autoplay=1")
    # Signed out: the form, not the player.
    assert page.evaluate("window.__reelstack.view") in ("starting", "sign-in")
    assert page.locator("#video").is_hidden()
    _sign_in_as_viewer(page)
    assert _play_past(page, 3.0) > 3.0
    assert page.evaluate("window.__reelstack.errors") == []
    assert [str(exc) for exc in page.page_errors(filter="all")] == []
    manifest = page.evaluate("window.__reelstack.player.getAssetUri()")
    assert manifest.endswith(".mpd" if protocol == "dash" else ".m3u8")
    # The stream lease is renewed while the title plays...
    page.wait_for_function("() => window.__reelstack.heartbeats >= 1", timeout=15_000)
    (live,) = _playback_sessions(rt, user_id)
    assert live.last_heartbeat_at is not None and live.ended_at is None
    assert page.is_hidden("#error")
    # ...and ended (keepalive DELETE) when the page goes away.
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while _playback_sessions(rt, user_id)[0].ended_at is None:
        assert time.monotonic() < deadline, "leaving the page did not end the stream"
        time.sleep(0.1)


def test_title_list_and_quality_selection(served: tuple[str, str, Runtime], page: Any) -> None:
    base, title_id, rt = served
    user_id = _make_viewer(rt)
    page.goto(f"{base}/")
    _sign_in_as_viewer(page)
    button = page.locator(f'button[data-title-id="{title_id}"]')
    button.wait_for(timeout=15_000)
    assert "Browser clip" in button.inner_text()
    button.click()
    _play_past(page, 0.5)
    heights = page.eval_on_selector_all("#quality option", "els => els.map(e => e.value)")
    assert heights[0] == "auto" and sorted(heights[1:]) == ["144", "180"]
    page.select_option("#quality", "144")
    page.wait_for_function(
        "() => window.__reelstack.player.getVariantTracks()"
        ".some(t => t.active && t.height === 144)",
        timeout=15_000,
    )
    assert page.evaluate("window.__reelstack.player.getConfiguration().abr.enabled") is False
    assert page.evaluate("window.__reelstack.errors") == []
    # Ended elsewhere (another device's account page): the next heartbeat gets 410.
    _end_streams(rt, user_id)
    page.locator("#error", has_text="Playback ended").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.loaded") is False
    assert page.evaluate("window.__reelstack.player.getAssetUri()") is None


def _end_streams(rt: Runtime, user_id: str) -> None:
    from reelstack.accounts.models import Role
    from reelstack.accounts.schemas import Principal
    from reelstack.db import session_scope
    from reelstack.playback import service as playback

    owner = Principal(
        user_id=user_id, role=Role.VIEWER, session_id="", device_id=None, profile_id=None
    )
    with session_scope(rt.sessions) as s:
        for live in playback.list_live(session=s, principal=owner):
            playback.stop(session=s, principal=owner, session_id=live.session_id)


def test_list_refreshes_while_a_title_processes(
    served: tuple[str, str, Runtime], page: Any
) -> None:
    from reelstack.assets import service as assets
    from reelstack.assets.models import AssetStatus
    from reelstack.assets.schemas import TranscodeOutput
    from reelstack.db import session_scope
    from tests.catalog.factories import make_title_with_asset

    base, _, rt = served
    with session_scope(rt.sessions) as s:
        pending, asset_id = make_title_with_asset(s, "Still encoding", AssetStatus.PROCESSING)
    _make_viewer(rt)
    page.goto(f"{base}/app/")
    _sign_in_as_viewer(page)
    button = page.locator(f'button[data-title-id="{pending}"]')
    button.wait_for(timeout=15_000)
    assert button.get_attribute("data-status") == "processing"
    with session_scope(rt.sessions) as s:
        output = TranscodeOutput(version=1, renditions=[], audio_tracks=[])
        assets.publish(session=s, asset_id=asset_id, output=output)
    # No reload: the page polls while something is processing.
    page.locator(f'button[data-title-id="{pending}"][data-status="ready"]').wait_for(timeout=15_000)


def test_audio_language_switch(runtime: Runtime, page: Any, tmp_path: Path) -> None:
    from reelstack.media.testclips import make_multi_audio_clip

    rt = _browser_runtime(runtime)
    clip = make_multi_audio_clip(
        tmp_path / "langs.mp4",
        tracks=[(440, 2, "eng", None), (1000, 6, "spa", None)],
        width=320,
        height=180,
        duration_s=8,
    )
    ids = _ready_title(rt, clip, "Two languages")
    _make_viewer(rt)
    with live_server(create_app(runtime=rt)) as base:
        page.goto(f"{base}/app/?title={ids.title_id}&protocol=dash&autoplay=1")
        _sign_in_as_viewer(page)
        _play_past(page, 0.5)
        options = page.eval_on_selector_all(
            "#audio option", "els => els.map(e => [e.dataset.language, e.selected])"
        )
        assert options == [["en", True], ["es", False]]
        assert page.is_visible("#audio")
        page.select_option("#audio", index=1)
        page.wait_for_function(
            "() => window.__reelstack.player.getAudioTracks()"
            ".some(t => t.active && t.language === 'es')",
            timeout=15_000,
        )
        _play_past(page, 3.0)
        assert page.evaluate("window.__reelstack.errors") == []
    rt.close()


def test_kids_pin_and_account_page(served: tuple[str, str, Runtime], page: Any) -> None:
    """A PIN-locked kids profile refuses a wrong PIN and, unlocked, hides the unrated
    (adults-only) title; the account page shows the plan and this device; signing out
    and in again reuses the device."""
    base, title_id, rt = served
    _make_viewer(rt, kids_pin=KIDS_PIN)
    page.goto(f"{base}/app/")
    _sign_in(page)
    kids = page.locator("#profile-list button.profile", has_text="Kids")
    assert kids.get_attribute("data-has-pin") == "true"
    kids.click()
    page.locator("#pin").fill("0000")
    page.click("#pin-submit")
    page.locator("#error", has_text="Wrong PIN").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "profiles"
    page.locator("#pin").fill(KIDS_PIN)
    page.click("#pin-submit")
    page.wait_for_function("() => window.__reelstack.view === 'catalog'", timeout=15_000)
    assert page.is_hidden("#error")
    assert page.inner_text("#whoami") == "Watching as Kids"
    page.locator("#titles .empty").wait_for(timeout=15_000)
    assert page.locator(f'button[data-title-id="{title_id}"]').count() == 0

    # A bad access token costs one refresh (shared by the page's concurrent calls), which
    # rotates the refresh token; no sign-out.
    refresh = page.evaluate("localStorage.getItem('reelstack.refresh_token')")
    page.evaluate("localStorage.setItem('reelstack.access_token', 'eyJ.not.valid')")
    page.click("#nav-account")
    plan = page.locator('#account-summary dd[data-field="plan"]')
    plan.wait_for(timeout=15_000)
    assert plan.inner_text().startswith("Premium")
    assert page.inner_text('#account-summary dd[data-field="profile"]') == "Kids"
    devices = page.locator("#device-list li[data-device-id]")
    assert devices.count() == 1
    assert devices.first.get_attribute("data-current") == "true"
    assert "Web browser" in devices.first.inner_text()
    assert "Nothing is playing." in page.inner_text("#stream-list")
    assert page.evaluate("localStorage.getItem('reelstack.refresh_token')") not in (None, refresh)
    assert page.evaluate("window.__reelstack.view") == "account"

    page.click("#sign-out")
    page.wait_for_function("() => window.__reelstack.view === 'sign-in'", timeout=15_000)
    assert page.evaluate("localStorage.getItem('reelstack.access_token')") is None
    _sign_in_as_viewer(page)
    page.click("#nav-account")
    page.locator('#account-summary dd[data-field="profile"]', has_text="Viewer").wait_for(
        timeout=15_000
    )
    assert page.locator("#device-list li[data-device-id]").count() == 1
    assert [str(exc) for exc in page.page_errors(filter="all")] == []


# --- the links the server mails ---------------------------------------------------------


@pytest.fixture
def bare_served(runtime: Runtime) -> Iterator[tuple[str, Runtime]]:
    """The whole app on a loopback port, with no titles (the email links need none)."""
    rt = _browser_runtime(runtime)
    with live_server(create_app(runtime=rt)) as base:
        yield base, rt
    rt.close()


def _mailed_tokens(rt: Runtime, recipient: str, kind: str, count: int = 1) -> list[str]:
    """The tokens of the ``#{kind}=`` links mailed to ``recipient``, oldest first, once
    there are ``count``: the app mails after its commit, on a background thread."""
    from sqlalchemy import select

    from reelstack.accounts.email_models import OutboxEmail
    from reelstack.db import session_scope

    public_url = rt.settings.public_url.rstrip("/")
    link = re.compile(rf"(\S+)/app/#{kind}=([A-Za-z0-9_-]+)")
    deadline = time.monotonic() + 10
    while True:
        with session_scope(rt.sessions) as s:
            bodies = list(
                s.scalars(
                    select(OutboxEmail.body)
                    .where(OutboxEmail.recipient == recipient)
                    .order_by(OutboxEmail.created_at)
                )
            )
        found = [match for body in bodies if (match := link.search(body))]
        if len(found) >= count:
            assert all(match.group(1) == public_url for match in found)
            return [match.group(2) for match in found]
        assert time.monotonic() < deadline, f"{count} '{kind}' link(s) not mailed within 10 s"
        time.sleep(0.1)


NEW_PASSWORD = "a brand new passphrase"


def test_password_reset_through_the_mailed_link(
    bare_served: tuple[str, Runtime], page: Any
) -> None:
    """ "Forgot password?" mails a link; opened (a fresh page load), it sets a new
    password, drops the token from the address, and the new password signs in."""
    base, rt = bare_served
    _make_viewer(rt)
    page.goto(f"{base}/app/")
    page.locator("#sign-in-email").fill(VIEWER_EMAIL, timeout=15_000)
    page.click("#forgot-password")
    assert page.evaluate("window.__reelstack.view") == "forgot-password"
    assert page.input_value("#forgot-email") == VIEWER_EMAIL
    page.click("#forgot-submit")
    page.locator("#notice", has_text="If an account uses this address").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "sign-in"

    (token,) = _mailed_tokens(rt, VIEWER_EMAIL, "reset")
    page.goto("about:blank")
    page.goto(f"{base}/app/#reset={token}")
    page.wait_for_function("() => window.__reelstack.view === 'reset-password'", timeout=15_000)
    assert page.evaluate("location.hash") == ""
    page.locator("#reset-new-password").fill(NEW_PASSWORD)
    page.click("#reset-submit")
    page.locator("#notice", has_text="Password changed").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "sign-in"
    assert page.is_hidden("#error")

    # The old password is gone; the new one signs in.
    page.locator("#sign-in-email").fill(VIEWER_EMAIL)
    page.locator("#sign-in-password").fill(VIEWER_PASSWORD)
    page.click("#sign-in-submit")
    page.locator("#error").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "sign-in"
    page.locator("#sign-in-password").fill(NEW_PASSWORD)
    page.click("#sign-in-submit")
    page.locator("#profile-list button.profile", has_text="Viewer").wait_for(timeout=15_000)
    assert page.evaluate("window.__reelstack.view") == "profiles"
    assert [str(exc) for exc in page.page_errors(filter="all")] == []


def test_email_confirmed_through_the_mailed_link(
    bare_served: tuple[str, Runtime], page: Any
) -> None:
    """Sign-up through the form mails a confirmation link, the account page mails
    another; opening one (in the open page) confirms the address and spends the other."""
    base, rt = bare_served
    email = "newcomer@browser.example"
    page.goto(f"{base}/app/")
    page.click("#sign-in-switch", timeout=15_000)
    page.locator("#sign-in-email").fill(email)
    page.locator("#sign-in-password").fill(VIEWER_PASSWORD)
    page.click("#sign-in-submit")
    page.locator("#profile-list button.profile", has_text="newcomer").wait_for(timeout=15_000)
    assert email in page.inner_text("#notice")

    page.click("#nav-account")
    resend = page.locator("#resend-verification")
    resend.wait_for(timeout=15_000)
    summary_email = page.locator('#account-summary dd[data-field="email"]')
    assert summary_email.inner_text() == f"{email} (not verified)"
    resend.click()
    page.locator("#notice", has_text="on its way").wait_for(timeout=15_000)

    first, second = _mailed_tokens(rt, email, "verify", count=2)
    # Only the fragment changes: the open page follows the link without a reload.
    page.goto(f"{base}/app/#verify={second}")
    page.locator("#notice", has_text="Your email address is confirmed").wait_for(timeout=15_000)
    assert page.evaluate("location.hash") == ""
    resend.wait_for(state="hidden", timeout=15_000)
    assert summary_email.inner_text() == email
    access = page.evaluate("localStorage.getItem('reelstack.access_token')")
    with httpx.Client(base_url=base) as api:
        me = api.get("/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200 and me.json()["email_verified"] is True

    # The first link was spent with the second: a fresh load says why it failed.
    page.goto("about:blank")
    page.goto(f"{base}/app/#verify={first}")
    page.locator("#error", has_text="already used").wait_for(timeout=15_000)
    assert page.is_hidden("#notice")
    assert page.evaluate("location.hash") == ""
    assert [str(exc) for exc in page.page_errors(filter="all")] == []
