"""Refunds: reserve, send to Stripe (retried with the same key), record, re-issue, reconcile."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import stripe
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from scheduling.actors import SYSTEM, Actor
from tenants.context import current_tenant

from .. import gateway
from ..exceptions import RefundRefused
from ..models import BookingPayment, PaymentRefund, PaymentStatus, RefundOrigin, RefundStatus
from .history import payment_event_record, payment_state

logger = logging.getLogger(__name__)


def refundable_minor(payment: BookingPayment) -> int:
    """What may still be refunded: paid − refunds done or under way."""
    reserved = payment.refunds.filter(
        status__in=(RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    ).aggregate(total=Sum("amount_minor"))["total"]
    return payment.paid_minor - (reserved or 0)


def refund_reserve(
    payment: BookingPayment, *, amount_minor: int, origin: str, reason: str, actor: Actor
) -> PaymentRefund:
    """Inside the payment's row lock: reserve a refund and its idempotency key."""
    if type(amount_minor) is not int or amount_minor <= 0:
        raise RefundRefused("Enter an amount greater than zero.")
    remaining = refundable_minor(payment)
    if amount_minor > remaining:
        raise RefundRefused(
            f"At most {remaining} (minor units) can still be refunded on this payment."
        )
    sequence = payment.refunds.count() + 1
    refund = PaymentRefund.objects.create(
        payment=payment,
        amount_minor=amount_minor,
        origin=origin,
        reason=reason,
        idempotency_key=gateway.idempotency_key(
            "refund.create", current_tenant().schema_name, payment.pk, sequence
        ),
        actor_user_id=actor.user_id,
        actor_label=actor.label,
    )
    payment_event_record(
        payment,
        action="creneau.payment.refund_requested",
        actor=actor,
        message=reason,
        data={"refund": refund.pk, "amount_minor": amount_minor, "origin": origin},
    )
    return refund


def refund_execute(*, refund: PaymentRefund) -> PaymentRefund:
    """Send a reserved refund to Stripe (same idempotency key on every attempt), record it.

    Stripe or network failure: stays pending (the retry task tries again). Refused by Stripe
    for good (an invalid request): failed, with Stripe's message.
    """
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    booking = payment.booking
    params: dict[str, Any] = {
        "payment_intent": payment.payment_intent_id,
        "amount": refund.amount_minor,
        "reverse_transfer": True,
        "metadata": {
            "tenant_schema": current_tenant().schema_name,
            "booking_reference": booking.reference,
            "creneau_refund_id": str(refund.pk),
        },
    }
    if payment.fee_minor > 0:
        params["refund_application_fee"] = True
    client = gateway.stripe_client()
    try:
        created = client.v1.refunds.create(
            params=params,  # type: ignore[arg-type]  # a plain dict, not the SDK's TypedDict
            options={"idempotency_key": refund.idempotency_key},
        )
    except stripe.StripeError as error:
        message = str(error.user_message or error)[:500]
        failed_for_good = not gateway.is_provider_failure(error)
        PaymentRefund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            attempts=refund.attempts + 1,
            last_error=message,
            status=RefundStatus.FAILED if failed_for_good else RefundStatus.PENDING,
        )
        payment_event_record(
            payment,
            action="creneau.payment.refund_failed"
            if failed_for_good
            else "creneau.payment.refund_retry_scheduled",
            message=message,
            data={"refund": refund.pk},
        )
        logger.warning(
            "payment.refund_failed", extra={"refund": refund.pk, "final": failed_for_good}
        )
        refund.refresh_from_db()
        return refund
    _record_refund_result(refund_pk=refund.pk, stripe_refund=created)
    try:
        payment_totals_sync(payment=payment)
    except stripe.StripeError:
        # The refund is made and recorded; the totals catch up with the next event or run of
        # the reconciliation.
        logger.warning("payment.totals_sync_failed", extra={"payment": payment.pk})
    refund.refresh_from_db()
    return refund


