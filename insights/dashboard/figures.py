"""The figures at the top of the dashboard, each for the period and the one before it: one SQL
query per family (bookings, customers, money, occupancy), over the aggregates kept with the
writes (insights/aggregates.py, insights/daily/) rather than the bookings themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from ..daily.triggers import CUSTOMER_DAYS
from ..models import CompletedBookingRebooked, CustomerDay, CustomerFirstBooking
from .capacity import capacity_minutes, occupied_minutes, seats
from .periods import BookingBasis, DashboardQuery, DayRange, month_of, previous_month, week_of
from .sql import (
    BOOKING,
    BOOKING_DATE_COLUMN,
    BOOKING_DAY,
    BOOKING_EVENT,
    CANCELLED,
    MONEY_DAY,
    base_params,
    booking_filters,
    day_window,
    fetch_one,
)

CUSTOMER_FIRST = CustomerFirstBooking._meta.db_table
REBOOKED = CompletedBookingRebooked._meta.db_table
CUSTOMER_DAY = CustomerDay._meta.db_table
CUSTOMER_DAYS_COLUMN = {
    BookingBasis.APPOINTMENT: "appointment_days",
    BookingBasis.BOOKED: "booked_days",
}
FIRST_COLUMN = {
    BookingBasis.APPOINTMENT: "first_starts_at",
    BookingBasis.BOOKED: "first_created_at",
}


@dataclass(frozen=True)
class Compared:
    """A figure and the same figure for the period before (None: nothing to divide by)."""

    current: float | int | None
    previous: float | int | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous in (None, 0):
            return None
        return (self.current - self.previous) / self.previous


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def booking_figures(query: DashboardQuery, *, zone: ZoneInfo, first_weekday: int) -> dict:
    """Bookings, no-shows, late cancellations and average booking value, by the query's booking
    basis (appointment time or booked time): sums of the per-day rows (insights/daily/), and the
    period's cancelled bookings for which of them were late."""
    current, previous = query.period, query.period.previous()
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params["basis"] = query.booking_basis.value
    windows = {"cur": day_window("cur", current, params),
               "prev": day_window("prev", previous, params)}  # fmt: skip

    def sums(window: str) -> str:
        return ", ".join(
            f"COALESCE(sum(d.{column}) FILTER (WHERE {window}), 0)"
            for column in ("bookings", "no_shows", "attended", "cancelled", "value_minor")
        )

    sql = f"""
        SELECT {sums(windows["cur"])}, {sums(windows["prev"])} FROM {BOOKING_DAY} d
         WHERE d.basis = %(basis)s AND d.day BETWEEN %(prev_first)s AND %(cur_last)s
               {booking_filters(query, "d")}
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    row = fetch_one(sql, params)
    late = late_cancellations(query, zone=zone, params=params)
    now, before = (*row[:4], late[0], row[4]), (*row[5:9], late[1], row[9])

    def family(values: tuple) -> dict:
        booked, no_show, attended_or_not, cancelled, late, value = (int(v) for v in values)
        return {
            "bookings": booked,
            "no_show_rate": _ratio(no_show, attended_or_not),
            "late_cancellation_rate": _ratio(late, booked + cancelled),
            "average_value_minor": value / booked if booked else None,
            "value_minor": value,
        }

    a, b = family(now), family(before)
    return {key: Compared(a[key], b[key]) for key in a}


def late_cancellations(query: DashboardQuery, *, zone: ZoneInfo, params: dict) -> tuple[int, int]:
    """Cancellations less than 24 hours before the start, in the period and the one before:
    read from the cancelled bookings of these days (their last cancellation event), a few rows."""
    at = BOOKING_DATE_COLUMN[query.booking_basis]
    cur_start, cur_end = query.period.instants(zone)
    prev_start, _ = query.period.previous().instants(zone)
    params = {**params, "cur_start": cur_start, "cur_end": cur_end, "prev_start": prev_start}
    sql = f"""
        SELECT count(*) FILTER (WHERE {at} >= %(cur_start)s),
               count(*) FILTER (WHERE {at} < %(cur_start)s)
          FROM {BOOKING} b
         WHERE b.status = '{CANCELLED}' AND {at} >= %(prev_start)s AND {at} < %(cur_end)s
               {booking_filters(query)}
           AND (SELECT max(e.created_at) FROM {BOOKING_EVENT} e
                 WHERE e.booking_id = b.id AND e.to_status = '{CANCELLED}')
               > b.starts_at - make_interval(hours => %(late_hours)s)
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    late_now, late_before = fetch_one(sql, params)
    return int(late_now), int(late_before)


