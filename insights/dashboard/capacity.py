"""Bookable capacity (staff working hours) and what bookings take of it, per local day and staff
member, in SQL.

Capacity is each active staff member's weekly hours on that weekday, replaced on a date by the
staff member's own date override, else by a business-wide one (a closed override gives 0).
Time off is not subtracted (docs/dashboard.md). Booked time is the length of each counted
one-to-one booking plus, for classes, the length of each session with at least one seat taken
(the staff member is busy once, whatever the number of seats).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from .periods import DayRange
from .sql import (
    BOOKING,
    COUNTED,
    DATE_OVERRIDE,
    OCCURRENCE,
    STAFF,
    WORKING_HOURS,
    fetch_all,
    fetch_one,
    local_day,
)

StaffDay = tuple[date, int]


def _minutes(start: str, end: str) -> str:
    """Wall-clock minutes from a start time to an end time; an end of 00:00 means midnight."""
    return (
        f"(EXTRACT(EPOCH FROM (CASE WHEN {end} = time '00:00' THEN interval '24 hours' "
        f"ELSE {end} - time '00:00' END) - ({start} - time '00:00')) / 60)"
    )


def capacity_minutes(
    days: DayRange, *, zone: ZoneInfo, staff_id: int | None
) -> dict[StaffDay, int]:
    staff_filter = "AND s.id = %(staff)s" if staff_id is not None else ""
    sql = f"""
        WITH days AS (
            SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date,
                                                        interval '1 day') d
        ), staff AS (
            SELECT s.id FROM {STAFF} s WHERE s.is_active {staff_filter}
        ), weekly AS (
            SELECT days.day, wh.staff_id, sum({_minutes("wh.start", 'wh."end"')}) AS minutes
              FROM days JOIN {WORKING_HOURS} wh
                ON wh.weekday = EXTRACT(ISODOW FROM days.day)::int - 1
             GROUP BY days.day, wh.staff_id
        ), special AS (
            SELECT o.date AS day, o.staff_id,
                   sum(CASE WHEN o.start IS NULL OR o."end" IS NULL THEN 0
                            ELSE {_minutes("o.start", 'o."end"')} END) AS minutes
              FROM {DATE_OVERRIDE} o
             WHERE o.date BETWEEN %(first)s AND %(last)s
             GROUP BY o.date, o.staff_id
        )
        SELECT days.day, staff.id,
               COALESCE(own.minutes, everyone.minutes, weekly.minutes, 0)::int
          FROM days CROSS JOIN staff
          LEFT JOIN weekly ON weekly.day = days.day AND weekly.staff_id = staff.id
          LEFT JOIN special own ON own.day = days.day AND own.staff_id = staff.id
          LEFT JOIN special everyone ON everyone.day = days.day AND everyone.staff_id IS NULL
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    rows = fetch_all(sql, {"first": days.first, "last": days.last, "staff": staff_id})
    return {(day, staff): minutes for day, staff, minutes in rows}


def occupied_minutes(
    days: DayRange, *, zone: ZoneInfo, staff_id: int | None, service_id: int | None
) -> dict[StaffDay, int]:
    start, end = days.instants(zone)
    filters = ""
    if staff_id is not None:
        filters += " AND staff_id = %(staff)s"
    if service_id is not None:
        filters += " AND service_id = %(service)s"
    sql = f"""
        SELECT {local_day("starts_at")} AS day, staff_id,
               sum(EXTRACT(EPOCH FROM ends_at - starts_at) / 60)::int
          FROM (
            SELECT b.starts_at, b.ends_at, b.staff_id, b.service_id FROM {BOOKING} b
             WHERE b.occurrence_id IS NULL AND b.status IN {COUNTED}
               AND b.starts_at >= %(start)s AND b.starts_at < %(end)s
            UNION ALL
            SELECT o.starts_at, o.ends_at, o.staff_id, o.service_id FROM {OCCURRENCE} o
             WHERE NOT o.is_cancelled AND o.starts_at >= %(start)s AND o.starts_at < %(end)s
               AND EXISTS (SELECT 1 FROM {BOOKING} seat
                            WHERE seat.occurrence_id = o.id AND seat.status IN {COUNTED})
          ) busy
         WHERE TRUE {filters}
         GROUP BY 1, 2
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    params = {"tz": zone.key, "start": start, "end": end, "staff": staff_id, "service": service_id}
    return {(day, staff): minutes for day, staff, minutes in fetch_all(sql, params)}


def seats(
    days: DayRange, *, zone: ZoneInfo, staff_id: int | None, service_id: int | None
) -> tuple[int, int]:
    """(seats taken, seats offered) in the classes taking place in these days."""
    start, end = days.instants(zone)
    filters = ""
    if staff_id is not None:
        filters += " AND o.staff_id = %(staff)s"
    if service_id is not None:
        filters += " AND o.service_id = %(service)s"
    sql = f"""
        SELECT COALESCE(sum((SELECT count(*) FROM {BOOKING} seat
                              WHERE seat.occurrence_id = o.id AND seat.status IN {COUNTED})), 0),
               COALESCE(sum(o.capacity), 0)
          FROM {OCCURRENCE} o
         WHERE NOT o.is_cancelled AND o.starts_at >= %(start)s AND o.starts_at < %(end)s {filters}
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    taken, offered = fetch_one(sql, {"start": start, "end": end, "staff": staff_id,
                                     "service": service_id})  # fmt: skip
    return int(taken), int(offered)