def _record_refund_result(*, refund_pk: int, stripe_refund: Any) -> None:
    """Record what Stripe says of one of our refunds (forward only: `failed` is final at Stripe,
    so a stale read or a late event never turns a failed refund back into a success).

    A refund Stripe made and then reports failed (card closed, account gone…) has not given the
    money back: it is re-issued as a new pending refund, which the retry task sends."""
    status = {
        "succeeded": RefundStatus.SUCCEEDED,
        "failed": RefundStatus.FAILED,
        "canceled": RefundStatus.FAILED,
    }.get(stripe_refund.status, RefundStatus.PENDING)
    with transaction.atomic():
        payment_id = PaymentRefund.objects.values_list("payment_id", flat=True).get(pk=refund_pk)
        payment = BookingPayment.objects.select_for_update().get(pk=payment_id)  # lock order
        refund = PaymentRefund.objects.select_for_update().get(pk=refund_pk)
        if (
            refund.status == RefundStatus.FAILED
            and status != RefundStatus.FAILED
            and refund.stripe_refund_id == stripe_refund.id
        ):
            return
        becomes_failed = status == RefundStatus.FAILED and refund.status != RefundStatus.FAILED
        changed = refund.stripe_refund_id != stripe_refund.id or refund.status != status
        refund.stripe_refund_id = stripe_refund.id
        refund.status = status
        refund.attempts += 1 if refund.completed_at is None else 0
        if status != RefundStatus.PENDING and refund.completed_at is None:
            refund.completed_at = timezone.now()
        if status == RefundStatus.FAILED:
            refund.last_error = str(getattr(stripe_refund, "failure_reason", "") or "failed")
        refund.save()
        if changed:
            payment_event_record(
                payment,
                action=f"creneau.refund.{status}",
                message=refund.last_error if status == RefundStatus.FAILED else "",
                data={
                    "refund": refund.pk,
                    "stripe_refund": stripe_refund.id,
                    "amount_minor": refund.amount_minor,
                },
            )
        if becomes_failed:
            _refund_reissue(payment, failed=refund)


# A refund that keeps failing (the card is gone) needs a person: after this many re-issues the
# last one stays failed and the payment's history says so.
MAX_REFUND_REISSUES = 3


def _refund_reissue(payment: BookingPayment, *, failed: PaymentRefund) -> PaymentRefund | None:
    """Inside the payment's row lock: reserve a new refund of a failed one's amount, with a new
    idempotency key (the refund's sequence number), for the retry task to send."""
    if failed.origin == RefundOrigin.STRIPE:
        # Made in the Stripe dashboard: whoever made it decides what to do next.
        payment_event_record(
            payment, action="creneau.refund.failed_outside", data={"refund": failed.pk}
        )
        return None
    reissues, earlier = 0, failed
    while earlier.replaces_id is not None:
        reissues += 1
        earlier = PaymentRefund.objects.get(pk=earlier.replaces_id)
    if reissues >= MAX_REFUND_REISSUES:
        payment_event_record(
            payment,
            action="creneau.refund.needs_attention",
            message=f"Refund failed {reissues + 1} times at Stripe; not re-issued again.",
            data={"refund": failed.pk},
        )
        logger.error("payment.refund_gave_up", extra={"refund": failed.pk})
        return None
    try:
        replacement = refund_reserve(
            payment,
            amount_minor=failed.amount_minor,
            origin=failed.origin,
            reason=f"Re-issue of refund {failed.pk}, which Stripe reported failed "
            f"({failed.last_error}).",
            actor=SYSTEM,
        )
    except RefundRefused as error:
        payment_event_record(
            payment,
            action="creneau.refund.needs_attention",
            message=str(error),
            data={"refund": failed.pk},
        )
        return None
    replacement.replaces = failed
    replacement.save(update_fields=["replaces"])
    logger.warning(
        "payment.refund_reissued", extra={"refund": failed.pk, "replacement": replacement.pk}
    )
    return replacement


def refund_failure_reported(*, payment: BookingPayment, obj: Mapping[str, Any]) -> None:
    """A verified event saying one of our refunds failed: applied even when the re-read of the
    refunds lags behind it, since `failed` is final at Stripe."""
    if obj.get("object") != "refund" or obj.get("status") != "failed":
        return
    ours = PaymentRefund.objects.filter(payment=payment, stripe_refund_id=obj.get("id")).first()
    if ours is None:
        return
    reported = SimpleNamespace(
        id=obj["id"], status="failed", failure_reason=obj.get("failure_reason") or ""
    )
    _record_refund_result(refund_pk=ours.pk, stripe_refund=reported)


