"""Booking with a credit: hold (the credit is taken inside the hold) then confirm (spent).

Shared by the signed-in customer's widget step and the team's back office. The caller decides
who may spend the customer's credits: a signed-in customer (their account session) or a team
member; never an email typed into a form.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from scheduling import slots
from scheduling.actors import Actor
from scheduling.exceptions import InvalidTransition
from scheduling.models import Booking, BookingSource, Customer, Occurrence, Service
from scheduling.services.bookings import booking_confirm, booking_hold, booking_take_seat

from ..exceptions import lazy_text as _


def booking_with_credit(
    *,
    service: Service,
    customer: Customer,
    actor: Actor,
    starts_at: datetime | None = None,
    occurrence: Occurrence | None = None,
    staff_id: int | None = None,
    source: str = BookingSource.BOOKING_PAGE,
    team_booking: bool = False,
    now: datetime | None = None,
    language: str = "",
) -> Booking:
    """Book `service` (a time, or a seat in `occurrence` for a class) paid with one credit.
    `language`: the one the customer booked in (their emails' language; empty: the business's).

    Raises CreditUnavailable (nothing is held), the slot and session errors of scheduling.
    """
    now = now or timezone.now()
    if occurrence is not None:
        if occurrence.service_id != service.pk:
            raise InvalidTransition(_("This session is not one of this class."))
        if occurrence.starts_at <= now:
            raise slots.SlotInPast("This session has already started.")
        booking = booking_take_seat(occurrence=occurrence, customer=customer, source=source,
                                    now=now, actor=actor, use_credit=True,
                                    language=language)  # fmt: skip
    else:
        if starts_at is None:
            raise InvalidTransition(_("Choose a time."))
        booking = booking_hold(service=service, starts_at=starts_at, customer=customer,
                               staff_id=staff_id, source=source, now=now, actor=actor,
                               team_booking=team_booking, use_credit=True,
                               language=language)  # fmt: skip
    return booking_confirm(booking=booking, actor=actor, reason="Paid with a credit.")
