"""Reads of waitlists: settings, the customer's links, the lines the team sees, the figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from common.link_tokens import link_token_matches
from scheduling.models import ACTIVE_STATUSES, Occurrence, Service
from tenants.context import current_tenant_or_none

from .models import (
    ENTRY_TOKEN_PURPOSE,
    OFFER_TOKEN_PURPOSE,
    OPEN_ENTRY_STATUSES,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)

JOIN_PAGE_SESSIONS = 60  # full sessions listed on the join page


def waitlist_settings() -> WaitlistSettings:
    row, _ = WaitlistSettings.objects.get_or_create(pk=1)
    return row


def next_position() -> int:
    """The end of the line. Positions are spaced so the team can reorder by swapping."""
    last = WaitlistEntry.objects.aggregate(last=Max("position"))["last"] or 0
    return last + 1024


def waitlist_enabled() -> bool:
    """Read-only (the booking page asks on every load): no row yet means the default, on."""
    row = WaitlistSettings.objects.filter(pk=1).values_list("is_enabled", flat=True).first()
    return True if row is None else bool(row)


def business_zone() -> ZoneInfo:
    tenant = current_tenant_or_none()
    return ZoneInfo((tenant.time_zone if tenant is not None else "") or "UTC")


def offer_by_token(offer_id: object, token: object) -> WaitlistOffer | None:
    """The offer a link names, when its token matches (constant time); else None."""
    if not isinstance(offer_id, int) or not isinstance(token, str) or not token:
        return None
    offer = (
        WaitlistOffer.objects.select_related(
            "place", "place__service", "place__staff", "entry", "booking"
        )
        .filter(pk=offer_id)
        .first()
    )
    if offer is None or not link_token_matches(token, OFFER_TOKEN_PURPOSE, str(offer.pk),
                                               offer.secret):  # fmt: skip
        return None
    return offer


def entry_by_token(entry_id: object, token: object) -> WaitlistEntry | None:
    if not isinstance(entry_id, int) or not isinstance(token, str) or not token:
        return None
    entry = WaitlistEntry.objects.select_related("service", "occurrence", "staff").filter(
        pk=entry_id
    )
    found = entry.first()
    if found is None or not link_token_matches(token, ENTRY_TOKEN_PURPOSE, str(found.pk),
                                               found.secret):  # fmt: skip
        return None
    return found


def full_sessions(*, service: Service, now: datetime | None = None) -> list[Occurrence]:
    """Upcoming sessions of a class with no seat left (holds count): what one can wait for."""
    now = now or timezone.now()
    sessions = (
        Occurrence.objects.filter(
            service=service,
            is_cancelled=False,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(days=service.maximum_advance_days),
        )
        .annotate(
            taken=Count("bookings", filter=Q(bookings__status__in=ACTIVE_STATUSES), distinct=True)
        )
        .select_related("staff")
        .order_by("starts_at")
    )
    full: list[Occurrence] = [
        s for s in sessions[: JOIN_PAGE_SESSIONS * 4] if s.taken >= s.capacity
    ]
    return full[:JOIN_PAGE_SESSIONS]


@dataclass(frozen=True)
class Line:
    """One waitlist as the team sees it: a class session, or a service's day."""

    key: str  # "session-<id>" or "day-<service id>-<date>"
    title: str
    starts_at: datetime | None
    day: date | None
    occurrence: Occurrence | None
    entries: list[WaitlistEntry]


def open_entries(*, on_or_after: date) -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(status__in=OPEN_ENTRY_STATUSES)
        .filter(Q(occurrence__starts_at__date__gte=on_or_after) | Q(day__gte=on_or_after))
        .select_related("service", "occurrence", "occurrence__staff", "staff")
        .prefetch_related("offers")
        .order_by("position", "id")
    )


def waitlist_lines(*, on_or_after: date, zone: ZoneInfo) -> list[Line]:
    """Every open line from a day on, sessions and days by time, people in their order."""
    lines: dict[str, Line] = {}
    for entry in open_entries(on_or_after=on_or_after):
        if entry.occurrence is not None:
            key = f"session-{entry.occurrence_id}"
            local = entry.occurrence.starts_at.astimezone(zone)
            title = f"{entry.service.name} · {local:%a %d %b %Y %H:%M}"
            line = lines.setdefault(
                key,
                Line(key, title, entry.occurrence.starts_at, local.date(), entry.occurrence, []),
            )
        else:
            key = f"day-{entry.service_id}-{entry.day}"
            assert entry.day is not None
            title = f"{entry.service.name} · {entry.day:%a %d %b %Y}"
            line = lines.setdefault(key, Line(key, title, None, entry.day, None, []))
        line.entries.append(entry)
    return sorted(
        lines.values(),
        key=lambda line: (line.day or date.max, line.starts_at.astimezone(zone).time()
                          if line.starts_at else datetime.min.time(), line.title),
    )  # fmt: skip


def pending_offer_of(entry: WaitlistEntry) -> WaitlistOffer | None:
    for offer in entry.offers.all():  # prefetched
        if offer.status == OfferStatus.PENDING:
            return offer
    return None


@dataclass(frozen=True)
class WaitlistFigures:
    joins: int
    offers: int
    accepted: int
    conversions: int  # offers that became a confirmed (or since completed) booking

    @property
    def conversion_percent(self) -> int:
        return round(100 * self.conversions / self.offers) if self.offers else 0


def waitlist_figures(*, start: datetime, end: datetime) -> WaitlistFigures:
    """Joins, offers made, offers accepted and bookings kept, between two moments."""
    offers = WaitlistOffer.objects.filter(created_at__gte=start, created_at__lt=end)
    counted = offers.aggregate(
        offers=Count("pk"),
        accepted=Count("pk", filter=Q(status=OfferStatus.ACCEPTED)),
        conversions=Count(
            "pk",
            filter=Q(status=OfferStatus.ACCEPTED,
                     booking__status__in=["confirmed", "completed", "no_show"]),
        ),
    )  # fmt: skip
    return WaitlistFigures(
        joins=WaitlistEntry.objects.filter(created_at__gte=start, created_at__lt=end).count(),
        offers=counted["offers"],
        accepted=counted["accepted"],
        conversions=counted["conversions"],
    )


def figures_between(start: datetime, end: datetime) -> WaitlistFigures:
    """`waitlist_figures` for a [start, end) pair (the dashboard's period instants)."""
    return waitlist_figures(start=start, end=end)
