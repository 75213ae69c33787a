"""Automatic mode: a freed seat is booked at once for the first person in line and charged
off-session to the card they saved with an earlier booking (local Stripe over HTTP); a declined
saved card gives the seat back to the line and it goes to the next person."""

from __future__ import annotations

import pytest
from django.core import mail

from connect_payments.models import BookingPayment, CardCustomer, SavedCard
from scheduling.actors import CUSTOMER
from scheduling.models import Booking, BookingStatus
from scheduling.services.bookings import booking_cancel
from scheduling.services.customers import customer_upsert
from waitlists.models import (
    AcceptanceMode,
    EntryStatus,
    OfferStatus,
    PlaceStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)
from waitlists.services.entries import entry_join

from .conftest import fill


def saved_card(sdk, *, name: str, email: str, payment_method: str) -> SavedCard:
    """A card saved off-session at local Stripe, as the card-on-file step of an earlier
    booking leaves it (a SetupIntent confirmed with the card)."""
    customer = customer_upsert(name=name, email=email)
    at_stripe = sdk.v1.customers.create(params={"email": email, "name": name})
    setup = sdk.v1.setup_intents.create(params={
        "customer": at_stripe.id, "usage": "off_session", "payment_method_types": ["card"],
    })  # fmt: skip
    setup = sdk.v1.setup_intents.confirm(setup.id, params={"payment_method": payment_method})
    assert setup.status == "succeeded"
    owner = CardCustomer.objects.create(customer=customer, stripe_customer_id=at_stripe.id)
    return SavedCard.objects.create(owner=owner, payment_method_id=str(setup.payment_method),
                                    brand="visa", last4="4242")  # fmt: skip


@pytest.fixture
def automatic(yoga, alpha_account):
    WaitlistSettings.objects.update_or_create(pk=1, defaults={"mode": AcceptanceMode.AUTOMATIC})
    return yoga


def test_automatic_mode_books_and_charges_the_saved_card_at_once(
    automatic, sdk, django_capture_on_commit_callbacks
):
    seats = fill(automatic["session"])
    saved_card(sdk, name="Ada Auto", email="auto@example.test", payment_method="pm_card_visa")
    entry = entry_join(service=automatic["service"], name="Ada Auto", email="auto@example.test",
                       occurrence=automatic["session"])  # fmt: skip
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=seats[0], actor=CUSTOMER, by_business=False)

    booking = Booking.objects.get(customer__email="auto@example.test")
    assert booking.status == BookingStatus.CONFIRMED and booking.occurrence == automatic["session"]
    payment = BookingPayment.objects.get(booking=booking)
    assert payment.paid_minor == 2000
    intent = sdk.v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.status == "succeeded" and intent.amount == 2000
    assert intent.payment_method == SavedCard.objects.get().payment_method_id
    offer = WaitlistOffer.objects.get()
    assert offer.status == OfferStatus.ACCEPTED and offer.place.status == PlaceStatus.FILLED
    assert WaitlistEntry.objects.get(pk=entry.pk).status == EntryStatus.BOOKED
    # Told by the booking's confirmation email, not an offer link.
    sent = [m for m in mail.outbox if m.to == ["auto@example.test"]]
    assert len(sent) == 1 and "confirmed" in sent[0].subject.lower()
    assert "/book/waitlist/offer/" not in sent[0].body


def test_a_declined_saved_card_passes_the_seat_to_the_next_person(
    automatic, sdk, django_capture_on_commit_callbacks
):
    seats = fill(automatic["session"])
    # 4000000000000341: saves fine, every charge is declined.
    saved_card(sdk, name="Dee Declined", email="declined@example.test",
               payment_method="pm_card_chargeCustomerFail")  # fmt: skip
    saved_card(sdk, name="Nat Next", email="next@example.test", payment_method="pm_card_visa")
    first = entry_join(service=automatic["service"], name="Dee Declined",
                       email="declined@example.test", occurrence=automatic["session"])  # fmt: skip
    second = entry_join(service=automatic["service"], name="Nat Next", email="next@example.test",
                        occurrence=automatic["session"])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=seats[0], actor=CUSTOMER, by_business=False)

    declined = Booking.objects.get(customer__email="declined@example.test")
    assert declined.status == BookingStatus.CANCELLED  # the hold given back
    assert BookingPayment.objects.get(booking=declined).paid_minor == 0
    booked = Booking.objects.get(customer__email="next@example.test")
    assert booked.status == BookingStatus.CONFIRMED
    assert BookingPayment.objects.get(booking=booked).paid_minor == 2000
    offers = {o.entry_id: o for o in WaitlistOffer.objects.all()}
    assert offers[first.pk].status == OfferStatus.CARD_DECLINED
    assert offers[second.pk].status == OfferStatus.ACCEPTED
    assert offers[first.pk].place == offers[second.pk].place  # one seat, passed on
    assert WaitlistEntry.objects.get(pk=first.pk).status == EntryStatus.WAITING
    assert Booking.objects.filter(occurrence=automatic["session"],
                                  status__in=["held", "confirmed"]).count() == 2  # fmt: skip
    # Told kindly, once: declined, nothing booked nor charged, still in line, links from now.
    told = [m for m in mail.outbox if m.to == ["declined@example.test"]]
    assert [m.subject for m in told] == ["Your card was declined: Yoga, Tue 4 Jun, 18:00"]
    assert "still on the waitlist" in told[0].body and "nothing was charged" in told[0].body
    assert "/book/waitlist/leave/" in told[0].body
