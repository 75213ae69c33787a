"""Back-office money pages: payments (list, CSV export, detail, refund, balance paid at the venue)
and promo codes, for owners and managers with a verified second factor."""

from __future__ import annotations

import csv
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from common.money import Money, MoneyError, format_money, parse_major_units
from scheduling.actors import Actor
from scheduling.exceptions import BookingError
from scheduling.models import BookingStatus
from tenants.access import member_required
from tenants.http import MemberRequest
from tenants.roles import Permission, role_allows

from .. import money_rows
from ..forms import PromoCodeForm
from ..models import NO_REFUND_ACTION, BookingPayment, PromoCode
from ..money_rows import MoneyStatus, RowFilters
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
PAYMENTS_PER_PAGE = 50


def _filters(request: HttpRequest) -> dict:
    status = request.GET.get("status", "")
    if status not in MoneyStatus.values:
        status = ""
    kind = request.GET.get("kind", "")
    if kind not in dict(money_rows.kinds()):
        kind = ""
    return {
        "kind": kind,
        "status": status,
        "search": request.GET.get("q", "").strip()[:100],
        "date_from": _date_or_none(request.GET.get("from")),
        "date_to": _date_or_none(request.GET.get("to")),
    }


def _row_filters(filters: dict, zone: ZoneInfo) -> RowFilters:
    """The page's filters as the rows' ("from" and "to" are the business's days, inclusive)."""
    date_from, date_to = filters["date_from"], filters["date_to"]
    return RowFilters(
        kind=filters["kind"],
        status=filters["status"],
        search=filters["search"],
        moved_from=datetime.combine(date_from, time(0), zone) if date_from else None,
        moved_until=(
            datetime.combine(date_to, time(0), zone) + timedelta(days=1) if date_to else None
        ),
    )


def _date_or_none(value: str | None) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def business_zone(request: MemberRequest) -> ZoneInfo:
    """Times on the money pages are the business's, as on the calendar pages."""
    return ZoneInfo(request.tenant.time_zone or "UTC")


def money_text(amount: int, currency: str) -> str:
    """In the page's language (en or fr, the LANGUAGES setting), as the owner reads it."""
    return format_money(Money(amount, currency), locale=translation.get_language() or "en")


def booking_state_beside_money(payment: BookingPayment, *, no_refund_under_policy: bool) -> str:
    """What became of the booking, for the payment page's status ("Paid · cancelled, no refund
    under policy"): empty while it is simply held or confirmed. (The list computes the same in
    SQL: `money_rows.bookings`.)"""
    booking = payment.booking
    if booking.status == BookingStatus.CANCELLED:
        if no_refund_under_policy and payment.paid_minor and not payment.refunded_minor:
            return "cancelled, no refund under policy"
        return "cancelled"
    if booking.status in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.EXPIRED):
        return booking.get_status_display().lower()
    return ""


def _amounts(row: money_rows.MoneyRow) -> dict[str, str]:
    return {
        "gross": money_text(row.gross_minor, row.currency),
        "refunded": money_text(row.refunded_minor, row.currency),
        "fee": money_text(row.platform_fee_minor, row.currency),
        "net": money_text(row.net_minor, row.currency),
    }


@member_required(Permission.VIEW_MONEY)
def payment_list(request: MemberRequest) -> HttpResponse:
    """Every payment of the business: bookings, fees on cards on file, passes, memberships."""
    filters = _filters(request)
    zone = business_zone(request)
    rows = money_rows.payment_rows(_row_filters(filters, zone))
    listed: money_rows.CombinedRows | list[dict] = rows if rows is not None else []
    # CombinedRows has what a Paginator asks of a list: count() and slices.
    paginator: Paginator = Paginator(listed, PAYMENTS_PER_PAGE)  # type: ignore[arg-type]
    page = paginator.get_page(request.GET.get("page"))
    with timezone.override(zone):  # labels name booking times in the business's zone
        presented = money_rows.present_rows(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "connect_payments/payment_list.html",
        {
            "rows": [{"row": row, **_amounts(row)} for row in presented],
            "page": page,
            "filters": filters,
            "statuses": MoneyStatus.choices,
            "kinds": money_rows.kinds(),
            "query": query.urlencode(),
            "zone": zone,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


# The same rows as the list (all its pages), in the common shape; amounts in minor units.
CSV_HEADER = [
    "kind",
    "id",
    "date",
    "customer",
    "customer_email",
    "for",
    "booking",
    "status",
    "currency",
    "paid_minor",
    "refunded_minor",
    "fee_minor",
    "fee_refunded_minor",
    "net_minor",
    "payment_intent",
    "charge",
    "price_minor",
    "discount_minor",
    "promo_code",
    "amount_minor",
    "balance_due_minor",
]
CSV_BATCH = 500


def _csv_cell(value: object) -> str:
    if not isinstance(value, str):
        return "" if value is None else str(value)  # numbers stay numbers (a net may be < 0)
    # Spreadsheet formula injection: a customer name like "=HYPERLINK(...)" must stay text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_line(row: money_rows.MoneyRow, zone: ZoneInfo) -> list[str]:
    return [
        _csv_cell(v)
        for v in (
            row.kind,
            row.id,
            row.moved_at.astimezone(zone).isoformat(),
            row.customer_name,
            row.customer_email,
            row.label,
            row.reference,
            row.status_label,
            row.currency,
            row.gross_minor,
            row.refunded_minor,
            row.fee_minor,
            row.fee_refunded_minor,
            row.net_minor,
            row.payment_intent,
            row.charge,
            row.price_minor,
            row.discount_minor,
            row.promo_code,
            row.amount_minor,
            row.balance_due_minor,
        )
    ]


@member_required(Permission.VIEW_MONEY)
def payment_export(request: MemberRequest) -> StreamingHttpResponse:
    zone = business_zone(request)
    rows = money_rows.payment_rows(_row_filters(_filters(request), zone))
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(CSV_HEADER)
        if rows is None:
            return
        batch: list[dict] = []
        for row in rows.iterator(chunk_size=CSV_BATCH):
            batch.append(row)
            if len(batch) == CSV_BATCH:
                yield from _written(batch)
                batch = []
        yield from _written(batch)

    def _written(batch: list[dict]):
        with timezone.override(zone):
            for row in money_rows.present_rows(batch, links=False):
                yield writer.writerow(csv_line(row, zone))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
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
            "refundable": money_text(refundable_minor(payment), payment.currency),
            "amounts": {
                "price": money_text(payment.price_minor, payment.currency),
                "discount": money_text(payment.discount_minor, payment.currency),
                "amount": money_text(payment.amount_minor, payment.currency),
                "paid": money_text(payment.paid_minor, payment.currency),
                "fee": money_text(payment.fee_minor, payment.currency),
                "fee_refunded": money_text(payment.fee_refunded_minor, payment.currency),
                "refunded": money_text(payment.refunded_minor, payment.currency),
                "net": money_text(payment.net_minor, payment.currency),
                "balance": money_text(payment.balance_due_minor, payment.currency),
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
        messages.success(request, f"Refunded {money_text(refund.amount_minor, payment.currency)}.")
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
            else money_text(promo.amount_minor or 0, currency)
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
