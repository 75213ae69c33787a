"""A card on file asked when joining a waitlist, for a service (or a business default) that
requires one: the same consent text, digest check and SetupIntent (`usage=off_session`) as the
booking checkout (connect_payments/services/card_setup.py), on the service's current fees.

The person joins the line at once, but is offered places only once the card is saved
(`offers.CARD_READY`); the booking made when they take a place (or automatic mode books it)
carries a copy of their consent and card, so its no-show or late-cancellation fee is charged
off-session like any booking's. Stripe is called outside database transactions.
"""

from __future__ import annotations

from connect_payments.card_rules import consent_digest, consent_text
from connect_payments.models import CardSetup
from connect_payments.services.card_setup import (
    card_setup_complete,
    card_setup_for_booking,
    card_setup_start_for_request,
    service_fee_terms,
)
from scheduling.models import Booking, Service
from scheduling.services.customers import customer_upsert
from tenants.context import current_tenant

from .models import WaitlistEntry


def join_card_terms(service: Service, *, language: str) -> dict[str, object] | None:
    """What the join page shows and sends back: the consent sentence with the exact amounts and
    its digest; None when the service asks for no card."""
    terms = service_fee_terms(service)
    if terms is None:
        return None
    text = consent_text(business=current_tenant().name, terms=terms, language=language)
    return {
        "consent_text": text,
        "consent_digest": consent_digest(text),
        "no_show_fee_minor": terms.no_show_minor,
        "late_cancel_fee_minor": terms.late_cancel_minor,
        "currency": terms.currency,
    }


def request_key(entry: WaitlistEntry) -> str:
    return f"waitlist-entry-{entry.pk}"


def entry_card_start(*, entry: WaitlistEntry, digest: str, language: str) -> CardSetup:
    """Record the consent (refused if the text changed) and create the SetupIntent; idempotent."""
    customer = customer_upsert(name=entry.name, email=entry.email)
    setup = card_setup_start_for_request(customer=customer, service=entry.service,
                                         request_key=request_key(entry), digest=digest,
                                         language=language)  # fmt: skip
    WaitlistEntry.objects.filter(pk=entry.pk, card_setup__isnull=True).update(card_setup=setup)
    entry.card_setup = setup
    return setup


def entry_card_complete(*, entry: WaitlistEntry) -> CardSetup | None:
    """After `stripe.confirmSetup`: re-read the SetupIntent; once succeeded the card is kept
    (one saved card per card: same fingerprint, same card) and the person can be offered."""
    setup = CardSetup.objects.filter(request_key=request_key(entry)).first()
    if setup is None:
        return None
    return card_setup_complete(setup=setup)


def carry_card_to_booking(*, entry: WaitlistEntry, booking: Booking) -> None:
    """Inside the acceptance's transaction: the booking gets the consent and card given when
    joining (nothing when that card was never saved)."""
    if entry.card_setup_id is None:
        return
    setup = CardSetup.objects.filter(pk=entry.card_setup_id).select_related("card").first()
    if setup is not None:
        card_setup_for_booking(setup=setup, booking=booking)
