"""Writes of billing: the default plan of a new business, the operator's fee overrides."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from outbox.services import outbox_enqueue
from tenants.models import Tenant
from tenants.services import audit_record

from .models import FeeOverride, TenantSubscription
from .rates import FeeRate
from .selectors import default_plan

TRIAL_START_TASK = "billing.trial_start"


def tenant_default_plan_assign(*, tenant: Tenant) -> None:
    """A new business without a chosen plan gets the default plan (when there is one).

    Called by `on_tenant_created` inside `tenant_provision`'s transaction: a failure here
    rolls the whole provisioning back.
    """
    if tenant.plan_id is not None:
        return
    plan = default_plan()
    if plan is None:
        return
    Tenant.objects.filter(pk=tenant.pk).update(plan=plan)
    tenant.plan = plan


def on_tenant_created(sender: Any, *, tenant: Tenant, **kwargs: Any) -> None:
    """Receiver of `tenants.signals.tenant_created` (connected in `BillingConfig.ready`).

    The trial is created in Stripe after provisioning commits, through the outbox: a Stripe
    outage at signup delays the trial, never loses it or the signup.
    """
    tenant_default_plan_assign(tenant=tenant)
    TenantSubscription.objects.get_or_create(tenant=tenant)
    if settings.BILLING_TRIAL_AT_SIGNUP:
        outbox_enqueue(TRIAL_START_TASK, args=[tenant.pk], schema_name=settings.PUBLIC_SCHEMA_NAME)


def fee_override_set(
    *,
    tenant: Tenant,
    basis_points: int | None,
    fixed_minor: int,
    reason: str,
    operator: Any,
    ip_address: str | None = None,
) -> FeeOverride | None:
    """An operator sets (or, with `basis_points=None`, removes) a tenant's fee rate; audited.

    Applies to payments reserved from now on; existing payments keep the fee they were made with.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason: it is written to the audit log.")
    previous = FeeOverride.objects.filter(tenant_id=tenant.pk).first()
    before = (
        {"basis_points": previous.fee_basis_points, "fixed_minor": previous.fee_fixed_minor}
        if previous
        else None
    )
    with transaction.atomic():
        if basis_points is None:
            FeeOverride.objects.filter(tenant_id=tenant.pk).delete()
            override = None
        else:
            FeeRate(basis_points, fixed_minor)  # validates: 0–100 %, no negative amount
            override, _ = FeeOverride.objects.update_or_create(
                tenant=tenant,
                defaults={
                    "fee_basis_points": basis_points,
                    "fee_fixed_minor": fixed_minor,
                    "reason": reason,
                    "set_by": operator,
                    "set_at": timezone.now(),
                },
            )
        after = {"basis_points": basis_points, "fixed_minor": fixed_minor} if override else None
        audit_record(
            actor=operator,
            action="creneau.console.tenant.fee_override_set"
            if override
            else "creneau.console.tenant.fee_override_removed",
            tenant=tenant,
            reason=reason,
            data={"before": before, "after": after},
            ip_address=ip_address,
        )
    return override
