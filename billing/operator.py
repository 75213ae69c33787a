"""Operator actions on a tenant's platform subscription (console, second factor, audited).

Each action changes the subscription in Stripe, applies Stripe's answer to the local row and
writes one audit entry with the operator's reason (required).
"""

from __future__ import annotations

from datetime import datetime

import stripe
from django.utils import timezone

from tenants.models import Tenant, User
from tenants.services import audit_record

from .catalogue import price_for
from .gateway import billing_idempotency_key, billing_stripe_client
from .mirror import mirror
from .models import BillingInterval, Plan, TenantSubscription
from .seats import is_seat_item
from .subscriptions import subscription_apply


class OperatorActionError(Exception):
    """Why an action cannot be done (shown to the operator)."""


def _live_row(tenant: Tenant, reason: str) -> TenantSubscription:
    if not reason.strip():
        raise OperatorActionError("Give a reason: it is written to the audit log.")
    row = TenantSubscription.objects.filter(tenant=tenant).first()
    if row is None or not row.stripe_subscription_id:
        raise OperatorActionError(f"{tenant.name} has no subscription yet.")
    return row


def _audit(tenant: Tenant, operator: User, action: str, reason: str, ip: str | None,
           **data: object) -> None:  # fmt: skip
    audit_record(actor=operator, action=action, tenant=tenant, reason=reason.strip(),
                 data={k: str(v) for k, v in data.items()}, ip_address=ip)  # fmt: skip


def trial_extend(*, tenant: Tenant, operator: User, trial_end: datetime, reason: str,
                 ip_address: str | None = None, client: stripe.StripeClient | None = None,
                 ) -> TenantSubscription:  # fmt: skip
    row = _live_row(tenant, reason)
    if trial_end <= timezone.now():
        raise OperatorActionError("The new trial end must be in the future.")
    client = client or billing_stripe_client()
    updated = client.v1.subscriptions.update(
        row.stripe_subscription_id,
        {"trial_end": int(trial_end.timestamp()), "proration_behavior": "none"},
    )
    _audit(tenant, operator, "billing.trial_extended", reason, ip_address, trial_end=trial_end)
    return subscription_apply(tenant=tenant, data=updated)


def complimentary_give(*, tenant: Tenant, operator: User, reason: str,
                       ip_address: str | None = None, client: stripe.StripeClient | None = None,
                       ) -> TenantSubscription:  # fmt: skip
    """A 100 % coupon, forever, on the subscription, and the `complimentary` flag."""
    row = _live_row(tenant, reason)
    client = client or billing_stripe_client()
    coupon = client.v1.coupons.create(
        {"percent_off": 100, "duration": "forever", "name": f"Complimentary: {tenant.name}",
         "metadata": {"tenant_schema": tenant.schema_name}},
        {"idempotency_key": billing_idempotency_key("comp", tenant.pk, row.stripe_subscription_id)},
    )  # fmt: skip
    mirror("Coupon", coupon)  # the revenue page reads coupons from the stored copies
    updated = client.v1.subscriptions.update(
        row.stripe_subscription_id, {"discounts": [{"coupon": coupon.id}]}
    )
    TenantSubscription.objects.filter(pk=row.pk).update(complimentary=True)
    _audit(tenant, operator, "billing.complimentary_given", reason, ip_address, coupon=coupon.id)
    return subscription_apply(tenant=tenant, data=updated)


def plan_change(*, tenant: Tenant, operator: User, plan: Plan, interval: str, reason: str,
                ip_address: str | None = None, client: stripe.StripeClient | None = None,
                ) -> TenantSubscription:  # fmt: skip
    """Move the subscription to another plan's prices (base and seats), prorated."""
    row = _live_row(tenant, reason)
    if interval not in BillingInterval.values:
        raise OperatorActionError("Choose monthly or yearly.")
    client = client or billing_stripe_client()
    base = price_for(plan, interval, client=client)
    if base is None:
        raise OperatorActionError(f"The {plan.name} plan has no Stripe price yet.")
    subscription = client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    items: list = []
    for item in subscription["items"]["data"]:
        if not is_seat_item(item):
            items.append({"id": item["id"], "price": base.id})
            continue
        seat = price_for(plan, interval, seat=True, client=client)
        items.append({"id": item["id"], "price": seat.id} if seat else
                     {"id": item["id"], "deleted": True})  # fmt: skip
    updated = client.v1.subscriptions.update(
        row.stripe_subscription_id,
        {"items": items, "proration_behavior": "create_prorations",
         "metadata": {"tenant_schema": tenant.schema_name, "plan_code": plan.code}},
    )  # fmt: skip
    _audit(tenant, operator, "billing.plan_changed", reason, ip_address,
           plan=plan.code, interval=interval)  # fmt: skip
    return subscription_apply(tenant=tenant, data=updated)


