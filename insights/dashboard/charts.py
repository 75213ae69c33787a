"""The dashboard's charts, each one SQL query over the per-day aggregates (insights/daily/: local
days of the business's time zone) or, for the hours of the popular slots, the 12 weeks'
bookings; returned as a ChartTable (the accessible table, the CSV and the chart's data)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django_stubs_ext import StrOrPromise

from common.money import currency_exponent
from scheduling.models import StaffMember

from .capacity import capacity_minutes, occupied_minutes
from .forecast import HOW_IT_IS_COMPUTED, linear_trend
from .periods import BookingBasis, DashboardQuery, DayRange, MoneyBasis, week_start
from .sql import (
    BOOKING,
    BOOKING_DAY,
    COUNTED,
    MONEY_DAY,
    SERVICE,
    STAFF,
    base_params,
    booking_filters,
    day_window,
    fetch_all,
)
from .tables import COUNT, DAY, MONEY, PERCENT, TEXT, ChartTable, day_label

WEEKS_SHOWN = 12
A_YEAR_OF_WEEKS = timedelta(weeks=52)  # the same weekdays a year earlier
CAPACITY_DAYS = 14
# Sunday first, as PostgreSQL's DOW numbers them; Django's names (translated by Django's own
# catalogue: "lundi"...), lazy so that the CSV writes them in English.
WEEKDAY_NAMES = [WEEKDAYS[6]] + [WEEKDAYS[index] for index in range(6)]

BOOKING_BASIS_LABEL = {
    BookingBasis.APPOINTMENT: gettext_lazy("Counted by appointment time"),
    BookingBasis.BOOKED: gettext_lazy("Counted by the time the booking was made"),
}
MONEY_BASIS_LABEL = {
    MoneyBasis.MOVED: gettext_lazy(
        "Counted on the day the money moved (refunds on the day they happened)"
    ),
    MoneyBasis.APPOINTMENT: gettext_lazy(
        "Counted on the day of the appointment the money belongs to (passes and memberships, "
        "which belong to none, on the day the money moved)"
    ),
}
REVENUE_INCLUDES = gettext_lazy(
    "Revenue: booking payments online and balances recorded as paid at the venue, no-show and "
    "late-cancellation fees charged, pass purchases and membership invoices; each refund on the "
    "day it succeeded. Platform fees are net of the fees refunds gave back. Money taken without "
    "being recorded here is not counted."
)
# Column headings are lazy: the page shows them in the viewer's language, the CSV in English.
BOOKINGS = pgettext_lazy("dashboard column", "Bookings")
WEEK_STARTING = gettext_lazy("Week starting")
DAY_HEADING = pgettext_lazy("dashboard column", "Day")
GROSS = pgettext_lazy("money", "Gross")
REFUNDS = pgettext_lazy("money", "Refunds")
PLATFORM_FEES = gettext_lazy("Platform fees")
NET = pgettext_lazy("money", "Net")
BOOKED_HOURS = gettext_lazy("Booked hours")
AVAILABLE_HOURS = gettext_lazy("Available hours")
STAFF_MEMBER = gettext_lazy("Staff member")


def _days_label(days: DayRange) -> str:
    # Translators: a Django date format for the first and last day a chart covers; French
    # "j N Y" gives "7 déc. 2026".
    shown = pgettext("dashboard window date format", "Y-m-d")
    return _("%(first)s – %(last)s") % {
        "first": date_format(days.first, shown),
        "last": date_format(days.last, shown),
    }


def twelve_weeks(query: DashboardQuery, *, first_weekday: int) -> DayRange:
    last_week = week_start(query.period.last, first_weekday=first_weekday)
    first = last_week - timedelta(weeks=WEEKS_SHOWN - 1)
    return DayRange(first, last_week + timedelta(days=6))


def bookings_per_week(
    query: DashboardQuery, *, zone: ZoneInfo, first_weekday: int
) -> tuple[ChartTable, list[int]]:
    weeks = twelve_weeks(query, first_weekday=first_weekday)
    earlier = DayRange(weeks.first - A_YEAR_OF_WEEKS, weeks.last - A_YEAR_OF_WEEKS)
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params["basis"] = query.booking_basis.value
    these, before = day_window("weeks", weeks, params), day_window("earlier", earlier, params)
    sql = f"""
        SELECT d.day - ((EXTRACT(DOW FROM d.day)::int - %(first_weekday)s + 7) %% 7) AS week,
               sum(d.bookings)::int
          FROM {BOOKING_DAY} d
         WHERE d.basis = %(basis)s {booking_filters(query, "d")} AND (({these}) OR ({before}))
         GROUP BY week
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    counts: dict[date, int] = dict(fetch_all(sql, params))
    starts = [weeks.first + timedelta(weeks=index) for index in range(WEEKS_SHOWN)]
    current = [counts.get(start, 0) for start in starts]
    year_before = [counts.get(start - A_YEAR_OF_WEEKS, 0) for start in starts]
    has_year_before = any(year_before)
    columns: list[tuple[StrOrPromise, str]] = [(WEEK_STARTING, DAY), (BOOKINGS, COUNT)]
    rows: list[list] = [
        [start.isoformat(), count] for start, count in zip(starts, current, strict=True)
    ]
    datasets = [{"label": str(BOOKINGS), "data": current}]
    if has_year_before:
        columns.append((gettext_lazy("Same week a year earlier"), COUNT))
        for row, count in zip(rows, year_before, strict=True):
            row.append(count)
        datasets.append({"label": _("A year earlier"), "data": year_before, "type": "line"})
    table = ChartTable(
        key="bookings-per-week", title=_("Bookings per week"),
        counts_by=BOOKING_BASIS_LABEL[query.booking_basis], window=_days_label(weeks),
        columns=columns, rows=rows,
        chart={"type": "bar", "labels": [day_label(row[0]) for row in rows],
               "datasets": datasets},
    )  # fmt: skip
    return table, current


