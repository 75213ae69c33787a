"""Reads of billing: the default plan, the fee rate of booking payments, the billing page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from tenants.models import Tenant

from .models import FeeOverride, Plan, SubscriptionStatus, TenantSubscription
from .rates import FeeRate


def default_plan() -> Plan | None:
    return Plan.objects.filter(is_default=True).first()


def fee_override_of(tenant: Tenant) -> FeeOverride | None:
    return FeeOverride.objects.filter(tenant_id=tenant.pk).first()


def fee_rate_of(tenant: Tenant) -> FeeRate:
    """The operator's override, else the tenant's plan, else the default plan, else no fee."""
    override = fee_override_of(tenant)
    if override is not None:
        return FeeRate(override.fee_basis_points, override.fee_fixed_minor)
    plan = tenant.plan or default_plan()
    if plan is None:
        return FeeRate(0, 0)
    return FeeRate(plan.fee_basis_points, plan.fee_fixed_minor)


@dataclass(frozen=True)
class BillingOverview:
    subscription: TenantSubscription | None
    plan: Plan | None
    trial_days_left: int | None
    banner: str  # "", "trial_ending", "past_due", "paused"
    invoices: list[Any]


def trial_days_left(row: TenantSubscription, *, now: datetime | None = None) -> int | None:
    if row.status != SubscriptionStatus.TRIALING or row.trial_end is None:
        return None
    seconds = (row.trial_end - (now or timezone.now())).total_seconds()
    return max(0, math.ceil(seconds / 86400))


def billing_overview_of(tenant: Tenant) -> BillingOverview:
    """What the owner's "Plan and billing" page shows: only this tenant's customer's invoices."""
    from djstripe.models import Invoice

    row = TenantSubscription.objects.select_related("plan").filter(tenant_id=tenant.pk).first()
    if row is None:
        return BillingOverview(None, tenant.plan or default_plan(), None, "", [])
    days = trial_days_left(row)
    banner = ""
    if row.status == SubscriptionStatus.PAST_DUE:
        banner = "past_due"
    elif (
        row.status
        in (
            SubscriptionStatus.PAUSED,
            SubscriptionStatus.UNPAID,
            SubscriptionStatus.CANCELED,
        )
        and not row.complimentary
    ):
        banner = "paused"
    elif days is not None and days <= 3:
        banner = "trial_ending"
    invoices = (
        list(Invoice.objects.filter(customer_id=row.stripe_customer_id).order_by("-created")[:24])
        if row.stripe_customer_id
        else []
    )
    return BillingOverview(row, row.plan or tenant.plan or default_plan(), days, banner, invoices)
