"""Pass purchases and membership invoices on the back office's payments list: memberships'
sources of `connect_payments.money_rows` (registered in `MembershipsConfig.ready()` by
`register`; connect_payments sits below us and never imports this app).

Platform fees: a pass keeps the fee it was charged (`fee_minor`); a membership invoice's fee is
Stripe's `round_half_up(total × application_fee_percent / 100)` with the percent copied on the
membership (docs/decisions/0014-membership-charges.md). Refunds return the fee pro rata
(`refund_application_fee=true`), rounded half-up as `connect_payments.fees` does.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connect_payments.money_rows import (
    COLUMNS,
    MoneyStatus,
    Presented,
    RowFilters,
    apply_common_filters,
    register_payment_rows,
)
from connect_payments.money_rows.bookings import mapped, no_datetime, no_discount

from .models import MembershipPeriod, PassPurchase, PassPurchaseStatus

NUMERIC = DecimalField(max_digits=40, decimal_places=10)
PERIOD_DATE_FORMAT = "j M Y"


def _whole(expression: Any) -> Cast:
    """A numeric expression rounded half-up (away from zero: amounts are ≥ 0) to minor units."""
    return Cast(Round(ExpressionWrapper(expression, output_field=NUMERIC)), BigIntegerField())


def _pro_rata_fee(*, refunded: str, fee: Any, charged: str) -> Case:
    """The fee returned with `refunded` of `charged` (0 when nothing was charged)."""
    return Case(
        When(Q(**{charged: 0}) | Q(**{refunded: 0}), then=Value(0)),
        default=_whole(Cast(F(refunded), NUMERIC) * fee / F(charged)),
        output_field=BigIntegerField(),
    )


class PassPurchaseRows:
    kinds = (("pass", _("Pass purchases")),)

    def rows(self, filters: RowFilters) -> QuerySet | None:
        if filters.kind not in ("", "pass"):
            return None
        fee = Case(When(paid_minor=0, then=Value(0)), default=F("fee_minor"),
                   output_field=BigIntegerField())  # fmt: skip
        partly = Q(status=PassPurchaseStatus.PAID, refunded_minor__gt=0)
        purchases = PassPurchase.objects.order_by().annotate(
            row_kind=Value("pass"),
            row_id=F("pk"),
            row_moved_at=Coalesce("paid_at", "created_at"),
            row_customer_id=F("customer_id"),
            row_customer_name=F("customer__name"),
            row_customer_email=F("customer__email"),
            row_title=F("name"),
            row_reference=Value(""),
            row_when=no_datetime(),
            row_until=no_datetime(),
            row_subkind=Value(""),
            row_currency=F("currency"),
            row_gross=F("paid_minor"),
            row_refunded=F("refunded_minor"),
            row_fee=fee,
            row_fee_refunded=_pro_rata_fee(
                refunded="refunded_minor", fee=F("fee_minor"), charged="paid_minor"
            ),
            row_status=Case(
                When(partly, then=Value(MoneyStatus.PARTIALLY_REFUNDED.value)),
                default=mapped(
                    "status",
                    {
                        PassPurchaseStatus.PENDING: MoneyStatus.AWAITING.value,
                        PassPurchaseStatus.PAID: MoneyStatus.PAID.value,
                        PassPurchaseStatus.REFUNDED: MoneyStatus.REFUNDED.value,
                    },
                    default=MoneyStatus.NOT_PAID.value,
                ),
            ),  # fmt: skip
            row_status_label=Case(
                When(partly, then=Value(str(MoneyStatus.PARTIALLY_REFUNDED.label))),
                default=mapped("status", dict(PassPurchaseStatus.choices)),
            ),
            row_note=Value(""),
            row_parent_id=F("customer_id"),
            row_intent=Coalesce("payment_intent_id", Value("")),
            row_charge=F("charge_id"),
            **no_discount(price="price_minor"),
        )
        purchases = apply_common_filters(purchases, filters, search_fields=(
            "customer__name", "customer__email", "name", "payment_intent_id", "charge_id",
        ))  # fmt: skip
        return purchases.values(*COLUMNS)

    def present(self, row: dict[str, Any], *, link: bool = True) -> Presented:
        label = gettext("Pass: %(name)s") % {"name": row["row_title"]}
        # The purchase's credits and refunds are on the customer's credits page.
        url = reverse("customer_credits", args=[row["row_parent_id"]]) if link else ""
        return Presented(label, url)


class MembershipInvoiceRows:
    kinds = (("membership", _("Membership invoices")),)

    def rows(self, filters: RowFilters) -> QuerySet | None:
        if filters.kind not in ("", "membership"):
            return None
        fee = Case(
            When(amount_paid_minor=0, then=Value(0)),
            default=_whole(Cast(F("amount_paid_minor"), NUMERIC)
                           * F("membership__fee_percent") / Value(100)),
            output_field=BigIntegerField(),
        )  # fmt: skip
        refunded_all = Q(amount_paid_minor__gt=0, refunded_minor__gte=F("amount_paid_minor"))
        periods = MembershipPeriod.objects.order_by().annotate(
            row_kind=Value("membership"),
            row_id=F("pk"),
            row_moved_at=F("paid_at"),
            row_customer_id=F("membership__customer_id"),
            row_customer_name=F("membership__customer__name"),
            row_customer_email=F("membership__customer__email"),
            row_title=F("membership__name"),
            row_reference=Value(""),
            row_when=F("period_start"),
            row_until=F("period_end"),
            row_subkind=F("billing_reason"),
            row_currency=F("currency"),
            row_gross=F("amount_paid_minor"),
            row_refunded=F("refunded_minor"),
            row_fee=fee,
            row_fee_refunded=_pro_rata_fee(
                refunded="refunded_minor", fee=fee, charged="amount_paid_minor"
            ),
            row_status=Case(
                When(refunded_all, then=Value(MoneyStatus.REFUNDED.value)),
                When(refunded_minor__gt=0, then=Value(MoneyStatus.PARTIALLY_REFUNDED.value)),
                default=Value(MoneyStatus.PAID.value),
            ),
            row_status_label=Case(
                When(refunded_all, then=Value(str(MoneyStatus.REFUNDED.label))),
                When(refunded_minor__gt=0, then=Value(str(MoneyStatus.PARTIALLY_REFUNDED.label))),
                default=Value(str(MoneyStatus.PAID.label)),
            ),  # fmt: skip
            row_note=Value(""),
            row_parent_id=F("membership_id"),
            row_intent=F("payment_intent_id"),
            row_charge=F("charge_id"),
            **no_discount(price="amount_paid_minor"),
        )
        periods = apply_common_filters(periods, filters, search_fields=(
            "membership__customer__name", "membership__customer__email", "membership__name",
            "invoice_id", "payment_intent_id", "charge_id",
        ))  # fmt: skip
        return periods.values(*COLUMNS)

    def present(self, row: dict[str, Any], *, link: bool = True) -> Presented:
        start, end = (date_format(timezone.localtime(row[key]), PERIOD_DATE_FORMAT)
                      for key in ("row_when", "row_until"))  # fmt: skip
        label = gettext("Membership %(name)s, %(start)s – %(end)s") % {
            "name": row["row_title"], "start": start, "end": end,
        }  # fmt: skip
        url = reverse("membership_member", args=[row["row_parent_id"]]) if link else ""
        return Presented(label, url)


def register() -> None:
    """Called once from `MembershipsConfig.ready()`."""
    register_payment_rows(PassPurchaseRows())
    register_payment_rows(MembershipInvoiceRows())
