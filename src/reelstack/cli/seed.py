"""The demo seed: a generated 1080p clip, ingested once, and a small series playing it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reelstack.config import Settings

DEMO_TITLE = "Reelstack Demo: Test Pattern"


def seed_demo(settings: Settings, *, console: Console) -> str | None:
    """Ingest the demo clip when the catalog is empty; returns the new title id."""
    from reelstack.catalog import service as catalog
    from reelstack.catalog.models import Title
    from reelstack.db import session_scope
    from reelstack.ingest.service import ingest_file
    from reelstack.media.testclips import make_test_clip
    from reelstack.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            if session.scalar(select(func.count()).select_from(Title)):
                console.print("catalog has titles: demo seed skipped")
                return None
        with tempfile.TemporaryDirectory() as tmp:
            console.print("generating the demo clip (30 s, 1920x1080, lavfi) ...")
            clip = make_test_clip(
                Path(tmp) / "demo.mp4", width=1920, height=1080, duration_s=30, crf=18
            )
            result = ingest_file(
                runtime=runtime,
                path=clip,
                title=DEMO_TITLE,
                description="A generated 30-second test pattern with a 440 Hz tone.",
                original_filename="demo.mp4",
            )
        with session_scope(runtime.sessions) as session:
            # A test pattern is fit for every profile, kids included.
            catalog.set_rating(
                session=session, title_id=result.title_id, rating_system="US-TV", rating="TV-Y"
            )
            seed_demo_series(session, asset_id=result.asset_id)
        console.print(f"demo title {result.title_id} queued for transcoding (job {result.job_id})")
        return result.title_id
    finally:
        runtime.close()


DEMO_SERIES = "Reelstack Originals: Patterns"


def seed_demo_series(session: Session, *, asset_id: str) -> str:
    """A small published series (two seasons of two episodes, each playing the demo
    clip) with its genres; returns its id."""
    from reelstack.catalog import metadata, people, series, workflow
    from reelstack.catalog import service as catalog
    from reelstack.catalog.admin_schemas import (
        EpisodeCreate,
        GenreIn,
        SeasonIn,
        TitleCreate,
        TitleText,
    )
    from reelstack.catalog.audit import ChangedBy
    from reelstack.catalog.models import TitleKind, TitleState

    by = ChangedBy("system", "seed")
    for slug, name in (("documentary", "Documentary"), ("kids", "Kids")):
        people.create_genre(session=session, body=GenreIn(slug=slug, name=name), by=by)
    show = metadata.create_title(
        session=session,
        body=TitleCreate(
            kind=TitleKind.SERIES,
            title=DEMO_SERIES,
            slug="reelstack-originals-patterns",
            short_synopsis="Test patterns, one season at a time.",
            genres=["documentary", "kids"],
            rating_system="US-TV",
            rating="TV-Y",
            translations={"fr": TitleText(title="Reelstack Originals : Mires")},
        ),
        by=by,
        default_language="en",
    )
    published = (TitleState.IN_REVIEW, TitleState.PUBLISHED)
    for number in (1, 2):
        season = series.create_season(
            session=session,
            series_id=show.id,
            body=SeasonIn(number=number, title=f"Season {number}"),
            by=by,
        )
        for episode in (1, 2):
            made = metadata.create_title(
                session=session,
                body=EpisodeCreate(
                    title=f"Pattern {number}.{episode}",
                    episode_number=episode,
                    rating_system="US-TV",
                    rating="TV-Y",
                ),
                by=by,
                default_language="en",
                season_id=season.id,
            )
            catalog.link_asset(session=session, title_id=made.id, asset_id=asset_id)
            for state in published:
                workflow.transition(session=session, title_id=made.id, target=state, by=by)
    for state in published:
        workflow.transition(session=session, title_id=show.id, target=state, by=by)
    return show.id


DEMO_VIEWER = "viewer@example.com"
DEMO_ADMIN = "admin@example.com"
DEMO_PASSWORD_FILE = "demo-password"


def demo_password(settings: Settings) -> tuple[str, bool]:
    """REELSTACK_DEMO_PASSWORD, else the one kept in the data dir (made on first use).

    Returns the password and whether it was just generated.
    """
    if settings.demo_password is not None:
        return settings.demo_password.get_secret_value(), False
    from reelstack.security import load_or_create_admin_key

    # Same safe file handling as the admin key (0600, O_EXCL).
    return load_or_create_admin_key(settings.data_dir / DEMO_PASSWORD_FILE)


DEMO_TV_CLIENT = "reelstack-tv"


def ensure_demo_tv_client(session: Session) -> None:
    """The public device-grant client a TV app signs in with (RFC 8628)."""
    from reelstack.accounts.models import DeviceType
    from reelstack.oauth import service as oauth
    from reelstack.oauth.models import OAuthClient

    if session.get(OAuthClient, DEMO_TV_CLIENT) is None:
        oauth.create_client(
            session=session,
            client_id=DEMO_TV_CLIENT,
            name="Reelstack TV",
            public=True,
            grants=["device_code"],
            redirect_uris=[],
            device_type=DeviceType.TV,
        )


def seed_demo_accounts(settings: Settings, *, console: Console) -> None:
    """The demo's plans and two accounts, made once (demo mode only):
    ``viewer@example.com`` on Standard with an adult and a kids profile, and
    ``admin@example.com``; and the TV app's OAuth client ``reelstack-tv``."""
    from reelstack.accounts import service as accounts
    from reelstack.accounts.models import Profile, Role
    from reelstack.billing import service as billing
    from reelstack.db import session_scope
    from reelstack.ratings import KIDS_DEFAULT_CEILING
    from reelstack.runtime import build_runtime

    if settings.env != "demo":
        return
    password, generated = demo_password(settings)
    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessions) as session:
            billing.ensure_demo_plans(session=session)
            made = []
            if accounts.find_user(session=session, email=DEMO_VIEWER) is None:
                viewer = accounts.create_user(
                    session=session,
                    email=DEMO_VIEWER,
                    password=password,
                    verified=True,
                    profile_name="Viewer",
                )
                session.add(
                    Profile(
                        user_id=viewer.id,
                        name="Kids",
                        kids=True,
                        maturity_ceiling=int(KIDS_DEFAULT_CEILING),
                    )
                )
                billing.grant_subscription(
                    session=session, user_id=viewer.id, plan_code="standard", days=None
                )
                made.append(DEMO_VIEWER)
            if accounts.find_user(session=session, email=DEMO_ADMIN) is None:
                accounts.create_user(
                    session=session,
                    email=DEMO_ADMIN,
                    password=password,
                    role=Role.ADMIN,
                    verified=True,
                    profile_name="Admin",
                )
                made.append(DEMO_ADMIN)
            ensure_demo_tv_client(session)
    finally:
        runtime.close()
    where = (
        "REELSTACK_DEMO_PASSWORD"
        if settings.demo_password is not None
        else str(settings.data_dir / DEMO_PASSWORD_FILE)
    )
    if generated:
        console.print(
            f"demo accounts {DEMO_VIEWER} and {DEMO_ADMIN}, password (generated, kept in "
            f"{where}): {password}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    elif made:
        console.print(f"demo accounts {', '.join(made)}: password from {where}", markup=False)
    else:
        console.print(
            f"demo accounts {DEMO_VIEWER} and {DEMO_ADMIN}: password in {where}", markup=False
        )
