"""The back office's "Plan and billing" page: owners with a verified second factor only."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from common.money import Money, format_money
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission

from ..selectors import billing_overview_of


@member_required(Permission.MANAGE_BILLING)
def billing_page(request: MemberRequest) -> HttpResponse:
    overview = billing_overview_of(request.tenant)
    plan = overview.plan
    prices = (
        {
            "monthly": format_money(Money(plan.monthly_price_minor, plan.currency)),
            "yearly": format_money(Money(plan.yearly_price_minor, plan.currency)),
        }
        if plan
        else {}
    )
    return render(request, "billing/overview.html", {"overview": overview, "prices": prices})
