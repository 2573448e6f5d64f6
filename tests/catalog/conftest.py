from __future__ import annotations

import pytest

from reelstack.config import Settings

# The trusted edge's country header in these tests.
COUNTRY_HEADER = "X-Viewer-Country"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"country_header": COUNTRY_HEADER})
