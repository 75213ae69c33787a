"""Reads of billing: the default plan and the fee rate a tenant's booking payments pay."""

from __future__ import annotations

from tenants.models import Tenant

from .models import FeeOverride, Plan
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
