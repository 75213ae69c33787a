"""Pay to book: reserve a held booking's payment, create its PaymentIntent, follow it to paid."""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.selectors import fee_rate_of
from scheduling.actors import SYSTEM, Actor
from scheduling.exceptions import InvalidTransition
from scheduling.models import Booking, BookingStatus, PaymentMode, Service
from scheduling.services.bookings import (
    booking_cancel,
    booking_confirm,
    booking_retake_after_late_payment,
)
from tenants.context import current_tenant

from .. import gateway
from ..exceptions import PaymentNotPossible, PaymentsUnavailable, PromoCodeInvalid, RefundRefused
from ..fees import application_fee_minor, deposit_minor
from ..gateway import PaymentProviderUnavailable
from ..models import (
    PAID_STATUSES,
    BookingPayment,
    PaymentKind,
    PaymentRefund,
    PaymentStatus,
    PromoCode,
    RefundOrigin,
)
from ..selectors import (
    ONLINE_MODES,
    connected_account_of,
    online_payment_available,
    service_needs_online_payment,
)
from .history import payment_event_record, payment_state
from .promo_codes import promo_discount_minor, promo_limits_check
from .refunds import refund_execute, refund_reserve

logger = logging.getLogger(__name__)


def booking_payment_check_available(*, service: Service) -> None:
    """Refuse, before any hold, a service paid online when the business cannot take payments."""
    if service_needs_online_payment(service) and not online_payment_available(current_tenant()):
        raise PaymentsUnavailable()


def booking_payment_reserve(
    *, booking: Booking, promo: PromoCode | None = None
) -> BookingPayment | None:
    """Create the local payment record of a held booking (no Stripe call); None if nothing is due
    online (pay at venue, free). Idempotent: a second call returns the same record."""
    if booking.payment_mode not in ONLINE_MODES or booking.price_minor <= 0:
        return None
    existing = BookingPayment.objects.filter(booking=booking).first()
    if existing is not None:
        return existing
    tenant = current_tenant()
    account = connected_account_of(tenant)
    if account is None or not account.charges_enabled:
        raise PaymentsUnavailable()
    service = booking.service
    discount = promo_discount_minor(promo=promo, price_minor=booking.price_minor) if promo else 0
    price = booking.price_minor - discount
    if promo is not None and price <= 0:
        # Checked before the hold against the service's price; a lower price (a member's)
        # can leave nothing to pay, and a booking paid online must pay something.
        raise PromoCodeInvalid("This promo code cannot be used for this service.")
    if booking.payment_mode == PaymentMode.ONLINE_DEPOSIT:
        kind = PaymentKind.DEPOSIT
        amount = deposit_minor(
            price_minor=price,
            deposit_fixed_minor=service.deposit_fixed_minor,
            deposit_percent=service.deposit_percent,
        )
    else:
        kind = PaymentKind.FULL
        amount = price
    fee = application_fee_minor(amount_minor=amount, rate=fee_rate_of(tenant))
    try:
        with transaction.atomic():
            if promo is not None:
                # The code's row lock serialises the holds racing for its last uses: each
                # counts the uses (this transaction's insert included) of the ones before it.
                promo = PromoCode.objects.select_for_update().get(pk=promo.pk)
                promo_limits_check(promo, customer_email=booking.customer.email, now=timezone.now())
            payment = BookingPayment.objects.create(
                booking=booking,
                kind=kind,
                currency=booking.currency,
                price_minor=booking.price_minor,
                promo_code=promo,
                discount_minor=discount,
                amount_minor=amount,
                fee_minor=fee,
                balance_due_minor=price - amount,
                destination_account_id=account.account_id,
                idempotency_key=gateway.idempotency_key(
                    "payment_intent.create", tenant.schema_name, booking.reference
                ),
            )
            payment_event_record(
                payment,
                action="creneau.payment.reserved",
                data={
                    "amount_minor": amount,
                    "fee_minor": fee,
                    "kind": kind,
                    "discount_minor": discount,
                    "promo_code": promo.code if promo else None,
                },
            )
    except IntegrityError:  # reserved concurrently
        return BookingPayment.objects.get(booking=booking)
    return payment


