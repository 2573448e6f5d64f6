"""Text per language with fallback: a title's text columns are in its default language,
its ``translations`` hold the others. A read asks for languages in order of preference
(``?lang=`` or ``Accept-Language``); each field falls back to the default language when
the chosen translation lacks it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
_LANGUAGE = re.compile(LANGUAGE_PATTERN)
# At most this many preferences are considered (a header can list many).
_MAX_PREFERENCES = 10


def normalize(tag: str) -> str | None:
    """A BCP 47 tag in its usual case ("pt-BR", "zh-Hant-TW"), or None when malformed."""
    tag = tag.strip().replace("_", "-")
    if not tag or len(tag) > 35 or not _LANGUAGE.match(tag):
        return None
    first, *rest = tag.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())
        else:
            parts.append(part.lower())
    return "-".join(parts)


def preferences(lang: str | None, accept_language: str | None) -> list[str]:
    """The languages a reader asked for, best first: ``?lang=`` wins over the header."""
    if lang:
        tag = normalize(lang)
        return [tag] if tag else []
    if not accept_language:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")[:50]):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        normalized = normalize(tag)
        if normalized is None or weight <= 0:
            continue
        weighted.append((-weight, index, normalized))
    return [tag for _, _, tag in sorted(weighted)[:_MAX_PREFERENCES]]


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0]


def choose(default: str, available: Sequence[str], wanted: Sequence[str]) -> str:
    """The language to serve: the first wanted one the item has (exactly, then by its
    primary subtag), else ``default``."""
    for tag in wanted:
        if tag == default or tag in available:
            return tag
        primary = _primary(tag)
        if primary == _primary(default):
            return default
        for have in available:
            if _primary(have) == primary:
                return have
    return default


def localize(
    base: Mapping[str, str | None],
    default: str,
    translations: Mapping[str, Mapping[str, str]],
    wanted: Sequence[str],
) -> tuple[dict[str, str | None], str]:
    """``base`` (the default language's text fields) with the chosen language's
    translations laid over it, field by field; and the chosen language."""
    language = choose(default, list(translations), wanted)
    if language == default:
        return dict(base), default
    texts = translations.get(language, {})
    return {field: texts.get(field) or value for field, value in base.items()}, language
