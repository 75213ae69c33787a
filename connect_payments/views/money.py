"""Back-office money pages: payments (list, CSV export, detail, refund, balance paid at the venue)
and promo codes, for owners and managers with a verified second factor."""

from __future__ import annotations

import csv
import logging
from datetime import date
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from common.money import Money, MoneyError, format_money, parse_major_units
from scheduling.actors import Actor
from scheduling.exceptions import BookingError
from scheduling.models import BookingStatus
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows

from ..forms import PromoCodeForm
from ..models import NO_REFUND_ACTION, BookingPayment, PaymentStatus, PromoCode
from ..selectors import payments_for_money_page
from ..services.booking_payments import booking_payment_mark_balance_paid
from ..services.promo_codes import REDEEMED_STATUSES, promo_code_create
from ..services.promo_codes import promo_code_deactivate as promo_code_deactivate_service
from ..services.refunds import booking_payment_refund, refundable_minor

logger = logging.getLogger(__name__)


def actor_of(request: MemberRequest) -> Actor:
    user = request.user
    return Actor(label=user.get_full_name() or user.email, user_id=user.pk)


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


def business_zone(request: MemberRequest) -> ZoneInfo:
    """Times on the money pages are the business's, as on the calendar pages."""
    return ZoneInfo(request.tenant.time_zone or "UTC")


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency))


def booking_state_beside_money(payment: BookingPayment, *, no_refund_under_policy: bool) -> str:
    """What became of the booking, for the money pages' status ("Paid · cancelled, no refund
    under policy"): empty while it is simply held or confirmed."""
    booking = payment.booking
    if booking.status == BookingStatus.CANCELLED:
        if no_refund_under_policy and payment.paid_minor and not payment.refunded_minor:
            return "cancelled, no refund under policy"
        return "cancelled"
    if booking.status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.EXPIRED):
        return booking.get_status_display().lower()
    return ""


@member_required(Permission.VIEW_MONEY)
def payment_list(request: MemberRequest) -> HttpResponse:
    filters = _filters(request)
    with timezone.override(business_zone(request)):  # "from" and "to" are the business's days
        payments = list(payments_for_money_page(**filters)[:500])
    rows = [
        {
            "payment": p,
            "gross": _money(p.paid_minor, p.currency),
            "fee": _money(p.fee_minor - p.fee_refunded_minor if p.paid_minor else 0, p.currency),
            "net": _money(p.net_minor, p.currency),
            "refunded": _money(p.refunded_minor, p.currency),
            "booking_state": booking_state_beside_money(
                # Annotated by payments_for_money_page.
                p,
                no_refund_under_policy=getattr(p, "no_refund_under_policy", False),
            ),
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
            "zone": business_zone(request),
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
def payment_export(request: MemberRequest) -> StreamingHttpResponse:
    with timezone.override(business_zone(request)):  # the filter's days, as on the list
        payments = payments_for_money_page(**_filters(request))
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
def payment_detail(request: MemberRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(
        BookingPayment.objects.select_related("booking__customer", "booking__service"), pk=pk
    )
    can_refund = role_allows(request.membership.role, Permission.REFUND)
    events = list(payment.events.all())
    no_refund = any(event.action == NO_REFUND_ACTION for event in events)
    return render(
        request,
        "connect_payments/payment_detail.html",
        {
            "payment": payment,
            "booking_state": booking_state_beside_money(payment, no_refund_under_policy=no_refund),
            "zone": business_zone(request),
            "events": events,
            "refunds": payment.refunds.all(),
            "can_refund": can_refund,
            "refundable": _money(refundable_minor(payment), payment.currency),
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
def payment_refund(request: MemberRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(BookingPayment, pk=pk)
    try:
        amount = parse_major_units(text=request.POST.get("amount", ""), currency=payment.currency)
        refund = booking_payment_refund(
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
def payment_mark_balance_paid(request: MemberRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(BookingPayment, pk=pk)
    try:
        booking_payment_mark_balance_paid(payment=payment, actor=actor_of(request))
    except BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Balance recorded as paid at the venue.")
    return redirect("payment_detail", pk=pk)


@member_required(Permission.VIEW_MONEY)
def promo_codes(request: MemberRequest) -> HttpResponse:
    currency = request.tenant.currency
    zone = business_zone(request)
    form = PromoCodeForm(request.POST or None, currency=currency)
    with timezone.override(zone):  # "valid from / until" are typed in the business's zone
        created = request.method == "POST" and form.is_valid()
    if created:
        promo = promo_code_create(data=form.cleaned_data, actor=actor_of(request))
        messages.success(request, f"Promo code {promo.code} created.")
        return redirect("promo_codes")
    rows = []
    for promo in PromoCode.objects.prefetch_related("services"):
        redeemed = promo.payments.filter(booking__status__in=REDEEMED_STATUSES).count()
        value = (
            f"{promo.percent} %"
            if promo.kind == "percent"
            else _money(promo.amount_minor or 0, currency)
        )
        rows.append({"promo": promo, "value": value, "redeemed": redeemed})
    return render(
        request,
        "connect_payments/promo_codes.html",
        {"form": form, "rows": rows, "zone": zone},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@member_required(Permission.VIEW_MONEY)
def promo_code_deactivate(request: MemberRequest, pk: int) -> HttpResponse:
    promo = get_object_or_404(PromoCode, pk=pk)
    promo_code_deactivate_service(promo=promo)
    messages.success(request, f"Promo code {promo.code} deactivated.")
    return redirect("promo_codes")
