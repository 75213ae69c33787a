"""The back office's "Plan and billing" page: owners with a verified second factor only.

Thin views over `billing.changes`: every Stripe error or refused change comes back to the page
as a message (a 400 with the form), never a 500.
"""

from __future__ import annotations

import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from common.money import Money, format_money
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

from .. import changes
from ..models import Plan
from ..selectors import billing_overview_of
from .forms import BillingDetailsForm, PlanChoiceForm

logger = logging.getLogger(__name__)

STRIPE_JS_DEFAULT_URL = "https://js.stripe.com/v3/"


def stripe_js_url() -> str:
    """The same Stripe.js as the booking payment step (a stand-in when STRIPE_API_BASE is set)."""
    if settings.STRIPE_JS_URL:
        return settings.STRIPE_JS_URL
    if settings.STRIPE_API_BASE:
        return settings.STRIPE_API_BASE.rstrip("/") + "/v3/"
    return STRIPE_JS_DEFAULT_URL


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency.upper()))


def _page(
    request: MemberRequest,
    *,
    plan_form: PlanChoiceForm | None = None,
    details_form: BillingDetailsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    overview = billing_overview_of(request.tenant)
    plan = overview.plan
    prices = (
        {
            "monthly": _money(plan.monthly_price_minor, plan.currency),
            "yearly": _money(plan.yearly_price_minor, plan.currency),
        }
        if plan
        else {}
    )
    if details_form is None:
        try:
            initial = changes.billing_details_of(tenant=request.tenant).__dict__
        except stripe.StripeError:
            initial = {}
        details_form = BillingDetailsForm(initial=initial)
    pending = None
    sub = overview.subscription
    if sub and sub.stripe_subscription_id:
        try:
            data = changes.billing_stripe_client().v1.subscriptions.retrieve(
                sub.stripe_subscription_id
            )
            pending = changes.pending_change_of(data)
        except stripe.StripeError:
            pending = None
    context = {
        "overview": overview,
        "prices": prices,
        "plans": Plan.objects.on_sale().order_by("display_order", "monthly_price_minor"),
        "plan_form": plan_form or PlanChoiceForm(),
        "details_form": details_form,
        "pending": pending,
    }
    return render(request, "billing/overview.html", context, status=status)


@member_required(Permission.MANAGE_BILLING)
def billing_page(request: MemberRequest) -> HttpResponse:
    return _page(request)


@require_POST
@member_required(Permission.MANAGE_BILLING)
def change_preview(request: MemberRequest) -> HttpResponse:
    form = PlanChoiceForm(request.POST)
    if not form.is_valid():
        return _page(request, plan_form=form, status=400)
    try:
        preview = changes.change_preview(
            tenant=request.tenant,
            plan=form.cleaned_data["plan"],
            interval=form.cleaned_data["interval"],
        )
    except changes.ChangeRefused as refused:
        form.add_error(None, str(refused))
        return _page(request, plan_form=form, status=400)
    except stripe.StripeError:
        logger.exception("billing.preview_failed")
        form.add_error(None, "Stripe could not compute the price just now; try again.")
        return _page(request, plan_form=form, status=400)
    response = render(
        request,
        "billing/confirm.html",
        {
            "preview": preview,
            "amount": _money(preview.amount_due, preview.currency),
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": stripe_js_url(),
        },
    )
    return response


@require_POST
@member_required(Permission.MANAGE_BILLING)
def subscribe_confirm(request: MemberRequest) -> HttpResponse:
    try:
        row = changes.subscribe_confirm(
            tenant=request.tenant,
            token=request.POST.get("token", ""),
            setup_intent_id=request.POST.get("setup_intent", ""),
        )
    except changes.ChangeRefused as refused:
        messages.error(request, str(refused))
        return redirect("billing")
    except stripe.StripeError:
        logger.exception("billing.subscribe_failed")
        messages.error(request, "Stripe could not complete the subscription; try again.")
        return redirect("billing")
    messages.success(
        request, f"You are subscribed to the {row.plan.name if row.plan else ''} plan."
    )
    return redirect("billing")


@require_POST
@member_required(Permission.MANAGE_BILLING)
def change_confirm(request: MemberRequest) -> HttpResponse:
    try:
        kind, row = changes.change_confirm(
            tenant=request.tenant, token=request.POST.get("token", "")
        )
    except changes.ChangeRefused as refused:
        messages.error(request, str(refused))
        return redirect("billing")
    except stripe.StripeError:
        logger.exception("billing.change_failed")
        messages.error(request, "Stripe could not change the plan; nothing was changed.")
        return redirect("billing")
    if kind == "upgrade":
        messages.success(request, "Your plan was changed; the difference was invoiced.")
    else:
        messages.success(request, "Your plan will change at the end of the current period.")
    return redirect("billing")


@require_POST
@member_required(Permission.MANAGE_BILLING)
def pending_cancel(request: MemberRequest) -> HttpResponse:
    try:
        changes.pending_change_cancel(tenant=request.tenant)
    except (changes.ChangeRefused, stripe.StripeError):
        messages.error(request, "The planned change could not be cancelled; try again.")
        return redirect("billing")
    messages.success(request, "The planned change was cancelled.")
    return redirect("billing")


@require_POST
@member_required(Permission.MANAGE_BILLING)
def portal(request: MemberRequest) -> HttpResponse:
    try:
        url = changes.portal_url(
            tenant=request.tenant, return_url=request.build_absolute_uri("/billing/")
        )
    except stripe.StripeError:
        logger.exception("billing.portal_failed")
        messages.error(request, "Stripe's billing portal is not available just now; try again.")
        return redirect("billing")
    return HttpResponseRedirect(url)


@require_POST
@member_required(Permission.MANAGE_BILLING)
def details_save(request: MemberRequest) -> HttpResponse:
    form = BillingDetailsForm(request.POST)
    if not form.is_valid():
        return _page(request, details_form=form, status=400)
    try:
        changes.billing_details_save(
            tenant=request.tenant, details=changes.BillingDetails(**form.cleaned_data)
        )
    except stripe.StripeError as error:
        if error.code == "tax_id_invalid":
            form.add_error("vat_number", "Stripe does not accept this VAT number: check it.")
        else:
            message = getattr(error, "user_message", None) or "Stripe refused the details."
            form.add_error(None, message)
        return _page(request, details_form=form, status=400)
    messages.success(request, "Billing details saved; they appear on your next invoices.")
    return redirect("billing")
