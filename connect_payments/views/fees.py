"""Back-office pages of card-on-file fees: a fee's record (owners and managers, who see money),
and waiving or refunding it with a reason (money rights), audited in the fee's history."""

from __future__ import annotations

import stripe
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from scheduling.exceptions import BookingError
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows

from ..models import FeeCharge, FeeStatus
from ..services.card_fees import WAIVABLE, fee_refund, fee_waive
from .money import actor_of, business_zone, money_text


@member_required(Permission.VIEW_MONEY)
def fee_detail(request: MemberRequest, pk: int) -> HttpResponse:
    fee = get_object_or_404(
        FeeCharge.objects.select_related("booking__customer", "booking__service", "setup__card"),
        pk=pk,
    )
    can_refund = role_allows(request.membership.role, Permission.REFUND)
    return render(
        request,
        "connect_payments/fee_detail.html",
        {
            "fee": fee,
            "zone": business_zone(request),
            "amount": money_text(fee.amount_minor, fee.currency),
            "platform_fee": money_text(fee.application_fee_minor, fee.currency),
            "events": fee.events.all(),
            "can_waive": can_refund and fee.status in WAIVABLE,
            "can_refund": can_refund and fee.status == FeeStatus.PAID,
        },
    )


def _act(request: MemberRequest, pk: int, action) -> HttpResponse:
    fee = get_object_or_404(FeeCharge.objects.select_related("booking"), pk=pk)
    try:
        fee = action(fee=fee, actor=actor_of(request), reason=request.POST.get("reason", "")[:500])
    except BookingError as error:
        messages.error(request, str(error))
    except stripe.StripeError:
        messages.error(request, "Stripe could not be reached: nothing changed. Try again.")
    else:
        messages.success(request, f"The fee is {fee.get_status_display().lower()}.")
    return redirect("fee_detail", pk=pk)


@require_POST
@member_required(Permission.REFUND)
def fee_waive_view(request: MemberRequest, pk: int) -> HttpResponse:
    return _act(request, pk, fee_waive)


@require_POST
@member_required(Permission.REFUND)
def fee_refund_view(request: MemberRequest, pk: int) -> HttpResponse:
    return _act(request, pk, fee_refund)
