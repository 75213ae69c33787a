"""The console's revenue figures, computed from what is stored: dj-stripe's copies of the
platform's Stripe objects (Subscription, Invoice, Discount, Coupon), `billing.TenantSubscription`,
and the application fees of booking payments in every tenant schema.

No Stripe call and no query per tenant: a handful of queries, plus one `UNION ALL` of booking
fees per SCHEMAS_PER_QUERY tenant schemas (as in `tenant_stats`; one statement over every
schema ran out of PostgreSQL's lock table at 1,000 tenants, see `booking_fees_by_month`).

Definitions (docs/billing.md, "Revenue"):
- MRR: what paying subscriptions (active, past_due) bring per month, each item's
  `unit_amount × quantity` (a yearly price counts / 12), after the subscription's discounts
  (percent off; amount off normalised to a month). A complimentary subscription counts 0.
  ARR = 12 × MRR. Trials count nothing until they pay.
- Trial-to-paid conversion: of the subscriptions whose trial has ended, the share now paying.
- Churn (30 days): subscriptions canceled in the last 30 days / (paying now + those canceled).
- Failed payments to chase: open invoices with `attempt_count > 0`.
- Subscription revenue per month: `amount_paid` of paid invoices, by the month they were paid;
  booking-fee revenue per month: fees kept (fee − fee refunded) of paid booking payments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db import connection
from django.utils import timezone
from djstripe import models as djstripe_models
from psycopg import sql

from billing.models import SubscriptionStatus, TenantSubscription
from connect_payments.models import BookingPayment
from tenants.models import Tenant

PAYING = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
STATUSES_SHOWN = ("trialing", "active", "past_due", "paused", "canceled")
CHURN_DAYS = 30


@dataclass
class FailedPayment:
    tenant_name: str
    tenant_slug: str
    invoice_id: str
    amount_due_minor: int
    currency: str
    attempt_count: int
    next_attempt: datetime | None

    @property
    def amount_due(self) -> str:
        return major(self.amount_due_minor)


@dataclass
class MonthRevenue:
    month: str  # "2026-11"
    currency: str
    subscriptions_minor: int = 0
    booking_fees_minor: int = 0

    @property
    def subscriptions(self) -> str:
        return major(self.subscriptions_minor)

    @property
    def booking_fees(self) -> str:
        return major(self.booking_fees_minor)


@dataclass
class RevenueReport:
    currency: str
    mrr_minor: Fraction = Fraction(0)  # exact: a yearly price / 12 is rarely whole
    by_status: dict[str, int] = field(default_factory=dict)
    trials_ended: int = 0
    trials_converted: int = 0
    churned_30d: int = 0
    paying: int = 0
    failed_payments: list[FailedPayment] = field(default_factory=list)
    months: list[MonthRevenue] = field(default_factory=list)

    @property
    def arr_minor(self) -> Fraction:
        return self.mrr_minor * 12

    @property
    def display(self) -> dict[str, str]:
        return {
            "mrr": major(self.mrr_minor),
            "arr": major(self.arr_minor),
            "conversion": percent(self.conversion_rate),
            "churn": percent(self.churn_rate),
        }

    @property
    def conversion_rate(self) -> Fraction | None:
        if not self.trials_ended:
            return None
        return Fraction(self.trials_converted, self.trials_ended)

    @property
    def churn_rate(self) -> Fraction | None:
        base = self.paying + self.churned_30d
        if not base:
            return None
        return Fraction(self.churned_30d, base)


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def major(minor: Fraction | int) -> str:
    """Minor units as major units with two decimals ("1234.50"), rounded half up."""
    cents = _decimal(Fraction(minor)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return str((cents / 100).quantize(Decimal("0.01")))


def percent(rate: Fraction | None) -> str:
    if rate is None:
        return "—"
    return f"{(_decimal(rate) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)} %"


def _timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _coupon_of(discount: Any, discounts: dict[str, Any], coupons: dict[str, Any]) -> Any:
    """A subscription's discount (an id or an expanded object) → its coupon's data."""
    if isinstance(discount, str):
        discount = discounts.get(discount)
    if not isinstance(discount, dict):
        return None
    coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
    if isinstance(coupon, str):
        return coupons.get(coupon)
    return coupon if isinstance(coupon, dict) else None


def subscription_mrr(data: dict[str, Any], coupons: list[dict[str, Any]]) -> Fraction:
    """Monthly value of one subscription's data (minor units, exact), after its coupons."""
    monthly = Fraction(0)
    interval_months = 1
    for item in (data.get("items") or {}).get("data") or []:
        price = item.get("price") or {}
        recurring = price.get("recurring") or {}
        months = 12 if recurring.get("interval") == "year" else 1
        months *= int(recurring.get("interval_count") or 1)
        interval_months = months
        amount = int(price.get("unit_amount") or 0) * int(item.get("quantity") or 0)
        monthly += Fraction(amount, months)
    for coupon in coupons:
        if coupon.get("percent_off") is not None:
            monthly -= monthly * Fraction(str(coupon["percent_off"])) / 100
        elif coupon.get("amount_off"):
            monthly -= Fraction(int(coupon["amount_off"]), interval_months)
    return max(monthly, Fraction(0))


