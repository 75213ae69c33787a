"""No-show and late-cancellation fees on a saved card: reserved when the booking changes status
(inside its transaction), charged off-session after commit through the outbox, and, when the
bank asks for authentication, left for the customer to pay through a signed link.

The fee is a destination charge on the platform (`transfer_data[destination]`, `on_behalf_of`,
`application_fee_amount`), like booking payments. One fee per booking (a unique row) and one
idempotency key per fee: staff clicking "no-show" twice, a task delivered twice or a retry after
a timeout charge the card once. Nothing is retried off-session after the bank asked for the
customer: the customer pays on the pay page, and gets one reminder after 48 hours.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.selectors import fee_rate_of
from outbox.services import outbox_enqueue
from scheduling import ports
from scheduling.actors import CUSTOMER, SYSTEM, Actor
from scheduling.models import Booking, BookingStatus
from tenants.context import current_tenant

from .. import gateway
from ..card_rules import cancellation_is_late
from ..exceptions import RefundRefused
from ..fees import application_fee_minor
from ..models import CardSetup, CardSetupStatus, FeeCharge, FeeEvent, FeeKind, FeeStatus
from ..selectors import connected_account_of

logger = logging.getLogger(__name__)

CHARGE_TASK = "connect_payments.tasks.charge_booking_fee"
ASK_CUSTOMER_TASK = "connect_payments.tasks.ask_customer_to_pay_fee"
REMINDER_AFTER = timedelta(hours=48)
WAIVABLE = (FeeStatus.AWAITING_CUSTOMER, FeeStatus.FAILED)


def fee_event_record(
    fee: FeeCharge,
    *,
    action: str,
    actor: Actor = SYSTEM,
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    FeeEvent.objects.create(
        fee=fee,
        action=action,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        message=message,
        data=dict(data or {}),
    )


# ---------------------------------------------------------------------------
# Reserve: inside the booking transition's transaction
# ---------------------------------------------------------------------------
def fee_on_booking_transition(transition: ports.BookingTransition) -> None:
    """`scheduling.ports.register_booking_transition` listener: a no-show, or a cancellation by
    the customer inside the late window, of a booking with a saved card owes its fee."""
    if transition.to_status == BookingStatus.NO_SHOW:
        kind = FeeKind.NO_SHOW
    elif (
        transition.to_status == BookingStatus.CANCELLED
        and transition.from_status == BookingStatus.CONFIRMED
        and transition.actor == CUSTOMER
    ):
        kind = FeeKind.LATE_CANCELLATION
    else:
        return
    setup = (
        CardSetup.objects.filter(booking_id=transition.booking_id, status=CardSetupStatus.SAVED)
        .select_related("booking")
        .first()
    )
    if setup is None or setup.booking is None:
        return
    booking = setup.booking
    if kind == FeeKind.NO_SHOW:
        amount = setup.no_show_fee_minor
    elif cancellation_is_late(
        starts_at=booking.starts_at,
        cancelled_at=timezone.now(),
        window_hours=setup.late_window_hours,
    ):
        amount = setup.late_cancel_fee_minor
    else:
        amount = 0
    if amount <= 0:
        return
    fee_reserve(booking=booking, setup=setup, kind=kind, amount_minor=amount)


def late_fee_if_cancelled_now(*, booking: Booking, now: datetime | None = None) -> int:
    """The fee the customer would owe by cancelling now (0: none), for the manage page."""
    setup = CardSetup.objects.filter(booking=booking, status=CardSetupStatus.SAVED).first()
    if setup is None or booking.status != BookingStatus.CONFIRMED:
        return 0
    late = cancellation_is_late(
        starts_at=booking.starts_at,
        cancelled_at=now or timezone.now(),
        window_hours=setup.late_window_hours,
    )
    return setup.late_cancel_fee_minor if late else 0


def fee_reserve(
    *, booking: Booking, setup: CardSetup, kind: str, amount_minor: int
) -> FeeCharge | None:
    """Write the fee and its outbox row in the current transaction (None: already owed, or the
    business cannot take payments: then nothing is charged and the log says why)."""
    tenant = current_tenant()
    account = connected_account_of(tenant)
    if account is None or not account.charges_enabled:
        logger.warning("fee.not_chargeable", extra={"booking": booking.pk, "reason": "account"})
        return None
    try:
        with transaction.atomic():
            fee = FeeCharge.objects.create(
                booking=booking,
                setup=setup,
                kind=kind,
                amount_minor=amount_minor,
                currency=setup.currency,
                application_fee_minor=application_fee_minor(
                    amount_minor=amount_minor, rate=fee_rate_of(tenant)
                ),
                destination_account_id=account.account_id,
                idempotency_key=gateway.idempotency_key(
                    "fee.payment_intent.create", tenant.schema_name, booking.reference
                ),
            )
    except IntegrityError:
        return None  # this booking's fee exists already
    fee_event_record(fee, action="creneau.fee.reserved", data={"amount_minor": amount_minor})
    outbox_enqueue(CHARGE_TASK, args=[fee.pk])
    return fee


# ---------------------------------------------------------------------------
# Charge off-session: the outbox task, after commit
# ---------------------------------------------------------------------------
def _intent_params(fee: FeeCharge) -> dict[str, Any]:
    setup = fee.setup
    booking = fee.booking
    tenant = current_tenant()
    assert setup.card is not None
    return {
        "amount": fee.amount_minor,
        "currency": fee.currency.lower(),
        "customer": setup.owner.stripe_customer_id,
        "payment_method": setup.card.payment_method_id,
        "payment_method_types": ["card"],
        "off_session": True,
        "confirm": True,
        "transfer_data": {"destination": fee.destination_account_id},
        "on_behalf_of": fee.destination_account_id,
        "application_fee_amount": fee.application_fee_minor,
        "description": f"{fee.get_kind_display()} · {tenant.name} · {booking.reference}",
        "metadata": {
            "tenant_schema": tenant.schema_name,
            "booking_reference": booking.reference,
            "creneau_fee_id": str(fee.pk),
        },
    }


def fee_charge_execute(*, fee_id: int) -> FeeCharge:
    """Charge a pending fee off-session (same idempotency key on every attempt).

    Raises PaymentProviderUnavailable-like `stripe.StripeError` for outages (the task retries);
    a decline is final (failed); `authentication_required` asks the customer.
    """
    fee = FeeCharge.objects.select_related("setup__card", "setup__owner", "booking").get(pk=fee_id)
    if fee.status != FeeStatus.PENDING:
        return fee
    card = fee.setup.card
    if card is None or card.removed_at is not None:
        _finish(fee, status=FeeStatus.FAILED, error="The customer removed the card on file.")
        return _reloaded(fee)
    try:
        intent = gateway.stripe_client().v1.payment_intents.create(
            params=_intent_params(fee),  # type: ignore[arg-type]  # a plain dict
            options={"idempotency_key": fee.idempotency_key},
        )
    except stripe.CardError as error:
        failed = error.error.payment_intent if error.error else None
        intent_id = str(getattr(failed, "id", "") or "") or None
        secret = str(getattr(failed, "client_secret", "") or "")
        if error.code == "authentication_required":
            _finish(
                fee,
                status=FeeStatus.AWAITING_CUSTOMER,
                intent_id=intent_id,
                client_secret=secret,
                error=str(error.user_message or error),
                ask_customer=True,
            )
        else:
            _finish(
                fee,
                status=FeeStatus.FAILED,
                intent_id=intent_id,
                error=str(error.user_message or error),
            )
        return _reloaded(fee)
    except stripe.StripeError as error:
        if gateway.is_provider_failure(error):
            raise
        _finish(fee, status=FeeStatus.FAILED, error=str(error.user_message or error)[:500])
        return _reloaded(fee)
    return fee_apply_intent(fee=fee, intent=intent)


def _reloaded(fee: FeeCharge) -> FeeCharge:
    fee.refresh_from_db()
    return fee


def _finish(
    fee: FeeCharge,
    *,
    status: str,
    intent_id: str | None = None,
    client_secret: str = "",
    error: str = "",
    charge_id: str = "",
    ask_customer: bool = False,
    sources: tuple[str, ...] = (FeeStatus.PENDING,),
) -> bool:
    """Move the fee forward under its row lock; False when another path got there first."""
    with transaction.atomic():
        locked = FeeCharge.objects.select_for_update().get(pk=fee.pk)
        if locked.status not in sources:
            return False
        locked.status = status
        if intent_id:
            locked.payment_intent_id = intent_id
        if client_secret:
            locked.client_secret = client_secret
        if charge_id:
            locked.charge_id = charge_id
        locked.last_error = error[:500]
        now = timezone.now()
        locked.updated_at = now
        if status == FeeStatus.PAID:
            locked.paid_at = now
            locked.last_error = ""
        locked.save()
        actions: dict[str, str] = {
            FeeStatus.PAID: "creneau.fee.charged",
            FeeStatus.AWAITING_CUSTOMER: "creneau.fee.authentication_required",
            FeeStatus.FAILED: "creneau.fee.failed",
        }
        action = actions.get(status, f"creneau.fee.{status}")
        fee_event_record(locked, action=action, message=error[:500])
        if ask_customer:
            outbox_enqueue(ASK_CUSTOMER_TASK, args=[locked.pk], kwargs={"reminder": False})
    logger.info("fee.status", extra={"fee": fee.pk, "status": status})
    return True


def fee_apply_intent(*, fee: FeeCharge, intent: Any) -> FeeCharge:
    """What Stripe says of the fee's PaymentIntent (off-session answer, page return, webhook)."""
    if fee.payment_intent_id and intent.id != fee.payment_intent_id:
        raise ValueError("PaymentIntent does not belong to this fee.")
    if intent.status == "succeeded":
        _finish(
            fee,
            status=FeeStatus.PAID,
            intent_id=intent.id,
            charge_id=str(intent.latest_charge or ""),
            sources=(FeeStatus.PENDING, FeeStatus.AWAITING_CUSTOMER, FeeStatus.FAILED),
        )
    elif intent.status in ("requires_action", "requires_payment_method") and not (
        fee.payment_intent_id
    ):
        _finish(
            fee,
            status=FeeStatus.AWAITING_CUSTOMER,
            intent_id=intent.id,
            client_secret=intent.client_secret or "",
            ask_customer=True,
        )
    return _reloaded(fee)


