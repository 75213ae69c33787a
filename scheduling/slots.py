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

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

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

StaffId = int | str
# A working interval in local wall time: (start, end), naive times on whole minutes.
WallInterval = tuple[time, time]

# A query longer than this is a client bug or abuse; the widget asks for a month at a time.
MAX_QUERY_DAYS = 366

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIDNIGHT = time(0, 0)


# ------------------------------------------------------------------ domain errors


class SlotError(ValueError):
    """A requested start cannot be booked. `str(error)` is safe to show the customer."""

    code = "slot_error"
    default_message = "This time cannot be booked."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class SlotNotOnGrid(SlotError):
    code = "slot_not_on_grid"
    default_message = "This start time is not one of the offered times."


class SlotInPast(SlotError):
    code = "slot_in_past"
    default_message = "This time is in the past."


class SlotTooSoon(SlotError):
    code = "slot_too_soon"
    default_message = "This time is too soon to be booked online."


class SlotTooFarAhead(SlotError):
    code = "slot_too_far_ahead"
    default_message = "This time is too far ahead to be booked yet."


class OutsideWorkingHours(SlotError):
    code = "outside_working_hours"
    default_message = "This time is outside opening hours."


class SlotUnavailable(SlotError):
    code = "slot_unavailable"
    default_message = "This time is no longer available."


# ------------------------------------------------------------------ inputs


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """An occupied stretch of real time ``[start, end)``, both ends aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware("TimeSpan.start", self.start)
        _require_aware("TimeSpan.end", self.end)
        # Timestamps, not datetimes: same-tzinfo datetimes compare by wall time, ignoring fold.
        if self.end.timestamp() <= self.start.timestamp():
            raise ValueError(f"TimeSpan must end after it starts: {self.start} .. {self.end}.")


@dataclass(frozen=True)
class TenantCalendar:
    """The business's IANA zone (all wall times are read in it) and the dates it is closed."""

    time_zone: str
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # raises ZoneInfoNotFoundError on a bad key, at construction
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo caches instances by key


@dataclass(frozen=True)
class StaffSchedule:
    """One staff member's hours and occupation, as the ORM layer loads them for a query.

    `weekly_hours` maps `date.weekday()` (Monday = 0) to wall intervals; a date in
    `date_overrides` uses its own intervals instead (empty: closed that day). `busy` holds the
    occupied ranges of active (held or confirmed) bookings, buffers included, minus the booking
    being rescheduled if any; `time_off` the staff member's absences.
    `bookings_count_by_date` (tenant-local dates) ranks staff for "any staff"; when None it is
    counted from `busy`. `busy_seconds` is the ORM layer's fast path for `busy`: the same ranges
    as UTC epoch seconds, straight from PostgreSQL (a busy calendar has a thousand of them per
    query; building and re-reading datetimes cost a third of availability); it is not counted
    for fairness, so a caller using it passes `bookings_count_by_date`.
    """

    staff_id: StaffId
    weekly_hours: Mapping[int, Sequence[WallInterval]]
    date_overrides: Mapping[date, Sequence[WallInterval]] = field(default_factory=dict)
    time_off: Sequence[TimeSpan] = ()
    busy: Sequence[TimeSpan] = ()
    bookings_count_by_date: Mapping[date, int] | None = None
    busy_seconds: Sequence[tuple[float, float]] = ()

    def __post_init__(self) -> None:
        if isinstance(self.staff_id, bool) or not isinstance(self.staff_id, int | str):
            raise ValueError("staff_id must be an int or a str.")
        weekly = {}
        for weekday, intervals in self.weekly_hours.items():
            if weekday not in range(7):
                raise ValueError(f"Weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}.")
            weekly[weekday] = _normalise_intervals(intervals)
        overrides = {day: _normalise_intervals(ivs) for day, ivs in self.date_overrides.items()}
        for name, spans in (("time_off", self.time_off), ("busy", self.busy)):
            if not all(isinstance(span, TimeSpan) for span in spans):
                raise ValueError(f"{name} must contain TimeSpan instances.")
        object.__setattr__(self, "weekly_hours", weekly)
        object.__setattr__(self, "date_overrides", overrides)
        object.__setattr__(self, "time_off", tuple(self.time_off))
        object.__setattr__(self, "busy", tuple(self.busy))
        if any(end <= start for start, end in self.busy_seconds):
            raise ValueError("busy_seconds ranges must end after they start.")
        if self.busy_seconds and self.bookings_count_by_date is None:
            raise ValueError("busy_seconds needs bookings_count_by_date (fairness counts).")
        object.__setattr__(self, "busy_seconds", tuple(self.busy_seconds))

    def intervals_on(self, day: date) -> tuple[WallInterval, ...]:
        """Working intervals of a tenant-local date (holidays are the caller's concern)."""
        if day in self.date_overrides:
            return tuple(self.date_overrides[day])
        return tuple(self.weekly_hours.get(day.weekday(), ()))


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """What the slot engine needs to know about a service (durations in minutes)."""

    duration_minutes: int
    slot_interval_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    capacity: int = 1
    minimum_notice_minutes: int = 0
    maximum_advance_days: int | None = None  # None: no horizon

    def __post_init__(self) -> None:
        for name in ("duration_minutes", "slot_interval_minutes", "capacity"):
            _require_int(name, getattr(self, name), minimum=1)
        for name in ("buffer_before_minutes", "buffer_after_minutes", "minimum_notice_minutes"):
            _require_int(name, getattr(self, name), minimum=0)
        if self.maximum_advance_days is not None:
            _require_int("maximum_advance_days", self.maximum_advance_days, minimum=0)


