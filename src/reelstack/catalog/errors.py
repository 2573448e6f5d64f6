"""The catalog's typed errors; each problem names the offending ``field`` when there is one."""

from __future__ import annotations

from reelstack.errors import Conflict, Forbidden, ValidationFailed


class Duplicate(Conflict):
    """A value that must be unique is taken (a slug, a season or episode number)."""

    code = "duplicate"
    title = "Already exists"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Invalid workflow transition"


class NotDeletable(Conflict):
    code = "not_deletable"
    title = "Cannot be deleted now"


class NotAvailable(Forbidden):
    """Outside the title's availability windows, or withdrawn from viewers."""

    code = "not_available"
    title = "Not available"


def invalid(field: str, detail: str) -> ValidationFailed:
    """A 422 naming ``field``."""
    return ValidationFailed(f"{field}: {detail}", field=field)


def duplicate(field: str, detail: str) -> Duplicate:
    """A 409 naming ``field``."""
    return Duplicate(f"{field}: {detail}", field=field)