def _intent_params(payment: BookingPayment) -> dict[str, Any]:
    booking = payment.booking
    tenant = current_tenant()
    params: dict[str, Any] = {
        "amount": payment.amount_minor,
        "currency": payment.currency.lower(),
        "transfer_data": {"destination": payment.destination_account_id},
        "on_behalf_of": payment.destination_account_id,
        "application_fee_amount": payment.fee_minor,
        "metadata": {"tenant_schema": tenant.schema_name, "booking_reference": booking.reference},
        "description": f"{booking.service.name} · {tenant.name} · {booking.reference}",
        "automatic_payment_methods": {"enabled": True},
    }
    if booking.customer.email:
        params["receipt_email"] = booking.customer.email
    return params


def booking_payment_create_intent(*, payment: BookingPayment) -> BookingPayment:
    """Create the PaymentIntent of a reserved payment (same idempotency key on every attempt).

    Raises PaymentProviderUnavailable when Stripe fails; the reservation stays for a retry.
    """
    if payment.payment_intent_id:
        return payment
    try:
        intent = gateway.stripe_client().v1.payment_intents.create(
            # A plain dict, checked by the local server's and Stripe's validation, not the
            # SDK's TypedDict.
            params=_intent_params(payment),  # type: ignore[arg-type]
            options={"idempotency_key": payment.idempotency_key},
        )
    except stripe.StripeError as error:
        message = (
            "Online payment is temporarily unavailable. Your time is held: please try again in "
            "a moment."
        )
        BookingPayment.objects.filter(pk=payment.pk).update(
            provider_message=message, updated_at=timezone.now()
        )
        payment_event_record(
            payment,
            action="creneau.payment.provider_failed",
            message=str(error.user_message or error)[:500],
            data={"http_status": error.http_status},
        )
        logger.warning(
            "payment.intent_create_failed",
            extra={"payment": payment.pk, "http_status": error.http_status},
        )
        if gateway.is_provider_failure(error):
            raise PaymentProviderUnavailable(message) from error
        raise PaymentProviderUnavailable(
            "Online payment could not be prepared for this booking. Please contact the business."
        ) from error
    with transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        if not locked.payment_intent_id:
            locked.payment_intent_id = intent.id
            locked.client_secret = intent.client_secret or ""
            locked.intent_status = intent.status
            locked.status = PaymentStatus.AWAITING_PAYMENT
            locked.provider_message = ""
            locked.updated_at = timezone.now()
            locked.save()
            payment_event_record(
                locked, action="creneau.payment.intent_created", data={"payment_intent": intent.id}
            )
    payment.refresh_from_db()
    return payment


def booking_payment_start(
    *, booking: Booking, promo: PromoCode | None = None
) -> BookingPayment | None:
    """After a hold commits: reserve the payment and create its PaymentIntent.

    A Stripe failure keeps the hold and the reservation (status "unavailable" for the widget);
    `POST /api/v1/bookings/<reference>/payment/` retries with the same idempotency key.
    A promo code whose last use another hold took meanwhile releases this hold and raises
    PromoCodeInvalid (400 `promo_code_invalid`): the customer never gets a price they did not see.
    """
    try:
        payment = booking_payment_reserve(booking=booking, promo=promo)
    except PromoCodeInvalid:
        booking_cancel(
            booking=booking,
            actor=SYSTEM,
            by_business=False,
            reason="The promo code was used up while the time was being held.",
        )
        raise
    if payment is None:
        return None
    try:
        return booking_payment_create_intent(payment=payment)
    except PaymentProviderUnavailable:
        payment.refresh_from_db()
        return payment


def booking_payment_retry(*, booking: Booking) -> BookingPayment:
    """The customer's retry after a Stripe failure: 409 if the booking is no longer held."""
    payment = BookingPayment.objects.filter(booking=booking).first()
    if booking.status != BookingStatus.HELD:
        raise PaymentNotPossible(
            "This booking is no longer waiting for payment."
            if payment is None or payment.status not in PAID_STATUSES
            else "This booking is already paid."
        )
    if payment is None:
        payment = booking_payment_reserve(booking=booking)
        if payment is None:
            raise PaymentNotPossible("This booking has nothing to pay online.")
    return booking_payment_create_intent(payment=payment)


def _intent_error_message(intent: Any) -> str:
    error = getattr(intent, "last_payment_error", None)
    if not error:
        return ""
    return str(error.get("message") or "") if hasattr(error, "get") else ""


def booking_payment_sync(*, payment: BookingPayment) -> BookingPayment:
    """Re-read the PaymentIntent from Stripe and move the local state forward."""
    if not payment.payment_intent_id:
        return payment
    intent = gateway.stripe_client().v1.payment_intents.retrieve(payment.payment_intent_id)
    return booking_payment_apply_intent(payment=payment, intent=intent)


