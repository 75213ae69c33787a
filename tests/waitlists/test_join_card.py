"""Joining the waitlist of a service that requires a card on file asks for it: the consent to
the exact fees (the booking checkout's sentence and digest check), then a SetupIntent
(`usage=off_session`) confirmed through the Payment Element, against local Stripe over HTTP.
People whose card is not saved yet are skipped when a place frees up; the booking made from an
offer (or automatically) carries the consent and card, so its no-show fee is charged
off-session like any booking's."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from connect_payments.card_rules import CONSENT_VERSION
from connect_payments.models import CardSetup, CardSetupStatus, FeeCharge, FeeStatus, SavedCard
from scheduling.actors import CUSTOMER, SYSTEM
from scheduling.models import Booking, BookingStatus, CardOnFile, Service
from scheduling.services.bookings import booking_cancel, booking_mark_no_show
from tests.connect_payments.cards_support import POLICY_24H, confirm_setup, post_json
from tests.factories import client_for
from waitlists.models import (
    AcceptanceMode,
    EntryStatus,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistSettings,
)

from .conftest import build_yoga, fill

CONSENT = (
    "You authorise Alpha Studio to charge up to €15.00 to this card if you do not attend. "
    "Nothing is charged now."
)


@pytest.fixture
def card_class(alpha, alpha_account):
    """Yoga paid at the venue, a 15.00 no-show fee and a card on file required."""
    yoga = build_yoga(payment_mode="pay_at_venue")
    Service.objects.filter(pk=yoga["service"].pk).update(
        card_on_file=CardOnFile.REQUIRED, no_show_fee_fixed_minor=1500,
        late_cancel_fee_percent=None, cancellation_policy=POLICY_24H,
    )  # fmt: skip
    yoga["service"].refresh_from_db()
    yoga["seats"] = fill(yoga["session"])
    return yoga


def config_of(page) -> dict:
    text = page.content.decode()
    start = text.index('<script id="cr-config" type="application/json">') + len(
        '<script id="cr-config" type="application/json">'
    )
    return json.loads(text[start : text.index("</script>", start)])


def join(client, yoga, n: int, **extra):
    return client.post(f"/book/waitlist/{yoga['service'].pk}/", {
        "occurrence": yoga["session"].pk, "name": f"Waiting {n}",
        "email": f"wait{n}@example.test", **extra,
    })  # fmt: skip


def save_card(client, sdk, stripe_base_url, joined, payment_method="pm_card_visa") -> dict:
    """What waitlist_card.js does on the joined page: start, Stripe.js confirms, complete."""
    card = config_of(joined)["waitlist_card"]
    started = post_json(
        client,
        card["start_url"],
        {"token": card["token"], "consent_digest": card["consent_digest"]},
    )
    assert started.status_code == 200, started.content
    confirm_setup(sdk, stripe_base_url, started.json()["client_secret"], payment_method)
    completed = post_json(client, card["complete_url"], {"token": card["token"]})
    assert completed.status_code == 200, completed.content
    return {"started": started.json(), "completed": completed.json()}


def test_joining_asks_for_consent_and_a_card_and_only_saved_cards_are_offered(
    card_class, tenant_alpha, sdk, stripe_base_url, django_capture_on_commit_callbacks
):
    client = client_for(tenant_alpha)
    page = client.get(f"/book/waitlist/{card_class['service'].pk}/")
    assert CONSENT in page.content.decode()
    refused = join(client, card_class, 1)  # no consent ticked
    assert refused.status_code == 400 and "Please tick the box" in refused.content.decode()
    connection.set_tenant(tenant_alpha)
    assert not WaitlistEntry.objects.exists()

    first = join(client, card_class, 1, card_consent="on")  # joins, never saves the card
    assert first.status_code == 200 and 'id="cr-waitlist-card"' in first.content.decode()
    second = join(client, card_class, 2, card_consent="on")
    saved = save_card(client, sdk, stripe_base_url, second)
    assert saved["completed"] == {"card_saved": True, "card": "Visa •••• 4242", "error": None}

    connection.set_tenant(tenant_alpha)
    entry = WaitlistEntry.objects.get(email="wait2@example.test")
    setup = CardSetup.objects.get(pk=entry.card_setup_id)
    assert entry.needs_card and setup.status == CardSetupStatus.SAVED and setup.booking is None
    assert (setup.consent_text, setup.consent_version) == (CONSENT, CONSENT_VERSION)
    assert setup.no_show_fee_minor == 1500 and setup.consented_at is not None
    intent = sdk.v1.setup_intents.retrieve(setup.setup_intent_id)
    assert intent.usage == "off_session" and intent.status == "succeeded"
    # The digest of another text (the fees changed meanwhile) is refused.
    card = config_of(first)["waitlist_card"]
    changed = post_json(client, card["start_url"], {"token": card["token"], "consent_digest": "x"})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "consent_changed"

    connection.set_tenant(tenant_alpha)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=card_class["seats"][0], actor=CUSTOMER, by_business=False)
    offer = WaitlistOffer.objects.get()  # the first in line has no card yet: skipped
    assert offer.entry == entry
    assert WaitlistEntry.objects.get(email="wait1@example.test").status == EntryStatus.WAITING

    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(f"/book/waitlist/offer/{offer.pk}/",
                               {"token": offer.token, "action": "accept"})  # fmt: skip
    assert accepted.status_code == 302
    connection.set_tenant(tenant_alpha)
    booking = Booking.objects.get(customer__email="wait2@example.test")
    assert booking.status == BookingStatus.CONFIRMED
    carried = CardSetup.objects.get(booking=booking)
    assert (carried.status, carried.card, carried.consent_text) == (
        CardSetupStatus.SAVED, setup.card, CONSENT,
    )  # fmt: skip
    assert carried.consented_at == setup.consented_at

    # A no-show of that booking charges the fee off-session to the card saved when joining.
    with django_capture_on_commit_callbacks(execute=True):
        booking_mark_no_show(booking=booking, actor=SYSTEM, now=booking.starts_at)
    fee = FeeCharge.objects.get(booking=booking)
    assert (fee.status, fee.amount_minor) == (FeeStatus.PAID, 1500)
    paid = sdk.v1.payment_intents.retrieve(fee.payment_intent_id)
    assert paid.status == "succeeded" and paid.payment_method == setup.card.payment_method_id


def test_automatic_mode_books_with_the_card_saved_when_joining_and_can_charge_it(
    card_class, tenant_alpha, sdk, stripe_base_url, django_capture_on_commit_callbacks
):
    WaitlistSettings.objects.update_or_create(pk=1, defaults={"mode": AcceptanceMode.AUTOMATIC})
    client = client_for(tenant_alpha)
    save_card(client, sdk, stripe_base_url, join(client, card_class, 3, card_consent="on"))
    connection.set_tenant(tenant_alpha)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=card_class["seats"][1], actor=CUSTOMER, by_business=False)

    booking = Booking.objects.get(customer__email="wait3@example.test")
    assert booking.status == BookingStatus.CONFIRMED  # booked at once, no link to click
    assert WaitlistOffer.objects.get().status == OfferStatus.ACCEPTED
    assert CardSetup.objects.get(booking=booking).card == SavedCard.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        booking_mark_no_show(booking=booking, actor=SYSTEM, now=booking.starts_at)
    assert FeeCharge.objects.get(booking=booking).status == FeeStatus.PAID


def test_a_service_without_a_card_on_file_joins_as_before(yoga, tenant_alpha):
    client = client_for(tenant_alpha)
    fill(yoga["session"])
    joined = join(client, yoga, 4)
    assert joined.status_code == 200 and "cr-waitlist-card" not in joined.content.decode()
    connection.set_tenant(tenant_alpha)
    assert WaitlistEntry.objects.get().needs_card is False
