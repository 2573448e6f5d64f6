"""The viewer's country (ISO 3166 alpha-2): from the header a trusted edge or CDN sets
(REELSTACK_COUNTRY_HEADER), else from a MaxMind GeoIP2/GeoLite2 country database
(REELSTACK_GEOIP_DB) looked up with the client's address, else unknown."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path

import geoip2.database
import geoip2.errors


def _code(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    return value if len(value) == 2 and value.isascii() and value.isalpha() else None


class CountryResolver:
    def __init__(self, *, header: str | None = None, database: Path | None = None) -> None:
        self.header = header
        # Opened once (memory-mapped); lookups are thread-safe.
        self._reader = geoip2.database.Reader(str(database)) if database else None

    def country(self, headers: Mapping[str, str], client_ip: str | None) -> str | None:
        if self.header is not None:
            stated = _code(headers.get(self.header))
            if stated is not None:
                return stated
        if self._reader is None or not client_ip:
            return None
        try:
            ipaddress.ip_address(client_ip)
            found = self._reader.country(client_ip)
        except (ValueError, geoip2.errors.AddressNotFoundError):
            return None
        return _code(found.country.iso_code)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
