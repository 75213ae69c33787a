"""The dashboard's query: period, date basis and filters read from the URL, and the local days
they cover turned into UTC instants (pure but for the translation of its error messages).

Days are the business's wall-clock days: a period from Monday to Sunday in Europe/Paris starts at
local midnight and ends at the next Monday's local midnight, whatever DST does in between (a DST
week is 167 or 169 hours long, never cut at a UTC midnight).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

MAX_CUSTOM_DAYS = 366


class BadDashboardQuery(ValueError):
    """A query parameter the dashboard cannot use; the message says which and why."""


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


class BookingBasis(StrEnum):
    """Which date a booking counts by."""

    APPOINTMENT = "appointment"  # when the appointment takes place
    BOOKED = "booked"  # when the customer booked it


class MoneyBasis(StrEnum):
    """Which date money counts by."""

    MOVED = "moved"  # when it was paid, refunded, or the balance paid at the venue
    APPOINTMENT = "appointment"  # the date of the appointment it belongs to


@dataclass(frozen=True)
class DayRange:
    """Local days [first, last], both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> DayRange:
        """The same number of days just before."""
        return DayRange(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def instants(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight after the last."""
        start = datetime.combine(self.first, time(0), zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.days)]


@dataclass(frozen=True)
class DashboardQuery:
    kind: PeriodKind
    period: DayRange
    booking_basis: BookingBasis
    money_basis: MoneyBasis
    staff_id: int | None
    service_id: int | None

    def as_params(self) -> dict[str, str]:
        """The URL parameters that give this query back (for links, CSV and live refresh)."""
        params = {"period": self.kind.value, "basis": self.booking_basis.value,
                  "money": self.money_basis.value}  # fmt: skip
        if self.kind is PeriodKind.CUSTOM:
            params["from"] = self.period.first.isoformat()
            params["to"] = self.period.last.isoformat()
        if self.staff_id is not None:
            params["staff"] = str(self.staff_id)
        if self.service_id is not None:
            params["service"] = str(self.service_id)
        return params


def week_start(day: date, *, first_weekday: int) -> date:
    """The first day of `day`'s week (first_weekday as Django numbers it: 0 Sunday, 6 Saturday)."""
    sunday_based = day.isoweekday() % 7
    return day - timedelta(days=(sunday_based - first_weekday) % 7)


def week_of(day: date, *, first_weekday: int) -> DayRange:
    first = week_start(day, first_weekday=first_weekday)
    return DayRange(first, first + timedelta(days=6))


def month_of(day: date) -> DayRange:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return DayRange(first, following - timedelta(days=1))


def previous_month(month: DayRange) -> DayRange:
    return month_of(month.first - timedelta(days=1))


def _choice(params: Mapping[str, str], name: str, choices: type[StrEnum], default: StrEnum):
    raw = params.get(name) or default.value
    try:
        return choices(raw)
    except ValueError:
        allowed = ", ".join(choice.value for choice in choices)
        raise BadDashboardQuery(
            _("'%(name)s' must be one of %(allowed)s.") % {"name": name, "allowed": allowed}
        ) from None


def _identifier(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name) or ""
    if raw in ("", "all"):
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadDashboardQuery(_("'%(name)s' must be a number.") % {"name": name})
    return int(raw)


def _date(params: Mapping[str, str], name: str) -> date:
    raw = params.get(name) or ""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadDashboardQuery(
            _("'%(name)s' must be a date like 2026-03-30.") % {"name": name}
        ) from None


def dashboard_query(
    params: Mapping[str, str], *, today: date, first_weekday: int
) -> DashboardQuery:
    """Read the URL's parameters; raises BadDashboardQuery with a message for the person."""
    kind = _choice(params, "period", PeriodKind, PeriodKind.WEEK)
    if kind is PeriodKind.WEEK:
        period = week_of(today, first_weekday=first_weekday)
    elif kind is PeriodKind.MONTH:
        period = month_of(today)
    else:
        first, last = _date(params, "from"), _date(params, "to")
        if last < first:
            raise BadDashboardQuery(_("'to' must not be before 'from'."))
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise BadDashboardQuery(
                _("A period is at most %(days)d days.") % {"days": MAX_CUSTOM_DAYS}
            )
        if first.year < 2000 or last.year > 2100:
            raise BadDashboardQuery(_("Dates must be between 2000 and 2100."))
        period = DayRange(first, last)
    return DashboardQuery(
        kind=kind,
        period=period,
        booking_basis=_choice(params, "basis", BookingBasis, BookingBasis.APPOINTMENT),
        money_basis=_choice(params, "money", MoneyBasis, MoneyBasis.MOVED),
        staff_id=_identifier(params, "staff"),
        service_id=_identifier(params, "service"),
    )
