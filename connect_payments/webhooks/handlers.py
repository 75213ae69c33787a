"""connect_payments' handlers of Stripe events (registered in `ConnectPaymentsConfig.ready()`):
Connect account updates, and the PaymentIntent and refund events of booking payments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_tenants.utils import schema_context

from common.stripe_events import ReceivedEvent, register, register_schema_resolver

from ..models import BookingPayment, ConnectedAccount, PaymentStatus
from ..services.accounts import connected_account_refresh
from ..services.booking_payments import booking_payment_sync
from ..services.card_fees import fee_for_intent, fee_sync
from ..services.card_setup import card_setup_complete, card_setup_for_intent
from ..services.refunds import booking_payment_sync_refunds, refund_failure_reported

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


def account_event_schema(event: Mapping[str, Any]) -> str:
    """The tenant schema of an `account.*` event: the account map ("" for an unknown account)."""
    obj = (event.get("data") or {}).get("object") or {}
    account_id = event.get("account") or obj.get("id")
    row = ConnectedAccount.objects.filter(account_id=account_id).select_related("tenant")
    found = row.first()
    return found.tenant.schema_name if found else ""


def account_updated(event: ReceivedEvent) -> bool:
    """Re-read the account from Stripe; False for an account we do not know."""
    account_id = str(event.account_id or event.object.get("id") or "")
    return bool(account_id) and connected_account_refresh(account_id=account_id) is not None


def payment_intent_event(event: ReceivedEvent) -> bool:
    """Re-read the PaymentIntent of one of our payments and move its state forward."""
    if not event.tenant_schema:
        return False
    with schema_context(event.tenant_schema):
        fee = fee_for_intent(event.object)
        if fee is not None:  # a no-show or late-cancellation fee (services/card_fees.py)
            fee_sync(fee=fee)
            return True
        payment = _payment_for_object(event.object)
        if payment is None:
            return False
        booking_payment_sync(payment=payment)
    return True


def setup_intent_event(event: ReceivedEvent) -> bool:
    """A card saved for a booking's fees: keep it and confirm the booking (if the page did not)."""
    if not event.tenant_schema:
        return False
    with schema_context(event.tenant_schema):
        setup = card_setup_for_intent(str(event.object.get("id") or ""))
        if setup is None:
            return False
        card_setup_complete(setup=setup)
    return True


def refund_event(event: ReceivedEvent) -> bool:
    """A refund (ours or made in Stripe) changed: apply a reported failure, re-read the refunds."""
    if not event.tenant_schema:
        return False
    with schema_context(event.tenant_schema):
        payment = _payment_for_object(event.object)
        if payment is None:
            return False
        refund_failure_reported(payment=payment, obj=event.object)
        booking_payment_sync_refunds(payment=payment)
    return True


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


def register_handlers() -> None:
    register_schema_resolver("account.", account_event_schema)
    register({"account.updated"}, account_updated)
    register(PAYMENT_INTENT_EVENTS, payment_intent_event)
    register(REFUND_EVENTS, refund_event)
    register({"setup_intent.succeeded", "setup_intent.setup_failed"}, setup_intent_event)