def fee_sync(*, fee: FeeCharge) -> FeeCharge:
    """Re-read the fee's PaymentIntent from Stripe (the pay page's return, the webhook)."""
    if not fee.payment_intent_id:
        return fee
    intent = gateway.stripe_client().v1.payment_intents.retrieve(fee.payment_intent_id)
    return fee_apply_intent(fee=fee, intent=intent)


def fee_for_intent(obj: Mapping[str, Any]) -> FeeCharge | None:
    """The fee a PaymentIntent belongs to (by id, else by its `creneau_fee_id` metadata)."""
    intent_id = obj.get("id") if obj.get("object") == "payment_intent" else None
    if not intent_id:
        return None
    fee = FeeCharge.objects.filter(payment_intent_id=intent_id).first()
    if fee is not None:
        return fee
    fee_id = str((obj.get("metadata") or {}).get("creneau_fee_id") or "")
    return FeeCharge.objects.filter(pk=int(fee_id)).first() if fee_id.isdigit() else None


# ---------------------------------------------------------------------------
# Asking the customer, and the reminder
# ---------------------------------------------------------------------------
def fees_due_for_reminder(*, now: datetime) -> list[int]:
    return list(
        FeeCharge.objects.filter(
            status=FeeStatus.AWAITING_CUSTOMER,
            customer_asked_at__lte=now - REMINDER_AFTER,
            reminder_sent_at__isnull=True,
        ).values_list("pk", flat=True)
    )