@dataclass(frozen=True)
class ResourcePool:
    """A resource the service needs one unit of (a room, a chair): `quantity` identical units
    and the occupied ranges of the bookings already using it, buffers included."""

    resource_id: int | str
    quantity: int
    occupied: Sequence[TimeSpan] = ()

    def __post_init__(self) -> None:
        _require_int("quantity", self.quantity, minimum=1)
        if not all(isinstance(span, TimeSpan) for span in self.occupied):
            raise ValueError("occupied must contain TimeSpan instances.")
        object.__setattr__(self, "occupied", tuple(self.occupied))


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """Tenant-local dates ``start_date..end_date`` (both inclusive), as seen at `now`.

    `staff_id` None means "any staff member"."""

    start_date: date
    end_date: date
    now: datetime
    staff_id: StaffId | None = None

    def __post_init__(self) -> None:
        _require_aware("now", self.now)
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date.")
        if (self.end_date - self.start_date).days >= MAX_QUERY_DAYS:
            raise ValueError(f"A slot query covers at most {MAX_QUERY_DAYS} days.")


# ------------------------------------------------------------------ outputs


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A bookable start: the appointment runs ``[start_utc, end_utc)`` (buffers not included)
    with `staff_id`."""

    start_utc: datetime
    end_utc: datetime
    staff_id: StaffId

    def in_zone(self, tz: str | tzinfo) -> datetime:
        """The start as the customer's clock shows it."""
        return self.start_utc.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)


@dataclass(frozen=True, slots=True)
class GroupOccurrence:
    """One scheduled session of a group service (a class): seats are taken under a row lock."""

    occurrence_id: int | str
    start: datetime
    end: datetime
    capacity: int
    seats_taken: int

    def __post_init__(self) -> None:
        _require_aware("start", self.start)
        _require_aware("end", self.end)
        if self.end.timestamp() <= self.start.timestamp():
            raise ValueError("An occurrence must end after it starts.")
        _require_int("capacity", self.capacity, minimum=1)
        _require_int("seats_taken", self.seats_taken, minimum=0)


@dataclass(frozen=True, slots=True)
class BookableOccurrence:
    """A group session the customer may join, with the seats still free when it was listed."""

    start_utc: datetime
    end_utc: datetime
    occurrence_id: int | str
    seats_left: int


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
    engine = _Engine(
        calendar=calendar, service=service, staff=staff, now=query.now, resource=resource
    )
    chosen = _select_staff(staff, query.staff_id)
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
    _require_aware("start", start)
    _require_aware("now", now)
    if service.capacity != 1:
        raise ValueError("Group services are booked by occurrence: use bookable_occurrences().")
    engine = _Engine(calendar=calendar, service=service, staff=staff, now=now, resource=resource)
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
    chosen = _select_staff(staff, staff_id)
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
    _require_aware("now", now)
    _require_int("minimum_notice_minutes", minimum_notice_minutes, minimum=0)
    if maximum_advance_days is not None:
        _require_int("maximum_advance_days", maximum_advance_days, minimum=0)
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


