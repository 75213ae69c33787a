"""A hand-built week of a business in Europe/Paris (tenant alpha): the DST week of 23–29 March
2026 (clocks go forward on Sunday 29th), the week before it, a class with several seats, a
no-show, a late and an early cancellation, a rescheduled booking, a deposit whose balance was
paid at the venue and a refund made in April of a payment made in March.

The expected figures are worked out by hand in tests/insights/test_dashboard_figures.py.
"""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.range import Range

from connect_payments.models import BookingPayment, PaymentRefund
from scheduling.models import (
    Booking,
    BookingEvent,
    Customer,
    Occurrence,
    Service,
    StaffMember,
    WorkingHours,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 4, 2, 12, 0, tzinfo=PARIS)  # Thursday; this week is 30 March – 5 April
_numbers = itertools.count(1)


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def book(service: Service, staff: StaffMember, customer: Customer, starts_at: datetime, *,
         status: str, created_at: datetime,
         occurrence: Occurrence | None = None) -> Booking:  # fmt: skip
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    booking = Booking.objects.create(
        reference=f"DSH{next(_numbers):05d}", service=service, staff=staff, customer=customer,
        starts_at=starts_at, ends_at=ends_at, occupied=Range(starts_at, ends_at),
        status=status, price_minor=service.price_minor, currency="EUR",
        payment_mode=service.payment_mode, source="staff", created_at=created_at,
        occurrence=occurrence,
    )  # fmt: skip
    BookingEvent.objects.create(booking=booking, created_at=created_at,
                                action="creneau.booking.confirmed",
                                from_status="held", to_status="confirmed")  # fmt: skip
    return booking


def cancel(booking: Booking, at: datetime) -> None:
    Booking.objects.filter(pk=booking.pk).update(status="cancelled")
    BookingEvent.objects.create(booking=booking, created_at=at, action="creneau.booking.cancelled",
                                from_status="confirmed", to_status="cancelled")  # fmt: skip


def build_dataset() -> dict[str, Any]:
    ada = StaffMember.objects.create(display_name="Ada")
    ben = StaffMember.objects.create(display_name="Ben")  # works, books nothing
    for member in (ada, ben):
        for weekday in range(7):
            WorkingHours.objects.create(staff=member, weekday=weekday, start=time(9), end=time(17))
    haircut = Service.objects.create(name="Haircut", duration_minutes=30, price_minor=3000,
                                     payment_mode="pay_at_venue")  # fmt: skip
    yoga = Service.objects.create(name="Yoga", duration_minutes=60, price_minor=1500,
                                  payment_mode="pay_at_venue", capacity=5)  # fmt: skip
    haircut.staff.add(ada, ben)
    yoga.staff.add(ada)
    people = [Customer.objects.create(name=f"C{n}", email=f"c{n}@dash.test") for n in range(1, 8)]
    c1, c2, c3, c4, c5, c6, c7 = people
    early = paris(10, 9)
    # The week before: C1's first appointment, completed; C1 books again on 18 March.
    b8 = book(haircut, ada, c1, paris(17, 10), status="completed", created_at=paris(1, 9))
    b1 = book(haircut, ada, c1, paris(23, 10), status="completed", created_at=paris(18, 9))
    b4 = book(haircut, ada, c3, paris(23, 0, 30), status="no_show", created_at=early)  # 22 Mar UTC
    b2 = book(
        haircut, ada, c2, paris(29, 23, 30), status="completed", created_at=early
    )  # after DST
    b3 = book(haircut, ada, c1, paris(30, 0, 30), status="confirmed", created_at=paris(25, 9))
    late = book(haircut, ada, c2, paris(25, 10), status="confirmed", created_at=early)
    cancel(late, paris(25, 8))  # 2 hours before: late
    timely = book(haircut, ada, c2, paris(26, 10), status="confirmed", created_at=early)
    cancel(timely, paris(20, 8))  # days before: not late
    # Rescheduled from Thursday to Friday: one booking, two events, counted once.
    b7 = book(haircut, ada, c4, paris(26, 14), status="confirmed", created_at=paris(24, 9))
    moved = {
        "starts_at": paris(27, 14),
        "ends_at": paris(27, 14, 30),
        "occupied": Range(paris(27, 14), paris(27, 14, 30)),
    }
    Booking.objects.filter(pk=b7.pk).update(**moved)
    BookingEvent.objects.create(booking=b7, created_at=paris(24, 10),
                                action="creneau.booking.rescheduled")  # fmt: skip
    session = Occurrence.objects.create(service=yoga, staff=ada, starts_at=paris(24, 18),
                                        ends_at=paris(24, 19), capacity=5)  # fmt: skip
    seats = [book(yoga, ada, person, paris(24, 18), status="confirmed", created_at=early,
                  occurrence=session) for person in (c5, c6, c7)]  # fmt: skip
    # Money: a deposit on B1 paid on 20 March, its balance paid at the venue on 23 March; B7 paid
    # online in full on 24 March and refunded in part on 2 April (a later day, a later month).
    deposit = BookingPayment.objects.create(
        booking=b1, kind="deposit", status="paid", currency="EUR", price_minor=3000,
        amount_minor=1000, fee_minor=50, balance_due_minor=2000, paid_minor=1000,
        paid_at=paris(20, 9), balance_paid_at=paris(23, 10, 30),
        destination_account_id="acct_dash", idempotency_key="dash-deposit",
    )  # fmt: skip
    full = BookingPayment.objects.create(
        booking=b7, kind="full", status="partially_refunded", currency="EUR", price_minor=3000,
        amount_minor=3000, fee_minor=150, balance_due_minor=0, paid_minor=3000,
        refunded_minor=1000, fee_refunded_minor=50, paid_at=paris(24, 10),
        destination_account_id="acct_dash", idempotency_key="dash-full",
    )  # fmt: skip
    PaymentRefund.objects.create(
        payment=full, amount_minor=1000, fee_refunded_minor=50, status="succeeded",
        origin="staff", idempotency_key="dash-refund", created_at=paris(2, 9, month=4),
        completed_at=paris(2, 9, 5, month=4),
    )  # fmt: skip
    return {"ada": ada, "ben": ben, "haircut": haircut, "yoga": yoga, "b1": b1, "b2": b2,
            "b3": b3, "b4": b4, "b7": b7, "b8": b8, "seats": seats, "deposit": deposit,
            "full": full, "customers": people}  # fmt: skip
