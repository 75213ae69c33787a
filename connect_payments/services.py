"""Writes of payments: Connect onboarding, booking payments, refunds, webhook events.

Stripe calls never run inside a database transaction: each operation reserves its row locally
(with the idempotency key it will use), calls Stripe outside any transaction, then records the
result. A failed call leaves the reservation in place, to be retried with the same key, so a retry
never creates a second PaymentIntent or refund.

Handlers are idempotent and order-independent: they re-read the object from Stripe and move the
local state forward only (a payment recorded as paid is never "unpaid" by a late event).

Lock order (always this order): BookingPayment row → StaffMember row → Resource row →
Occurrence row → Booking rows (the scheduling order after the payment).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django_tenants.utils import schema_context
from psycopg import errors as pg_errors

from billing.selectors import fee_rate_of
from scheduling.cancellation_policy import RefundDecision
from scheduling.exceptions import BookingError, InvalidTransition
from scheduling.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEvent,
    BookingStatus,
    Occurrence,
    PaymentMode,
    Resource,
    Service,
    StaffMember,
)
from scheduling.services import SYSTEM, Actor, booking_cancel, booking_confirm, booking_expire
from tenants.models import Tenant

from . import gateway
from .fees import application_fee_minor, deposit_minor, discount_minor
from .gateway import PaymentProviderUnavailable
from .models import (
    PAID_STATUSES,
    BookingPayment,
    ConnectedAccount,
    PaymentEvent,
    PaymentKind,
    PaymentRefund,
    PaymentStatus,
    PromoCode,
    PromoKind,
    RefundOrigin,
    RefundStatus,
    StripeEvent,
    StripeEventOutcome,
)

logger = logging.getLogger(__name__)

ONLINE_MODES = (PaymentMode.ONLINE_FULL, PaymentMode.ONLINE_DEPOSIT)


# ---------------------------------------------------------------------------
# Domain errors (BookingError: scheduling.api maps them to HTTP responses)
# ---------------------------------------------------------------------------
class PaymentsUnavailable(BookingError):
    code = "payments_unavailable"
    http_status = 409
    default_message = (
        "This business cannot take online payments yet, so this service cannot be booked "
        "online. Please contact the business to book it."
    )


class PaymentNotPossible(BookingError):
    code = "payment_not_possible"
    http_status = 409
    default_message = "This booking cannot be paid any more."


class PromoCodeInvalid(BookingError):
    code = "promo_code_invalid"
    http_status = 400
    default_message = "This promo code is not valid."


class RefundRefused(BookingError):
    code = "refund_refused"
    http_status = 400
    default_message = "This refund is not possible."


# ---------------------------------------------------------------------------
# Tenant, account and fee
# ---------------------------------------------------------------------------
def current_tenant() -> Tenant:
    """The tenant of the connection's schema (`schema_context` in tasks sets only a name)."""
    schema = connection.schema_name
    if not schema or schema == settings.PUBLIC_SCHEMA_NAME:
        raise RuntimeError("Booking payments run in a tenant's schema.")
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant) and tenant.schema_name == schema:
        return tenant
    return Tenant.objects.get(schema_name=schema)


def connected_account_of(tenant: Tenant) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(tenant_id=tenant.pk).first()


def online_payment_available(tenant: Tenant) -> bool:
    return ConnectedAccount.objects.filter(tenant_id=tenant.pk, charges_enabled=True).exists()


def service_needs_online_payment(service: Service) -> bool:
    return service.payment_mode in ONLINE_MODES and service.price_minor > 0


def booking_payment_check_available(*, service: Service) -> None:
    """Refuse, before any hold, a service paid online when the business cannot take payments."""
    if service_needs_online_payment(service) and not online_payment_available(current_tenant()):
        raise PaymentsUnavailable()


# ---------------------------------------------------------------------------
# Promo codes
# ---------------------------------------------------------------------------
REDEEMED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def promo_discount_minor(*, promo: PromoCode, price_minor: int) -> int:
    if promo.kind == PromoKind.PERCENT:
        return discount_minor(price_minor=price_minor, percent=promo.percent, amount_minor=None)
    return discount_minor(price_minor=price_minor, percent=None, amount_minor=promo.amount_minor)


