"""Reconciliation: compare recent payments with Stripe and repair what a lost webhook left."""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from django.db.models import Q

from ..models import BookingPayment
from .booking_payments import booking_payment_sync
from .history import payment_event_record
from .refunds import booking_payment_sync_refunds

logger = logging.getLogger(__name__)


def payments_reconcile(*, since: datetime) -> list[str]:
    """Compare recent payments with Stripe and repair what a lost webhook left behind.

    Returns one line per repair (also logged): confirmed bookings, recorded refunds, etc.
    """
    fixed: list[str] = []
    recent = BookingPayment.objects.filter(
        Q(updated_at__gte=since) | Q(created_at__gte=since) | Q(refunds__status="pending")
    ).distinct()
    for payment in recent.select_related("booking"):
        before = (
            payment.status,
            payment.paid_minor,
            payment.refunded_minor,
            payment.booking.status,
        )
        try:
            if payment.payment_intent_id is None:
                continue
            payment = booking_payment_sync(payment=payment)
            if payment.paid_minor:
                payment = booking_payment_sync_refunds(payment=payment)
        except stripe.StripeError as error:
            logger.warning(
                "payment.reconcile_failed",
                extra={"payment": payment.pk, "error": type(error).__name__},
            )
            continue
        payment.booking.refresh_from_db()
        after = (payment.status, payment.paid_minor, payment.refunded_minor, payment.booking.status)
        if after != before:
            line = (
                f"{payment.booking.reference}: payment {before[0]}→{after[0]}, "
                f"paid {before[1]}→{after[1]}, refunded {before[2]}→{after[2]}, "
                f"booking {before[3]}→{after[3]}"
            )
            payment_event_record(payment, action="creneau.payment.reconciled", message=line)
            logger.info("payment.reconciled", extra={"payment": payment.pk, "change": line})
            fixed.append(line)
    return fixed
