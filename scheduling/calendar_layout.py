"""Where things go on the back-office calendar: wall-clock positions in the business's time zone.

Pure module (no Django imports). The grid is drawn in local wall time, like a paper diary: on a
spring-forward day the missing hour's row stays empty, and on a fall-back day the two 02:30s share
a row and sit side by side in lanes. Which bookings belong to a day is decided on real instants
(`day_bounds`), so a booking is never lost or shown twice around midnight or a clock change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Generic, TypeVar

MINUTES_PER_DAY = 24 * 60
DEFAULT_WINDOW = (8 * 60, 20 * 60)  # shown even on an empty day, so the grid never collapses

T = TypeVar("T")


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The real instants `[start, end)` of a local date: 23 or 25 hours long on DST days.

    A midnight that falls in a DST gap resolves (fold=0) to the transition instant itself.
    """
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def week_start(day: date, *, first_weekday: int = 1) -> date:
    """The first day of `day`'s week, the week starting on `first_weekday` (Django's
    FIRST_DAY_OF_WEEK numbering: 0 Sunday, 1 Monday … 6 Saturday; Monday by default, ISO 8601)."""
    sunday_based = day.isoweekday() % 7  # Sunday 0 … Saturday 6
    return day - timedelta(days=(sunday_based - first_weekday) % 7)


def wall_minute(moment: datetime, day: date, zone: tzinfo) -> int:
    """Minutes since local midnight of `day` on the wall clock, clamped to the day."""
    local = moment.astimezone(zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return MINUTES_PER_DAY
    return local.hour * 60 + local.minute


def time_minute(value: time, *, is_end: bool = False) -> int:
    """A working-hours boundary in minutes; an end at 00:00 means the following midnight."""
    if is_end and value == time(0):
        return MINUTES_PER_DAY
    return value.hour * 60 + value.minute


@dataclass(frozen=True)
class Placed(Generic[T]):
    """An item laid out on one day: wall minutes `[top, bottom)` and its lane among overlaps."""

    item: T
    top: int
    bottom: int
    lane: int = 0
    lanes: int = 1


def place_on_day(
    entries: Iterable[tuple[T, datetime, datetime]], *, day: date, zone: tzinfo
) -> list[Placed[T]]:
    """Lay out `(item, start, end)` entries on `day`; overlapping ones share the width in lanes."""
    rows: list[tuple[T, int, int]] = []
    for item, start, end in entries:
        top = wall_minute(start, day, zone)
        bottom = wall_minute(end, day, zone)
        if bottom <= top:
            # Fall-back night: the end's wall time can repeat (or precede) the start's. Keep the
            # real length so the block stays visible.
            real_minutes = int((end - start).total_seconds() // 60)
            bottom = min(top + max(real_minutes, 1), MINUTES_PER_DAY)
            top = min(top, bottom - 1)
        rows.append((item, top, bottom))
    rows.sort(key=lambda row: (row[1], row[2]))
    return _assign_lanes(rows)


def _assign_lanes(rows: Sequence[tuple[T, int, int]]) -> list[Placed[T]]:
    """Greedy lanes per cluster of transitively overlapping rows (rows sorted by top)."""
    placed: list[Placed[T]] = []
    cluster: list[tuple[T, int, int, int]] = []
    lane_ends: list[int] = []
    cluster_end = 0
    for item, top, bottom in rows:
        if cluster and top >= cluster_end:
            placed.extend(_finish(cluster, len(lane_ends)))
            cluster, lane_ends = [], []
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= top:
                lane_ends[lane] = bottom
                break
        else:
            lane = len(lane_ends)
            lane_ends.append(bottom)
        cluster_end = max(cluster_end, bottom) if cluster else bottom
        cluster.append((item, top, bottom, lane))
    if cluster:
        placed.extend(_finish(cluster, len(lane_ends)))
    return placed


def _finish(cluster: list[tuple[T, int, int, int]], lanes: int) -> list[Placed[T]]:
    return [Placed(item, top, bottom, lane, lanes) for item, top, bottom, lane in cluster]


def visible_window(
    spans: Iterable[tuple[int, int]], *, default: tuple[int, int] = DEFAULT_WINDOW
) -> tuple[int, int]:
    """Whole hours covering the default window and every span (minutes since midnight)."""
    low, high = default
    for top, bottom in spans:
        low = min(low, top)
        high = max(high, bottom)
    low = max(0, low // 60 * 60)
    high = min(MINUTES_PER_DAY, -(-high // 60) * 60)
    return low, high


def css_percent(minutes: int, window: tuple[int, int], *, offset: bool = True) -> str:
    """A CSS percentage of the window's height, formatted here so no template localises it."""
    low, high = window
    value = (minutes - low) if offset else minutes
    return f"{max(0.0, min(100.0, 100 * value / (high - low))):.3f}%"