def promo_uses(promo: PromoCode, *, now: datetime | None = None) -> QuerySet[BookingPayment]:
    """The payments that use up one redemption of a code: confirmed (completed, no-show)
    bookings, and live holds, which reserve theirs so the last use cannot be sold twice at
    confirmation. An expired, cancelled or run-out hold uses nothing."""
    now = now or timezone.now()
    return BookingPayment.objects.filter(promo_code=promo).filter(
        Q(booking__status__in=REDEEMED_STATUSES)
        | Q(booking__status=BookingStatus.HELD, booking__hold_expires_at__gt=now)
    )


def _check_promo_limits(promo: PromoCode, *, customer_email: str, now: datetime) -> None:
    uses = promo_uses(promo, now=now)
    if promo.max_redemptions is not None and uses.count() >= promo.max_redemptions:
        raise PromoCodeInvalid("This promo code has been used up.")
    if promo.max_per_customer is not None and (
        uses.filter(booking__customer__email__iexact=customer_email.strip()).count()
        >= promo.max_per_customer
    ):
        raise PromoCodeInvalid("You have already used this promo code.")


def promo_code_for_hold(
    *, code: object, service: Service, customer_email: str, now: datetime | None = None
) -> PromoCode | None:
    """Validate a promo code typed at booking time (before the hold); None when none was given.

    The limits are checked here to answer early; they are decided for good under the code's row
    lock when the payment is reserved (`booking_payment_reserve`).
    """
    if code is None or code == "":
        return None
    if not isinstance(code, str) or len(code) > 40:
        raise PromoCodeInvalid()
    code = code.strip()
    if not code:
        return None
    if not service_needs_online_payment(service):
        raise PromoCodeInvalid("Promo codes apply to services paid online.")
    promo = PromoCode.objects.filter(code__iexact=code, is_active=True).first()
    if promo is None:
        raise PromoCodeInvalid("This promo code does not exist.")
    now = now or timezone.now()
    if promo.valid_from and now < promo.valid_from:
        raise PromoCodeInvalid("This promo code is not valid yet.")
    if promo.valid_until and now >= promo.valid_until:
        raise PromoCodeInvalid("This promo code has expired.")
    if promo.services.exists() and not promo.services.filter(pk=service.pk).exists():
        raise PromoCodeInvalid("This promo code does not apply to this service.")
    _check_promo_limits(promo, customer_email=customer_email, now=now)
    if promo_discount_minor(promo=promo, price_minor=service.price_minor) >= service.price_minor:
        # A booking paid online must still pay something (Stripe has a minimum charge).
        raise PromoCodeInvalid("This promo code cannot be used for this service.")
    return promo


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------
def _record(
    payment: BookingPayment,
    *,
    action: str,
    actor: Actor = SYSTEM,
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    PaymentEvent.objects.create(
        payment=payment,
        action=action,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        message=message,
        data=dict(data or {}),
    )


# ---------------------------------------------------------------------------
# Pay to book
# ---------------------------------------------------------------------------
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
                _check_promo_limits(
                    promo, customer_email=booking.customer.email, now=timezone.now()
                )
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
            _record(
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
        _record(
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
            _record(
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
    return _apply_intent(payment=payment, intent=intent)


def _apply_intent(*, payment: BookingPayment, intent: Any) -> BookingPayment:
    refunds_due: list[int] = []
    with transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        if locked.payment_intent_id and locked.payment_intent_id != intent.id:
            raise ValueError("PaymentIntent does not belong to this payment.")
        before = _tracked(locked)
        locked.intent_status = intent.status
        if intent.status == "succeeded" and locked.paid_minor == 0:
            refunds_due = _record_success(locked, intent)
        elif intent.status == "requires_payment_method" and locked.paid_minor == 0:
            message = _intent_error_message(intent)
            if message and message != locked.last_error:
                locked.last_error = message
                _record(locked, action="creneau.payment.failed", message=message)
        elif intent.status == "canceled" and locked.paid_minor == 0:
            if locked.status != PaymentStatus.CANCELED:
                locked.status = PaymentStatus.CANCELED
                _record(locked, action="creneau.payment.canceled")
        # Saved only when something changed: `updated_at` decides what the reconciliation
        # looks at again, and a sync that finds nothing new must not keep a payment "recent".
        if _tracked(locked) != before:
            locked.updated_at = timezone.now()
            locked.save()
    for refund_id in refunds_due:
        refund_execute(refund=PaymentRefund.objects.get(pk=refund_id))
    payment.refresh_from_db()
    return payment


def _tracked(payment: BookingPayment) -> tuple:
    return (
        payment.intent_status,
        payment.status,
        payment.paid_minor,
        payment.refunded_minor,
        payment.fee_refunded_minor,
        payment.last_error,
        payment.charge_id,
    )


def _record_success(payment: BookingPayment, intent: Any) -> list[int]:
    """Inside the payment's lock: record the money, then settle the booking. Returns refunds to
    execute after commit (a payment for a booking that no longer exists is given back)."""
    payment.paid_minor = int(intent.amount_received or intent.amount)
    payment.charge_id = str(intent.latest_charge or "")
    payment.status = PaymentStatus.PAID
    payment.last_error = ""
    payment.paid_at = timezone.now()
    payment.save()
    _record(
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
        _record(
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
    refund = _reserve_refund(
        payment, amount_minor=payment.paid_minor, origin=origin, reason=reason, actor=SYSTEM
    )
    return [refund.pk]


def _is_exclusion_violation(error: IntegrityError) -> bool:
    return isinstance(error.__cause__, pg_errors.ExclusionViolation)


def booking_retake_after_late_payment(*, booking: Booking, now: datetime | None = None) -> bool:
    """Expired → confirmed when the slot is still free (a payment arrived after the hold ran out).

    scheduling.services has no transition out of `expired`, so this is the smallest one, with the
    same conditional update, locks and BookingEvent as scheduling's own transitions. Returns False
    when the time was taken meanwhile (the caller refunds).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            StaffMember.objects.select_for_update().filter(pk=booking.staff_id).exists()
            if booking.resource_id:
                Resource.objects.select_for_update().filter(pk=booking.resource_id).exists()
            if booking.occurrence_id:
                occurrence = Occurrence.objects.select_for_update().get(pk=booking.occurrence_id)
                taken = Booking.objects.filter(
                    occurrence=occurrence, status__in=ACTIVE_STATUSES
                ).count()
                if occurrence.is_cancelled or taken >= occurrence.capacity:
                    return False
            else:
                overlap = Q(occupied__overlap=booking.occupied) & (
                    Q(staff_id=booking.staff_id)
                    | (Q(resource_id=booking.resource_id) if booking.resource_id else Q(pk__in=[]))
                )
                stale = list(
                    Booking.objects.select_for_update()
                    .filter(overlap, status=BookingStatus.HELD, hold_expires_at__lte=now)
                    .values_list("pk", flat=True)
                )
                if stale:
                    booking_expire(booking_ids=stale, now=now)
                if booking.resource_id and not booking.resource_exclusive:
                    resource = Resource.objects.get(pk=booking.resource_id)
                    in_use = Booking.objects.filter(
                        resource_id=resource.pk,
                        status__in=ACTIVE_STATUSES,
                        occupied__overlap=booking.occupied,
                    ).count()
                    if in_use >= resource.quantity:
                        return False
            updated = Booking.objects.filter(pk=booking.pk, status=BookingStatus.EXPIRED).update(
                status=BookingStatus.CONFIRMED, hold_expires_at=None
            )
            if updated != 1:
                return False
            BookingEvent.objects.create(
                booking_id=booking.pk,
                actor_label=SYSTEM.label,
                action="creneau.booking.confirmed",
                from_status=BookingStatus.EXPIRED,
                to_status=BookingStatus.CONFIRMED,
                reason="Paid after the hold expired; the time was still free.",
            )
    except IntegrityError as error:
        if _is_exclusion_violation(error):
            return False
        raise
    return True


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
            _record(
                payment,
                action="creneau.payment.balance_paid_at_venue",
                actor=actor,
                data={"balance_minor": payment.balance_due_minor},
            )
    payment.refresh_from_db()
    return payment


# ---------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------
def refundable_minor(payment: BookingPayment) -> int:
    """What may still be refunded: paid − refunds done or under way."""
    reserved = payment.refunds.filter(
        status__in=(RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    ).aggregate(total=Sum("amount_minor"))["total"]
    return payment.paid_minor - (reserved or 0)


def _reserve_refund(
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
    _record(
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
            params=params,  # type: ignore[arg-type]
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
        _record(
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
            _record(
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
        _record(payment, action="creneau.refund.failed_outside", data={"refund": failed.pk})
        return None
    reissues, earlier = 0, failed
    while earlier.replaces_id is not None:
        reissues += 1
        earlier = PaymentRefund.objects.get(pk=earlier.replaces_id)
    if reissues >= MAX_REFUND_REISSUES:
        _record(
            payment,
            action="creneau.refund.needs_attention",
            message=f"Refund failed {reissues + 1} times at Stripe; not re-issued again.",
            data={"refund": failed.pk},
        )
        logger.error("payment.refund_gave_up", extra={"refund": failed.pk})
        return None
    try:
        replacement = _reserve_refund(
            payment,
            amount_minor=failed.amount_minor,
            origin=failed.origin,
            reason=f"Re-issue of refund {failed.pk}, which Stripe reported failed "
            f"({failed.last_error}).",
            actor=SYSTEM,
        )
    except RefundRefused as error:
        _record(
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


def _refund_failure_reported(*, payment: BookingPayment, obj: Mapping[str, Any]) -> None:
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
        before = _tracked(locked)
        previous_fee_refunded = locked.fee_refunded_minor
        locked.refunded_minor = min(int(charge.amount_refunded), locked.paid_minor)
        locked.fee_refunded_minor = fee_refunded_total
        if locked.paid_minor:
            if locked.refunded_minor >= locked.paid_minor:
                locked.status = PaymentStatus.REFUNDED
            elif locked.refunded_minor > 0:
                locked.status = PaymentStatus.PARTIALLY_REFUNDED
        if _tracked(locked) != before:
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
        refund = _reserve_refund(
            locked, amount_minor=amount_minor, origin=origin, reason=reason, actor=actor
        )
    logger.info("payment.refund_requested", extra={"refund": refund.pk, "origin": origin})
    return refund_execute(refund=refund)


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
        _record(
            payment,
            action="creneau.payment.no_refund",
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
    _apply_intent(payment=payment, intent=intent)


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


# ---------------------------------------------------------------------------
# Connect onboarding (public schema)
# ---------------------------------------------------------------------------
def connected_account_create(*, tenant: Tenant, email: str) -> ConnectedAccount:
    """The tenant's Express account: one per tenant (idempotent locally and at Stripe)."""
    existing = ConnectedAccount.objects.filter(tenant_id=tenant.pk).first()
    if existing is not None:
        return existing
    account = gateway.stripe_client().v1.accounts.create(
        params={
            "type": "express",
            "country": tenant.country,
            "email": email,
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "business_profile": {"name": tenant.name},
            "metadata": {"tenant_schema": tenant.schema_name},
        },
        options={"idempotency_key": gateway.idempotency_key("account.create", tenant.pk)},
    )
    try:
        with transaction.atomic():
            record = ConnectedAccount.objects.create(tenant=tenant, account_id=account.id)
    except IntegrityError:
        return ConnectedAccount.objects.get(tenant_id=tenant.pk)
    logger.info("connect.account_created", extra={"tenant": tenant.schema_name})
    return connected_account_apply(account=account) or record


def connected_account_apply(*, account: Any) -> ConnectedAccount | None:
    """Copy a Stripe account's status onto the map (None for an account we do not know)."""
    requirements = account.requirements or {}
    currently_due = list(requirements.get("currently_due") or [])
    disabled_reason = requirements.get("disabled_reason") or ""
    updated = ConnectedAccount.objects.filter(account_id=account.id).update(
        charges_enabled=bool(account.charges_enabled),
        payouts_enabled=bool(account.payouts_enabled),
        details_submitted=bool(account.details_submitted),
        requirements_currently_due=currently_due,
        requirements_disabled_reason=disabled_reason,
        refreshed_at=timezone.now(),
    )
    if not updated:
        return None
    return ConnectedAccount.objects.get(account_id=account.id)


def connected_account_refresh(*, account_id: str) -> ConnectedAccount | None:
    """Re-read an account from Stripe (its state matters: payments depend on it)."""
    account = gateway.stripe_client().v1.accounts.retrieve(account_id)
    return connected_account_apply(account=account)


def account_link_url(*, account: ConnectedAccount, return_url: str, refresh_url: str) -> str:
    link = gateway.stripe_client().v1.account_links.create(
        params={
            "account": account.account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        }
    )
    return link.url


def dashboard_login_url(*, account: ConnectedAccount) -> str:
    link = gateway.stripe_client().v1.accounts.login_links.create(account.account_id)
    return link.url


# ---------------------------------------------------------------------------
# Webhook events
# ---------------------------------------------------------------------------
class InvalidWebhook(Exception):
    """A webhook that fails signature verification or is not a Stripe event."""


def _verified_event(payload: bytes, signature: str) -> dict[str, Any]:
    secrets = [
        s for s in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET) if s
    ]
    if not secrets:
        raise InvalidWebhook("No webhook signing secret is configured.")
    text = payload.decode("utf-8", errors="replace")
    last_error: Exception | None = None
    for secret in secrets:
        try:
            event = stripe.Webhook.construct_event(text, signature, secret)
        except stripe.SignatureVerificationError as error:
            last_error = error
            continue
        except ValueError as error:
            raise InvalidWebhook("The body is not a JSON event.") from error
        return event.to_dict()
    raise InvalidWebhook("Signature verification failed.") from last_error


def _schema_for_event(event: Mapping[str, Any]) -> str:
    """The tenant schema an event concerns: the account map for `account.*`, else metadata."""
    obj = (event.get("data") or {}).get("object") or {}
    event_type = str(event.get("type") or "")
    if event_type.startswith("account."):
        account_id = event.get("account") or obj.get("id")
        row = ConnectedAccount.objects.filter(account_id=account_id).select_related("tenant")
        found = row.first()
        return found.tenant.schema_name if found else ""
    metadata = obj.get("metadata") or {}
    schema = metadata.get("tenant_schema") if isinstance(metadata, Mapping) else None
    if isinstance(schema, str) and schema and schema != settings.PUBLIC_SCHEMA_NAME:
        if Tenant.objects.filter(schema_name=schema).exists():
            return schema
    return ""


def stripe_event_receive(*, payload: bytes, signature: str) -> StripeEvent | None:
    """Verify and store an event once; None for a duplicate. Processing is queued after commit."""
    event = _verified_event(payload, signature)
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise InvalidWebhook("The body is not a Stripe event.")
    known = StripeEvent.objects.filter(event_id=event_id).first()
    if known is not None:
        # A duplicate. Stripe redelivers until it gets a 2xx; an event whose processing failed
        # (Stripe unreachable while re-reading the object) is queued again, others ignored.
        if known.outcome == StripeEventOutcome.FAILED:
            _queue_processing(known)
        return None
    event_type = str(event.get("type") or "")[:80]
    handled = event_type in HANDLED_EVENTS
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event_id,
                type=event_type,
                account_id=str(event.get("account") or "")[:64],
                tenant_schema=_schema_for_event(event),
                payload=event,
                # Types without a handler are kept for the record and cost no task.
                outcome=StripeEventOutcome.RECEIVED if handled else StripeEventOutcome.IGNORED,
                processed_at=None if handled else timezone.now(),
            )
    except IntegrityError:  # the same event delivered concurrently
        return None
    if handled:
        _queue_processing(stored)
    return stored


def _queue_processing(stored: StripeEvent) -> None:
    from .tasks import process_stripe_event

    def queue() -> None:
        # tenant-schemas-celery sends the current schema with the task.
        with schema_context(stored.tenant_schema or settings.PUBLIC_SCHEMA_NAME):
            process_stripe_event.delay(stored.pk)

    transaction.on_commit(queue)


PAYMENT_INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.processing",
}
REFUND_EVENTS = {
    "charge.refunded",
    "charge.refund.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
}
HANDLED_EVENTS = {"account.updated"} | PAYMENT_INTENT_EVENTS | REFUND_EVENTS


def stripe_event_process(*, event_pk: int) -> str:
    """Apply one stored event in its tenant's schema; returns the outcome."""
    event = StripeEvent.objects.get(pk=event_pk)
    if event.outcome in (StripeEventOutcome.PROCESSED, StripeEventOutcome.IGNORED):
        return event.outcome
    StripeEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1)
    obj = (event.payload.get("data") or {}).get("object") or {}
    outcome = StripeEventOutcome.IGNORED
    if event.type == "account.updated":
        account_id = str(event.account_id or obj.get("id") or "")
        if account_id and connected_account_refresh(account_id=account_id) is not None:
            outcome = StripeEventOutcome.PROCESSED
    elif event.tenant_schema and (
        event.type in PAYMENT_INTENT_EVENTS or event.type in REFUND_EVENTS
    ):
        with schema_context(event.tenant_schema):
            payment = _payment_for_object(obj)
            if payment is not None:
                if event.type in PAYMENT_INTENT_EVENTS:
                    booking_payment_sync(payment=payment)
                else:
                    _refund_failure_reported(payment=payment, obj=obj)
                    booking_payment_sync_refunds(payment=payment)
                outcome = StripeEventOutcome.PROCESSED
    StripeEvent.objects.filter(pk=event.pk).update(
        outcome=outcome, processed_at=timezone.now(), error=""
    )
    logger.info(
        "stripe.event_processed",
        extra={"event": event.event_id, "type": event.type, "outcome": outcome},
    )
    return outcome


def _payment_for_object(obj: Mapping[str, Any]) -> BookingPayment | None:
    """The payment a PaymentIntent, charge or refund belongs to (in the current schema)."""
    intent_id = (
        obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    )
    if not intent_id:
        return None
    payment = BookingPayment.objects.filter(payment_intent_id=intent_id).first()
    if payment is not None:
        return payment
    # The PaymentIntent was made but its id never recorded (the process stopped between the
    # call and the write): the metadata names the booking.
    reference = (obj.get("metadata") or {}).get("booking_reference")
    if obj.get("object") != "payment_intent" or not reference:
        return None
    payment = BookingPayment.objects.filter(
        booking__reference=reference, payment_intent_id__isnull=True
    ).first()
    if payment is None:
        return None
    BookingPayment.objects.filter(pk=payment.pk, payment_intent_id__isnull=True).update(
        payment_intent_id=intent_id,
        client_secret=str(obj.get("client_secret") or ""),
        status=PaymentStatus.AWAITING_PAYMENT,
    )
    payment.refresh_from_db()
    return payment


def stripe_event_failed(*, event_pk: int, error: str) -> None:
    StripeEvent.objects.filter(pk=event_pk).update(
        outcome=StripeEventOutcome.FAILED, error=error[:2000]
    )


# ---------------------------------------------------------------------------
# Reconciliation
# ---------------------------------------------------------------------------
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
            _record(payment, action="creneau.payment.reconciled", message=line)
            logger.info("payment.reconciled", extra={"payment": payment.pk, "change": line})
            fixed.append(line)
    return fixed


def promo_code_create(*, data: Mapping[str, Any], actor: Actor) -> PromoCode:
    """Create a promo code from a validated PromoCodeForm's data."""
    with transaction.atomic():
        promo = PromoCode.objects.create(
            code=data["code"],
            kind=data["kind"],
            percent=data["percent"],
            amount_minor=data["amount_minor"],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            max_redemptions=data.get("max_redemptions"),
            max_per_customer=data.get("max_per_customer"),
        )
        promo.services.set(data.get("services") or [])
    logger.info("promo_code.created", extra={"promo": promo.pk, "by": actor.user_id})
    return promo


def promo_code_deactivate(*, promo: PromoCode) -> None:
    PromoCode.objects.filter(pk=promo.pk).update(is_active=False)