def revenue_report(*, now: datetime | None = None) -> RevenueReport:
    now = now or timezone.now()
    rows = list(
        TenantSubscription.objects.exclude(stripe_subscription_id="").values_list(
            "stripe_subscription_id", "status", "complimentary", "trial_end"
        )
    )
    stored = dict(
        djstripe_models.Subscription.objects.filter(id__in=[row[0] for row in rows]).values_list(
            "id", "stripe_data"
        )
    )
    discount_ids = {d for data in stored.values() for d in _discount_ids(data)}
    discounts = dict(
        djstripe_models.Discount.objects.filter(id__in=discount_ids).values_list(
            "id", "stripe_data"
        )
    )
    coupons = dict(djstripe_models.Coupon.objects.values_list("id", "stripe_data"))
    currency = _platform_currency(stored.values())
    report = RevenueReport(currency=currency, by_status=dict.fromkeys(STATUSES_SHOWN, 0))
    churn_since = now - timedelta(days=CHURN_DAYS)
    for subscription_id, status, complimentary, trial_end in rows:
        report.by_status[status] = report.by_status.get(status, 0) + 1
        data = stored.get(subscription_id) or {}
        if status in PAYING:
            report.paying += 1
            if not complimentary:
                found = [_coupon_of(d, discounts, coupons) for d in _discounts_of(data)]
                report.mrr_minor += subscription_mrr(data, [c for c in found if c])
        if trial_end is not None and status != SubscriptionStatus.TRIALING:  # the trial is over
            report.trials_ended += 1
            report.trials_converted += status in PAYING
        canceled_at = _timestamp(data.get("canceled_at") or data.get("ended_at"))
        if status == SubscriptionStatus.CANCELED and canceled_at and canceled_at >= churn_since:
            report.churned_30d += 1
    report.failed_payments = _failed_payments()
    report.months = _months()
    return report


def _discounts_of(data: dict[str, Any]) -> list[Any]:
    found = list(data.get("discounts") or [])
    if not found and data.get("discount"):
        found = [data["discount"]]
    return found


def _discount_ids(data: dict[str, Any]) -> list[str]:
    return [d for d in _discounts_of(data) if isinstance(d, str)]


def _platform_currency(subscriptions: Any) -> str:
    for data in subscriptions:
        for item in (data.get("items") or {}).get("data") or []:
            if (item.get("price") or {}).get("currency"):
                return str(item["price"]["currency"]).upper()
    return "EUR"