def fee_reminders_enqueue(*, now: datetime | None = None) -> int:
    """One reminder per fee still awaiting the customer 48 hours after the first email."""
    count = 0
    for fee_id in fees_due_for_reminder(now=now or timezone.now()):
        with transaction.atomic():
            outbox_enqueue(ASK_CUSTOMER_TASK, args=[fee_id], kwargs={"reminder": True})
            count += 1
    return count


def fee_claim_customer_email(*, fee_id: int, reminder: bool) -> FeeCharge | None:
    """Claim the (first or reminder) email of a fee awaiting the customer: None when it was
    sent already or the fee no longer awaits them (a second delivery sends nothing)."""
    column = "reminder_sent_at" if reminder else "customer_asked_at"
    claimed = FeeCharge.objects.filter(
        pk=fee_id, status=FeeStatus.AWAITING_CUSTOMER, **{f"{column}__isnull": True}
    ).update(**{column: timezone.now()})
    if not claimed:
        return None
    fee = FeeCharge.objects.select_related("booking__customer", "booking__service").get(pk=fee_id)
    fee_event_record(
        fee, action="creneau.fee.customer_reminded" if reminder else "creneau.fee.customer_asked"
    )
    return fee


def fee_release_customer_email(*, fee_id: int, reminder: bool) -> None:
    """The email could not be sent: unclaim it so the retry sends it."""
    column = "reminder_sent_at" if reminder else "customer_asked_at"
    FeeCharge.objects.filter(pk=fee_id).update(**{column: None})


