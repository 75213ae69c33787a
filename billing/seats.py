"""Extra staff seats: the subscription's second item, whose `quantity` always equals the active
bookable staff beyond the plan's included seats (no item when there are none).

Scheduling tells billing that staff changed (`scheduling.ports.staff_changed`, inside the
write's transaction); billing enqueues `billing.seats_sync` through the outbox, and the task
counts the active staff *when it runs*, so a late, repeated or reordered task never applies a
stale delta: setting an absolute quantity is idempotent. Changes are prorated
(`create_prorations`, see docs/billing.md).
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django_tenants.utils import tenant_context

from outbox.services import outbox_enqueue
from scheduling.models import StaffMember
from tenants.models import Tenant

from .catalogue import price_for
from .gateway import billing_stripe_client
from .models import Plan, SubscriptionStatus, TenantSubscription
from .selectors import default_plan
from .subscriptions import subscription_apply

logger = logging.getLogger(__name__)

SEATS_SYNC_TASK = "billing.seats_sync"
PRORATION_BEHAVIOR = "create_prorations"
# A subscription in these states is over: its items are not touched any more.
ENDED = {SubscriptionStatus.CANCELED.value, SubscriptionStatus.INCOMPLETE_EXPIRED.value}


def active_staff_count(tenant: Tenant) -> int:
    with tenant_context(tenant):
        return StaffMember.objects.filter(is_active=True).count()


def wanted_extra_seats(plan: Plan, active_staff: int) -> int:
    return max(0, active_staff - plan.staff_seats_included)


def on_staff_changed(tenant_id: int) -> None:
    """Listener of `scheduling.ports.staff_changed`: sync the seats once the write commits."""
    outbox_enqueue(SEATS_SYNC_TASK, args=[tenant_id], schema_name="public")


def is_seat_item(item: Any) -> bool:
    price = item["price"]
    key = price.get("lookup_key") or ""
    return (price.get("metadata") or {}).get("kind") == "seat" or "_seat_" in key


def _seat_item(subscription: Any) -> Any | None:
    for item in subscription["items"]["data"]:
        if is_seat_item(item):
            return item
    return None


def seat_quantity_of(subscription: Any) -> int:
    item = _seat_item(subscription)
    return int(item.get("quantity") or 0) if item is not None else 0


def seats_sync(*, tenant: Tenant, client: stripe.StripeClient | None = None) -> int | None:
    """Make the subscription's seat quantity equal to the active staff beyond the included
    seats; returns the quantity now in Stripe (None: no live subscription to update)."""
    client = client or billing_stripe_client()
    row = TenantSubscription.objects.select_related("plan").filter(tenant=tenant).first()
    if row is None or not row.stripe_subscription_id:
        return None
    subscription = client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    if subscription["status"] in ENDED:
        return None
    plan = row.plan or tenant.plan or default_plan()
    if plan is None:
        return None
    wanted = wanted_extra_seats(plan, active_staff_count(tenant))
    item = _seat_item(subscription)
    current = int(item.get("quantity") or 0) if item is not None else 0
    seat_price = price_for(plan, row.interval, seat=True, client=client) if wanted else None
    same_price = item is None or seat_price is None or item["price"]["id"] == seat_price.id
    if wanted == current and same_price:
        subscription_apply(tenant=tenant, data=subscription)
        return current
    items: list[Any]
    if wanted == 0:
        items = [{"id": item["id"], "deleted": True}] if item is not None else []
    elif seat_price is None:
        logger.warning(
            "billing.seat_price_missing", extra={"tenant": tenant.schema_name, "plan": plan.code}
        )
        return current
    elif item is not None and same_price:  # Stripe takes no archived Price again: leave it be
        items = [{"id": item["id"], "quantity": wanted}]
    elif item is not None:
        items = [{"id": item["id"], "price": seat_price.id, "quantity": wanted}]
    elif not seat_price.active:
        # A retired plan's seat Price is archived and Stripe refuses it for a new item: the
        # business keeps its seats until it moves to a plan on sale (docs/billing.md).
        logger.warning(
            "billing.seat_price_retired", extra={"tenant": tenant.schema_name, "plan": plan.code}
        )
        return current
    else:
        items = [{"price": seat_price.id, "quantity": wanted}]
    updated = client.v1.subscriptions.update(
        row.stripe_subscription_id,
        {"items": items, "proration_behavior": PRORATION_BEHAVIOR},
    )
    subscription_apply(tenant=tenant, data=updated)
    logger.info(
        "billing.seats_synced",
        extra={"tenant": tenant.schema_name, "before": current, "after": wanted},
    )
    return wanted