def payment_totals_sync(*, payment: BookingPayment) -> BookingPayment:
    """Refunded and fee-refunded totals, as Stripe has them (charge + application fee)."""
    if not payment.charge_id:
        return payment
    charge = gateway.stripe_client().v1.charges.retrieve(
        payment.charge_id, params={"expand": ["application_fee"]}
    )
    fee = charge.application_fee
    fee_refunded_total = int(fee.amount_refunded) if fee and not isinstance(fee, str) else 0
    with transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        before = payment_state(locked)
        previous_fee_refunded = locked.fee_refunded_minor
        locked.refunded_minor = min(int(charge.amount_refunded), locked.paid_minor)
        locked.fee_refunded_minor = fee_refunded_total
        if locked.paid_minor:
            if locked.refunded_minor >= locked.paid_minor:
                locked.status = PaymentStatus.REFUNDED
            elif locked.refunded_minor > 0:
                locked.status = PaymentStatus.PARTIALLY_REFUNDED
        if payment_state(locked) != before:
            locked.updated_at = timezone.now()
            locked.save()
        # Attribute the new fee refund to the latest succeeded refund without one.
        new_fee = fee_refunded_total - previous_fee_refunded
        if new_fee > 0:
            target = (
                locked.refunds.filter(status=RefundStatus.SUCCEEDED, fee_refunded_minor=0)
                .order_by("-pk")
                .first()
            )
            if target is not None:
                target.fee_refunded_minor = new_fee
                target.save(update_fields=["fee_refunded_minor"])
    payment.refresh_from_db()
    return payment


def booking_payment_refund(
    *,
    payment: BookingPayment,
    amount_minor: int,
    reason: str,
    actor: Actor,
    origin: str = RefundOrigin.STAFF,
) -> PaymentRefund:
    """Refund any amount up to what remains, with a reason (staff with the refund permission)."""
    reason = reason.strip()
    if origin == RefundOrigin.STAFF and not reason:
        raise RefundRefused("Give a reason for this refund.")
    if payment.paid_minor == 0 or not payment.payment_intent_id:
        raise RefundRefused("Nothing was paid online for this booking.")
    with transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        refund = refund_reserve(
            locked, amount_minor=amount_minor, origin=origin, reason=reason, actor=actor
        )
    logger.info("payment.refund_requested", extra={"refund": refund.pk, "origin": origin})
    return refund_execute(refund=refund)


def refunds_retry_pending(*, max_attempts: int = 20) -> int:
    """Send again the refunds Stripe did not receive; returns how many succeeded now."""
    done = 0
    for refund in PaymentRefund.objects.filter(
        status=RefundStatus.PENDING, attempts__lt=max_attempts
    ).select_related("payment__booking"):
        if refund_execute(refund=refund).status == RefundStatus.SUCCEEDED:
            done += 1
    return done


def booking_payment_sync_refunds(*, payment: BookingPayment) -> BookingPayment:
    """Reconcile refunds with Stripe: ours by metadata or id, others (made in Stripe) added."""
    if not payment.payment_intent_id or payment.paid_minor == 0:
        return payment
    client = gateway.stripe_client()
    listed = client.v1.refunds.list(
        params={"payment_intent": payment.payment_intent_id, "limit": 100}
    )
    for stripe_refund in listed.data:
        metadata: Any = stripe_refund.metadata or {}
        ours = (
            PaymentRefund.objects.filter(payment=payment)
            .filter(
                Q(stripe_refund_id=stripe_refund.id)
                | Q(
                    pk=_int_or_none(
                        metadata["creneau_refund_id"] if "creneau_refund_id" in metadata else None
                    )
                )
            )
            .first()
        )
        if ours is not None:
            _record_refund_result(refund_pk=ours.pk, stripe_refund=stripe_refund)
            continue
        with transaction.atomic():
            BookingPayment.objects.select_for_update().get(pk=payment.pk)
            if PaymentRefund.objects.filter(stripe_refund_id=stripe_refund.id).exists():
                continue
            refund = PaymentRefund.objects.create(
                payment=payment,
                amount_minor=stripe_refund.amount,
                origin=RefundOrigin.STRIPE,
                reason="Refund made in Stripe.",
                idempotency_key=gateway.idempotency_key("refund.external", stripe_refund.id),
                stripe_refund_id=stripe_refund.id,
                status=RefundStatus.PENDING,
            )
        _record_refund_result(refund_pk=refund.pk, stripe_refund=stripe_refund)
    return payment_totals_sync(payment=payment)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
