from __future__ import annotations

from typing import Any

import pytest

from reelstack.media.languages import clean_name, is_commentary, to_bcp47, track_names
from reelstack.media.package import plan_audio
from reelstack.media.probe import AudioInfo


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("eng", "en"),
        ("spa", "es"),
        ("fre", "fr"),  # ISO 639-2/B
        ("fra", "fr"),  # ISO 639-2/T
        ("ger", "de"),
        ("deu", "de"),
        ("ita", "it"),
        ("por", "pt"),
        ("jpn", "ja"),
        ("kor", "ko"),
        ("chi", "zh"),
        ("zho", "zh"),
        ("ENG", "en"),
        ("en", "en"),
        ("pt-br", "pt-BR"),
        ("por-BR", "pt-BR"),
        ("yue", "yue"),  # no 2-letter code: kept
        ("und", "und"),
        ("", "und"),
        (None, "und"),
        ("not a language", "und"),
        ("e", "und"),
    ],
)
def test_to_bcp47(tag: str | None, expected: str) -> None:
    assert to_bcp47(tag) == expected


def test_track_names_from_title_or_language_made_unique() -> None:
    assert track_names(["en", "es", "en", "en"], [None, None, None, "Commentary"]) == [
        "English",
        "Spanish",
        "English 2",
        "Commentary",
    ]
    assert track_names(["yue"], [None]) == ["Cantonese"]
    assert track_names(["xho"], [None]) == ["xho"]
    # A lone undetermined track keeps today's name; several become Audio, Audio 2.
    assert track_names(["und"], [None]) == ["Default"]
    assert track_names(["und", "und"], [None, None]) == ["Audio", "Audio 2"]
    # Titles are unique too (case-insensitively), and made safe for HLS quoting.
    assert track_names(["en", "fr"], ['Main "mix"', 'main "MIX"']) == [
        "Main 'mix'",
        "main 'MIX' 2",
    ]


def test_clean_name_and_commentary() -> None:
    assert clean_name(' a\n"b"\t c ') == "a 'b' c"
    assert len(clean_name("x" * 200)) == 64
    assert is_commentary("Director's Commentary")
    assert not is_commentary("English")
    assert not is_commentary(None)


def audio_info(lang: str | None, **kw: Any) -> AudioInfo:
    base: dict[str, Any] = {
        "codec": "aac",
        "channels": 2,
        "sample_rate": 48000,
        "bit_rate": None,
    }
    base.update(kw)
    return AudioInfo(language=lang, **base)


def test_plan_audio_order_languages_roles_and_cap() -> None:
    plan = plan_audio(
        [
            audio_info("eng"),
            audio_info("spa", channels=6),
            audio_info(None, decodable=False),  # skipped, index 2 not mapped
            audio_info("eng", title="Director's commentary"),
            audio_info("fre", commentary=True),
        ]
    )
    assert [(p.source_index, p.language, p.name, p.role) for p in plan] == [
        (0, "en", "English", "main"),
        (1, "es", "Spanish", "alternate"),
        (3, "en", "Director's commentary", "commentary"),
        (4, "fr", "French", "commentary"),
    ]
    many = plan_audio([audio_info("eng") for _ in range(12)])
    assert [p.source_index for p in many] == list(range(8))
    assert [p.name for p in many][:3] == ["English", "English 2", "English 3"]
    assert plan_audio([]) == []
