"""Back-office "Get paid" pages (Connect onboarding): owners with a verified second factor."""

from __future__ import annotations

import logging

import stripe
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

from ..selectors import connected_account_of
from ..services.accounts import (
    account_link_url,
    connected_account_create,
    connected_account_refresh,
    dashboard_login_url,
)

logger = logging.getLogger(__name__)

PROVIDER_DOWN = "Stripe could not be reached. Please try again in a moment."


# ---------------------------------------------------------------------------
# Get paid (Connect onboarding): owners with a verified second factor
# ---------------------------------------------------------------------------
@member_required(Permission.MANAGE_PAYOUTS)
def payouts(request: MemberRequest) -> HttpResponse:
    tenant = request.tenant
    if request.method == "POST":
        return _start_onboarding(request)
    account = connected_account_of(tenant)
    return render(request, "connect_payments/payouts.html", {"account": account})


def _start_onboarding(request: MemberRequest) -> HttpResponse:
    tenant = request.tenant
    try:
        account = connected_account_create(tenant=tenant, email=request.user.email)
        if account.details_submitted:
            return redirect("payouts")
        url = account_link_url(
            account=account,
            return_url=request.build_absolute_uri(reverse("payouts_return")),
            refresh_url=request.build_absolute_uri(reverse("payouts_refresh")),
        )
    except stripe.StripeError as error:
        logger.warning("connect.onboarding_failed", extra={"error": type(error).__name__})
        messages.error(request, PROVIDER_DOWN)
        return redirect("payouts")
    return redirect(url)


@member_required(Permission.MANAGE_PAYOUTS)
def payouts_return(request: MemberRequest) -> HttpResponse:
    """Back from Stripe's onboarding: re-read the account (finished or not) and show it."""
    account = connected_account_of(request.tenant)
    if account is None:
        return redirect("payouts")
    try:
        account = connected_account_refresh(account_id=account.account_id) or account
    except stripe.StripeError:
        messages.error(request, PROVIDER_DOWN)
        return redirect("payouts")
    if account.charges_enabled:
        messages.success(request, "Your Stripe account is ready: you can take payments online.")
    else:
        messages.info(request, "Stripe still needs some details before you can take payments.")
    return redirect("payouts")


@member_required(Permission.MANAGE_PAYOUTS)
def payouts_refresh(request: MemberRequest) -> HttpResponse:
    """An expired or spent account link: make a fresh one and continue."""
    if connected_account_of(request.tenant) is None:
        return redirect("payouts")
    return _start_onboarding(request)


@require_POST
@member_required(Permission.MANAGE_PAYOUTS)
def payouts_dashboard(request: MemberRequest) -> HttpResponse:
    account = connected_account_of(request.tenant)
    if account is None or not account.details_submitted:
        messages.error(request, "Finish connecting your Stripe account first.")
        return redirect("payouts")
    try:
        return redirect(dashboard_login_url(account=account))
    except stripe.StripeError:
        messages.error(request, PROVIDER_DOWN)
        return redirect("payouts")
