"""The plan's limits, answered to scheduling through its port (`scheduling.ports.PlanLimits`),
so pages, the staff API and management commands refuse the same way."""

from __future__ import annotations

from django.db.models import Q

from tenants.models import Tenant

from .models import Plan
from .selectors import default_plan


def _plan_of(tenant_id: int) -> Plan | None:
    tenant = Tenant.objects.select_related("plan").filter(pk=tenant_id).first()
    if tenant is None:
        return None
    return tenant.plan or default_plan()


def plan_allowing_staff(active_staff: int) -> Plan | None:
    """The first plan (in display order) whose staff limit allows `active_staff`."""
    return (
        Plan.objects.on_sale()
        .filter(Q(max_staff__isnull=True) | Q(max_staff__gte=active_staff))
        .order_by("display_order", "monthly_price_minor")
        .first()
    )


def plan_allowing_group_sessions(group_sessions: int) -> Plan | None:
    """The first plan (in display order) whose group-session limit allows `group_sessions`."""
    return (
        Plan.objects.on_sale()
        .filter(Q(max_group_sessions__isnull=True) | Q(max_group_sessions__gte=group_sessions))
        .order_by("display_order", "monthly_price_minor")
        .first()
    )


def _change_plan_hint(better: Plan | None) -> str:
    if better is None:
        return ""
    return f" The {better.name} plan allows it: change plan under Plan and billing."


class BillingPlanLimits:
    def active_staff_refusal(self, *, tenant_id: int, active_staff: int) -> str:
        plan = _plan_of(tenant_id)
        if plan is None or plan.max_staff is None or active_staff <= plan.max_staff:
            return ""
        hint = _change_plan_hint(plan_allowing_staff(active_staff))
        return (
            f"The {plan.name} plan allows {plan.max_staff} active staff members; this would make "
            f"{active_staff}.{hint}"
        )

    def group_sessions_refusal(self, *, tenant_id: int, group_sessions: int) -> str:
        plan = _plan_of(tenant_id)
        limit = plan.max_group_sessions if plan is not None else None
        if plan is None or limit is None or group_sessions <= limit:
            return ""
        hint = _change_plan_hint(plan_allowing_group_sessions(group_sessions))
        return (
            f"The {plan.name} plan allows {limit} recurring group sessions running at once; "
            f"this would make {group_sessions}.{hint}"
        )
