"""`reelstack run` seeds one demo title into an empty catalog, and only then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reelstack.cli import seed
from reelstack.config import Settings
from reelstack.media import testclips
from tests.conftest import row_counts


def test_seed_demo_once(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    real = testclips.make_test_clip
    asked: dict[str, Any] = {}

    def small_clip(path: Path, **kwargs: Any) -> Path:
        asked.update(kwargs)
        # The real seed is 30 s of 1080p; a tiny clip keeps the test fast.
        return real(path, width=320, height=180, duration_s=2)

    monkeypatch.setattr(testclips, "make_test_clip", small_clip)
    console = Console(quiet=True)
    title_id = seed.seed_demo(settings, console=console)
    assert title_id is not None
    assert (asked["width"], asked["height"], asked["duration_s"]) == (1920, 1080, 30)

    from reelstack.runtime import build_runtime

    rt = build_runtime(settings)
    counts = row_counts(rt)
    # One title, one asset, and its processing graph (parent + transcode).
    assert (counts["titles"], counts["assets"], counts["jobs"]) == (1, 1, 2)
    assert seed.seed_demo(settings, console=console) is None  # not twice
    assert row_counts(rt)["titles"] == 1
    rt.close()
