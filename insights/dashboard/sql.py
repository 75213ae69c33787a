"""Pieces of SQL shared by the dashboard's queries: table names, the booking filters, the local
day and week of a timestamp, and "money moved" as rows.

Every query groups in PostgreSQL with `AT TIME ZONE` on the business's zone; Python never loops
over bookings. Column choices (which date a figure counts by) come from fixed maps below, never
from the request; the request's values only ever travel as query parameters.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from connect_payments.models import BookingPayment, PaymentEvent, PaymentRefund, RefundStatus
from scheduling.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    DateOverride,
    Occurrence,
    Service,
    StaffMember,
    TimeOff,
    WorkingHours,
)

from ..models import BookingDay, MoneyDay
from .periods import BookingBasis, DashboardQuery, DayRange

BOOKING = Booking._meta.db_table
BOOKING_EVENT = BookingEvent._meta.db_table
SERVICE = Service._meta.db_table
STAFF = StaffMember._meta.db_table
WORKING_HOURS = WorkingHours._meta.db_table
TIME_OFF = TimeOff._meta.db_table
DATE_OVERRIDE = DateOverride._meta.db_table
OCCURRENCE = Occurrence._meta.db_table
PAYMENT = BookingPayment._meta.db_table
PAYMENT_EVENT = PaymentEvent._meta.db_table
REFUND = PaymentRefund._meta.db_table
BOOKING_DAY = BookingDay._meta.db_table
MONEY_DAY = MoneyDay._meta.db_table

# A booking "counts" once it was confirmed and not cancelled: held and expired ones never were
# bookings, cancelled ones are counted by the cancellation rate.
COUNTED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
COUNTED = "('confirmed', 'completed', 'no_show')"
CANCELLED = BookingStatus.CANCELLED.value
SUCCEEDED_REFUND = RefundStatus.SUCCEEDED.value

# A cancellation less than this many hours before the appointment is a late one.
LATE_CANCELLATION_HOURS = 24

BOOKING_DATE_COLUMN = {
    BookingBasis.APPOINTMENT: "b.starts_at",
    BookingBasis.BOOKED: "b.created_at",
}


def local_day(column: str) -> str:
    """The business's calendar day of a timestamp column (the zone is parameter %(tz)s)."""
    return f"(({column}) AT TIME ZONE %(tz)s)::date"


def local_week(column: str) -> str:
    """The first day of the local week (first weekday %(first_weekday)s, 0 Sunday … 6 Saturday)."""
    day = local_day(column)
    return f"({day} - ((EXTRACT(DOW FROM {day})::int - %(first_weekday)s + 7) %% 7))"


def booking_filters(query: DashboardQuery, alias: str = "b") -> str:
    """Staff and service filters on a booking alias; their values are %(staff)s, %(service)s."""
    clauses = []
    if query.staff_id is not None:
        clauses.append(f"{alias}.staff_id = %(staff)s")
    if query.service_id is not None:
        clauses.append(f"{alias}.service_id = %(service)s")
    return "".join(f" AND {clause}" for clause in clauses)


def base_params(query: DashboardQuery, *, tz: str, first_weekday: int) -> dict[str, Any]:
    return {"tz": tz, "first_weekday": first_weekday, "staff": query.staff_id,
            "service": query.service_id, "late_hours": LATE_CANCELLATION_HOURS}  # fmt: skip


def day_window(prefix: str, days: DayRange, params: dict[str, Any], column: str = "d.day") -> str:
    """`column` within the local days (both included); the bounds go into `params`."""
    params[f"{prefix}_first"], params[f"{prefix}_last"] = days.first, days.last
    return f"{column} BETWEEN %({prefix}_first)s AND %({prefix}_last)s"


def fetch_all(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_one(sql: str, params: dict[str, Any]) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return row
