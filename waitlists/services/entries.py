"""Joining and leaving a waitlist, and the team's reordering and removals."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from scheduling.models import ACTIVE_STATUSES, Booking, Occurrence, Service, StaffMember

from ..exceptions import InvalidRequest, WaitlistClosed
from ..models import OPEN_ENTRY_STATUSES, EntryStatus, WaitlistEntry
from ..selectors import business_zone, next_position, waitlist_settings

logger = logging.getLogger(__name__)


def _check_person(name: str, email: str) -> tuple[str, str]:
    name, email = name.strip(), email.strip().lower()
    if not name or len(name) > 150:
        raise InvalidRequest("Please give your name.")
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidRequest("Please give a valid email address.")
    return name, email


def entry_join(
    *,
    service: Service,
    name: str,
    email: str,
    occurrence: Occurrence | None = None,
    day: date | None = None,
    staff: StaffMember | None = None,
    window_start: time | None = None,
    window_end: time | None = None,
    language: str = "",
    needs_card: bool = False,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Join the line for a class session or for a service on a day; joining twice for the same
    thing returns the place already held (the unique index decides under concurrency)."""
    now = now or timezone.now()
    if not waitlist_settings().is_enabled:
        raise WaitlistClosed()
    if not service.is_active:
        raise InvalidRequest("This service is not available.")
    name, email = _check_person(name, email)
    if (occurrence is None) == (day is None):
        raise InvalidRequest("Choose a session, or a day.")
    if occurrence is not None:
        if occurrence.service_id != service.pk or occurrence.is_cancelled:
            raise InvalidRequest("This session cannot be waited for.")
        if occurrence.starts_at <= now:
            raise InvalidRequest("This session has already started.")
        staff = window_start = window_end = None
    else:
        assert day is not None
        if service.capacity > 1:
            raise InvalidRequest("This is a class: choose one of its sessions.")
        today = now.astimezone(business_zone()).date()
        if day < today or day > today + timedelta(days=service.maximum_advance_days):
            raise InvalidRequest("Choose a day between today and the booking window's end.")
        if staff is not None and not service.staff.filter(pk=staff.pk, is_active=True).exists():
            raise InvalidRequest("This person does not offer this service.")
        if window_start and window_end and window_end <= window_start:
            raise InvalidRequest("The end of the time window must come after its start.")
    existing = _open_entry(email, service, occurrence, day, staff)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                service=service,
                occurrence=occurrence,
                day=day,
                staff=staff,
                window_start=window_start,
                window_end=window_end,
                name=name,
                email=email,
                position=next_position(),
                created_at=now,
                language=language[:8],
                needs_card=needs_card,
            )
    except IntegrityError:  # the same person joined concurrently (a double submit)
        existing = _open_entry(email, service, occurrence, day, staff)
        if existing is None:
            raise
        return existing
    logger.info("waitlist.joined", extra={"entry": entry.pk, "service": service.pk})
    return entry


def _open_entry(
    email: str,
    service: Service,
    occurrence: Occurrence | None,
    day: date | None,
    staff: StaffMember | None,
) -> WaitlistEntry | None:
    return WaitlistEntry.objects.filter(
        email__iexact=email,
        service=service,
        occurrence=occurrence,
        day=day,
        staff=staff,
        status__in=OPEN_ENTRY_STATUSES,
    ).first()


def session_is_full(occurrence: Occurrence) -> bool:
    """What the join page shows a class session for: no seat left (holds included)."""
    taken = Booking.objects.filter(occurrence=occurrence, status__in=ACTIVE_STATUSES).count()
    return taken >= occurrence.capacity


def entry_leave(*, entry: WaitlistEntry) -> WaitlistEntry:
    """The customer's "leave the waitlist" link; an open offer of theirs passes to the next."""
    from .offers import offer_close_for_entry

    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status in OPEN_ENTRY_STATUSES:
            offer_close_for_entry(entry=locked)
            WaitlistEntry.objects.filter(pk=locked.pk).update(status=EntryStatus.LEFT)
    entry.refresh_from_db()
    return entry


def entry_remove(*, entry: WaitlistEntry) -> WaitlistEntry:
    """The team takes someone off the line (they booked by phone, asked to be removed)."""
    from .offers import offer_close_for_entry

    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status in OPEN_ENTRY_STATUSES:
            offer_close_for_entry(entry=locked)
            WaitlistEntry.objects.filter(pk=locked.pk).update(status=EntryStatus.REMOVED)
    entry.refresh_from_db()
    return entry


def _same_line(entry: WaitlistEntry) -> Q:
    """The entries that wait in one line with `entry`: its session, or its service's day."""
    if entry.occurrence_id is not None:
        return Q(occurrence_id=entry.occurrence_id)
    return Q(day=entry.day, occurrence__isnull=True, service_id=entry.service_id)


def entry_move(*, entry: WaitlistEntry, up: bool) -> bool:
    """Swap `entry` with its neighbour in its line (earlier when `up`); False at the end.

    Both rows are locked in id order, so two team members reordering at once never deadlock
    and never give two people the same position.
    """
    with transaction.atomic():
        current = WaitlistEntry.objects.get(pk=entry.pk)
        line = WaitlistEntry.objects.filter(_same_line(current), status__in=OPEN_ENTRY_STATUSES)
        if up:
            neighbour = (
                line.filter(position__lt=current.position).order_by("-position", "-id").first()
            )
        else:
            neighbour = (
                line.filter(position__gt=current.position).order_by("position", "id").first()
            )
        if neighbour is None:
            return False
        locked = {
            row.pk: row
            for row in WaitlistEntry.objects.select_for_update()
            .filter(pk__in=[current.pk, neighbour.pk])
            .order_by("pk")
        }
        first, second = locked[current.pk], locked[neighbour.pk]
        WaitlistEntry.objects.filter(pk=first.pk).update(position=second.position)
        WaitlistEntry.objects.filter(pk=second.pk).update(position=first.position)
    return True
