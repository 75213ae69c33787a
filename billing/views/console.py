"""Console: the billing panel of a tenant and the operator's billing actions (operators with a
second factor, `operator_required`; every action audited with a required reason)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import stripe
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from tenants.access import operator_required
from tenants.http import SignedInRequest
from tenants.models import Tenant

from ..gateway import billing_stripe_client
from ..models import Plan, TenantSubscription
from ..operator import (
    OperatorActionError,
    cancellation_undo,
    complimentary_give,
    complimentary_remove,
    plan_change,
    subscription_cancel,
    trial_extend,
)


def billing_panel(tenant: Tenant) -> dict[str, Any]:
    """What the console's tenant page shows: the row, next invoice (Stripe's preview), invoices."""
    row = TenantSubscription.objects.select_related("plan").filter(tenant=tenant).first()
    panel: dict[str, Any] = {"row": row, "plans": Plan.objects.on_sale(), "preview": None,
                             "invoices": [], "error": ""}  # fmt: skip
    if row is None or not row.stripe_customer_id:
        return panel
    client = billing_stripe_client()
    try:
        if row.stripe_subscription_id and row.status not in ("canceled", "incomplete_expired"):
            panel["preview"] = client.v1.invoices.create_preview(
                {"subscription": row.stripe_subscription_id}
            )
        panel["invoices"] = client.v1.invoices.list(
            {"customer": row.stripe_customer_id, "limit": 12}
        ).data
    except stripe.StripeError as error:
        panel["error"] = f"Stripe did not answer: {error.user_message or error}"
    return panel


def _ip(request: SignedInRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@operator_required
@require_POST
def billing_action(request: SignedInRequest, slug: str, action: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, slug=slug)
    reason = request.POST.get("reason", "")[:500]
    common: dict[str, Any] = {"tenant": tenant, "operator": request.user, "reason": reason,
              "ip_address": _ip(request)}  # fmt: skip
    try:
        if action == "trial":
            day = datetime.strptime(request.POST.get("trial_end", ""), "%Y-%m-%d").date()
            end = datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())
            trial_extend(trial_end=end, **common)
            done = f"trial extended to {day:%Y-%m-%d}"
        elif action == "comp":
            complimentary_give(**common)
            done = "complimentary plan given (100 % coupon, forever)"
        elif action == "uncomp":
            complimentary_remove(**common)
            done = "complimentary plan removed (full price from the next invoice)"
        elif action == "uncancel":
            cancellation_undo(**common)
            done = "cancellation undone: the subscription goes on"
        elif action == "plan":
            plan = Plan.objects.on_sale().filter(code=request.POST.get("plan", "")).first()
            if plan is None:
                raise OperatorActionError("Choose a plan on sale.")
            plan_change(plan=plan, interval=request.POST.get("interval", "month"), **common)
            done = f"moved to the {plan.name} plan"
        elif action == "cancel":
            now = request.POST.get("when") == "now"
            subscription_cancel(at_period_end=not now, **common)
            done = "cancelled now" if now else "cancels at the period end"
        else:
            raise Http404("No such action.")
    except ValueError:
        messages.error(request, "Give the new trial end as a date (YYYY-MM-DD).")
        return redirect("console:tenant_detail", slug=slug)
    except OperatorActionError as error:
        messages.error(request, str(error))
        return redirect("console:tenant_detail", slug=slug)
    except stripe.StripeError as error:
        messages.error(request, f"Stripe refused: {error.user_message or error}")
        return redirect("console:tenant_detail", slug=slug)
    messages.success(request, f"{tenant.name}: {done}.")
    return redirect("console:tenant_detail", slug=slug)
