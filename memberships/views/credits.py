"""Back office: customers' credits (the ledger, adjustments, booking a customer with a credit)
and pass sales with their refunds.

Front desk and up see credits and book with them; only owners and managers see amounts, adjust
credits and refund passes.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.money import Money, format_money
from scheduling import slots
from scheduling.exceptions import BookingError
from scheduling.models import BookingSource, Customer, Occurrence
from scheduling.views.base import actor_of, zone_of
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows

from ..forms import CreditAdjustForm, CreditBookingForm
from ..models import CreditGrant, PassPurchase, PassPurchaseStatus
from ..selectors.credits import credit_balances_of, credit_entries_of
from ..services.credit_bookings import booking_with_credit
from ..services.credits import credit_adjust
from ..services.passes import pass_refund, pass_refund_quote, pass_settings


@member_required(Permission.MANAGE_BOOKINGS)
def credit_customers(request: MemberRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    customers = Customer.objects.filter(credit_grants__isnull=False).distinct()
    if query:
        customers = Customer.objects.filter(Q(name__icontains=query) | Q(email__icontains=query))
    return render(request, "memberships/credit_customers.html",
                  {"customers": customers.order_by("name")[:100], "query": query})  # fmt: skip


def _sessions():
    now = timezone.now()
    return (
        Occurrence.objects.filter(
            is_cancelled=False, starts_at__gt=now, starts_at__lt=now + timedelta(days=60)
        )
        .select_related("service", "staff")
        .order_by("starts_at")
    )


@member_required(Permission.MANAGE_BOOKINGS)
def customer_credits(request: MemberRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    zone = zone_of(request)
    booking_form = CreditBookingForm(sessions=_sessions())
    can_adjust = role_allows(request.membership.role, Permission.MANAGE_CATALOGUE)
    context = {
        "customer": customer,
        "zone": zone,
        "balances": credit_balances_of(customer=customer),
        "bookings": customer.bookings.select_related("service", "staff").order_by("-starts_at")[
            :30
        ],
        "entries": credit_entries_of(customer=customer),
        "booking_form": booking_form,
        "adjust_form": CreditAdjustForm() if can_adjust else None,
        "grants": CreditGrant.objects.filter(
            customer=customer, expired_at__isnull=True, remaining__isnull=False
        ),  # fmt: skip
    }
    return render(request, "memberships/customer_credits.html", context)


@require_POST
@member_required(Permission.MANAGE_BOOKINGS)
def customer_credit_booking(request: MemberRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = CreditBookingForm(request.POST, sessions=_sessions())
    with timezone.override(zone_of(request)):  # the typed time is the business's wall time
        valid = form.is_valid()
    if not valid:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("customer_credits", pk=pk)
    data = form.cleaned_data
    starts_at = data.get("starts_at")
    try:
        booking = booking_with_credit(
            service=data["service"], customer=customer, actor=actor_of(request),
            starts_at=starts_at, occurrence=data.get("occurrence"),
            source=BookingSource.STAFF, team_booking=True,
        )  # fmt: skip
    except (BookingError, slots.SlotError) as error:
        messages.error(request, str(error))
        return redirect("customer_credits", pk=pk)
    messages.success(
        request,
        _("Booking %(reference)s confirmed, paid with a credit.")
        % {"reference": booking.reference},
    )
    return redirect("customer_credits", pk=pk)


@require_POST
@member_required(Permission.MANAGE_CATALOGUE)
def customer_credit_adjust(request: MemberRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    form = CreditAdjustForm(request.POST)
    grant_id = request.POST.get("grant", "")
    grant = (
        CreditGrant.objects.filter(pk=int(grant_id), customer=customer).first()
        if grant_id.isdigit()
        else None
    )
    if not form.is_valid():
        messages.error(request, _("Give a number of credits and a reason."))
        return redirect("customer_credits", pk=pk)
    try:
        credit_adjust(customer=customer, grant=grant, delta=form.cleaned_data["delta"],
                      reason=form.cleaned_data["reason"], actor=actor_of(request))  # fmt: skip
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Credits adjusted."))
    return redirect("customer_credits", pk=pk)


@member_required(Permission.VIEW_MONEY)
def pass_sales(request: MemberRequest) -> HttpResponse:
    purchases = (
        PassPurchase.objects.exclude(status=PassPurchaseStatus.PENDING)
        .select_related("customer", "grant")
        .prefetch_related("refunds")[:200]
    )
    mode = pass_settings().refund_mode
    rows = []
    for purchase in purchases:
        quote, credits = pass_refund_quote(purchase=purchase, mode=mode)
        rows.append({
            "purchase": purchase,
            "paid": format_money(Money(purchase.paid_minor, purchase.currency)),
            "refunded": format_money(Money(purchase.refunded_minor, purchase.currency)),
            "quote": format_money(Money(quote, purchase.currency)) if quote else "",
            "quote_credits": credits,
        })  # fmt: skip
    return render(request, "memberships/pass_sales.html",
                  {"rows": rows, "mode": mode, "zone": zone_of(request)})  # fmt: skip


@require_POST
@member_required(Permission.REFUND)
def pass_sale_refund(request: MemberRequest, pk: int) -> HttpResponse:
    purchase = get_object_or_404(PassPurchase, pk=pk)
    try:
        refund = pass_refund(purchase=purchase, actor=actor_of(request),
                             reason=request.POST.get("reason", "")[:300])  # fmt: skip
    except BookingError as error:
        messages.error(request, str(error))
    else:
        amount = format_money(Money(refund.amount_minor, purchase.currency))
        messages.success(
            request,
            _("Refund of %(amount)s: %(status)s.")
            % {"amount": amount, "status": refund.get_status_display().lower()},
        )
    return redirect("pass_sales")