def forecast(weekly: list[int], *, query: DashboardQuery, first_weekday: int) -> ChartTable:
    weeks = twelve_weeks(query, first_weekday=first_weekday)
    ahead = linear_trend(weekly)
    starts = [
        weeks.last + timedelta(days=1) + timedelta(weeks=index) for index in range(len(ahead))
    ]
    rows = [[start.isoformat(), count] for start, count in zip(starts, ahead, strict=True)]
    labels = [(weeks.first + timedelta(weeks=i)).isoformat() for i in range(len(weekly))]
    labels += [str(row[0]) for row in rows]
    return ChartTable(
        key="forecast", title=_("Forecast for the next 4 weeks"),
        counts_by=BOOKING_BASIS_LABEL[query.booking_basis],
        window=_days_label(DayRange(starts[0], starts[-1] + timedelta(days=6))),
        columns=[(WEEK_STARTING, DAY), (gettext_lazy("Expected bookings"), COUNT)], rows=rows,
        note=str(HOW_IT_IS_COMPUTED),
        chart={"type": "line", "labels": [day_label(day) for day in labels], "datasets": [
            {"label": str(BOOKINGS), "data": weekly + [None] * len(rows)},
            {"label": _("Forecast"), "data": [None] * (len(weekly) - 1) + weekly[-1:] + ahead,
             "dashed": True},
        ]},
    )  # fmt: skip


