"""Reconciliation: compare recent payments (booking payments, and no-show / late-cancellation
fees charged to cards on file) with Stripe and repair what a lost webhook left."""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import gateway
from ..models import BookingPayment, FeeCharge, FeeStatus
from .booking_payments import booking_payment_sync
from .card_fees import fee_event_record, fee_sync
from .history import payment_event_record
from .refunds import booking_payment_sync_refunds

logger = logging.getLogger(__name__)


def payments_reconcile(*, since: datetime) -> list[str]:
    """Compare recent payments with Stripe and repair what a lost webhook left behind.

    Returns one line per repair (also logged): confirmed bookings, recorded refunds, fees paid or
    refunded at Stripe, etc.
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
    fixed.extend(fees_reconcile(since=since))
    return fixed


# A fee the customer may still pay on the pay page is compared whatever its age: the webhook of a
# payment made days after the email may be the one that was lost.
_FEE_SYNCABLE = (FeeStatus.PENDING, FeeStatus.AWAITING_CUSTOMER, FeeStatus.FAILED)


def fees_reconcile(*, since: datetime) -> list[str]:
    """Compare recent fees (and every fee awaiting the customer) with Stripe: a fee paid at Stripe
    but not here becomes paid; a paid fee refunded in full at Stripe becomes refunded."""
    fixed: list[str] = []
    fees = (
        FeeCharge.objects.filter(
            Q(updated_at__gte=since)
            | Q(created_at__gte=since)
            | Q(status=FeeStatus.AWAITING_CUSTOMER)
        )
        .exclude(payment_intent_id__isnull=True)
        .select_related("booking")
    )
    for fee in fees:
        before = fee.status
        try:
            if fee.status in _FEE_SYNCABLE:
                fee = fee_sync(fee=fee)
            elif fee.status == FeeStatus.PAID:
                fee = _fee_sync_refund(fee)
        except stripe.StripeError as error:
            logger.warning(
                "fee.reconcile_failed", extra={"fee": fee.pk, "error": type(error).__name__}
            )
            continue
        if fee.status != before:
            line = f"{fee.booking.reference}: fee {before}→{fee.status}"
            fee_event_record(fee, action="creneau.fee.reconciled", message=line)
            logger.info("fee.reconciled", extra={"fee": fee.pk, "change": line})
            fixed.append(line)
    return fixed


def _fee_sync_refund(fee: FeeCharge) -> FeeCharge:
    """A paid fee whose charge Stripe refunded in full (from Stripe's dashboard, or our refund
    whose answer was lost) is refunded here too; a partial refund is left for a person."""
    listed = gateway.stripe_client().v1.refunds.list(
        params={"payment_intent": fee.payment_intent_id or "", "limit": 100}
    )
    succeeded = [refund for refund in listed.data if refund.status == "succeeded"]
    if sum(refund.amount for refund in succeeded) < fee.amount_minor:
        return fee
    with transaction.atomic():
        locked = FeeCharge.objects.select_for_update().get(pk=fee.pk)
        if locked.status == FeeStatus.PAID:
            locked.status = FeeStatus.REFUNDED
            locked.refund_id = locked.refund_id or succeeded[0].id
            locked.updated_at = timezone.now()
            locked.save()
    fee.refresh_from_db()
    return fee
