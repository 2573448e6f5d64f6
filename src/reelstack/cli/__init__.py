"""The ``reelstack`` command: run, api, migrate, ingest, package, demo."""

from __future__ import annotations

from reelstack.cli.main import app, main

__all__ = ["app", "main"]
