"""New bookable time (hours added, time off removed, a session's seats added) offered to people
waiting for that day or session.

Scheduling tells us through `scheduling.ports.register_availability_added` inside the write's
transaction; like a freed place, an outbox row is written there and the places are opened after
commit by a worker of the `offers` queue. Under the staff member's row lock, the slot engine's
free starts of each waited-for service and day are read, and each one that fits a request in
line becomes a place (one open place per staff member and start: the partial unique index),
offered like a freed one; a session's added seats are counted under its row lock instead.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from outbox.services import outbox_enqueue
from scheduling.locking import lock_occurrence, lock_staff_and_resource
from scheduling.models import ACTIVE_STATUSES, Booking, Service
from scheduling.selectors.availability import available_slots
from tenants.context import active_schema

from ..models import EntryStatus, FreedPlace, PlaceStatus, WaitlistEntry, WaitlistSettings
from ..selectors import business_zone, waitlist_settings
from .offers import Freed, _fits, _offer_next, _time_taken

logger = logging.getLogger(__name__)

NEW_HOURS_TASK = "waitlists.tasks.open_places_for_new_hours"


def _waiting_days(staff_id: int, *, today: date) -> Q:
    # Requests are only taken within their service's booking window: no upper bound here.
    return Q(status=EntryStatus.WAITING, occurrence__isnull=True, day__gte=today) & (
        Q(staff__isnull=True) | Q(staff_id=staff_id)
    )


def _waiting_sessions(staff_id: int, *, now: datetime) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(
        status=EntryStatus.WAITING, occurrence__staff_id=staff_id, occurrence__starts_at__gt=now,
        occurrence__is_cancelled=False,
    )  # fmt: skip


def places_on_availability_added(staff_id: int) -> None:
    """The listener (inside the write's transaction): an outbox row when someone waits, for a
    day of this staff member's or for one of their sessions (whose capacity was raised)."""
    now = timezone.now()
    today = now.astimezone(business_zone()).date()
    if (
        not WaitlistEntry.objects.filter(_waiting_days(staff_id, today=today)).exists()
        and not _waiting_sessions(staff_id, now=now).exists()
    ):
        return
    row = WaitlistSettings.objects.filter(pk=1).first()
    if row is not None and not row.is_enabled:
        return
    outbox_enqueue(NEW_HOURS_TASK, args=[staff_id], schema_name=active_schema())


def places_for_free_seats(*, staff_id: int, now: datetime) -> int:
    """Seats added to this staff member's sessions (capacity raised): under each waited-for
    session's row lock, one place per seat neither taken nor already being offered, as many as
    people wait, each offered like a freed seat. Handled twice (the commit's callback and the
    outbox row, two workers), the second count finds the first's places: never two places, so
    never two offers, for one seat. Returns how many places were offered."""
    settings_row = waitlist_settings()
    sessions = sorted(set(_waiting_sessions(staff_id, now=now).values_list("occurrence_id",
                                                                          flat=True)))  # fmt: skip
    opened = 0
    for occurrence_id in sessions:
        with transaction.atomic():
            session = lock_occurrence(occurrence_id)
            notice = timedelta(minutes=session.service.minimum_notice_minutes)
            if session.is_cancelled or session.starts_at <= now + notice:
                continue
            taken = Booking.objects.filter(occurrence=session, status__in=ACTIVE_STATUSES).count()
            open_places = FreedPlace.objects.filter(occurrence=session,
                                                    status=PlaceStatus.OPEN).count()  # fmt: skip
            waiting = WaitlistEntry.objects.filter(occurrence=session,
                                                   status=EntryStatus.WAITING).count()  # fmt: skip
            for seat in range(min(session.capacity - taken - open_places, waiting)):
                place = FreedPlace.objects.create(
                    service_id=session.service_id, occurrence=session, staff_id=session.staff_id,
                    starts_at=session.starts_at, ends_at=session.ends_at, created_at=now,
                    source_key=f"seats-{session.pk}-{session.capacity}-{now.timestamp()}-{seat}",
                )  # fmt: skip
                if _offer_next(place, settings_row=settings_row, now=now):
                    opened += 1
    return opened


def places_for_new_hours(*, staff_id: int, now: datetime | None = None) -> int:
    """Open a place for each free start that fits a waiting request, and for each seat added
    to a waited-for session; returns how many."""
    now = now or timezone.now()
    opened = places_for_free_seats(staff_id=staff_id, now=now)
    zone = business_zone()
    settings_row = waitlist_settings()
    with transaction.atomic():
        lock_staff_and_resource(staff_id=staff_id, resource_id=None)
        entries = list(
            WaitlistEntry.objects.filter(_waiting_days(staff_id, today=now.astimezone(zone).date()))
            .select_related("service")
            .order_by("position", "id")[:200]
        )
        staff_services = set(
            Service.staff.through.objects.filter(staffmember_id=staff_id).values_list(
                "service_id", flat=True
            )
        )
        # Times already on offer (open places of this person) are not offered twice.
        used: list[tuple[datetime, datetime]] = list(
            FreedPlace.objects.filter(staff_id=staff_id, status=PlaceStatus.OPEN).values_list(
                "starts_at", "ends_at"
            )
        )
        for entry in entries:
            if entry.service_id not in staff_services or entry.day is None:
                continue
            free = available_slots(
                service=entry.service,
                start_date=entry.day,
                end_date=entry.day,
                now=now,
                staff_id=staff_id,
            )
            for slot in free:
                start, end = slot.start_utc, slot.end_utc
                if start <= now or any(a < end and start < b for a, b in used):
                    continue
                candidate = FreedPlace(service=entry.service, staff_id=staff_id, starts_at=start,
                                       ends_at=end)  # fmt: skip
                if not _fits(entry, candidate, staff_services=staff_services) or _time_taken(
                    Freed(entry.service_id, staff_id, None, start, end)
                ):
                    continue
                try:
                    with transaction.atomic():
                        candidate.source_key = (
                            f"hours-{staff_id}-{start:%Y%m%d%H%M}-{now.timestamp()}"
                        )
                        candidate.created_at = now
                        candidate.save()
                except IntegrityError:  # being offered already
                    used.append((start, end))
                    continue
                used.append((start, end))
                if _offer_next(candidate, settings_row=settings_row, now=now):
                    opened += 1
                break  # one place per request; the next request gets the next start
    if opened:
        logger.info("waitlist.places_for_new_hours", extra={"staff": staff_id, "places": opened})
    return opened
