"""Automatic mode: the place is booked at once and the saved card charged off-session.

Runs as a task after the offer committed (never inside a transaction: it calls Stripe through
the registered `SavedCardCharger`). The booking is made exactly as an accepted offer is (the
place's row lock, one accepted offer per place), then charged. A paid charge confirms the
booking the way a paid PaymentIntent does, and the confirmation email tells the customer; if
the booking was lost meanwhile (its hold ran out), the payments code refunds the charge in full.
A declined card gives the place back to the line: the hold is cancelled, the place reopened and
passed to the next person; the declined person stays in line, gets later offers by link, and an
email saying so.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from outbox.services import outbox_enqueue
from scheduling.actors import SYSTEM
from scheduling.services.bookings import booking_cancel
from tenants.context import active_schema

from ..emails import offer_email_send
from ..models import EntryStatus, FreedPlace, OfferStatus, PlaceStatus, WaitlistEntry, WaitlistOffer
from ..payment import saved_card_charger
from .offers import NOTICE_TASK, Outcome, offer_accept, place_pass_on

logger = logging.getLogger(__name__)


def offer_book_automatically(*, offer_id: int, now: datetime | None = None) -> str:
    charger = saved_card_charger()
    offer = WaitlistOffer.objects.get(pk=offer_id)
    if charger is None:  # the charger went away since the offer was made: send the link
        return offer_email_send(offer_id=offer_id)
    acceptance = offer_accept(offer=offer, actor=SYSTEM, now=now)
    if acceptance.outcome == Outcome.BOOKED:
        return "booked"  # nothing to pay online; the confirmation email tells the customer
    if acceptance.outcome == Outcome.ALREADY and acceptance.booking is not None:
        booking = acceptance.booking  # handed twice: charge with the same idempotency key
        if booking.status != "held":
            return "already"
    elif acceptance.outcome != Outcome.PAY or acceptance.booking is None:
        return acceptance.outcome
    else:
        booking = acceptance.booking
    result = charger.charge(booking=booking, idempotency_key=f"waitlist-offer-{offer.pk}")
    if result.paid:
        logger.info("waitlist.charged_automatically", extra={"offer": offer.pk})
        return "charged"
    now = now or timezone.now()
    with transaction.atomic():
        FreedPlace.objects.select_for_update().get(pk=offer.place_id)
        if WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.ACCEPTED).update(
            status=OfferStatus.CARD_DECLINED, decided_at=now
        ):  # told kindly, by email, after commit: still in line, later offers by link
            outbox_enqueue(NOTICE_TASK, args=[offer.pk], schema_name=active_schema())
        WaitlistEntry.objects.filter(pk=offer.entry_id).update(
            status=EntryStatus.WAITING, booking=None
        )
        FreedPlace.objects.filter(pk=offer.place_id).update(
            status=PlaceStatus.OPEN, booking=None, closed_at=None
        )
        booking_cancel(booking=booking, actor=SYSTEM, by_business=True,
                       reason=f"The saved card was declined: {result.message}"[:500])  # fmt: skip
    logger.info("waitlist.card_declined", extra={"offer": offer.pk})
    place_pass_on(place_id=offer.place_id, now=now)
    return "card_declined"