def _tenants_by_customer() -> dict[str, tuple[str, str]]:
    return {
        customer: (name, slug)
        for customer, name, slug in TenantSubscription.objects.exclude(
            stripe_customer_id=""
        ).values_list("stripe_customer_id", "tenant__name", "tenant__slug")
    }


def _failed_payments() -> list[FailedPayment]:
    invoices = djstripe_models.Invoice.objects.filter(
        stripe_data__status="open", stripe_data__attempt_count__gt=0
    ).values_list("id", "stripe_data")
    tenants = _tenants_by_customer()
    failed = []
    for invoice_id, data in invoices:
        name, slug = tenants.get(str(data.get("customer") or ""), ("", ""))
        if not slug:
            continue  # not a tenant's invoice
        failed.append(
            FailedPayment(
                tenant_name=name,
                tenant_slug=slug,
                invoice_id=invoice_id,
                amount_due_minor=int(data.get("amount_due") or 0),
                currency=str(data.get("currency") or "").upper(),
                attempt_count=int(data["attempt_count"]),
                next_attempt=_timestamp(data.get("next_payment_attempt")),
            )
        )
    return sorted(failed, key=lambda f: (-f.amount_due_minor, f.tenant_slug))


def _months() -> list[MonthRevenue]:
    months: dict[tuple[str, str], MonthRevenue] = {}

    def month(key: tuple[str, str]) -> MonthRevenue:
        return months.setdefault(key, MonthRevenue(month=key[0], currency=key[1]))

    customers = set(_tenants_by_customer())
    paid = djstripe_models.Invoice.objects.filter(stripe_data__status="paid").values_list(
        "stripe_data", flat=True
    )
    for data in paid:
        paid_at = _timestamp((data.get("status_transitions") or {}).get("paid_at"))
        if paid_at is None or str(data.get("customer") or "") not in customers:
            continue
        key = (paid_at.strftime("%Y-%m"), str(data.get("currency") or "").upper())
        month(key).subscriptions_minor += int(data.get("amount_paid") or 0)
    for key, fees in booking_fees_by_month().items():
        month(key).booking_fees_minor += fees
    return [months[key] for key in sorted(months, reverse=True)]


# A statement locks every table (and index) it reads until its transaction ends: one statement
# over 1,000 schemas' payment tables needed more than PostgreSQL's shared lock table holds by
# default (max_locks_per_transaction 64 × connections) and failed, "out of shared memory"
# (bench/billing.py). 100 schemas is a few hundred locks.
SCHEMAS_PER_QUERY = 100


def booking_fees_by_month() -> dict[tuple[str, str], int]:
    """Fees kept on paid booking payments, by (month paid, currency), across every tenant
    schema: one `UNION ALL` per SCHEMAS_PER_QUERY schemas, each its own statement (outside a
    transaction, its own transaction: its locks go when it ends)."""
    table = BookingPayment._meta.db_table
    schemas = list(
        Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True)
    )
    if not schemas:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [table, schemas],
        )
        with_table = sorted(row[0] for row in cursor.fetchall())
        if not with_table:
            return {}
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for start in range(0, len(with_table), SCHEMAS_PER_QUERY):
            per_schema = sql.SQL(" UNION ALL ").join(
                sql.SQL(
                    "SELECT paid_at, currency, fee_minor - fee_refunded_minor AS kept FROM {}.{} "
                    "WHERE paid_at IS NOT NULL"
                ).format(sql.Identifier(schema), sql.Identifier(table))
                for schema in with_table[start : start + SCHEMAS_PER_QUERY]
            )
            cursor.execute(
                sql.SQL(
                    "SELECT to_char(paid_at AT TIME ZONE 'UTC', 'YYYY-MM'), upper(currency), "
                    "sum(kept) FROM ({}) AS fees GROUP BY 1, 2"
                ).format(per_schema)
            )
            for month, currency, kept in cursor.fetchall():
                totals[(month, currency)] += int(kept)
    return dict(totals)
