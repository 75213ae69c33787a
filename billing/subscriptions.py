"""Writes of the platform subscription: the trial at signup, and applying what Stripe says.

Stripe calls never run inside a database transaction; every create carries an idempotency key
derived from the tenant, so a retried task never makes a second customer or subscription.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from django.db import transaction

from tenants.models import Membership, Tenant

from .catalogue import price_for
from .gateway import billing_idempotency_key, billing_stripe_client
from .mirror import mirror
from .models import BillingInterval, Plan, SubscriptionStatus, TenantSubscription
from .selectors import default_plan

logger = logging.getLogger(__name__)

TRIAL_DAYS = 14


class BillingNotReady(Exception):
    """The plans are not in Stripe yet (run `manage.py billing_sync_plans`)."""


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def billing_row_for(tenant: Tenant) -> TenantSubscription:
    row, _ = TenantSubscription.objects.get_or_create(tenant=tenant)
    return row


def owner_email(tenant: Tenant) -> str:
    membership = (
        Membership.objects.filter(tenant=tenant, role="owner", is_active=True)
        .select_related("user")
        .order_by("created_at")
        .first()
    )
    return membership.user.email if membership else ""


def customer_ensure(*, tenant: Tenant, client: stripe.StripeClient | None = None) -> str:
    """The tenant's Stripe customer id, creating the customer once (idempotency key)."""
    client = client or billing_stripe_client()
    row = billing_row_for(tenant)
    if row.stripe_customer_id:
        return row.stripe_customer_id
    customer = client.v1.customers.create(
        {
            "name": tenant.name,
            "email": owner_email(tenant),
            "metadata": {"tenant_schema": tenant.schema_name, "tenant_id": str(tenant.pk)},
        },
        {"idempotency_key": billing_idempotency_key("customer", tenant.pk)},
    )
    mirror("Customer", customer)
    TenantSubscription.objects.filter(pk=row.pk, stripe_customer_id="").update(
        stripe_customer_id=customer.id
    )
    return customer.id


def trial_start(*, tenant: Tenant, client: stripe.StripeClient | None = None) -> TenantSubscription:
    """The 14-day trial on the tenant's plan, without a card: paused at the end if none comes.

    Idempotent: a tenant with a subscription keeps it; the keys make a retry return the
    customer and subscription of the first attempt.
    """
    client = client or billing_stripe_client()
    row = billing_row_for(tenant)
    if row.stripe_subscription_id:
        return row
    plan = tenant.plan or default_plan()
    if plan is None:
        raise BillingNotReady("No plan to start a trial on.")
    price = price_for(plan, BillingInterval.MONTH, client=client)
    if price is None:
        raise BillingNotReady(f"The {plan.name} plan has no Stripe price yet.")
    customer_id = customer_ensure(tenant=tenant, client=client)
    subscription = client.v1.subscriptions.create(
        {
            "customer": customer_id,
            "items": [{"price": price.id}],
            "trial_period_days": TRIAL_DAYS,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "metadata": {"tenant_schema": tenant.schema_name, "plan_code": plan.code},
        },
        {"idempotency_key": billing_idempotency_key("trial", tenant.pk)},
    )
    logger.info("billing.trial_started", extra={"tenant": tenant.schema_name})
    return subscription_apply(tenant=tenant, data=subscription)


def _plan_and_seats(data: Any) -> tuple[Plan | None, str, int]:
    plan: Plan | None = None
    interval = BillingInterval.MONTH.value
    extra_seats = 0
    for item in data["items"]["data"]:
        price = item["price"]
        key = price.get("lookup_key") or ""
        code = (price.get("metadata") or {}).get("plan_code", "")
        if (price.get("metadata") or {}).get("kind") == "seat" or "_seat_" in key:
            extra_seats = int(item.get("quantity") or 0)
            continue
        plan = Plan.objects.filter(code=code).first() if code else None
        interval = (price.get("recurring") or {}).get("interval") or interval
    return plan, interval, extra_seats


def subscription_apply(*, tenant: Tenant, data: Any) -> TenantSubscription:
    """Record what a subscription (fresh from Stripe) says: status, plan, interval, seats, dates.

    Applying the same data twice, or older data after newer, is harmless because callers pass
    the subscription as Stripe returns it now, never an event's copy.
    """
    mirror("Subscription", data)
    plan, interval, extra_seats = _plan_and_seats(data)
    items = data["items"]["data"]
    period_end = data.get("current_period_end") or (
        items[0].get("current_period_end") if items else None
    )
    fields: dict[str, Any] = {
        "stripe_customer_id": data["customer"],
        "stripe_subscription_id": data["id"],
        "status": SubscriptionStatus(data["status"]),
        "interval": interval,
        "extra_seats": extra_seats,
        "trial_end": _timestamp(data.get("trial_end")),
        "current_period_end": _timestamp(period_end),
        "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
    }
    if plan is not None:
        fields["plan"] = plan
    with transaction.atomic():
        row, _ = TenantSubscription.objects.select_for_update().get_or_create(tenant=tenant)
        changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
        for name, value in changed.items():
            setattr(row, name, value)
        if changed:
            row.save()
            if plan is not None and tenant.plan_id != plan.pk:
                Tenant.objects.filter(pk=tenant.pk).update(plan=plan)
                tenant.plan = plan
            logger.info(
                "billing.subscription_applied",
                extra={"tenant": tenant.schema_name, "changed": sorted(changed)},
            )
    return row


def subscription_refresh(
    *, tenant: Tenant, subscription_id: str = "", client: stripe.StripeClient | None = None
) -> bool:
    """Re-read the tenant's subscription from Stripe and apply it; False when it has none.

    `subscription_id` (from an event) is used only while the row knows none yet: a
    `customer.subscription.created` may arrive before `trial_start` recorded its answer.
    """
    client = client or billing_stripe_client()
    row = TenantSubscription.objects.filter(tenant=tenant).first()
    known = row.stripe_subscription_id if row is not None else ""
    target = known or subscription_id
    if not target:
        return False
    subscription_apply(tenant=tenant, data=client.v1.subscriptions.retrieve(target))
    return True
