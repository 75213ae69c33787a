"""Reads of the credit ledger: which grant a booking can use, a customer's balances.

`usable_grant_for` is the widget's "can I use a credit?" check: it reads the customer's live
grants through the partial index `credit_grant_usable_idx` (customer, expires_at), never the
ledger entries, except for a grant with a daily or weekly cap (counted over that day's or
week's bookings of the grant, through `credit_entry_grant_kind_idx`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from scheduling.models import Customer, Service
from scheduling.selectors.availability import tenant_time_zone

from ..models import CreditEntry, CreditEntryKind, CreditGrant


def _covers(service: Service) -> Q:
    """The grant covers `service`: listed, or no service listed (every service)."""
    through = CreditGrant.services.through
    listed = through.objects.filter(creditgrant_id=OuterRef("pk"))
    return Q(Exists(listed.filter(service_id=service.pk))) | ~Q(Exists(listed))


def usable_grants(*, customer: Customer, service: Service, starts_at: datetime,
                  now: datetime | None = None) -> QuerySet[CreditGrant]:  # fmt: skip
    """Grants that could pay for this booking, soonest expiry first (caps not checked yet).

    A grant whose validity starts at the first use (expires_at NULL) counts its days from now.
    """
    now = now or timezone.now()
    not_expired = Q(expires_at__gt=max(starts_at, now)) | Q(
        expires_at__isnull=True, valid_days_after_first_use__isnull=True
    )
    return (
        CreditGrant.objects.filter(
            customer=customer, expired_at__isnull=True, suspended=False, valid_from__lte=now
        )
        .filter(Q(remaining__isnull=True) | Q(remaining__gt=0))
        .filter(not_expired | _first_use_covers(starts_at=starts_at, now=now))
        .filter(_covers(service))
        .order_by("expires_at", "pk")
    )


def _first_use_covers(*, starts_at: datetime, now: datetime) -> Q:
    """Not used yet, and `now + validity days` reaches past the booking's start."""
    # For a whole number of days d: d > x exactly when d > floor(x).
    days_needed = math.floor((starts_at - now) / timedelta(days=1))
    return Q(expires_at__isnull=True, valid_days_after_first_use__gt=days_needed)


def cap_allows(grant: CreditGrant, *, starts_at: datetime) -> bool:
    """The grant's daily and weekly caps leave room for one more booking starting then (days
    and weeks of the business's time zone, weeks from Monday). Call under the grant's row lock
    when the answer decides a hold."""
    return not cap_refusal(grant, starts_at=starts_at)


def cap_refusal(grant: CreditGrant, *, starts_at: datetime,
                exclude_booking_id: int | None = None) -> str:  # fmt: skip
    """Why one more booking of the grant starting then is over its daily or weekly cap ("" when
    it is not). `exclude_booking_id`: a booking being moved there, which does not count twice."""
    if grant.cap_per_day is None and grant.cap_per_week is None:
        return ""
    zone = ZoneInfo(tenant_time_zone())
    local = starts_at.astimezone(zone)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    checks = []
    if grant.cap_per_day is not None:
        checks.append((day_start, day_start + timedelta(days=1), grant.cap_per_day, "day"))
    if grant.cap_per_week is not None:
        week_start = day_start - timedelta(days=local.weekday())
        checks.append((week_start, week_start + timedelta(days=7), grant.cap_per_week, "week"))
    for start, end, cap, period in checks:
        in_use = _credits_in_use(grant, start=start, end=end, exclude_booking_id=exclude_booking_id)
        if in_use >= cap:
            return _cap_reached(period, cap)
    return ""


def _cap_reached(period: str, cap: int) -> str:
    if period == "day":
        text = gettext(
            "Your credits allow %(cap)d booking(s) a day, and that day already has them."
        )
    else:
        text = gettext(
            "Your credits allow %(cap)d booking(s) a week, and that week already has them."
        )
    return text % {"cap": cap}


def _credits_in_use(grant: CreditGrant, *, start: datetime, end: datetime,
                    exclude_booking_id: int | None = None) -> int:  # fmt: skip
    """Bookings of the grant starting in [start, end) whose credit was not given back: a hold
    is -1 and its return +1, so minus their sum (one join, no anti-join per entry)."""
    entries = CreditEntry.objects.filter(
        grant=grant,
        kind__in=(CreditEntryKind.HELD, CreditEntryKind.RETURNED),
        booking__starts_at__gte=start,
        booking__starts_at__lt=end,
    )
    if exclude_booking_id is not None:
        entries = entries.exclude(booking_id=exclude_booking_id)
    total = entries.aggregate(total=Sum("delta"))["total"]
    return -(total or 0)


def usable_grant_for(*, customer: Customer, service: Service, starts_at: datetime,
                     now: datetime | None = None) -> CreditGrant | None:  # fmt: skip
    """The grant a booking of `service` at `starts_at` would take a credit from, if any."""
    for grant in usable_grants(customer=customer, service=service, starts_at=starts_at, now=now):
        if cap_allows(grant, starts_at=starts_at):
            return grant
    return None


@dataclass(frozen=True)
class CreditBalance:
    grant: CreditGrant
    remaining: int | None  # None: unlimited
    expires_at: datetime | None
    service_names: tuple[str, ...]  # empty: every service


def credit_balances_of(*, customer: Customer, now: datetime | None = None) -> list[CreditBalance]:
    """The customer's grants still alive (account page, back office), soonest expiry first."""
    now = now or timezone.now()
    grants = (
        CreditGrant.objects.filter(customer=customer, expired_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .prefetch_related("services")
        .order_by("expires_at", "pk")
    )
    return [
        CreditBalance(
            grant=grant,
            remaining=grant.remaining,
            expires_at=grant.expires_at,
            service_names=tuple(service.name for service in grant.services.all()),
        )
        for grant in grants
    ]


def credit_entries_of(*, customer: Customer, limit: int = 200) -> QuerySet[CreditEntry]:
    """The customer's ledger, newest first (back office customer page)."""
    return (
        CreditEntry.objects.filter(customer=customer)
        .select_related("grant", "booking")
        .order_by("-created_at", "-pk")[:limit]
    )


def ledger_mismatches() -> int:
    """Limited grants whose `remaining` differs from the sum of their entries (must be 0)."""
    sums = (
        CreditEntry.objects.filter(grant_id=OuterRef("pk"))
        .values("grant_id")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    grants = CreditGrant.objects.filter(remaining__isnull=False).annotate(total=sums)
    return sum(1 for grant in grants if (grant.total or 0) != grant.remaining)


def credit_of_booking(*, booking_id: int) -> CreditEntry | None:
    """The `held` entry of a booking paid with a credit (None when it was not)."""
    return (
        CreditEntry.objects.filter(booking_id=booking_id, kind=CreditEntryKind.HELD)
        .select_related("grant")
        .first()
    )
