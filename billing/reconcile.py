"""Nightly comparison of every tenant's subscription state with Stripe, repairing what a lost
webhook left behind (status, plan, interval, extra seats), one log line per repair."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import stripe
from django.conf import settings

from .gateway import billing_stripe_client
from .models import TenantSubscription
from .seats import ENDED, active_staff_count, seats_sync, wanted_extra_seats
from .subscriptions import subscription_apply, trial_start

logger = logging.getLogger(__name__)

COMPARED = ("status", "plan_id", "interval", "extra_seats", "cancel_at_period_end")


@dataclass
class ReconcileReport:
    checked: int = 0
    repairs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def billing_reconcile(*, client: stripe.StripeClient | None = None) -> ReconcileReport:
    client = client or billing_stripe_client()
    report = ReconcileReport()
    for row in TenantSubscription.objects.select_related("tenant").order_by("tenant_id"):
        report.checked += 1
        tenant = row.tenant
        try:
            if not row.stripe_subscription_id:
                if settings.BILLING_TRIAL_AT_SIGNUP:
                    trial_start(tenant=tenant, client=client)
                    _repaired(report, tenant.schema_name, "subscription", "none", "trial started")
                continue
            before = {name: getattr(row, name) for name in COMPARED}
            fresh = client.v1.subscriptions.retrieve(row.stripe_subscription_id)
            after_row = subscription_apply(tenant=tenant, data=fresh)
            for name in COMPARED:
                if getattr(after_row, name) != before[name]:
                    _repaired(
                        report, tenant.schema_name, name, before[name], getattr(after_row, name)
                    )
            _seats_repair(report, after_row, fresh["status"], client)
        except stripe.StripeError as error:
            report.failures.append(f"{tenant.schema_name}: {error}")
            logger.warning(
                "billing.reconcile_failed",
                extra={"tenant": tenant.schema_name, "error": str(error)},
            )
    return report


def _seats_repair(
    report: ReconcileReport, row: TenantSubscription, status: str, client: stripe.StripeClient
) -> None:
    """The seat quantity in Stripe against the active staff counted now: drift is repaired."""
    plan = row.plan
    if plan is None or status in ENDED:
        return
    wanted = wanted_extra_seats(plan, active_staff_count(row.tenant))
    if wanted == row.extra_seats:
        return
    before = row.extra_seats
    after = seats_sync(tenant=row.tenant, client=client)
    _repaired(report, row.tenant.schema_name, "seat quantity", before, after)


def _repaired(
    report: ReconcileReport, schema: str, name: str, before: object, after: object
) -> None:
    report.repairs.append(f"{schema}: {name} {before} → {after}")
    logger.info(
        "billing.repaired",
        extra={"tenant": schema, "field": name, "before": str(before), "after": str(after)},
    )
