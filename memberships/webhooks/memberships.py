"""Memberships' Stripe event handlers (registered in `MembershipsConfig.ready()` through
`common.stripe_events`): subscription changes and paid / failed invoices of members.

Platform billing handles the same event types for the platform's own subscriptions; each
handler recognises its own subscriptions and ignores the others. Each event only says "look
again": the subscription and invoice are re-read from Stripe (`membership_sync`,
`membership_invoice_paid`), so duplicated, late and reordered events change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django_tenants.utils import schema_context

from common.stripe_events import ReceivedEvent, register
from tenants.models import Tenant

from .. import membership_tasks  # noqa: F401  (the worker learns the tasks at start-up)
from ..services.memberships_billing import (
    membership_for_subscription,
    membership_invoice_paid,
    membership_payment_failed,
    membership_sync,
)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
}
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_failed", "invoice.marked_uncollectible"}


def _subscription_id(obj: Mapping[str, Any]) -> str:
    if obj.get("object") == "subscription":
        return str(obj.get("id") or "")
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    return str(details.get("subscription") or "")


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    if obj.get("object") == "subscription":
        return obj.get("metadata") or {}
    return ((obj.get("parent") or {}).get("subscription_details") or {}).get("metadata") or {}


def _schema_of(event: ReceivedEvent) -> str:
    """The tenant of a member's subscription: the inbox's resolution (the subscription's
    metadata), else the metadata an invoice copies from its subscription."""
    if event.tenant_schema:
        return event.tenant_schema
    schema = _metadata(event.object).get("tenant_schema")
    if not isinstance(schema, str) or not schema or schema == settings.PUBLIC_SCHEMA_NAME:
        return ""
    return schema if Tenant.objects.filter(schema_name=schema).exists() else ""


def membership_event(event: ReceivedEvent) -> bool:
    """Apply one event to the membership of its subscription; False when it is not a member's."""
    obj = event.object
    if "membership" not in _metadata(obj):
        return False  # not a membership (platform billing's subscriptions, say)
    schema = _schema_of(event)
    if not schema:
        return False
    with schema_context(schema):
        membership = membership_for_subscription(
            _subscription_id(obj), membership_id=str(_metadata(obj).get("membership") or "")
        )
        if membership is None:
            return False
        if event.type == "invoice.paid":
            membership = membership_sync(membership=membership)
            membership_invoice_paid(membership=membership, invoice_id=str(obj.get("id") or ""))
        elif event.type == "invoice.payment_failed":
            membership_payment_failed(membership=membership, invoice_id=str(obj.get("id") or ""))
        else:
            membership_sync(membership=membership)
    return True


def register_handlers() -> None:
    register(SUBSCRIPTION_EVENTS | INVOICE_EVENTS, membership_event)
