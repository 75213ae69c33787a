"""Billing's Stripe event handlers (registered in `BillingConfig.ready`).

Each event only says "look again": the handler finds the tenant by the Stripe customer, re-reads
the subscription from Stripe and applies it, so duplicates, late and reordered events are
harmless. Emails (trial ending, payment failed) go once, through the outbox.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from common.stripe_events import ReceivedEvent, register
from outbox.services import outbox_enqueue

from .gateway import billing_stripe_client
from .mirror import mirror
from .models import TenantSubscription
from .subscriptions import subscription_refresh

logger = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
}
INVOICE_EVENTS = {
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.upcoming",
}
CUSTOMER_EVENTS = {"customer.updated", "payment_method.attached"}
EMAIL_TASK = "billing.owner_email"


def _customer_id(obj: Any) -> str:
    if obj.get("object") == "customer":
        return str(obj.get("id") or "")
    customer = obj.get("customer") or ""
    return str(customer.get("id") if isinstance(customer, dict) else customer)


def _row_for(event: ReceivedEvent) -> TenantSubscription | None:
    customer_id = _customer_id(event.object)
    if not customer_id:
        return None
    return (
        TenantSubscription.objects.select_related("tenant")
        .filter(stripe_customer_id=customer_id)
        .first()
    )


def billing_event(event: ReceivedEvent) -> bool:
    row = _row_for(event)
    if row is None:
        return False  # not one of the platform's customers (or not ours yet)
    if event.type.startswith("invoice.") and event.object.get("id"):
        _invoice_mirror(str(event.object["id"]))
    obj = event.object
    from_event = str(obj.get("id") or "") if obj.get("object") == "subscription" else ""
    subscription_refresh(tenant=row.tenant, subscription_id=from_event)
    if event.type == "customer.subscription.trial_will_end":
        _email_once(row, kind="trial_will_end", marker="trial_will_end_notified_at")
    elif event.type == "invoice.payment_failed":
        _email_once(row, kind="payment_failed", invoice_id=str(event.object.get("id") or ""))
    return True


def _invoice_mirror(invoice_id: str) -> None:
    """Store the invoice as Stripe has it now, not the event's copy: a late `payment_failed`
    must not store as open an invoice paid since (and dj-stripe cannot read the stored JSON's
    `lines` list, only the SDK's object). A deleted draft is gone: nothing to store."""
    try:
        invoice = billing_stripe_client().v1.invoices.retrieve(invoice_id)
    except stripe.InvalidRequestError as error:
        if error.code != "resource_missing":
            raise
        return
    mirror("Invoice", invoice)


def _email_once(
    row: TenantSubscription, *, kind: str, marker: str = "", invoice_id: str = ""
) -> None:
    """Send one email per trial (or per failed invoice): a conditional update claims it."""
    with transaction.atomic():
        rows = TenantSubscription.objects.filter(pk=row.pk)
        if marker:
            claimed = rows.filter(**{f"{marker}__isnull": True}).update(**{marker: timezone.now()})
        else:
            claimed = rows.exclude(past_due_notified_invoice=invoice_id).update(
                past_due_notified_invoice=invoice_id
            )
        if claimed:
            outbox_enqueue(EMAIL_TASK, kwargs={"tenant_id": row.tenant_id, "kind": kind})
            logger.info("billing.email_queued", extra={"tenant": row.tenant_id, "kind": kind})


def register_handlers() -> None:
    register(SUBSCRIPTION_EVENTS | INVOICE_EVENTS | CUSTOMER_EVENTS, billing_event)
