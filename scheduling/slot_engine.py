"""The slot engine's machinery: busy ranges merged once, then each working interval walked with
arithmetic on the grid (see scheduling.slots for the rules and bench/slot_engine.py). Pure."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from scheduling.slot_types import (
    EPOCH_ORDINAL,
    MIDNIGHT,
    OutsideWorkingHours,
    ResourcePool,
    ServiceRules,
    Slot,
    SlotError,
    SlotNotOnGrid,
    SlotUnavailable,
    StaffId,
    StaffSchedule,
    TenantCalendar,
    TimeSpan,
)

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


class Engine:
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
        midnight = datetime.combine(day, MIDNIGHT)
        for wall_start_time, wall_end_time in member.intervals_on(day):
            wall_start = datetime.combine(day, wall_start_time)
            wall_end = (
                midnight + timedelta(days=1)
                if wall_end_time == MIDNIGHT
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


def select_staff(staff: Sequence[StaffSchedule], staff_id: StaffId | None) -> list[StaffSchedule]:
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
        (wall.toordinal() - EPOCH_ORDINAL) * 86_400
        + wall.hour * 3600
        + wall.minute * 60
        + wall.second
    )
