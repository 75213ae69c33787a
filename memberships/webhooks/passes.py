"""PaymentIntent events of pass purchases: re-read the intent from Stripe, grant the credits
once (duplicated, late or reordered events change nothing; the grant is keyed by purchase).

connect_payments handles the same event types for booking payments; each handler answers
False for PaymentIntents that are not its own (common.stripe_events runs both).
"""

from __future__ import annotations

from django_tenants.utils import schema_context

from common.stripe_events import ReceivedEvent, register

from ..services.passes import pass_purchase_for_intent, pass_purchase_sync

PASS_INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.canceled"}


def pass_payment_intent_event(event: ReceivedEvent) -> bool:
    if not event.tenant_schema or "pass_purchase" not in (event.object.get("metadata") or {}):
        return False
    with schema_context(event.tenant_schema):
        purchase = pass_purchase_for_intent(obj=dict(event.object))
        if purchase is None:
            return False
        pass_purchase_sync(purchase=purchase)
    return True


def register_handlers() -> None:
    register(PASS_INTENT_EVENTS, pass_payment_intent_event)
