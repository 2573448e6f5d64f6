"""One numeric maturity scale, and the rating systems mapped onto it.

Levels (higher is more mature): 1 little kids, 2 older kids, 3 teens, 4 adults. A
profile's ceiling is the highest level it may watch. A title without a known rating is
treated as adults only, so a kids profile never sees it by accident.
"""

from __future__ import annotations

import enum


class Maturity(enum.IntEnum):
    KIDS = 1
    OLDER_KIDS = 2
    TEENS = 3
    ADULTS = 4


# rating system -> rating -> level. Keys are upper-cased.
RATING_SYSTEMS: dict[str, dict[str, Maturity]] = {
    # US television (TV Parental Guidelines).
    "US-TV": {
        "TV-Y": Maturity.KIDS,
        "TV-G": Maturity.KIDS,
        "TV-Y7": Maturity.OLDER_KIDS,
        "TV-Y7-FV": Maturity.OLDER_KIDS,
        "TV-PG": Maturity.OLDER_KIDS,
        "TV-14": Maturity.TEENS,
        "TV-MA": Maturity.ADULTS,
    },
    # US film (MPA, formerly MPAA).
    "MPAA": {
        "G": Maturity.KIDS,
        "PG": Maturity.OLDER_KIDS,
        "PG-13": Maturity.TEENS,
        "R": Maturity.ADULTS,
        "NC-17": Maturity.ADULTS,
    },
}

# The ceiling a new kids profile gets unless another is asked for.
KIDS_DEFAULT_CEILING = Maturity.OLDER_KIDS


def maturity_of(system: str | None, rating: str | None) -> Maturity:
    """The level of ``rating`` in ``system``; unknown or missing ratings are adults only."""
    if not system or not rating:
        return Maturity.ADULTS
    return RATING_SYSTEMS.get(system.upper(), {}).get(rating.upper(), Maturity.ADULTS)


def known_rating(system: str, rating: str) -> bool:
    return rating.upper() in RATING_SYSTEMS.get(system.upper(), {})
