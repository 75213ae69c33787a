"""IANA time zones for signup: the full list, and the zones of each country (from tzdata's
zone.tab), so a browser that says UTC, or a zone of another country, gets a second look."""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources


@cache
def all_time_zones() -> list[str]:
    """Every IANA zone a business may pick, sorted (legacy aliases such as "US/Eastern" and
    the bare "posix/"/"right/" trees left out)."""
    return sorted(
        zone
        for zone in zoneinfo.available_timezones()
        if "/" in zone and not zone.startswith(("posix/", "right/", "Etc/", "SystemV/", "US/"))
    ) + ["UTC"]


@cache
def zones_by_country() -> dict[str, list[str]]:
    """ISO 3166 country code → its zones, in zone.tab's order (the most populated first)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    zones: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        country, _coordinates, zone, *_ = line.split("\t")
        zones.setdefault(country, []).append(zone)
    return zones


def country_zones(country: str) -> list[str]:
    return zones_by_country().get(country.upper(), [])


def zone_fits_country(zone: str, country: str) -> bool:
    """Whether `zone` is one of `country`'s own zones (UTC fits no country)."""
    return zone in country_zones(country)
