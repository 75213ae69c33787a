"""Reads of scheduling: turning rows into the slot engine's inputs, availability, calendars."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import (
    Count,
    Q,
    QuerySet,
)

from scheduling import slots
from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    DateOverride,
    Occurrence,
    Service,
    StaffMember,
)
from tenants.context import current_tenant_or_none


def tenant_time_zone() -> str:
    tenant = current_tenant_or_none()
    return (tenant.time_zone if tenant is not None else "") or "UTC"


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


# Everything `staff_schedules` needs in one round trip: seven ORM queries (each preceded by
# django-tenants' `SET search_path`) took three times as long in bench/availability.py. Rows are
# tagged by kind; occupied ranges come as UTC epoch seconds and the local date is computed here,
# because parsing a thousand ranges and timestamps from text was most of the engine's time.
_SCHEDULE_ROWS_SQL = """
WITH member AS (
    SELECT m.id FROM scheduling_staffmember m
    JOIN scheduling_service_staff offered ON offered.staffmember_id = m.id
    WHERE offered.service_id = %(service)s AND m.is_active
      AND (%(staff)s::bigint IS NULL OR m.id = %(staff)s::bigint)
)
SELECT 'member', id, NULL::smallint, NULL::date, NULL::time, NULL::time,
       NULL::float8, NULL::float8, NULL::bigint
FROM member
UNION ALL
SELECT 'hours', staff_id, weekday, NULL, start, "end", NULL, NULL, NULL
FROM scheduling_workinghours WHERE staff_id IN (SELECT id FROM member)
UNION ALL
SELECT 'override', staff_id, NULL, date, start, "end", NULL, NULL, NULL
FROM scheduling_dateoverride
WHERE staff_id IN (SELECT id FROM member) AND date BETWEEN %(first_date)s AND %(last_date)s
UNION ALL
SELECT 'time_off', staff_id, NULL, NULL, NULL, NULL,
       EXTRACT(EPOCH FROM starts_at)::float8, EXTRACT(EPOCH FROM ends_at)::float8, NULL
FROM scheduling_timeoff
WHERE staff_id IN (SELECT id FROM member) AND ends_at > %(start)s AND starts_at < %(end)s
UNION ALL
SELECT 'booking', staff_id, NULL, (starts_at AT TIME ZONE %(zone)s)::date, NULL, NULL,
       EXTRACT(EPOCH FROM lower(occupied))::float8, EXTRACT(EPOCH FROM upper(occupied))::float8,
       occurrence_id
FROM scheduling_booking
WHERE staff_id IN (SELECT id FROM member)
  AND occupied && tstzrange(%(start)s, %(end)s, '[)')
  AND status = ANY(%(active)s)
  AND NOT (status = %(held)s AND hold_expires_at <= %(now)s)
  AND (%(exclude)s::bigint IS NULL OR id <> %(exclude)s::bigint)
UNION ALL
SELECT 'class', staff_id, NULL, NULL, NULL, NULL,
       EXTRACT(EPOCH FROM starts_at)::float8, EXTRACT(EPOCH FROM ends_at)::float8, NULL
FROM scheduling_occurrence
WHERE staff_id IN (SELECT id FROM member) AND NOT is_cancelled
  AND starts_at < %(end)s AND ends_at > %(start)s
"""


def staff_schedules(
    *,
    service: Service,
    start: datetime,
    end: datetime,
    now: datetime,
    staff_id: int | None = None,
    exclude_booking_id: int | None = None,
) -> list[slots.StaffSchedule]:
    """Schedules of the active staff who offer `service`, with what occupies them in the window:
    weekly hours, date overrides, time off, active bookings (holds past their expiry no longer
    block) and the classes they teach (a class occupies its teacher before anyone takes a seat)."""
    members: list[int] = []
    weekly: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    overrides: dict[int, dict[date, list]] = defaultdict(lambda: defaultdict(list))
    time_off: dict[int, list[slots.TimeSpan]] = defaultdict(list)
    # A set, because several seats of one session occupy the staff member once.
    busy: dict[int, set[tuple[float, float]]] = defaultdict(set)
    counts: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    params = {
        "service": service.pk,
        "staff": staff_id,
        "first_date": start.date() - timedelta(days=1),
        "last_date": end.date() + timedelta(days=1),
        "start": start,
        "end": end,
        "now": now,
        "zone": tenant_time_zone(),
        "active": list(ACTIVE_STATUSES),
        "held": BookingStatus.HELD.value,
        "exclude": exclude_booking_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SCHEDULE_ROWS_SQL, params)
        rows = cursor.fetchall()
    for kind, staff_pk, weekday, day, wall_start, wall_end, lower, upper, occurrence in rows:
        if kind == "booking":
            busy[staff_pk].add((lower, upper))
            if occurrence is None:
                counts[staff_pk][day] += 1
        elif kind == "class":
            busy[staff_pk].add((lower, upper))
        elif kind == "hours":
            weekly[staff_pk][weekday].append((wall_start, wall_end))
        elif kind == "override":
            intervals = overrides[staff_pk][day]  # an empty start: closed that day
            if wall_start is not None:
                intervals.append((wall_start, wall_end or time(0)))
        elif kind == "time_off":
            time_off[staff_pk].append(
                slots.TimeSpan(
                    datetime.fromtimestamp(lower, UTC), datetime.fromtimestamp(upper, UTC)
                )
            )
        else:
            members.append(staff_pk)
    return [
        slots.StaffSchedule(
            staff_id=pk,
            weekly_hours={day: tuple(v) for day, v in weekly[pk].items()},
            date_overrides={day: tuple(v) for day, v in overrides[pk].items()},
            time_off=tuple(time_off[pk]),
            busy_seconds=tuple(sorted(busy[pk])),
            bookings_count_by_date=dict(counts[pk]),
        )
        for pk in sorted(members)
    ]


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


@dataclass(frozen=True)
class SessionChoice:
    """A session a seat could move to, with its free seats now."""

    occurrence: Occurrence
    seats_left: int


def sessions_to_move_to(*, booking: Booking, now: datetime, limit: int = 60) -> list[SessionChoice]:
    """Upcoming sessions of the seat's class other than its own, with free seats, soonest first
    (the team is not bound by the online notice and horizon)."""
    held = Q(bookings__status=BookingStatus.CONFIRMED) | Q(
        bookings__status=BookingStatus.HELD, bookings__hold_expires_at__gt=now
    )
    others = Occurrence.objects.filter(
        service_id=booking.service_id, is_cancelled=False, starts_at__gt=now
    )
    if booking.occurrence_id is not None:
        others = others.exclude(pk=booking.occurrence_id)
    sessions = (
        others.select_related("staff")
        .annotate(taken=Count("bookings", filter=held))
        .order_by("starts_at", "pk")
    )  # fmt: skip
    choices = []
    for session in sessions:
        if session.taken < session.capacity:
            choices.append(SessionChoice(session, session.capacity - session.taken))
            if len(choices) == limit:
                break
    return choices


def staff_for_user(user_id: int) -> StaffMember | None:
    return StaffMember.objects.filter(user_id=user_id, is_active=True).first()
