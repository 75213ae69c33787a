"""Bookable capacity (staff working hours) and what bookings take of it, per local day and staff
member, in SQL.

Capacity is each active staff member's weekly hours on that weekday, replaced on a date by the
staff member's own date override, else by a business-wide one (a closed override gives 0), less
the staff member's time off that overlaps them (hours in the staff member's time zone, else the
business's). Booked time is the length of each counted
one-to-one booking plus, for classes, the length of each session with at least one seat taken
(the staff member is busy once, whatever the number of seats).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from .periods import DayRange
from .sql import (
    BOOKING,
    BOOKING_DAY,
    COUNTED,
    DATE_OVERRIDE,
    OCCURRENCE,
    STAFF,
    TIME_OFF,
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
    """Working minutes per day and active staff member, less the staff member's time off."""
    staff_filter = "AND s.id = %(staff)s" if staff_id is not None else ""
    in_days = "o.date BETWEEN %(first)s AND %(last)s"
    sql = f"""
        WITH days AS (
            SELECT d::date AS day FROM generate_series(%(first)s::date, %(last)s::date,
                                                        interval '1 day') d
        ), staff AS (
            SELECT s.id, COALESCE(NULLIF(s.time_zone, ''), %(tz)s) AS zone
              FROM {STAFF} s WHERE s.is_active {staff_filter}
        ), own AS (
            SELECT DISTINCT o.staff_id, o.date FROM {DATE_OVERRIDE} o
             WHERE o.staff_id IS NOT NULL AND {in_days}
        ), everyone AS (
            SELECT DISTINCT o.date FROM {DATE_OVERRIDE} o WHERE o.staff_id IS NULL AND {in_days}
        ), hours AS (
            SELECT o.date AS day, o.staff_id, o.start, o."end" FROM {DATE_OVERRIDE} o
             WHERE o.staff_id IS NOT NULL AND {in_days} AND o.start IS NOT NULL
               AND o."end" IS NOT NULL
            UNION ALL
            SELECT o.date, staff.id, o.start, o."end" FROM {DATE_OVERRIDE} o CROSS JOIN staff
             WHERE o.staff_id IS NULL AND {in_days} AND o.start IS NOT NULL
               AND o."end" IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM own WHERE own.staff_id = staff.id
                                AND own.date = o.date)
            UNION ALL
            SELECT days.day, wh.staff_id, wh.start, wh."end"
              FROM days JOIN {WORKING_HOURS} wh
                ON wh.weekday = EXTRACT(ISODOW FROM days.day)::int - 1
             WHERE NOT EXISTS (SELECT 1 FROM own WHERE own.staff_id = wh.staff_id
                                AND own.date = days.day)
               AND NOT EXISTS (SELECT 1 FROM everyone WHERE everyone.date = days.day)
        ), worked AS (
            SELECT h.day, h.staff_id, range_agg(tstzrange(
                       (h.day + h.start) AT TIME ZONE staff.zone,
                       (CASE WHEN h."end" = time '00:00' THEN (h.day + 1) + time '00:00'
                             ELSE h.day + h."end" END) AT TIME ZONE staff.zone)) AS ranges
              FROM hours h JOIN staff ON staff.id = h.staff_id
             GROUP BY h.day, h.staff_id
        ), away AS (
            SELECT t.staff_id, range_agg(tstzrange(t.starts_at, t.ends_at)) AS ranges
              FROM {TIME_OFF} t
             WHERE t.ends_at > %(start)s AND t.starts_at < %(end)s
             GROUP BY t.staff_id
        )
        SELECT days.day, staff.id,
               COALESCE((SELECT sum(EXTRACT(EPOCH FROM upper(free) - lower(free)))
                           FROM unnest(worked.ranges
                                       - COALESCE(away.ranges, '{{}}'::tstzmultirange)) free),
                        0)::bigint / 60
          FROM days CROSS JOIN staff
          LEFT JOIN worked ON worked.day = days.day AND worked.staff_id = staff.id
          LEFT JOIN away ON away.staff_id = staff.id
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    start, end = days.instants(zone)
    params = {"first": days.first, "last": days.last, "staff": staff_id, "tz": zone.key,
              "start": start - timedelta(days=1), "end": end + timedelta(days=1)}  # fmt: skip
    rows = fetch_all(sql, params)
    return {(day, staff): int(minutes) for day, staff, minutes in rows}


def occupied_minutes(
    days: DayRange, *, zone: ZoneInfo, staff_id: int | None, service_id: int | None
) -> dict[StaffDay, int]:
    """One-to-one bookings' length from the per-day rows (by appointment day), and each class
    session with at least one seat taken once, from the sessions of these days."""
    start, end = days.instants(zone)
    filters = ""
    if staff_id is not None:
        filters += " AND staff_id = %(staff)s"
    if service_id is not None:
        filters += " AND service_id = %(service)s"
    sql = f"""
        SELECT day, staff_id, (sum(seconds) / 60)::int
          FROM (
            SELECT d.day, d.staff_id, d.service_id, d.occupied_seconds AS seconds
              FROM {BOOKING_DAY} d
             WHERE d.basis = 'appointment' AND d.day BETWEEN %(first)s AND %(last)s
            UNION ALL
            SELECT {local_day("o.starts_at")}, o.staff_id, o.service_id,
                   EXTRACT(EPOCH FROM o.ends_at - o.starts_at)
              FROM {OCCURRENCE} o
             WHERE NOT o.is_cancelled AND o.starts_at >= %(start)s AND o.starts_at < %(end)s
               AND EXISTS (SELECT 1 FROM {BOOKING} seat
                            WHERE seat.occurrence_id = o.id AND seat.status IN {COUNTED})
          ) busy
         WHERE TRUE {filters}
         GROUP BY 1, 2 HAVING sum(seconds) <> 0
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    params = {"tz": zone.key, "start": start, "end": end, "staff": staff_id, "service": service_id,
              "first": days.first, "last": days.last}  # fmt: skip
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
