"""The booking-transition port (scheduling.ports.register_booking_transition): every status change
reaches the listeners inside its own transaction, expired holds included, so apps above scheduling
(credits, waitlists, fees) react without scheduling importing them."""

from datetime import timedelta

import pytest
from django.db import transaction

from scheduling import ports
from scheduling.actors import CUSTOMER
from scheduling.models import Booking, BookingEvent
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_expire_due_holds,
    booking_hold,
)

from .conftest import NOW, paris


@pytest.fixture
def seen():
    transitions: list[ports.BookingTransition] = []
    ports.register_booking_transition(transitions.append)
    yield transitions
    ports._booking_transition_listeners.remove(transitions.append)


def test_hold_confirm_cancel_and_expiry_reach_the_listener(catalogue, customer, seen):
    service = catalogue["service"]
    booking = booking_hold(service=service, starts_at=paris(2030, 6, 4, 10), customer=customer,
                           now=NOW)  # fmt: skip
    booking_confirm(booking=booking)
    booking_cancel(booking=booking, actor=CUSTOMER, by_business=False, now=NOW)
    other = booking_hold(service=service, starts_at=paris(2030, 6, 4, 14), customer=customer,
                         now=NOW)  # fmt: skip
    booking_expire_due_holds(now=other.hold_expires_at + timedelta(seconds=1))
    assert [(t.booking_id, t.from_status, t.to_status) for t in seen] == [
        (booking.pk, "", "held"),
        (booking.pk, "held", "confirmed"),
        (booking.pk, "confirmed", "cancelled"),
        (other.pk, "", "held"),
        (other.pk, "held", "expired"),
    ]
    assert seen[2].actor == CUSTOMER and seen[2].action == "creneau.booking.cancelled"


def test_a_failing_listener_rolls_the_transition_back(catalogue, customer):
    booking = booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, 4, 10),
                           customer=customer, now=NOW)  # fmt: skip

    def refuse(transition: ports.BookingTransition) -> None:
        raise RuntimeError("listener refused")

    ports.register_booking_transition(refuse)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            booking_confirm(booking=booking)
    finally:
        ports._booking_transition_listeners.remove(refuse)
    assert Booking.objects.get(pk=booking.pk).status == "held"
    assert not BookingEvent.objects.filter(booking=booking, to_status="confirmed").exists()