def subscription_cancel(*, tenant: Tenant, operator: User, at_period_end: bool, reason: str,
                        ip_address: str | None = None, client: stripe.StripeClient | None = None,
                        ) -> TenantSubscription:  # fmt: skip
    row = _live_row(tenant, reason)
    client = client or billing_stripe_client()
    if at_period_end:
        updated = client.v1.subscriptions.update(
            row.stripe_subscription_id, {"cancel_at_period_end": True}
        )
    else:
        updated = client.v1.subscriptions.cancel(row.stripe_subscription_id)
    _audit(tenant, operator, "billing.cancelled", reason, ip_address,
           at_period_end=at_period_end)  # fmt: skip
    return subscription_apply(tenant=tenant, data=updated)


def complimentary_remove(*, tenant: Tenant, operator: User, reason: str,
                         ip_address: str | None = None, client: stripe.StripeClient | None = None,
                         ) -> TenantSubscription:  # fmt: skip
    """Undo a comp: the subscription's discounts removed (the next invoice is at full price)
    and the `complimentary` flag cleared, so access follows Stripe's status again."""
    row = _live_row(tenant, reason)
    client = client or billing_stripe_client()
    subscription = client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    if not row.complimentary and not subscription.discounts:
        raise OperatorActionError(f"{tenant.name} has no complimentary plan to remove.")
    updated = client.v1.subscriptions.update(row.stripe_subscription_id, {"discounts": ""})
    TenantSubscription.objects.filter(pk=row.pk).update(complimentary=False)
    removed = ",".join(d if isinstance(d, str) else d.id for d in subscription.discounts or [])
    _audit(tenant, operator, "billing.complimentary_removed", reason, ip_address,
           discounts=removed or "none")  # fmt: skip
    return subscription_apply(tenant=tenant, data=updated)


def cancellation_undo(*, tenant: Tenant, operator: User, reason: str,
                      ip_address: str | None = None, client: stripe.StripeClient | None = None,
                      ) -> TenantSubscription:  # fmt: skip
    """Keep a subscription that was to end: `cancel_at_period_end` back to false, and a
    subscription schedule that would cancel it at its end released (the subscription goes on
    as it is). A subscription already cancelled cannot come back: the business subscribes
    again from its billing page."""
    row = _live_row(tenant, reason)
    client = client or billing_stripe_client()
    subscription = client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    if subscription["status"] in ("canceled", "incomplete_expired"):
        raise OperatorActionError(
            f"{tenant.name}'s subscription has already ended: it cannot be un-cancelled; the "
            "owner subscribes again under Plan and billing."
        )
    schedule = subscription.schedule
    schedule_id = (schedule if isinstance(schedule, str) else schedule.id) if schedule else ""
    cancelling_schedule = bool(schedule_id) and (
        client.v1.subscription_schedules.retrieve(schedule_id)["end_behavior"] == "cancel"
    )
    if not subscription.cancel_at_period_end and not cancelling_schedule:
        raise OperatorActionError(f"{tenant.name}'s subscription is not set to cancel.")
    if cancelling_schedule:
        client.v1.subscription_schedules.release(schedule_id)
    updated = client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    if updated.cancel_at_period_end:
        updated = client.v1.subscriptions.update(
            row.stripe_subscription_id, {"cancel_at_period_end": False}
        )
    _audit(tenant, operator, "billing.cancellation_undone", reason, ip_address,
           schedule_released=schedule_id if cancelling_schedule else "none")  # fmt: skip
    return subscription_apply(tenant=tenant, data=updated)