# ---------------------------------------------------------------------------
# Staff: waive or refund (money rights), audited
# ---------------------------------------------------------------------------
def fee_waive(*, fee: FeeCharge, actor: Actor, reason: str) -> FeeCharge:
    """Give up a fee that is not charged: awaiting the customer (its PaymentIntent is canceled
    at Stripe first, so the customer's link can no longer pay it) or failed."""
    reason = reason.strip()
    if not reason:
        raise RefundRefused("Say why the fee is waived.")
    if fee.status not in WAIVABLE:
        raise RefundRefused(f"This fee is {fee.get_status_display().lower()}: it cannot be waived.")
    if fee.status == FeeStatus.AWAITING_CUSTOMER and fee.payment_intent_id:
        client = gateway.stripe_client()
        try:
            client.v1.payment_intents.cancel(
                fee.payment_intent_id,
                params={"cancellation_reason": "abandoned"},
                options={"idempotency_key": gateway.idempotency_key("fee.cancel", fee.pk)},
            )
        except stripe.InvalidRequestError:
            synced = fee_sync(fee=fee)  # paid meanwhile: refund it instead
            if synced.status == FeeStatus.PAID:
                raise RefundRefused("The customer has just paid this fee: refund it instead.")
            raise
    with transaction.atomic():
        locked = FeeCharge.objects.select_for_update().get(pk=fee.pk)
        if locked.status not in WAIVABLE:
            raise RefundRefused("This fee changed meanwhile: reload the page.")
        locked.status = FeeStatus.WAIVED
        locked.updated_at = timezone.now()
        locked.save()
        fee_event_record(locked, action="creneau.fee.waived", actor=actor, message=reason)
    logger.info("fee.waived", extra={"fee": fee.pk})
    return _reloaded(fee)


def fee_refund(*, fee: FeeCharge, actor: Actor, reason: str) -> FeeCharge:
    """Refund a charged fee in full (the transfer and the platform fee come back too)."""
    reason = reason.strip()
    if not reason:
        raise RefundRefused("Say why the fee is refunded.")
    if fee.status != FeeStatus.PAID or not fee.payment_intent_id:
        raise RefundRefused(f"This fee is {fee.get_status_display().lower()}: nothing to refund.")
    try:
        refund = gateway.stripe_client().v1.refunds.create(
            params={
                "payment_intent": fee.payment_intent_id,
                "reverse_transfer": True,
                "refund_application_fee": True,
                "metadata": {
                    "tenant_schema": current_tenant().schema_name,
                    "booking_reference": fee.booking.reference,
                    "creneau_fee_id": str(fee.pk),
                },
            },
            options={"idempotency_key": gateway.idempotency_key("fee.refund", fee.pk)},
        )
    except stripe.StripeError as error:
        raise RefundRefused(f"Stripe refused the refund: {error.user_message or error}") from error
    with transaction.atomic():
        locked = FeeCharge.objects.select_for_update().get(pk=fee.pk)
        if locked.status == FeeStatus.PAID:
            locked.status = FeeStatus.REFUNDED
            locked.refund_id = refund.id
            locked.updated_at = timezone.now()
            locked.save()
            fee_event_record(
                locked,
                action="creneau.fee.refunded",
                actor=actor,
                message=reason,
                data={"refund": refund.id, "amount_minor": locked.amount_minor},
            )
    logger.info("fee.refunded", extra={"fee": fee.pk})
    return _reloaded(fee)
