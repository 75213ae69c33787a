"""A booking paid with a credit (a pass or a membership) of a service that requires a card on
file asks for no card and owes no fee: its no-show or late cancellation costs the credit
instead (memberships' policy), and asking for a card again would charge twice for one missed
visit. The same service booked without a credit still asks for the card. Local Stripe."""

import pytest

from connect_payments.models import CardSetup, FeeCharge
from connect_payments.services.card_setup import (
    CardSetupRefused,
    card_required_unsaved,
    card_setup_start,
)
from memberships.models import CreditEntry
from memberships.services.credit_bookings import booking_with_credit
from scheduling.actors import CUSTOMER, SYSTEM
from scheduling.models import BookingStatus
from scheduling.services.bookings import booking_hold, booking_mark_no_show
from tests.memberships.conftest import grant_credits

from .cards_support import card_service
from .conftest import TEN_AM


@pytest.fixture
def service(alpha_account, catalogue):
    return card_service(catalogue["service"])  # pay at the venue, 20.00 no-show fee, card asked


def test_a_credit_booking_asks_no_card_and_a_no_show_costs_the_credit_not_a_fee(
    service, customer, django_capture_on_commit_callbacks
):
    grant = grant_credits(customer, services=[service])
    booking = booking_with_credit(service=service, customer=customer, actor=CUSTOMER,
                                  starts_at=TEN_AM)  # fmt: skip
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_mode == "credit"
    assert card_required_unsaved(booking) is False
    with pytest.raises(CardSetupRefused):
        card_setup_start(booking=booking, digest="", language="en")

    with django_capture_on_commit_callbacks(execute=True):
        booking_mark_no_show(booking=booking, actor=SYSTEM, now=booking.starts_at)
    assert not FeeCharge.objects.exists() and not CardSetup.objects.exists()
    kinds = set(CreditEntry.objects.filter(booking=booking).values_list("kind", flat=True))
    assert "spent" in kinds and "returned" not in kinds  # the credit is the no-show's cost
    grant.refresh_from_db()
    assert grant.remaining == 9


def test_the_same_service_booked_without_a_credit_still_asks_for_the_card(service, customer):
    booking = booking_hold(service=service, starts_at=TEN_AM, customer=customer)
    assert card_required_unsaved(booking) is True
