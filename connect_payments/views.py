"""Back-office pages of payments on a business's host: "Get paid" (Connect) and the money pages."""

from __future__ import annotations

import csv
import logging
from datetime import date

import stripe
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from common.money import Money, MoneyError, format_money, parse_major_units
from scheduling.exceptions import BookingError
from scheduling.services import Actor
from tenants.access import member_required
from tenants.roles import Permission, role_allows

from . import selectors, services
from .forms import PromoCodeForm
from .models import BookingPayment, PaymentStatus, PromoCode

logger = logging.getLogger(__name__)

PROVIDER_DOWN = "Stripe could not be reached. Please try again in a moment."


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(label=user.get_full_name() or user.email, user_id=user.pk)


# ---------------------------------------------------------------------------
# Get paid (Connect onboarding): owners with a verified second factor
# ---------------------------------------------------------------------------
@member_required(Permission.MANAGE_PAYOUTS)
def payouts(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    if request.method == "POST":
        return _start_onboarding(request)
    account = services.connected_account_of(tenant)
    return render(request, "connect_payments/payouts.html", {"account": account})


def _start_onboarding(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    try:
        account = services.connected_account_create(tenant=tenant, email=request.user.email)
        if account.details_submitted:
            return redirect("payouts")
        url = services.account_link_url(
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
def payouts_return(request: HttpRequest) -> HttpResponse:
    """Back from Stripe's onboarding: re-read the account (finished or not) and show it."""
    account = services.connected_account_of(request.tenant)
    if account is None:
        return redirect("payouts")
    try:
        account = services.connected_account_refresh(account_id=account.account_id) or account
    except stripe.StripeError:
        messages.error(request, PROVIDER_DOWN)
        return redirect("payouts")
    if account.charges_enabled:
        messages.success(request, "Your Stripe account is ready: you can take payments online.")
    else:
        messages.info(request, "Stripe still needs some details before you can take payments.")
    return redirect("payouts")


@member_required(Permission.MANAGE_PAYOUTS)
def payouts_refresh(request: HttpRequest) -> HttpResponse:
    """An expired or spent account link: make a fresh one and continue."""
    if services.connected_account_of(request.tenant) is None:
        return redirect("payouts")
    return _start_onboarding(request)


@require_POST
@member_required(Permission.MANAGE_PAYOUTS)
def payouts_dashboard(request: HttpRequest) -> HttpResponse:
    account = services.connected_account_of(request.tenant)
    if account is None or not account.details_submitted:
        messages.error(request, "Finish connecting your Stripe account first.")
        return redirect("payouts")
    try:
        return redirect(services.dashboard_login_url(account=account))
    except stripe.StripeError:
        messages.error(request, PROVIDER_DOWN)
        return redirect("payouts")


# ---------------------------------------------------------------------------
# Money pages: owners and managers with a verified second factor
# ---------------------------------------------------------------------------
def _filters(request: HttpRequest) -> dict:
    status = request.GET.get("status", "")
    if status not in PaymentStatus.values:
        status = ""
    return {
        "status": status,
        "search": request.GET.get("q", "").strip()[:100],
        "date_from": _date_or_none(request.GET.get("from")),
        "date_to": _date_or_none(request.GET.get("to")),
    }


def _date_or_none(value: str | None) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency))


@member_required(Permission.VIEW_MONEY)
def payment_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    payments = list(selectors.payments_for_money_page(**filters)[:500])
    rows = [
        {
            "payment": p,
            "gross": _money(p.paid_minor, p.currency),
            "fee": _money(p.fee_minor - p.fee_refunded_minor if p.paid_minor else 0, p.currency),
            "net": _money(p.net_minor, p.currency),
            "refunded": _money(p.refunded_minor, p.currency),
        }
        for p in payments
    ]
    return render(
        request,
        "connect_payments/payment_list.html",
        {
            "rows": rows,
            "filters": filters,
            "statuses": PaymentStatus.choices,
            "query": request.GET.urlencode(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = [
    "booking",
    "created_at",
    "customer",
    "customer_email",
    "service",
    "status",
    "kind",
    "currency",
    "price_minor",
    "amount_minor",
    "paid_minor",
    "fee_minor",
    "fee_refunded_minor",
    "refunded_minor",
    "net_minor",
    "balance_due_minor",
    "balance_paid_at",
    "payment_intent",
    "charge",
    "promo_code",
    "discount_minor",
]


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a customer name like "=HYPERLINK(...)" must stay text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@member_required(Permission.VIEW_MONEY)
def payment_export(request: HttpRequest) -> StreamingHttpResponse:
    payments = selectors.payments_for_money_page(**_filters(request))
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_HEADER)
        for p in payments.iterator():
            booking = p.booking
            yield writer.writerow(
                [
                    _csv_cell(v)
                    for v in (
                        booking.reference,
                        p.created_at.isoformat(),
                        booking.customer.name,
                        booking.customer.email,
                        booking.service.name,
                        p.status,
                        p.kind,
                        p.currency,
                        p.price_minor,
                        p.amount_minor,
                        p.paid_minor,
                        p.fee_minor,
                        p.fee_refunded_minor,
                        p.refunded_minor,
                        p.net_minor,
                        p.balance_due_minor,
                        p.balance_paid_at.isoformat() if p.balance_paid_at else "",
                        p.payment_intent_id or "",
                        p.charge_id,
                        p.promo_code.code if p.promo_code_id else "",
                        p.discount_minor,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="payments.csv"'
    return response


@member_required(Permission.VIEW_MONEY)
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(
        BookingPayment.objects.select_related("booking__customer", "booking__service"), pk=pk
    )
    can_refund = role_allows(request.membership.role, Permission.REFUND)
    return render(
        request,
        "connect_payments/payment_detail.html",
        {
            "payment": payment,
            "events": payment.events.all(),
            "refunds": payment.refunds.all(),
            "can_refund": can_refund,
            "refundable": _money(services.refundable_minor(payment), payment.currency),
            "amounts": {
                "price": _money(payment.price_minor, payment.currency),
                "discount": _money(payment.discount_minor, payment.currency),
                "amount": _money(payment.amount_minor, payment.currency),
                "paid": _money(payment.paid_minor, payment.currency),
                "fee": _money(payment.fee_minor, payment.currency),
                "fee_refunded": _money(payment.fee_refunded_minor, payment.currency),
                "refunded": _money(payment.refunded_minor, payment.currency),
                "net": _money(payment.net_minor, payment.currency),
                "balance": _money(payment.balance_due_minor, payment.currency),
            },
        },
    )


@require_POST
@member_required(Permission.REFUND)
def payment_refund(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(BookingPayment, pk=pk)
    try:
        amount = parse_major_units(text=request.POST.get("amount", ""), currency=payment.currency)
        refund = services.booking_payment_refund(
            payment=payment,
            amount_minor=amount,
            reason=request.POST.get("reason", "")[:500],
            actor=actor_of(request),
        )
    except (MoneyError, BookingError) as error:
        messages.error(request, str(error))
        return redirect("payment_detail", pk=pk)
    if refund.status == "succeeded":
        messages.success(request, f"Refunded {_money(refund.amount_minor, payment.currency)}.")
    elif refund.status == "pending":
        messages.warning(
            request,
            "Stripe could not be reached: the refund is pending and will be retried automatically.",
        )
    else:
        messages.error(request, f"Stripe refused the refund: {refund.last_error}")
    return redirect("payment_detail", pk=pk)


@require_POST
@member_required(Permission.VIEW_MONEY)
def payment_mark_balance_paid(request: HttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(BookingPayment, pk=pk)
    try:
        services.booking_payment_mark_balance_paid(payment=payment, actor=actor_of(request))
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Balance recorded as paid at the venue.")
    return redirect("payment_detail", pk=pk)


@member_required(Permission.VIEW_MONEY)
def promo_codes(request: HttpRequest) -> HttpResponse:
    currency = request.tenant.currency
    form = PromoCodeForm(request.POST or None, currency=currency)
    if request.method == "POST" and form.is_valid():
        promo = services.promo_code_create(data=form.cleaned_data, actor=actor_of(request))
        messages.success(request, f"Promo code {promo.code} created.")
        return redirect("promo_codes")
    rows = []
    for promo in PromoCode.objects.prefetch_related("services"):
        redeemed = promo.payments.filter(booking__status__in=services.REDEEMED_STATUSES).count()
        value = (
            f"{promo.percent} %"
            if promo.kind == "percent"
            else _money(promo.amount_minor or 0, currency)
        )
        rows.append({"promo": promo, "value": value, "redeemed": redeemed})
    return render(
        request,
        "connect_payments/promo_codes.html",
        {"form": form, "rows": rows},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@member_required(Permission.VIEW_MONEY)
def promo_code_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    promo = get_object_or_404(PromoCode, pk=pk)
    services.promo_code_deactivate(promo=promo)
    messages.success(request, f"Promo code {promo.code} deactivated.")
    return redirect("promo_codes")
