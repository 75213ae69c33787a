"""Our sources of the payments list: booking payments and the no-show / late-cancellation fees
charged to cards on file, in the common shape of `money_rows` (registered in
`ConnectPaymentsConfig.ready()`)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from scheduling.models import BookingStatus

from ..models import (
    NO_REFUND_ACTION,
    BookingPayment,
    FeeCharge,
    FeeStatus,
    PaymentEvent,
    PaymentKind,
    PaymentStatus,
)
from . import COLUMNS, MoneyStatus, Presented, RowFilters, apply_common_filters


def mapped(field: str, mapping: dict[str, Any], *, default: Any = "") -> Case:
    """`CASE field WHEN value THEN label …` for a status column (labels translated now)."""
    return Case(
        *[When(**{field: value}, then=Value(str(label))) for value, label in mapping.items()],
        default=Value(str(default)),
        output_field=CharField(),
    )


# Typed NULLs: UNION resolves column types pair by pair, and two untyped NULLs become text.
def no_datetime() -> Cast:
    return Cast(Value(None), DateTimeField())


def no_id() -> Cast:
    return Cast(Value(None), BigIntegerField())


@lru_cache(maxsize=8)
def _day_and_month_names(language: str) -> tuple[dict[int, str], dict[int, str]]:
    """Django's translated "D" and "M" names, read once per language: `date_format` per row
    was most of a 25,000-row CSV's time."""
    with translation.override(language):
        return ({day: str(name) for day, name in WEEKDAYS_ABBR.items()},
                {month: str(name).title() for month, name in MONTHS_3.items()})  # fmt: skip


def booking_time(moment: datetime) -> str:
    """`date_format(localtime(moment), "D j M Y, H:i")`, as the calendar pages show it."""
    local = timezone.localtime(moment)
    days, months = _day_and_month_names(translation.get_language() or "en")
    return f"{days[local.weekday()]} {local.day} {months[local.month]} {local.year}, {local:%H:%M}"


def of_a_booking(kind: str) -> dict[str, Any]:
    """The first columns of a record tied to one booking (its payment, its fee): who, what and
    when come from the booking; the record has `paid_at`, `created_at`, `kind`, `currency`."""
    return {
        "row_kind": Value(kind),
        "row_id": F("pk"),
        "row_moved_at": Coalesce("paid_at", "created_at"),
        "row_customer_id": F("booking__customer_id"),
        "row_customer_name": F("booking__customer__name"),
        "row_customer_email": F("booking__customer__email"),
        "row_title": F("booking__service__name"),
        "row_reference": F("booking__reference"),
        "row_when": F("booking__starts_at"),
        "row_until": no_datetime(),
        "row_subkind": F("kind"),
        "row_currency": F("currency"),
    }


BOOKING_SEARCH = ("booking__reference", "booking__customer__name", "booking__customer__email",
                  "payment_intent_id", "charge_id")  # fmt: skip


def no_discount(*, price: str) -> dict[str, Any]:
    """The price, discount, promo code, amount asked and balance of a kind without promo codes
    or deposits: the price was asked in full."""
    return {
        "row_price": F(price),
        "row_discount": Value(0, output_field=BigIntegerField()),
        "row_promo": Value(""),
        "row_amount": F(price),
        "row_balance_due": Value(0, output_field=BigIntegerField()),
    }


def _booking_label(row: dict[str, Any]) -> str:
    when = booking_time(row["row_when"])
    label = f"{row['row_reference']} · {row['row_title']}, {when}"
    if row["row_subkind"] == PaymentKind.DEPOSIT:
        label += " " + gettext("(deposit)")
    return label


