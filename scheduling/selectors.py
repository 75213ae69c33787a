"""Reads of scheduling: turning rows into the slot engine's inputs, availability, calendars."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Count, Q, QuerySet

from . import slots
from .models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    DateOverride,
    Service,
    StaffMember,
    TimeOff,
    WorkingHours,
)


def tenant_time_zone() -> str:
    tenant = getattr(connection, "tenant", None)
    return getattr(tenant, "time_zone", "UTC") or "UTC"


def scheduling_calendar() -> slots.TenantCalendar:
    holidays = frozenset(
        DateOverride.objects.filter(staff__isnull=True, start__isnull=True).values_list(
            "date", flat=True
        )
    )
    return slots.TenantCalendar(time_zone=tenant_time_zone(), holidays=holidays)


def service_rules(service: Service) -> slots.ServiceRules:
    return slots.ServiceRules(
        duration_minutes=service.duration_minutes,
        slot_interval_minutes=service.slot_interval_minutes,
        buffer_before_minutes=service.buffer_before_minutes,
        buffer_after_minutes=service.buffer_after_minutes,
        capacity=service.capacity,
        minimum_notice_minutes=service.minimum_notice_minutes,
        maximum_advance_days=service.maximum_advance_days,
    )


def _blocking_bookings(*, now: datetime, start: datetime, end: datetime) -> QuerySet[Booking]:
    """Active bookings in the window; holds past their expiry no longer block."""
    window = DateTimeTZRange(start, end, "[)")
    return Booking.objects.filter(occupied__overlap=window, status__in=ACTIVE_STATUSES).exclude(
        status=BookingStatus.HELD, hold_expires_at__lte=now
    )


def staff_schedules(
    *,
    service: Service,
    start: datetime,
    end: datetime,
    now: datetime,
    staff_id: int | None = None,
    exclude_booking_id: int | None = None,
) -> list[slots.StaffSchedule]:
    """Schedules of the active staff who offer `service`, with what occupies them in the window."""
    members = list(service.staff.filter(is_active=True).order_by("pk"))
    if staff_id is not None:
        members = [m for m in members if m.pk == staff_id]
    if not members:
        return []
    ids = [m.pk for m in members]
    weekly: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for row in WorkingHours.objects.filter(staff_id__in=ids):
        weekly[row.staff_id][row.weekday].append((row.start, row.end))
    overrides: dict[int, dict[date, list]] = defaultdict(lambda: defaultdict(list))
    for row in DateOverride.objects.filter(staff_id__in=ids, date__gte=start.date() - timedelta(1),
                                           date__lte=end.date() + timedelta(1)):  # fmt: skip
        day = overrides[row.staff_id][row.date]
        if not row.is_closed:
            day.append((row.start, row.end or time(0)))
    time_off: dict[int, list[slots.TimeSpan]] = defaultdict(list)
    for row in TimeOff.objects.filter(staff_id__in=ids, ends_at__gt=start, starts_at__lt=end):
        time_off[row.staff_id].append(slots.TimeSpan(row.starts_at, row.ends_at))
    busy: dict[int, list[slots.TimeSpan]] = defaultdict(list)
    counts: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    zone = scheduling_calendar().zone
    bookings = _blocking_bookings(now=now, start=start, end=end).filter(staff_id__in=ids)
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    for staff_pk, occupied, starts_at, occurrence_id in bookings.values_list(
        "staff_id", "occupied", "starts_at", "occurrence_id"
    ):
        busy[staff_pk].append(slots.TimeSpan(occupied.lower, occupied.upper))
        if occurrence_id is None:
            counts[staff_pk][starts_at.astimezone(zone).date()] += 1
    return [
        slots.StaffSchedule(
            staff_id=member.pk,
            weekly_hours={day: tuple(v) for day, v in weekly[member.pk].items()},
            date_overrides={day: tuple(v) for day, v in overrides[member.pk].items()},
            time_off=tuple(time_off[member.pk]),
            busy=tuple(_merge_group_seats(busy[member.pk])),
            bookings_count_by_date=dict(counts[member.pk]),
        )
        for member in members
    ]


def _merge_group_seats(spans: list[slots.TimeSpan]) -> list[slots.TimeSpan]:
    """Several seats of one session occupy the staff member once."""
    return sorted(set(spans), key=lambda span: (span.start, span.end))


def resource_pool(
    *,
    service: Service,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> slots.ResourcePool | None:
    resource = service.resource
    if resource is None:
        return None
    bookings = _blocking_bookings(now=now, start=start, end=end).filter(resource=resource)
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    return slots.ResourcePool(
        resource_id=resource.pk,
        quantity=resource.quantity,
        occupied=tuple(slots.TimeSpan(r.lower, r.upper) for r in bookings.values_list(
            "occupied", flat=True)),
    )  # fmt: skip


def available_slots(
    *, service: Service, start_date: date, end_date: date, now: datetime,
    staff_id: int | None = None,
) -> list[slots.Slot]:  # fmt: skip
    """Free start times of `service` between two tenant-local dates (inclusive)."""
    calendar = scheduling_calendar()
    zone = calendar.zone
    window_start = datetime.combine(start_date, time(0), zone) - timedelta(days=1)
    window_end = datetime.combine(end_date, time(0), zone) + timedelta(days=2)
    return slots.available_slots(
        calendar=calendar,
        service=service_rules(service),
        staff=staff_schedules(
            service=service, start=window_start, end=window_end, now=now, staff_id=staff_id
        ),
        query=slots.SlotQuery(start_date=start_date, end_date=end_date, now=now, staff_id=staff_id),
        resource=resource_pool(service=service, start=window_start, end=window_end, now=now),
    )


def bookable_sessions(
    *, service: Service, start: datetime, end: datetime, now: datetime
) -> list[slots.BookableOccurrence]:
    occurrences = service.occurrences.filter(
        is_cancelled=False, starts_at__gte=start, starts_at__lt=end
    )
    taken = dict(
        Booking.objects.filter(occurrence__in=occurrences)
        .filter(Q(status=BookingStatus.CONFIRMED) | Q(status=BookingStatus.HELD,
                                                      hold_expires_at__gt=now))
        .values("occurrence_id")
        .annotate(n=Count("id"))
        .values_list("occurrence_id", "n")
    )  # fmt: skip
    return slots.bookable_occurrences(
        occurrences=[
            slots.GroupOccurrence(
                occurrence_id=o.pk, start=o.starts_at, end=o.ends_at, capacity=o.capacity,
                seats_taken=taken.get(o.pk, 0),
            )
            for o in occurrences
        ],
        now=now,
        minimum_notice_minutes=service.minimum_notice_minutes,
        maximum_advance_days=service.maximum_advance_days,
    )  # fmt: skip


def staff_for_user(user_id: int) -> StaffMember | None:
    return StaffMember.objects.filter(user_id=user_id, is_active=True).first()
