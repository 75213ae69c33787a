"""Automatic mode's charger (`waitlists.payment.SavedCardCharger`): the held booking's payment
charged off-session to the card the customer saved with a previous booking (connect_payments'
cards on file), then recorded exactly like a paid PaymentIntent of the booking page.

The booking's payment record is reserved as for any hold (`booking_payment_reserve`: amount,
deposit, platform fee, destination) and its PaymentIntent created with the saved card,
`off_session` and `confirm`, under the record's own idempotency key, so a task handed twice
charges once. A paid intent goes through `booking_payment_apply_intent`: the booking is
confirmed, or, if it was lost meanwhile (the hold ran out and the seat went to someone else),
the money is refunded in full. Registered in `WaitlistsConfig.ready()`.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from connect_payments import gateway
from connect_payments.models import BookingPayment, PaymentStatus, SavedCard
from connect_payments.services.booking_payments import (
    booking_payment_apply_intent,
    booking_payment_reserve,
)
from connect_payments.services.history import payment_event_record
from scheduling.models import Booking
from tenants.context import current_tenant

from .payment import ChargeResult

logger = logging.getLogger(__name__)


def _card_of(email: str) -> SavedCard | None:
    return (
        SavedCard.objects.filter(owner__customer__email__iexact=email, removed_at__isnull=True)
        .select_related("owner")
        .order_by("-created_at", "-id")
        .first()
    )


def _params(payment: BookingPayment, card: SavedCard) -> dict[str, Any]:
    booking = payment.booking
    tenant = current_tenant()
    return {
        "amount": payment.amount_minor,
        "currency": payment.currency.lower(),
        "customer": card.owner.stripe_customer_id,
        "payment_method": card.payment_method_id,
        "payment_method_types": ["card"],
        "off_session": True,
        "confirm": True,
        "transfer_data": {"destination": payment.destination_account_id},
        "on_behalf_of": payment.destination_account_id,
        "application_fee_amount": payment.fee_minor,
        "metadata": {
            "tenant_schema": tenant.schema_name,
            "booking_reference": booking.reference,
            "creneau_waitlist": "automatic",
        },  # fmt: skip
        "description": f"{booking.service.name} · {tenant.name} · {booking.reference}",
    }


def _record_intent(payment: BookingPayment, intent_id: str, *, error: str = "") -> None:
    with transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        if not locked.payment_intent_id:
            locked.payment_intent_id = intent_id
            locked.status = PaymentStatus.AWAITING_PAYMENT
        locked.last_error = error[:500]
        locked.updated_at = timezone.now()
        locked.save()
        payment_event_record(
            locked,
            action="creneau.payment.failed" if error else "creneau.payment.intent_created",
            message=error[:500],
            data={"payment_intent": intent_id, "off_session": True},
        )


class ConnectSavedCards:
    def has_saved_card(self, *, email: str) -> bool:
        return _card_of(email) is not None

    def charge(self, *, booking: Booking, idempotency_key: str) -> ChargeResult:
        card = _card_of(booking.customer.email)
        if card is None:
            return ChargeResult(paid=False, message="No saved card.")
        payment = booking_payment_reserve(booking=booking)
        if payment is None:
            return ChargeResult(paid=True)  # nothing is due online
        if payment.paid_minor:
            return ChargeResult(paid=True)  # handed twice: already paid
        try:
            intent = gateway.stripe_client().v1.payment_intents.create(
                params=_params(payment, card),  # type: ignore[arg-type]  # a plain dict
                options={"idempotency_key": payment.idempotency_key},
            )
        except stripe.CardError as error:
            failed = error.error.payment_intent if error.error else None
            message = str(error.user_message or error)
            _record_intent(payment, str(getattr(failed, "id", "") or ""), error=message)
            logger.info("waitlist.saved_card_declined", extra={"payment": payment.pk})
            return ChargeResult(paid=False, message=message)
        _record_intent(payment, intent.id)
        payment = booking_payment_apply_intent(payment=payment, intent=intent)
        return ChargeResult(paid=payment.paid_minor > 0,
                            message="" if payment.paid_minor else str(intent.status))  # fmt: skip
