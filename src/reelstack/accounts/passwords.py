"""Password and PIN hashing: argon2id with OWASP's minimum cost (19 MiB, t=2, p=1)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("reelstack: no such account")


def hash_secret(secret: str) -> str:
    return _hasher().hash(secret)


def verify_secret(stored: str | None, given: str) -> bool:
    """Whether ``given`` matches ``stored``; the same work is done when nothing is stored,
    so an unknown account cannot be told from a wrong password by timing."""
    try:
        return _hasher().verify(stored or _dummy_hash(), given) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