def revenue_per_day(
    query: DashboardQuery, *, zone: ZoneInfo, first_weekday: int, currency: str
) -> ChartTable:
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params["basis"] = query.money_basis.value
    sql = f"""
        SELECT d.day, sum(d.gross_minor), sum(d.refunds_minor), sum(d.fees_minor)
          FROM {MONEY_DAY} d
         WHERE d.basis = %(basis)s AND {day_window("period", query.period, params)}
               {booking_filters(query, "d")}
         GROUP BY d.day
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    by_day = {day: (int(g), int(r), int(f)) for day, g, r, f in fetch_all(sql, params)}
    rows: list[list[Any]] = []
    for day in query.period.each_day():
        gross, refunds, fees = by_day.get(day, (0, 0, 0))
        rows.append([day.isoformat(), gross, refunds, fees, gross - refunds - fees])
    exponent_divisor = 10 ** currency_exponent(currency)

    def series(index: int, sign: int = 1) -> list[float]:
        return [sign * row[index] / exponent_divisor for row in rows]

    return ChartTable(
        key="revenue-per-day", title=_("Revenue per day"),
        counts_by=MONEY_BASIS_LABEL[query.money_basis], window=_days_label(query.period),
        columns=[(DAY_HEADING, DAY), (GROSS, MONEY), (REFUNDS, MONEY), (PLATFORM_FEES, MONEY),
                 (NET, MONEY)],
        rows=rows, currency=currency, note=str(REVENUE_INCLUDES),
        chart={"type": "bar", "stacked": True, "labels": [day_label(row[0]) for row in rows],
               "datasets": [
            {"label": str(GROSS), "data": series(1), "stack": "money"},
            {"label": str(REFUNDS), "data": series(2, -1), "stack": "money"},
            {"label": str(PLATFORM_FEES), "data": series(3, -1), "stack": "money"},
            {"label": str(NET), "data": series(4), "type": "line"},
        ]},
    )  # fmt: skip


def popular_slots(query: DashboardQuery, *, zone: ZoneInfo, first_weekday: int) -> ChartTable:
    """Weekday × hour of the appointments' local start over the 12 weeks: the bookings of each
    staff member through the (staff, start) index, not a scan of all bookings."""
    weeks = twelve_weeks(query, first_weekday=first_weekday)
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params["start"], params["end"] = weeks.instants(zone)
    sql = f"""
        SELECT EXTRACT(DOW FROM b.starts_at AT TIME ZONE %(tz)s)::int,
               EXTRACT(HOUR FROM b.starts_at AT TIME ZONE %(tz)s)::int, count(*)
          FROM {STAFF} s CROSS JOIN LATERAL (
            SELECT b.starts_at FROM {BOOKING} b
             WHERE b.staff_id = s.id AND b.starts_at >= %(start)s AND b.starts_at < %(end)s
               AND b.status IN {COUNTED} {booking_filters(query)}
          ) b
         GROUP BY 1, 2
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    cells = {(dow, hour): count for dow, hour, count in fetch_all(sql, params)}
    hours = sorted({hour for _dow, hour in cells}) or list(range(9, 18))
    hours = list(range(min(hours[0], 9), max(hours[-1], 17) + 1))
    weekdays = [(first_weekday + offset) % 7 for offset in range(7)]
    rows = [[WEEKDAY_NAMES[dow]] + [cells.get((dow, hour), 0) for hour in hours]
            for dow in weekdays]  # fmt: skip
    highest = max([count for row in rows for count in row[1:]] + [0])
    return ChartTable(
        key="popular-slots", title=_("Popular slots"),
        counts_by=_("Appointments by weekday and start hour, %(zone)s time") % {"zone": zone.key},
        window=_days_label(weeks),
        columns=[(gettext_lazy("Weekday"), TEXT)] + [(f"{hour:02d}:00", COUNT) for hour in hours],
        rows=rows,
        chart={"type": "heatmap", "highest": highest},
    )  # fmt: skip