def booking_payment_apply_intent(*, payment: BookingPayment, intent: Any) -> BookingPayment:
    refunds_due: list[int] = []
    with transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        if locked.payment_intent_id and locked.payment_intent_id != intent.id:
            raise ValueError("PaymentIntent does not belong to this payment.")
        before = payment_state(locked)
        locked.intent_status = intent.status
        if intent.status == "succeeded" and locked.paid_minor == 0:
            refunds_due = _record_success(locked, intent)
        elif intent.status == "requires_payment_method" and locked.paid_minor == 0:
            message = _intent_error_message(intent)
            if message and message != locked.last_error:
                locked.last_error = message
                payment_event_record(locked, action="creneau.payment.failed", message=message)
        elif intent.status == "canceled" and locked.paid_minor == 0:
            if locked.status != PaymentStatus.CANCELED:
                locked.status = PaymentStatus.CANCELED
                payment_event_record(locked, action="creneau.payment.canceled")
        # Saved only when something changed: `updated_at` decides what the reconciliation
        # looks at again, and a sync that finds nothing new must not keep a payment "recent".
        if payment_state(locked) != before:
            locked.updated_at = timezone.now()
            locked.save()
    for refund_id in refunds_due:
        refund_execute(refund=PaymentRefund.objects.get(pk=refund_id))
    payment.refresh_from_db()
    return payment


def _record_success(payment: BookingPayment, intent: Any) -> list[int]:
    """Inside the payment's lock: record the money, then settle the booking. Returns refunds to
    execute after commit (a payment for a booking that no longer exists is given back)."""
    payment.paid_minor = int(intent.amount_received or intent.amount)
    payment.charge_id = str(intent.latest_charge or "")
    payment.status = PaymentStatus.PAID
    payment.last_error = ""
    payment.paid_at = timezone.now()
    payment.save()
    payment_event_record(
        payment,
        action="creneau.payment.succeeded",
        data={"paid_minor": payment.paid_minor, "charge": payment.charge_id},
    )
    logger.info("payment.succeeded", extra={"payment": payment.pk})
    booking = Booking.objects.get(pk=payment.booking_id)
    if booking.status == BookingStatus.HELD:
        try:
            with transaction.atomic():
                booking_confirm(booking=booking, actor=SYSTEM, reason="Paid online.")
            return []
        except InvalidTransition:
            booking.refresh_from_db()
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        return []
    if booking.status == BookingStatus.EXPIRED and booking_retake_after_late_payment(
        booking=booking
    ):
        payment_event_record(
            payment,
            action="creneau.payment.slot_retaken",
            message="Paid after the hold expired; the time was still free.",
        )
        return []
    if booking.status == BookingStatus.EXPIRED:
        origin = RefundOrigin.SLOT_LOST
        reason = "Paid after the hold expired and the time was taken meanwhile: refunded in full."
    else:
        origin = RefundOrigin.BOOKING_GONE
        reason = "Paid for a booking that was already cancelled: refunded in full."
    refund = refund_reserve(
        payment, amount_minor=payment.paid_minor, origin=origin, reason=reason, actor=SYSTEM
    )
    return [refund.pk]


def booking_payment_on_return(*, booking: Booking) -> BookingPayment | None:
    """The customer's return path: re-read a held booking's PaymentIntent, confirm if paid.

    Stripe being unreachable is not an error here: the page shows the last known state.
    """
    payment = BookingPayment.objects.filter(booking=booking).first()
    if payment is None or not payment.payment_intent_id:
        return payment
    if booking.status == BookingStatus.HELD or payment.paid_minor == 0:
        try:
            payment = booking_payment_sync(payment=payment)
        except stripe.StripeError as error:
            logger.warning(
                "payment.return_sync_failed",
                extra={"payment": payment.pk, "error": type(error).__name__},
            )
    return payment


def booking_payment_mark_balance_paid(*, payment: BookingPayment, actor: Actor) -> BookingPayment:
    """Staff record that the deposit's balance was paid at the venue."""
    if payment.balance_due_minor == 0:
        raise RefundRefused("There is no balance due on this booking.")
    with transaction.atomic():
        updated = BookingPayment.objects.filter(pk=payment.pk, balance_paid_at__isnull=True).update(
            balance_paid_at=timezone.now(), updated_at=timezone.now()
        )
        if updated:
            payment_event_record(
                payment,
                action="creneau.payment.balance_paid_at_venue",
                actor=actor,
                data={"balance_minor": payment.balance_due_minor},
            )
    payment.refresh_from_db()
    return payment