# ------------------------------------------------------------------ engine


@dataclass(frozen=True, slots=True)
class _RealInterval:
    """A working interval converted to UTC seconds; `uniform` when one UTC offset covers it, so
    grid points are plain arithmetic."""

    start: int
    end: int
    wall_start: datetime
    wall_end: datetime
    uniform: bool


class _Blocked:
    """Disjoint, sorted ``[start, end)`` ranges in UTC seconds, searched by bisect."""

    __slots__ = ("starts", "ends")

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted(ranges):
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)  # touching ranges merge: nothing fits in between
            else:
                starts.append(start)
                ends.append(end)
        self.starts = starts
        self.ends = ends

    def free_windows(self, lo: int, hi: int, before: int, after: int) -> list[tuple[int, int]]:
        """Inclusive ranges of starts S in [lo, hi] such that [S - before, S + after) overlaps
        no blocked range. A blocked [bs, be) forbids bs - after < S < be + before."""
        windows = []
        current = lo
        index = bisect_right(self.ends, lo - before)
        starts, ends = self.starts, self.ends
        while index < len(starts):
            forbidden_from = starts[index] - after
            if forbidden_from >= hi:
                break
            if forbidden_from >= current:
                windows.append((current, forbidden_from))
            current = max(current, ends[index] + before)
            if current > hi:
                return windows
            index += 1
        windows.append((current, hi))
        return windows


