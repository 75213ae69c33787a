"""Console: the platform's plans, edited by operators (issue #12).

A saved change goes to Stripe at once (`plan_sync_to_stripe`, after the row is committed: never
a Stripe call inside a transaction): a changed amount makes a new Price that takes the lookup
key, the old Price stays, so subscribers keep theirs until they are moved (decision: Stripe
prices never change). The edit is audited with the operator's reason and what changed. If Stripe
cannot be reached the row is saved and the page says to run `billing_sync_plans` (or save again).

A new plan is created the same way (its Product and Prices made at once). Retiring a plan takes
it off sale: businesses can no longer choose it, its Prices are archived in Stripe, and the
businesses already on it keep it (Stripe renews subscriptions on archived Prices). The default
plan, which every signup gets, cannot be retired.
"""

from __future__ import annotations

import stripe
from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tenants.access import operator_required
from tenants.http import SignedInRequest
from tenants.services import audit_record

from ..catalogue import plan_sync_to_stripe
from ..models import Plan

EDITABLE = ["name", "monthly_price_minor", "yearly_price_minor", "staff_seats_included",
            "extra_seat_price_minor", "max_staff", "max_group_sessions", "fee_basis_points",
            "fee_fixed_minor", "custom_branding", "api_keys", "memberships",
            "display_order"]  # fmt: skip


class PlanForm(forms.ModelForm):
    reason = forms.CharField(max_length=500, help_text="For the audit log.")

    class Meta:
        model = Plan
        fields = EDITABLE
        labels = {
            "monthly_price_minor": "Monthly price (minor units, e.g. cents)",
            "yearly_price_minor": "Yearly price (minor units)",
            "extra_seat_price_minor": "Each extra staff seat, a month (minor units)",
            "max_staff": "Most active staff (empty: no limit)",
            "max_group_sessions": "Most recurring group sessions (empty: no limit)",
            "fee_basis_points": "Booking fee (basis points: 150 = 1.5 %)",
            "fee_fixed_minor": "Booking fee, fixed part (minor units)",
            "custom_branding": "Custom branding (no “Powered by Creneau”)",
        }

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if (cleaned.get("fee_basis_points") or 0) > 5000:
            self.add_error("fee_basis_points", "A booking fee above 50 % is not a fee.")
        included, most = cleaned.get("staff_seats_included"), cleaned.get("max_staff")
        if most is not None and included is not None and most < included:
            self.add_error("max_staff", "The staff limit is below the seats the price includes.")
        return cleaned


class PlanCreateForm(PlanForm):
    class Meta(PlanForm.Meta):
        fields = ["code", "currency", *EDITABLE]
        labels = {**PlanForm.Meta.labels, "code": "Code (letters, digits, hyphens; never changes)"}

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].lower()
        if code == "new":
            raise forms.ValidationError("“new” is taken by this page's address: choose another.")
        if Plan.objects.filter(code=code).exists():
            raise forms.ValidationError("A plan with this code exists.")
        return code

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("A three-letter ISO currency code, e.g. EUR.")
        return currency


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


@operator_required
def plan_list(request: SignedInRequest) -> HttpResponse:
    plans = Plan.objects.annotate(businesses=Count("tenants"))
    return render(request, "console/plans.html", {"plans": plans, "reason_form": ReasonForm()})


def _sync_and_say(request: SignedInRequest, plan: Plan, done: str) -> None:
    try:
        synced = plan_sync_to_stripe(plan=plan)
    except stripe.StripeError as error:
        messages.error(request, f"{plan.name} {done}, but Stripe did not take it "
                       f"({error.user_message or error}): save again or run "
                       "`manage.py billing_sync_plans`.")  # fmt: skip
    else:
        detail = "; ".join(synced) if synced else "no Stripe change needed"
        messages.success(request, f"{plan.name} {done}. Stripe: {detail}.")


@operator_required
def plan_create(request: SignedInRequest) -> HttpResponse:
    form = PlanCreateForm(request.POST or None, initial={"currency": "EUR"})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            plan = form.save()
            audit_record(
                actor=request.user,
                action="billing.plan_created",
                reason=form.cleaned_data["reason"],
                data={"plan": plan.code, "fields": {n: form.cleaned_data[n] for n in EDITABLE}},
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        _sync_and_say(request, plan, "created")
        return redirect("console:plans")
    status = 400 if request.method == "POST" else 200
    return render(request, "console/plan_edit.html", {"plan": None, "form": form}, status=status)


@require_POST
@operator_required
def plan_sale(request: SignedInRequest, code: str, action: str) -> HttpResponse:
    """Retire a plan (`action` "retire") or put a retired one back on sale ("restore")."""
    plan = get_object_or_404(Plan, code=code)
    form = ReasonForm(request.POST)
    if action not in ("retire", "restore"):
        return HttpResponse("Unknown action.", status=404)
    if not form.is_valid():
        messages.error(request, f"Say why you {action} {plan.name} (for the audit log).")
        return redirect("console:plans")
    if action == "retire" and plan.is_default:
        messages.error(request, f"{plan.name} is the plan every signup gets: it cannot be "
                       "retired.")  # fmt: skip
        return redirect("console:plans")
    if (plan.retired_at is None) == (action == "restore"):
        messages.info(
            request,
            f"{plan.name} is already {'on sale' if plan.retired_at is None else 'retired'}.",
        )
        return redirect("console:plans")
    with transaction.atomic():
        plan.retired_at = timezone.now() if action == "retire" else None
        plan.save(update_fields=["retired_at"])
        audit_record(
            actor=request.user,
            action=f"billing.plan_{'retired' if action == 'retire' else 'restored'}",
            reason=form.cleaned_data["reason"],
            data={"plan": plan.code, "businesses_on_it": plan.tenants.count()},
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    _sync_and_say(request, plan, "retired" if action == "retire" else "back on sale")
    return redirect("console:plans")


@operator_required
def plan_edit(request: SignedInRequest, code: str) -> HttpResponse:
    plan = get_object_or_404(Plan, code=code)
    before = {name: getattr(plan, name) for name in EDITABLE}
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        changed = {name: [before[name], form.cleaned_data[name]] for name in EDITABLE
                   if before[name] != form.cleaned_data[name]}  # fmt: skip
        if not changed:
            messages.info(request, "Nothing changed.")
            return redirect("console:plans")
        with transaction.atomic():
            saved = form.save()
            audit_record(
                actor=request.user,
                action="billing.plan_edited",
                reason=form.cleaned_data["reason"],
                data={"plan": plan.code, "changed": changed},
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        _sync_and_say(request, saved, "saved")
        return redirect("console:plans")
    status = 400 if request.method == "POST" else 200
    return render(request, "console/plan_edit.html", {"plan": plan, "form": form}, status=status)
