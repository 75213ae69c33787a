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
    WorkingHours,
)

from .periods import BookingBasis, DashboardQuery, MoneyBasis

BOOKING = Booking._meta.db_table
BOOKING_EVENT = BookingEvent._meta.db_table
SERVICE = Service._meta.db_table
STAFF = StaffMember._meta.db_table
WORKING_HOURS = WorkingHours._meta.db_table
DATE_OVERRIDE = DateOverride._meta.db_table
OCCURRENCE = Occurrence._meta.db_table
PAYMENT = BookingPayment._meta.db_table
PAYMENT_EVENT = PaymentEvent._meta.db_table
REFUND = PaymentRefund._meta.db_table

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


def money_moves(basis: MoneyBasis) -> str:
    """Money as rows (at, gross, refunds, fees, booking_id): online payments on the day they were
    paid, balances paid at the venue on the day staff recorded them, refunds (and the platform
    fee they gave back) on the day they succeeded. With the appointment basis, `at` is the
    appointment's start instead."""
    moves = f"""
        SELECT p.paid_at AS moved_at, p.paid_minor AS gross, 0::bigint AS refunds,
               p.fee_minor::bigint AS fees, p.booking_id
          FROM {PAYMENT} p WHERE p.paid_at IS NOT NULL AND p.paid_minor > 0
        UNION ALL
        SELECT p.balance_paid_at, p.balance_due_minor, 0, 0, p.booking_id
          FROM {PAYMENT} p WHERE p.balance_paid_at IS NOT NULL AND p.balance_due_minor > 0
        UNION ALL
        SELECT COALESCE(r.completed_at, r.created_at), 0, r.amount_minor,
               -r.fee_refunded_minor::bigint, p.booking_id
          FROM {REFUND} r JOIN {PAYMENT} p ON p.id = r.payment_id
         WHERE r.status = '{SUCCEEDED_REFUND}'
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)
    at = "m.moved_at" if basis is MoneyBasis.MOVED else "b.starts_at"
    return f"""
        SELECT {at} AS at, m.gross, m.refunds, m.fees, b.staff_id, b.service_id
          FROM ({moves}) m JOIN {BOOKING} b ON b.id = m.booking_id
    """  # noqa: S608 (fixed SQL pieces; values travel as parameters)


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
