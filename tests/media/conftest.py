from __future__ import annotations

from pathlib import Path

import pytest

from reelstack.media.testclips import make_test_clip


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def landscape_clip(clips: Path) -> Path:
    return make_test_clip(clips / "landscape.mp4", width=320, height=180, duration_s=4)


@pytest.fixture(scope="session")
def portrait_clip(clips: Path) -> Path:
    return make_test_clip(clips / "portrait.mp4", width=180, height=320, duration_s=4)
