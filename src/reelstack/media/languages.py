"""Audio track languages and names: ISO 639-2 tags (as containers carry them) to
BCP-47 (as HLS ``LANGUAGE`` and DASH ``lang`` want them) and human names."""

from __future__ import annotations

import re
from collections.abc import Sequence

UNDETERMINED = "und"

# BCP-47 (ISO 639-1 where one exists) -> (ISO 639-2 codes, T first then B, English name).
_LANGUAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "ar": (("ara",), "Arabic"),
    "bg": (("bul",), "Bulgarian"),
    "ca": (("cat",), "Catalan"),
    "cs": (("ces", "cze"), "Czech"),
    "cy": (("cym", "wel"), "Welsh"),
    "da": (("dan",), "Danish"),
    "de": (("deu", "ger"), "German"),
    "el": (("ell", "gre"), "Greek"),
    "en": (("eng",), "English"),
    "es": (("spa",), "Spanish"),
    "et": (("est",), "Estonian"),
    "eu": (("eus", "baq"), "Basque"),
    "fa": (("fas", "per"), "Persian"),
    "fi": (("fin",), "Finnish"),
    "fr": (("fra", "fre"), "French"),
    "ga": (("gle",), "Irish"),
    "gl": (("glg",), "Galician"),
    "he": (("heb",), "Hebrew"),
    "hi": (("hin",), "Hindi"),
    "hr": (("hrv",), "Croatian"),
    "hu": (("hun",), "Hungarian"),
    "id": (("ind",), "Indonesian"),
    "is": (("isl", "ice"), "Icelandic"),
    "it": (("ita",), "Italian"),
    "ja": (("jpn",), "Japanese"),
    "ko": (("kor",), "Korean"),
    "lt": (("lit",), "Lithuanian"),
    "lv": (("lav",), "Latvian"),
    "ms": (("msa", "may"), "Malay"),
    "nb": (("nob",), "Norwegian Bokmål"),
    "nl": (("nld", "dut"), "Dutch"),
    "no": (("nor",), "Norwegian"),
    "pl": (("pol",), "Polish"),
    "pt": (("por",), "Portuguese"),
    "ro": (("ron", "rum"), "Romanian"),
    "ru": (("rus",), "Russian"),
    "sk": (("slk", "slo"), "Slovak"),
    "sl": (("slv",), "Slovenian"),
    "sr": (("srp",), "Serbian"),
    "sv": (("swe",), "Swedish"),
    "ta": (("tam",), "Tamil"),
    "te": (("tel",), "Telugu"),
    "th": (("tha",), "Thai"),
    "tr": (("tur",), "Turkish"),
    "uk": (("ukr",), "Ukrainian"),
    "ur": (("urd",), "Urdu"),
    "vi": (("vie",), "Vietnamese"),
    "zh": (("zho", "chi"), "Chinese"),
}
_FROM_639_2 = {code: short for short, (codes, _) in _LANGUAGES.items() for code in codes}
# Codes without a 2-letter form that still deserve a name.
_NAMES_639_2 = {"yue": "Cantonese", "cmn": "Mandarin", "fil": "Filipino", "zxx": "No language"}
_TAG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")


def to_bcp47(code: str | None) -> str:
    """``eng`` -> ``en``, ``ger``/``deu`` -> ``de``; a 3-letter code without a 2-letter
    form is kept (``yue``); already BCP-47 tags pass through (``pt-BR`` stays
    ``pt-BR``); missing, ``und`` or malformed -> ``und``."""
    if not code:
        return UNDETERMINED
    tag = code.strip().replace("_", "-").lower()
    if not _TAG_RE.match(tag):
        return UNDETERMINED
    primary, _, rest = tag.partition("-")
    primary = _FROM_639_2.get(primary, primary)
    if primary in ("und", "mis", "mul"):
        return UNDETERMINED if primary == "und" else primary
    if not rest:
        return primary
    # Region subtags are upper case by convention (pt-BR), others stay lower case.
    subtags = [s.upper() if len(s) == 2 else s for s in rest.split("-")]
    return "-".join([primary, *subtags])


def language_name(tag: str) -> str | None:
    """English name of a BCP-47 tag's primary language, or None when unknown."""
    primary = tag.partition("-")[0].lower()
    if primary in _LANGUAGES:
        return _LANGUAGES[primary][1]
    return _NAMES_639_2.get(primary)


def track_names(
    languages: Sequence[str],
    titles: Sequence[str | None],
) -> list[str]:
    """One unique human name per audio track, in order.

    The stream's title wins; else the language's English name (the raw tag when
    the table has no name); an undetermined language is "Default" when it is the
    only track and "Audio" otherwise. Repeats get " 2", " 3", ... in track order.
    """
    if len(languages) != len(titles):
        raise ValueError("one title (or None) per language is required")
    base: list[str] = []
    for lang, title in zip(languages, titles, strict=True):
        clean = clean_name(title) if title else ""
        if clean:
            base.append(clean)
        elif lang == UNDETERMINED:
            base.append("Default" if len(languages) == 1 else "Audio")
        else:
            base.append(language_name(lang) or lang)
    names: list[str] = []
    taken: set[str] = set()
    for name in base:
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{name} {n}"
        taken.add(candidate.casefold())
        names.append(candidate)
    return names


def clean_name(text: str) -> str:
    """A name safe inside an HLS quoted string and an XML element: no quotes,
    no control characters, single spaces, at most 64 characters."""
    text = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text)
    text = text.replace('"', "'")
    return " ".join(text.split())[:64].strip()


def is_commentary(title: str | None) -> bool:
    """True for a track whose title names it a commentary."""
    return bool(title) and "comment" in (title or "").casefold()