def bookings_by(
    dimension: str, query: DashboardQuery, *, zone: ZoneInfo, first_weekday: int,
    with_money: bool, currency: str,
) -> ChartTable:  # fmt: skip
    """Bookings (and their value, for those who see money) per service or per staff member."""
    table, column = {"service": (SERVICE, "service_id"), "staff": (STAFF, "staff_id")}[dimension]
    name = "name" if dimension == "service" else "display_name"
    params = base_params(query, tz=zone.key, first_weekday=first_weekday)
    params["basis"] = query.booking_basis.value
    sql = f"""
        SELECT t.{name}, sum(d.bookings)::int, sum(d.value_minor) FROM {BOOKING_DAY} d
          JOIN {table} t ON t.id = d.{column}
         WHERE d.basis = %(basis)s AND {day_window("period", query.period, params)}
               {booking_filters(query, "d")}
         GROUP BY t.id, t.{name} HAVING sum(d.bookings) > 0
         ORDER BY sum(d.bookings) DESC, t.{name}
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    found = fetch_all(sql, params)
    heading = (
        pgettext_lazy("dashboard column", "Service") if dimension == "service" else STAFF_MEMBER
    )
    columns: list[tuple[StrOrPromise, str]] = [(heading, TEXT), (BOOKINGS, COUNT)]
    rows = [[label, count] for label, count, _value in found]
    datasets = [{"label": str(BOOKINGS), "data": [row[1] for row in rows]}]
    if with_money:
        columns.append((gettext_lazy("Booking value"), MONEY))
        for row, (_label, _count, value) in zip(rows, found, strict=True):
            row.append(int(value))
    title = _("By service") if dimension == "service" else _("By staff member")
    return ChartTable(
        key=f"by-{dimension}", title=title, counts_by=BOOKING_BASIS_LABEL[query.booking_basis],
        window=_days_label(query.period), columns=columns, rows=rows, currency=currency,
        note=_("Booking value: the price of the bookings (what they are worth), not money moved."),
        chart={"type": "bar", "horizontal": True, "labels": [row[0] for row in rows],
               "datasets": datasets},
    )  # fmt: skip


def capacity_ahead(
    query: DashboardQuery, *, zone: ZoneInfo, today: date
) -> tuple[ChartTable, ChartTable]:
    """The next 14 days: booked vs available hours per day, and per staff member."""
    days = DayRange(today, today + timedelta(days=CAPACITY_DAYS - 1))
    available = capacity_minutes(days, zone=zone, staff_id=query.staff_id)
    booked = occupied_minutes(days, zone=zone, staff_id=query.staff_id,
                              service_id=query.service_id)  # fmt: skip
    per_day = []
    for day in days.each_day():
        have = sum(m for (d, _s), m in available.items() if d == day)
        taken = sum(m for (d, _s), m in booked.items() if d == day)
        per_day.append([day.isoformat(), taken / 60, have / 60, taken / have if have else None])
    columns: list[tuple[StrOrPromise, str]] = [(BOOKED_HOURS, COUNT), (AVAILABLE_HOURS, COUNT),
               (gettext_lazy("Booked %"), PERCENT)]  # fmt: skip
    counts_by = _("Appointment time; available = working hours less time off")
    daily = ChartTable(
        key="capacity-per-day", title=_("Next 14 days: booked vs available"),
        counts_by=counts_by, window=_days_label(days),
        columns=[(DAY_HEADING, DAY)] + columns, rows=per_day,
        chart={"type": "bar", "labels": [day_label(str(row[0])) for row in per_day], "datasets": [
            {"label": str(BOOKED_HOURS), "data": [row[1] for row in per_day]},
            {"label": str(AVAILABLE_HOURS), "data": [row[2] for row in per_day]},
        ]},
    )  # fmt: skip
    staff_ids = sorted({s for _d, s in available} | {s for _d, s in booked})
    names = dict(StaffMember.objects.filter(pk__in=staff_ids).values_list("pk", "display_name"))
    per_staff = []
    for staff in sorted(staff_ids, key=lambda pk: names.get(pk, "")):
        have = sum(m for (_d, s), m in available.items() if s == staff)
        taken = sum(m for (_d, s), m in booked.items() if s == staff)
        per_staff.append([names.get(staff, "?"), taken / 60, have / 60,
                          taken / have if have else None])  # fmt: skip
    staffing = ChartTable(
        key="capacity-per-staff", title=_("Next 14 days per staff member"),
        counts_by=counts_by, window=_days_label(days),
        columns=[(STAFF_MEMBER, TEXT)] + columns, rows=per_staff,
        chart={"type": "bar", "horizontal": True, "labels": [row[0] for row in per_staff],
               "datasets": [
                   {"label": str(BOOKED_HOURS), "data": [row[1] for row in per_staff]},
                   {"label": str(AVAILABLE_HOURS), "data": [row[2] for row in per_staff]}]},
    )  # fmt: skip
    return daily, staffing