def customer_figures(query: DashboardQuery, *, zone: ZoneInfo, first_weekday: int) -> dict:
    """New vs returning customers (first counted booking ever, by the booking basis, in the
    period or before it) and the rebooking rate: of the appointments completed in the period,
    the share whose customer booked again (booked time) within 60 days after it. Both read the
    aggregates kept with the writes (insights/aggregates.py, insights/daily/): the customers of
    the period from the per-day customer rows, never the bookings."""
    current, previous = query.period, query.period.previous()
    cur_start, cur_end = current.instants(zone)
    prev_start, _ = previous.instants(zone)
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params.update(basis=query.booking_basis.value, cur_start=cur_start, cur_end=cur_end,
                  prev_start=prev_start)  # fmt: skip
    windows = {"cur": day_window("cur", current, params, "cd.day"),
               "prev": day_window("prev", previous, params, "cd.day")}  # fmt: skip
    first = FIRST_COLUMN[query.booking_basis]

    # Each customer once (one hash aggregate), then their first booking compared with each
    # window's start: no DISTINCT sort per figure.
    sql = f"""
        SELECT count(*) FILTER (WHERE c.now AND f.{first} >= %(cur_start)s),
               count(*) FILTER (WHERE c.now AND f.{first} < %(cur_start)s),
               count(*) FILTER (WHERE c.before AND f.{first} >= %(prev_start)s),
               count(*) FILTER (WHERE c.before AND f.{first} < %(prev_start)s)
          FROM (
            SELECT cd.customer_id, bool_or({windows["cur"]}) AS now,
                   bool_or({windows["prev"]}) AS before
              FROM {CUSTOMER_DAY} cd
             WHERE cd.basis = %(basis)s AND cd.bookings > 0
               AND cd.day BETWEEN %(prev_first)s AND %(cur_last)s {booking_filters(query, "cd")}
             GROUP BY cd.customer_id
          ) c JOIN {CUSTOMER_FIRST} f ON f.customer_id = c.customer_id
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    if query.staff_id is None and query.service_id is None:
        # No filter: one row per customer, its days by this basis (a date multirange).
        days = CUSTOMER_DAYS_COLUMN[query.booking_basis]
        sql = f"""
            SELECT count(*) FILTER (WHERE c.now AND f.{first} >= %(cur_start)s),
                   count(*) FILTER (WHERE c.now AND f.{first} < %(cur_start)s),
                   count(*) FILTER (WHERE c.before AND f.{first} >= %(prev_start)s),
                   count(*) FILTER (WHERE c.before AND f.{first} < %(prev_start)s)
              FROM (
                SELECT d.customer_id,
                       d.{days} && daterange(%(cur_first)s, %(cur_last)s, '[]') AS now,
                       d.{days} && daterange(%(prev_first)s, %(prev_last)s, '[]') AS before
                  FROM {CUSTOMER_DAYS} d
              ) c JOIN {CUSTOMER_FIRST} f ON f.customer_id = c.customer_id
             WHERE c.now OR c.before
        """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    new, returning, new_before, returning_before = fetch_one(sql, params)
    rebooking_sql = f"""
        SELECT count(*) FILTER (WHERE r.starts_at >= %(cur_start)s),
               count(*) FILTER (WHERE r.starts_at >= %(cur_start)s AND r.rebooked),
               count(*) FILTER (WHERE r.starts_at < %(cur_start)s),
               count(*) FILTER (WHERE r.starts_at < %(cur_start)s AND r.rebooked)
          FROM {REBOOKED} r
         WHERE r.starts_at >= %(prev_start)s AND r.starts_at < %(cur_end)s
               {booking_filters(query, "r")}
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    completed, rebooked, completed_before, rebooked_before = fetch_one(rebooking_sql, params)

    def values(new: int, returning: int, completed: int, rebooked: int) -> dict:
        return {"new_customers": new, "returning_customers": returning,
                "rebooking_rate": _ratio(rebooked, completed)}  # fmt: skip

    a = values(new, returning, completed, rebooked)
    b = values(new_before, returning_before, completed_before, rebooked_before)
    return {key: Compared(a[key], b[key]) for key in a}