class _Engine:
    def __init__(
        self,
        *,
        calendar: TenantCalendar,
        service: ServiceRules,
        staff: Sequence[StaffSchedule],
        now: datetime,
        resource: ResourcePool | None,
    ) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self.duration = service.duration_minutes * 60
        self.before = service.buffer_before_minutes * 60
        self.after = service.buffer_after_minutes * 60
        self.step = service.slot_interval_minutes * 60
        self.step_minutes = service.slot_interval_minutes
        now_seconds = now.timestamp()
        self.earliest = math.ceil(now_seconds) + service.minimum_notice_minutes * 60
        self.latest = (
            None
            if service.maximum_advance_days is None
            else math.floor(now_seconds) + service.maximum_advance_days * 86_400
        )
        ids = [member.staff_id for member in staff]
        if len(set(ids)) != len(ids):
            raise ValueError("Each staff member may appear only once.")
        if len({type(staff_id) for staff_id in ids}) > 1:
            raise ValueError("Staff ids must all be ints or all be strings.")
        self._saturated = _saturated_ranges(resource) if resource is not None else []
        self._blocked: dict[StaffId, _Blocked] = {}
        self._counts: dict[StaffId, Mapping[date, int]] = {}
        self._wall_cache: dict[datetime, tuple[int, bool]] = {}

    # -- dates

    def date_bounds(self, start_date: date, end_date: date) -> tuple[date, date]:
        """Clip the query to the dates that notice and horizon allow (one day of slack each
        side: a zone that falls back at midnight makes local dates step backwards)."""
        first = max(start_date, self._local_date(self.earliest) - timedelta(days=1))
        last = end_date
        if self.latest is not None:
            last = min(end_date, self._local_date(self.latest) + timedelta(days=1))
        return first, last

    def _local_date(self, seconds: int) -> date:
        return datetime.fromtimestamp(seconds, UTC).astimezone(self.zone).date()

    # -- slots

    def slot(self, start: int, staff_id: StaffId) -> Slot:
        return Slot(
            start_utc=datetime.fromtimestamp(start, UTC),
            end_utc=datetime.fromtimestamp(start + self.duration, UTC),
            staff_id=staff_id,
        )

    def assigned_starts(self, day: date, staff: Sequence[StaffSchedule]) -> dict[int, StaffId]:
        """Free starts on a tenant-local date, each with the staff member it goes to."""
        if day in self.calendar.holidays:
            return {}
        ranked = (
            sorted(staff, key=lambda member: (self._count(member, day), member.staff_id))
            if len(staff) > 1
            else staff
        )
        assigned: dict[int, StaffId] = {}
        for member in ranked:
            for start in self.free_starts(member, day):
                assigned.setdefault(start, member.staff_id)  # the better-ranked member keeps it
        return assigned

    def blocked(self, member: StaffSchedule) -> _Blocked:
        """The member's busy ranges, time off and saturated resource time, merged (built once
        per query, on first use: a one-staff query never converts the others' bookings)."""
        blocked = self._blocked.get(member.staff_id)
        if blocked is None:
            ranges = [_seconds_range(span) for span in (*member.busy, *member.time_off)]
            ranges += [(math.floor(lo), math.ceil(hi)) for lo, hi in member.busy_seconds]
            blocked = self._blocked[member.staff_id] = _Blocked(ranges + self._saturated)
        return blocked

    def free_starts(self, member: StaffSchedule, day: date) -> list[int]:
        blocked = self.blocked(member)
        starts: list[int] = []
        for interval in self._real_intervals(member, day):
            lo = max(interval.start, self.earliest)
            hi = interval.end - self.duration
            if self.latest is not None:
                hi = min(hi, self.latest)
            if lo > hi:
                continue
            windows = blocked.free_windows(lo, hi, self.before, self.duration + self.after)
            if interval.uniform:
                base, step = interval.start, self.step
                for window_start, window_end in windows:
                    first = base - (base - window_start) // step * step  # ceil onto the grid
                    starts.extend(range(first, window_end + 1, step))
            else:
                window_starts = [window[0] for window in windows]
                for start in self._grid(interval):
                    index = bisect_right(window_starts, start) - 1
                    if index >= 0 and start <= windows[index][1]:
                        starts.append(start)
        return starts

    def diagnose(self, day: date, staff: Sequence[StaffSchedule], requested: int) -> SlotError:
        """Why a requested start is not free, for the staff members who could have taken it."""
        within_hours = on_grid = False
        for member in staff:
            for interval in self._real_intervals(member, day):
                if not interval.start <= requested < interval.end:
                    continue
                within_hours = True
                if requested in self._grid(interval):
                    on_grid = True
                    if requested + self.duration <= interval.end:
                        return SlotUnavailable()
        if within_hours and not on_grid:
            return SlotNotOnGrid()
        return OutsideWorkingHours()  # closed, or the appointment would overrun closing time

    # -- wall time to real time

    def _real_intervals(self, member: StaffSchedule, day: date) -> list[_RealInterval]:
        intervals = []
        midnight = datetime.combine(day, _MIDNIGHT)
        for wall_start_time, wall_end_time in member.intervals_on(day):
            wall_start = datetime.combine(day, wall_start_time)
            wall_end = (
                midnight + timedelta(days=1)
                if wall_end_time == _MIDNIGHT
                else datetime.combine(day, wall_end_time)
            )
            start, start_exists = self._wall_to_utc(wall_start)
            end, end_exists = self._wall_to_utc(wall_end)
            uniform = (
                start_exists
                and end_exists
                and _naive_seconds(wall_start) - start == _naive_seconds(wall_end) - end
            )
            intervals.append(_RealInterval(start, end, wall_start, wall_end, uniform))
        return intervals

    def _grid(self, interval: _RealInterval) -> list[int]:
        """Grid starts of an interval walked in wall time: gap times skipped, repeated times at
        their first occurrence. Whether the appointment fits is the caller's check."""
        starts = []
        wall = interval.wall_start
        step = timedelta(minutes=self.step_minutes)
        while wall < interval.wall_end:
            start, exists = self._wall_to_utc(wall)
            if exists and interval.start <= start < interval.end:
                starts.append(start)
            wall += step
        return starts

    def _wall_to_utc(self, wall: datetime) -> tuple[int, bool]:
        """UTC seconds of a naive wall time (fold=0), and whether that wall time exists. A wall
        time in a DST gap maps to the transition instant (used for interval boundaries)."""
        cached = self._wall_cache.get(wall)
        if cached is not None:
            return cached
        aware = wall.replace(tzinfo=self.zone, fold=0)
        seconds = int(aware.timestamp())
        exists = datetime.fromtimestamp(seconds, self.zone).replace(tzinfo=None) == wall
        if not exists:
            seconds = self._transition_before(seconds, int(aware.replace(fold=1).timestamp()))
        self._wall_cache[wall] = result = (seconds, exists)
        return result

    def _transition_before(self, after_gap: int, before_gap: int) -> int:
        """The instant the clock jumped forward, between two candidate readings of a gap time."""
        low, high = min(after_gap, before_gap), max(after_gap, before_gap)
        offset_before = self._offset(low)
        while low < high:  # first second whose offset differs from the pre-gap offset
            middle = (low + high) // 2
            if self._offset(middle) == offset_before:
                low = middle + 1
            else:
                high = middle
        return low

    def _offset(self, seconds: int) -> timedelta | None:
        return datetime.fromtimestamp(seconds, self.zone).utcoffset()

    # -- fairness

    def _count(self, member: StaffSchedule, day: date) -> int:
        counts = self._counts.get(member.staff_id)
        if counts is None:
            if member.bookings_count_by_date is not None:
                counts = member.bookings_count_by_date
            else:
                counts = Counter(span.start.astimezone(self.zone).date() for span in member.busy)
            self._counts[member.staff_id] = counts
        return counts.get(day, 0)