class BookingPaymentRows:
    kinds = (("booking", _("Booking payments")),)

    def rows(self, filters: RowFilters) -> QuerySet | None:
        if filters.kind not in ("", "booking"):
            return None
        after = [BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.EXPIRED]
        payments = BookingPayment.objects.order_by().annotate(
            **of_a_booking("booking"),
            row_gross=F("paid_minor"),
            row_refunded=F("refunded_minor"),
            row_fee=Case(
                When(paid_minor=0, then=Value(0)),
                default=F("fee_minor"),
                output_field=BigIntegerField(),
            ),
            row_fee_refunded=F("fee_refunded_minor"),
            row_status=mapped(
                "status",
                {
                    PaymentStatus.PENDING: MoneyStatus.AWAITING.value,
                    PaymentStatus.AWAITING_PAYMENT: MoneyStatus.AWAITING.value,
                    PaymentStatus.PAID: MoneyStatus.PAID.value,
                    PaymentStatus.PARTIALLY_REFUNDED: MoneyStatus.PARTIALLY_REFUNDED.value,
                    PaymentStatus.REFUNDED: MoneyStatus.REFUNDED.value,
                },
                default=MoneyStatus.NOT_PAID.value,
            ),  # fmt: skip
            row_status_label=mapped("status", dict(PaymentStatus.choices)),
            # What became of the booking, beside the money ("Paid · cancelled, no refund under
            # policy" rather than a bare "Paid").
            row_note=Case(
                When(
                    Q(booking__status=BookingStatus.CANCELLED, paid_minor__gt=0, refunded_minor=0)
                    & Exists(
                        PaymentEvent.objects.filter(payment=OuterRef("pk"), action=NO_REFUND_ACTION)
                    ),
                    then=Value(gettext("cancelled, no refund under policy")),
                ),  # fmt: skip
                When(booking__status=BookingStatus.CANCELLED, then=Value(gettext("cancelled"))),
                *[
                    When(booking__status=status, then=Value(status.label.lower()))
                    for status in after
                ],
                default=Value(""),
                output_field=CharField(),
            ),
            row_parent_id=no_id(),
            row_intent=Coalesce("payment_intent_id", Value("")),
            row_charge=F("charge_id"),
            row_price=F("price_minor"),
            row_discount=F("discount_minor"),
            row_promo=Coalesce("promo_code__code", Value("")),
            row_amount=F("amount_minor"),
            row_balance_due=F("balance_due_minor"),
        )
        payments = apply_common_filters(payments, filters, search_fields=BOOKING_SEARCH)
        return payments.values(*COLUMNS)

    def present(self, row: dict[str, Any], *, link: bool = True) -> Presented:
        url = reverse("payment_detail", args=[row["row_id"]]) if link else ""
        return Presented(_booking_label(row), url)


class FeeChargeRows:
    kinds = (("fee", _("No-show and late-cancellation fees")),)

    def rows(self, filters: RowFilters) -> QuerySet | None:
        if filters.kind not in ("", "fee"):
            return None
        charged = [FeeStatus.PAID, FeeStatus.REFUNDED]
        fees = FeeCharge.objects.order_by().annotate(
            **of_a_booking("fee"),
            row_gross=Case(
                When(status__in=charged, then=F("amount_minor")),
                default=Value(0),
                output_field=BigIntegerField(),
            ),
            row_refunded=Case(
                When(status=FeeStatus.REFUNDED, then=F("amount_minor")),
                default=Value(0),
                output_field=BigIntegerField(),
            ),
            row_fee=Case(
                When(status__in=charged, then=F("application_fee_minor")),
                default=Value(0),
                output_field=BigIntegerField(),
            ),
            # A fee is refunded in full with `refund_application_fee`: the platform fee too.
            row_fee_refunded=Case(
                When(status=FeeStatus.REFUNDED, then=F("application_fee_minor")),
                default=Value(0),
                output_field=BigIntegerField(),
            ),
            row_status=mapped(
                "status",
                {
                    FeeStatus.PENDING: MoneyStatus.AWAITING.value,
                    FeeStatus.AWAITING_CUSTOMER: MoneyStatus.AWAITING.value,
                    FeeStatus.PAID: MoneyStatus.PAID.value,
                    FeeStatus.REFUNDED: MoneyStatus.REFUNDED.value,
                },
                default=MoneyStatus.NOT_PAID.value,
            ),  # fmt: skip
            row_status_label=mapped("status", dict(FeeStatus.choices)),
            row_note=Value(""),
            row_parent_id=no_id(),
            row_intent=Coalesce("payment_intent_id", Value("")),
            row_charge=F("charge_id"),
            **no_discount(price="amount_minor"),
        )
        fees = apply_common_filters(fees, filters, search_fields=BOOKING_SEARCH)
        return fees.values(*COLUMNS)

    def present(self, row: dict[str, Any], *, link: bool = True) -> Presented:
        kind = dict(FeeCharge._meta.get_field("kind").choices or [])[row["row_subkind"]]
        label = gettext("%(fee)s for booking %(booking)s") % {
            "fee": kind,
            "booking": _booking_label({**row, "row_subkind": ""}),
        }
        url = reverse("fee_detail", args=[row["row_id"]]) if link else ""
        return Presented(label, url)