def money_windows(today: date, *, first_weekday: int) -> dict[str, tuple[DayRange, DayRange]]:
    """Today, this week and this month, each with the one before (yesterday, last week...)."""
    day = DayRange(today, today)
    week = week_of(today, first_weekday=first_weekday)
    month = month_of(today)
    return {"today": (day, day.previous()), "week": (week, week.previous()),
            "month": (month, previous_month(month))}  # fmt: skip


def money_figures(
    query: DashboardQuery, *, today: date, zone: ZoneInfo, first_weekday: int
) -> dict[str, dict[str, Compared]]:
    """Gross, refunds, platform fees and net for today, this week and this month, by the query's
    money basis, in one query over the per-day money rows (insights/daily/): booking payments
    and balances, no-show and late-cancellation fees, passes and membership invoices, each
    refund on its own day."""
    windows = money_windows(today, first_weekday=first_weekday)
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params["basis"] = query.money_basis.value
    columns = []
    for name, pair in windows.items():
        for which, days in zip(("cur", "prev"), pair, strict=True):
            window = day_window(f"{name}_{which}", days, params)
            columns += [f"COALESCE(sum(d.{part}) FILTER (WHERE {window}), 0)"
                        for part in ("gross_minor", "refunds_minor", "fees_minor")]  # fmt: skip
    params["earliest"] = min(pair[1].first for pair in windows.values())
    params["latest"] = max(pair[0].last for pair in windows.values())
    sql = f"""
        SELECT {", ".join(columns)} FROM {MONEY_DAY} d
         WHERE d.basis = %(basis)s AND d.day BETWEEN %(earliest)s AND %(latest)s
               {booking_filters(query, "d")}
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    row = [int(value) for value in fetch_one(sql, params)]
    result: dict[str, dict[str, Compared]] = {}
    for index, name in enumerate(windows):
        cur = row[index * 6 : index * 6 + 3]
        prev = row[index * 6 + 3 : index * 6 + 6]
        result[name] = {
            "gross": Compared(cur[0], prev[0]),
            "refunds": Compared(cur[1], prev[1]),
            "fees": Compared(cur[2], prev[2]),
            "net": Compared(cur[0] - cur[1] - cur[2], prev[0] - prev[1] - prev[2]),
        }
    return result


def occupancy_figures(query: DashboardQuery, *, zone: ZoneInfo) -> dict[str, Compared]:
    """Booked staff time ÷ working hours, and class seats taken ÷ seats offered: capacity and
    booked time read once for both periods (one query each) and split by day."""
    current, previous = query.period, query.period.previous()
    both = DayRange(previous.first, current.last)
    available = capacity_minutes(both, zone=zone, staff_id=query.staff_id)
    booked = occupied_minutes(both, zone=zone, staff_id=query.staff_id,
                              service_id=query.service_id)  # fmt: skip
    figures: dict[str, list[float | None]] = {"occupancy": [], "seat_fill": []}
    for days in (current, previous):

        def within(minutes: dict, days: DayRange = days) -> int:
            return sum(value for (day, _staff), value in minutes.items()
                       if days.first <= day <= days.last)  # fmt: skip

        taken, offered = seats(days, zone=zone, staff_id=query.staff_id,
                               service_id=query.service_id)  # fmt: skip
        figures["occupancy"].append(_ratio(within(booked), within(available)))
        figures["seat_fill"].append(_ratio(taken, offered))
    return {key: Compared(*values) for key, values in figures.items()}