# ------------------------------------------------------------------ helpers


def _select_staff(staff: Sequence[StaffSchedule], staff_id: StaffId | None) -> list[StaffSchedule]:
    if staff_id is None:
        return list(staff)
    return [member for member in staff if member.staff_id == staff_id]


def _saturated_ranges(resource: ResourcePool) -> list[tuple[int, int]]:
    """Where at least `quantity` units are in use at once (a sweep over start/end events)."""
    events = sorted(
        [(start, 1) for start, _ in map(_seconds_range, resource.occupied)]
        + [(end, -1) for _, end in map(_seconds_range, resource.occupied)]
    )  # at equal instants the -1 (an end) sorts first: [a, b) then [b, c) never overlap
    saturated = []
    in_use = 0
    saturated_since: int | None = None
    for instant, change in events:
        in_use += change
        if in_use >= resource.quantity and saturated_since is None:
            saturated_since = instant
        elif in_use < resource.quantity and saturated_since is not None:
            if instant > saturated_since:
                saturated.append((saturated_since, instant))
            saturated_since = None
    return saturated


def _seconds_range(span: TimeSpan) -> tuple[int, int]:
    # Rounded outwards: a booking ending at 10:00:00.5 still blocks a 10:00 start.
    return math.floor(span.start.timestamp()), math.ceil(span.end.timestamp())


def _naive_seconds(wall: datetime) -> int:
    return (
        (wall.toordinal() - _EPOCH_ORDINAL) * 86_400
        + wall.hour * 3600
        + wall.minute * 60
        + wall.second
    )


def _normalise_intervals(intervals: Sequence[WallInterval]) -> tuple[WallInterval, ...]:
    checked = []
    for interval in intervals:
        start, end = interval
        for moment in (start, end):
            if not isinstance(moment, time) or moment.tzinfo is not None:
                raise ValueError("Working hours are naive datetime.time values (wall time).")
            if moment.second or moment.microsecond:
                raise ValueError("Working hours are on whole minutes.")
        if end != _MIDNIGHT and end <= start:
            raise ValueError(f"Working interval {start}-{end} ends before it starts.")
        checked.append((start, end))
    checked.sort()
    for (_, previous_end), (start, _) in zip(checked, checked[1:], strict=False):
        if previous_end == _MIDNIGHT or start < previous_end:
            raise ValueError("Working intervals of one day overlap.")
    return tuple(checked)


def _require_aware(name: str, moment: datetime) -> None:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime.")


def _require_int(name: str, value: object, *, minimum: int) -> None:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name} must be an int ≥ {minimum}.")
