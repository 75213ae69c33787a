"""The slot engine: which appointment start times a customer may book, and for which staff member.

Pure module (no Django imports): the ORM layer builds the plain dataclasses below from its rows,
and the same rules answer both "list the free slots" (`available_slots`) and "may this start be
booked" (`validate_requested_start`), so the widget never offers a slot the booking service
refuses. The database exclusion constraint stays the final guard against double booking; this
module decides what to offer.

Decisions (see also docs/decisions/ once the Django layer lands):

* Working hours, date overrides, tenant holidays and the slot grid are local wall time in the
  tenant's zone. Everything else (bookings, time off, `now`, returned slots) is an aware instant,
  returned in UTC; `Slot.in_zone()` presents it in the customer's zone.
* The appointment itself, ``[S, S + duration)``, must lie inside one working interval. Buffers
  (``[S - buffer_before, S)`` and ``[S + duration, S + duration + buffer_after)``) must not overlap
  another booking, time off or a saturated resource, but may extend beyond working hours: cleanup
  after the last client of the day happens after closing, as in Acuity, Fresha and Calendly.
* The grid is anchored at the start of each working interval: interval 30 min with hours
  09:15-12:00 gives 09:15, 09:45, ... Touching intervals (09:00-12:00, 12:00-18:00) are separate:
  an appointment may not straddle them and the grid restarts at 12:00.
* Durations are real elapsed time, computed in UTC: a 60-minute appointment starting at 01:30 on a
  fall-back night ends at the second 01:30 wall time (Europe/Paris 02:30 -> 02:30 fold=1).
* DST gap (spring forward): a grid wall time that does not exist is skipped, never shifted. A
  working-interval boundary that does not exist is moved to the transition instant.
* DST overlap (fall back): a wall time that occurs twice means its first occurrence (``fold=0``),
  for grid times and interval boundaries alike, so each wall time yields at most one slot. Starts
  in the repeated hour's second occurrence are therefore not offered.
* Tenant holidays close the business for everyone, even a staff member with special hours that
  day. A date override replaces the weekly hours of that date; an empty override closes it.
* Minimum notice and maximum advance are real durations from ``now``: ``now + notice <= S <=
  now + max_advance_days``, both ends inclusive.
* A resource with ``quantity`` units is saturated where at least ``quantity`` of its bookings
  overlap at the same instant; a slot is refused when its occupied range touches a saturated
  instant. Two resource bookings at 09:00-10:00 and 10:00-11:00 with quantity 2 leave a unit free
  for 09:30-10:30 (peak use is one at every instant), which a plain count of overlapping bookings
  would refuse.
* "Any staff": each start time goes to the free qualified staff member with the fewest bookings
  that local day; ties go to the smallest ``staff_id``. Staff ids of one query must all be ints or
  all strings (UUIDs: pass ``str(uuid)``).
* Overnight working intervals are not supported; an interval ending at ``time(0)`` ends at the
  following midnight (a 24:00 end).

Performance: busy ranges are merged and sorted once per call; each working interval then costs a
bisect plus one step per booking inside it, and grid points between bookings are produced by
arithmetic instead of being tested one by one (see ``bench/slot_engine.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from scheduling.slot_engine import (
    Engine,
    select_staff,
)
from scheduling.slot_types import (
    MAX_QUERY_DAYS,
    BookableOccurrence,
    GroupOccurrence,
    OutsideWorkingHours,
    ResourcePool,
    ServiceRules,
    Slot,
    SlotError,
    SlotInPast,
    SlotNotOnGrid,
    SlotQuery,
    SlotTooFarAhead,
    SlotTooSoon,
    SlotUnavailable,
    StaffId,
    StaffSchedule,
    TenantCalendar,
    TimeSpan,
    WallInterval,
    require_aware,
    require_int,
)

__all__ = [
    "MAX_QUERY_DAYS",
    "BookableOccurrence",
    "GroupOccurrence",
    "OutsideWorkingHours",
    "ResourcePool",
    "ServiceRules",
    "Slot",
    "SlotError",
    "SlotInPast",
    "SlotNotOnGrid",
    "SlotQuery",
    "SlotTooFarAhead",
    "SlotTooSoon",
    "SlotUnavailable",
    "StaffId",
    "StaffSchedule",
    "TenantCalendar",
    "TimeSpan",
    "WallInterval",
    "available_slots",
    "bookable_occurrences",
    "slots_by_local_date",
    "validate_requested_start",
]


# ------------------------------------------------------------------ public functions


def available_slots(
    *,
    calendar: TenantCalendar,
    service: ServiceRules,
    staff: Sequence[StaffSchedule],
    query: SlotQuery,
    resource: ResourcePool | None = None,
) -> list[Slot]:
    """Every bookable start in the query's dates, sorted, one per start time.

    With `query.staff_id` set, only that staff member's starts (none if they are not in `staff`,
    the list of staff qualified for the service). Without it, each start goes to the least-booked
    free staff member that day. Group services (capacity > 1) use `bookable_occurrences`.
    """
    if service.capacity != 1:
        raise ValueError("Group services are booked by occurrence: use bookable_occurrences().")
    engine = Engine(
        calendar=calendar, service=service, staff=staff, now=query.now, resource=resource
    )
    chosen = select_staff(staff, query.staff_id)
    first, last = engine.date_bounds(query.start_date, query.end_date)
    assigned: dict[int, StaffId] = {}
    day = first
    while day <= last:
        assigned.update(engine.assigned_starts(day, chosen))
        day += timedelta(days=1)
    return [engine.slot(start, staff_id) for start, staff_id in sorted(assigned.items())]


def validate_requested_start(
    *,
    calendar: TenantCalendar,
    service: ServiceRules,
    staff: Sequence[StaffSchedule],
    start: datetime,
    now: datetime,
    staff_id: StaffId | None = None,
    resource: ResourcePool | None = None,
) -> StaffId:
    """Check that `start` is an offered slot and return the staff member it goes to.

    Raises a `SlotError` subclass describing the first reason it is not (past, notice, horizon,
    hours, grid, occupation). Uses the same computation as `available_slots`, so both always agree.
    """
    require_aware("start", start)
    require_aware("now", now)
    if service.capacity != 1:
        raise ValueError("Group services are booked by occurrence: use bookable_occurrences().")
    engine = Engine(calendar=calendar, service=service, staff=staff, now=now, resource=resource)
    timestamp = start.timestamp()
    if timestamp < now.timestamp():
        raise SlotInPast()
    if timestamp < engine.earliest:
        raise SlotTooSoon()
    if engine.latest is not None and timestamp > engine.latest:
        raise SlotTooFarAhead()
    if timestamp != int(timestamp):
        raise SlotNotOnGrid()
    requested = int(timestamp)
    chosen = select_staff(staff, staff_id)
    if staff_id is not None and not chosen:
        raise SlotUnavailable("This staff member does not offer this service.")
    day = start.astimezone(engine.zone).date()
    if day in calendar.holidays:
        raise OutsideWorkingHours()
    assigned = engine.assigned_starts(day, chosen).get(requested)
    if assigned is not None:
        return assigned
    raise engine.diagnose(day, chosen, requested)


def slots_by_local_date(
    slots: Iterable[Slot], *, time_zone: str | tzinfo
) -> dict[date, list[Slot]]:
    """Group slots by the date the customer's clock shows, for a calendar view.

    A 23:30 slot in Paris is on the previous day in New York's calendar and vice versa.
    """
    zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    grouped: dict[date, list[Slot]] = {}
    for slot in sorted(slots):
        grouped.setdefault(slot.start_utc.astimezone(zone).date(), []).append(slot)
    return grouped


def bookable_occurrences(
    *,
    occurrences: Iterable[GroupOccurrence],
    now: datetime,
    minimum_notice_minutes: int = 0,
    maximum_advance_days: int | None = None,
) -> list[BookableOccurrence]:
    """Group sessions a customer may still join: seats left, notice and horizon respected."""
    require_aware("now", now)
    require_int("minimum_notice_minutes", minimum_notice_minutes, minimum=0)
    if maximum_advance_days is not None:
        require_int("maximum_advance_days", maximum_advance_days, minimum=0)
    # In UTC: arithmetic and comparisons on datetimes sharing a tzinfo use wall time, which is
    # an hour off across a DST change.
    now_utc = now.astimezone(UTC)
    earliest = now_utc + timedelta(minutes=minimum_notice_minutes)
    latest = (
        None if maximum_advance_days is None else now_utc + timedelta(days=maximum_advance_days)
    )
    bookable = []
    for occurrence in occurrences:
        start_utc = occurrence.start.astimezone(UTC)
        seats_left = occurrence.capacity - occurrence.seats_taken
        if seats_left <= 0 or start_utc < earliest:
            continue
        if latest is not None and start_utc > latest:
            continue
        bookable.append(
            BookableOccurrence(
                start_utc=start_utc,
                end_utc=occurrence.end.astimezone(UTC),
                occurrence_id=occurrence.occurrence_id,
                seats_left=seats_left,
            )
        )
    return sorted(bookable, key=lambda item: (item.start_utc, str(item.occurrence_id)))
