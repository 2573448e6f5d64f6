"""Regenerate the README's screenshots: .venv/bin/python docs/screenshots.py

Starts the app on loopback with a fresh data dir, transcodes a short generated clip on
the 'tiny' ladder, makes a Premium household with a PIN-locked kids profile, and drives
Debian's Chromium through sign-in, "Who's watching?", the catalogue with the player, and
the account page. Writes docs/*.png. Needs `make web` and /usr/bin/chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reelstack.accounts import households  # noqa: E402
from reelstack.accounts import service as accounts  # noqa: E402
from reelstack.accounts.models import Role  # noqa: E402
from reelstack.accounts.schemas import Principal, ProfileIn  # noqa: E402
from reelstack.app import create_app  # noqa: E402
from reelstack.billing import service as billing  # noqa: E402
from reelstack.bootstrap import job_registry  # noqa: E402
from reelstack.catalog import service as catalog  # noqa: E402
from reelstack.config import Settings  # noqa: E402
from reelstack.db import migrate, session_scope  # noqa: E402
from reelstack.ingest.service import ingest_file  # noqa: E402
from reelstack.jobs.executor import LocalExecutor  # noqa: E402
from reelstack.media.testclips import make_test_clip  # noqa: E402
from reelstack.runtime import build_runtime  # noqa: E402
from tests.conftest import live_server  # noqa: E402

EMAIL, PASSWORD = "viewer@example.com", "correct horse battery staple"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="reelstack-shots-"))
    settings = Settings(data_dir=data, ladder="tiny", admin_api_key=SecretStr("k" * 40))
    migrate(settings.resolved_database_url)
    rt = build_runtime(settings)
    clip = make_test_clip(data / "clip.mp4", width=640, height=360, duration_s=8)
    ids = ingest_file(runtime=rt, path=clip, title="Big Test Pattern")
    executor = LocalExecutor(rt, job_registry())
    executor.start(recover=False)
    assert executor.wait_for([ids.job_id], 180)
    executor.stop()
    with session_scope(rt.sessions) as s:
        catalog.set_rating(session=s, title_id=ids.title_id, rating_system="US-TV", rating="TV-Y")
        billing.ensure_demo_plans(session=s)
        user = accounts.create_user(
            session=s, email=EMAIL, password=PASSWORD, verified=True, profile_name="Viewer"
        )
        billing.grant_subscription(session=s, user_id=user.id, plan_code="premium")
        owner = Principal(user_id=user.id, role=Role.VIEWER, session_id="", device_id=None,
                          profile_id=None)
        households.create_profile(session=s, principal=owner,
                                body=ProfileIn(name="Kids", kids=True, pin="1234"))
    app = create_app(runtime=rt)
    with live_server(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/app/?title={ids.title_id}&protocol=dash&autoplay=1")
        page.locator("#sign-in-email").fill(EMAIL, timeout=15_000)
        page.locator("#sign-in-password").fill(PASSWORD)
        page.screenshot(path=str(ROOT / "docs" / "sign-in.png"))
        page.click("#sign-in-submit")
        page.locator("#profile-list button.profile").first.wait_for(timeout=15_000)
        page.screenshot(path=str(ROOT / "docs" / "profiles.png"))
        page.locator("#profile-list button.profile", has_text="Viewer").click()
        page.wait_for_function("() => { const v = document.querySelector('video');"
                               " return v && v.currentTime > 2; }", timeout=60_000)
        page.screenshot(path=str(ROOT / "docs" / "player.png"))
        page.locator("#nav-account").click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ROOT / "docs" / "account.png"))
        browser.close()
    rt.close()
    print("wrote docs/sign-in.png, docs/profiles.png, docs/player.png, docs/account.png")


if __name__ == "__main__":
    main()
