"""The slot engine's vocabulary: its inputs (schedules, rules, calendars, resources), its outputs
(slots, sessions) and its errors. Pure, like the engine (scheduling.slots)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

StaffId = int | str
# A working interval in local wall time: (start, end), naive times on whole minutes.
WallInterval = tuple[time, time]

# A query longer than this is a client bug or abuse; the widget asks for a month at a time.
MAX_QUERY_DAYS = 366

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
MIDNIGHT = time(0, 0)


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
        require_aware("TimeSpan.start", self.start)
        require_aware("TimeSpan.end", self.end)
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
            weekly[weekday] = normalise_intervals(intervals)
        overrides = {day: normalise_intervals(ivs) for day, ivs in self.date_overrides.items()}
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
            require_int(name, getattr(self, name), minimum=1)
        for name in ("buffer_before_minutes", "buffer_after_minutes", "minimum_notice_minutes"):
            require_int(name, getattr(self, name), minimum=0)
        if self.maximum_advance_days is not None:
            require_int("maximum_advance_days", self.maximum_advance_days, minimum=0)


@dataclass(frozen=True)
class ResourcePool:
    """A resource the service needs one unit of (a room, a chair): `quantity` identical units
    and the occupied ranges of the bookings already using it, buffers included."""

    resource_id: int | str
    quantity: int
    occupied: Sequence[TimeSpan] = ()

    def __post_init__(self) -> None:
        require_int("quantity", self.quantity, minimum=1)
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
        require_aware("now", self.now)
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
        require_aware("start", self.start)
        require_aware("end", self.end)
        if self.end.timestamp() <= self.start.timestamp():
            raise ValueError("An occurrence must end after it starts.")
        require_int("capacity", self.capacity, minimum=1)
        require_int("seats_taken", self.seats_taken, minimum=0)


@dataclass(frozen=True, slots=True)
class BookableOccurrence:
    """A group session the customer may join, with the seats still free when it was listed."""

    start_utc: datetime
    end_utc: datetime
    occurrence_id: int | str
    seats_left: int


# ------------------------------------------------------------------ input checks


def normalise_intervals(intervals: Sequence[WallInterval]) -> tuple[WallInterval, ...]:
    checked = []
    for interval in intervals:
        start, end = interval
        for moment in (start, end):
            if not isinstance(moment, time) or moment.tzinfo is not None:
                raise ValueError("Working hours are naive datetime.time values (wall time).")
            if moment.second or moment.microsecond:
                raise ValueError("Working hours are on whole minutes.")
        if end != MIDNIGHT and end <= start:
            raise ValueError(f"Working interval {start}-{end} ends before it starts.")
        checked.append((start, end))
    checked.sort()
    for (_, previous_end), (start, _) in zip(checked, checked[1:], strict=False):
        if previous_end == MIDNIGHT or start < previous_end:
            raise ValueError("Working intervals of one day overlap.")
    return tuple(checked)


def require_aware(name: str, moment: datetime) -> None:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime.")


def require_int(name: str, value: object, *, minimum: int) -> None:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name} must be an int ≥ {minimum}.")
