"""Writes of billing: the operator's fee overrides."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.models import Tenant
from tenants.services import audit_record

from .models import FeeOverride
from .rates import FeeRate


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
