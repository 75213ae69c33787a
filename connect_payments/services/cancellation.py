"""The money side of a cancellation: what was paid, and the refund the policy grants."""

from __future__ import annotations

import logging

import stripe
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.cancellation_policy import RefundDecision
from scheduling.models import Booking

from .. import gateway
from ..models import (
    NO_REFUND_ACTION,
    BookingPayment,
    PaymentRefund,
    PaymentStatus,
    RefundOrigin,
)
from .booking_payments import booking_payment_apply_intent, booking_payment_sync
from .history import payment_event_record
from .refunds import booking_payment_refund, refundable_minor

logger = logging.getLogger(__name__)


def cancellation_amounts_of(*, booking: Booking) -> tuple[int, int]:
    """(paid_minor, already_refunded_minor) for `booking_cancel`: the money actually received."""
    payment = BookingPayment.objects.filter(booking=booking).first()
    if payment is None:
        return 0, 0
    paid = payment.paid_minor
    return paid, paid - refundable_minor(payment)


def booking_payment_refund_for_cancellation(
    *, booking: Booking, decision: RefundDecision, actor: Actor
) -> PaymentRefund | None:
    """After `booking_cancel` (customer or staff): execute the policy's refund through Stripe.

    An unpaid payment has its PaymentIntent canceled instead (should it succeed anyway, the
    payment handler refunds it in full: the booking no longer exists).
    """
    payment = BookingPayment.objects.filter(booking=booking).first()
    if payment is None:
        return None
    if payment.paid_minor == 0:
        _cancel_unpaid_intent(payment)
        return None
    if decision.amount_minor <= 0:
        payment_event_record(
            payment,
            action=NO_REFUND_ACTION,
            actor=actor,
            message=f"Cancellation: no refund ({decision.reason}).",
        )
        return None
    reason = f"Cancellation: {decision.percent}% refund ({decision.reason})."
    return booking_payment_refund(
        payment=payment,
        amount_minor=decision.amount_minor,
        reason=reason,
        actor=actor,
        origin=RefundOrigin.CANCELLATION,
    )


def _cancel_unpaid_intent(payment: BookingPayment) -> None:
    if not payment.payment_intent_id:
        BookingPayment.objects.filter(pk=payment.pk, paid_minor=0).update(
            status=PaymentStatus.CANCELED, updated_at=timezone.now()
        )
        return
    client = gateway.stripe_client()
    try:
        intent = client.v1.payment_intents.cancel(
            payment.payment_intent_id,
            params={"cancellation_reason": "abandoned"},
            options={"idempotency_key": gateway.idempotency_key("cancel", payment.idempotency_key)},
        )
    except stripe.StripeError:
        # Already succeeded (the customer paid meanwhile) or Stripe unavailable: re-read; a
        # success is then refunded by the payment handler because the booking is cancelled.
        try:
            booking_payment_sync(payment=payment)
        except stripe.StripeError:
            logger.warning("payment.cancel_intent_failed", extra={"payment": payment.pk})
        return
    booking_payment_apply_intent(payment=payment, intent=intent)
