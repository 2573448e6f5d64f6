"""Reelstack: an open-source OTT video streaming backend."""

__version__ = "0.1.0"
