"""Generic job outcomes a handler raises; the runner never sees a domain's error types."""

from __future__ import annotations


class PermanentJobError(Exception):
    """Retrying cannot help (bad input, missing subject): the job fails at once."""


class JobCancelled(Exception):
    """The job was told to stop (a user's cancel, or the process shutting down)."""


class ClaimLost(Exception):
    """This worker no longer holds the job's claim: another worker took it over.

    Every write the old worker tries is refused; it stops and cleans up its own scratch.
    """
