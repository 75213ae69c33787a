"""Questions tenants asks the apps above it; each app registers its answer in `ready()`.

The default answers never block a business: without billing installed, nothing is paused.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import Tenant

BookingPauseCheck = Callable[[Tenant], bool]


def _never_paused(tenant: Tenant) -> bool:
    return False


_booking_paused: BookingPauseCheck = _never_paused


def register_booking_pause(check: BookingPauseCheck) -> None:
    """billing registers "is this business's online booking paused by its subscription?"."""
    global _booking_paused
    _booking_paused = check


def booking_paused(tenant: Tenant) -> bool:
    return _booking_paused(tenant)


def booking_pause_registered() -> bool:
    return _booking_paused is not _never_paused
