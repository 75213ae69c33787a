"""The operator's platform view (the console's "Platform" page): figures across every tenant,
read from public tables only — the platform activity (insights.models.PlatformActivity), the
tenant table and the webhook inbox. A handful of queries whatever the number of tenants; no
tenant schema is read and no customer row is seen.

Dates are UTC days: a booking counts on the day it was made (while confirmed, completed or a
no-show), money on the day it moved (paid online; refunds on the day they succeeded).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from common import money
from connect_payments.models import StripeEvent, StripeEventOutcome
from tenants.models import Tenant

from .models import PlatformActivity

ACTIVE_DAYS = 30
TOP_TENANTS = 10


@dataclass
class Money:
    currency: str
    gross_minor: int = 0
    fee_minor: int = 0
    refunded_minor: int = 0
    fee_refunded_minor: int = 0

    @property
    def fees_kept_minor(self) -> int:
        return self.fee_minor - self.fee_refunded_minor

    def shown(self, minor: int) -> str:
        return money.format_money(money.Money(minor, self.currency))

    @property
    def gross(self) -> str:
        return self.shown(self.gross_minor)

    @property
    def fees_kept(self) -> str:
        return self.shown(self.fees_kept_minor)

    @property
    def refunded(self) -> str:
        return self.shown(self.refunded_minor)


@dataclass
class Day:
    day: date
    bookings: int = 0
    money: dict[str, Money] = field(default_factory=dict)  # by currency
    failed_refunds: int = 0
    columns: list[Money | None] = field(default_factory=list)  # in the view's currency order


@dataclass
class TopTenant:
    name: str
    slug: str
    bookings: int
    money: Money


@dataclass
class TenantToLookAt:
    name: str
    slug: str
    failed_refunds: int


@dataclass
class PlatformView:
    first_day: date
    last_day: date
    days: list[Day]
    currencies: list[str]
    totals: dict[str, Money]
    bookings: int
    active_tenants: int
    tenants: int
    new_tenants_per_week: list[tuple[date, int]]
    top_tenants: list[TopTenant]
    failed_refunds: list[TenantToLookAt]
    failed_webhooks: list[StripeEvent]
    failed_webhooks_count: int


def _money(row: dict[str, Any], currency: str) -> Money:
    return Money(
        currency=currency,
        gross_minor=row["gross"] or 0,
        fee_minor=row["fee"] or 0,
        refunded_minor=row["refunded"] or 0,
        fee_refunded_minor=row["fee_refunded"] or 0,
    )


MONEY_SUMS = {
    "gross": Sum("gross_minor"),
    "fee": Sum("fee_minor"),
    "refunded": Sum("refunded_minor"),
    "fee_refunded": Sum("fee_refunded_minor"),
}


def platform_view(*, days: int = 30, today: date | None = None) -> PlatformView:
    """The last `days` UTC days up to `today` (included)."""
    today = today or timezone.now().date()
    first = today - timedelta(days=days - 1)
    window = PlatformActivity.objects.filter(day__gte=first, day__lte=today)

    per_day: dict[date, Day] = {
        first + timedelta(n): Day(first + timedelta(n)) for n in range(days)
    }
    totals: dict[str, Money] = {}
    rows = cast(list[dict[str, Any]], list(window.values("day", "currency").annotate(
        bookings_sum=Sum("bookings"), failed=Sum("failed_refunds"), **MONEY_SUMS
    )))  # fmt: skip
    for row in rows:
        entry = per_day[row["day"]]
        entry.bookings += row["bookings_sum"] or 0
        entry.failed_refunds += row["failed"] or 0
        entry.money[row["currency"]] = _money(row, row["currency"])
        total = totals.setdefault(row["currency"], Money(row["currency"]))
        for name in ("gross_minor", "fee_minor", "refunded_minor", "fee_refunded_minor"):
            setattr(total, name, getattr(total, name) + getattr(entry.money[row["currency"]], name))

    active_since = today - timedelta(days=ACTIVE_DAYS - 1)
    active = (
        PlatformActivity.objects.filter(day__gte=active_since, day__lte=today)
        .values("tenant_id")
        .annotate(made=Sum("bookings"))
        .filter(made__gt=0)
        .count()
    )
    by_tenant = cast(list[dict[str, Any]], list(
        window.values("tenant_id", "currency")
        .annotate(made=Sum("bookings"), failed=Sum("failed_refunds"), **MONEY_SUMS)
        .filter(Q(made__gt=0) | Q(gross__gt=0) | Q(failed__gt=0))
    ))  # fmt: skip
    wanted = {row["tenant_id"] for row in by_tenant}
    names = {
        t.pk: (t.name, t.slug) for t in Tenant.objects.filter(pk__in=wanted).only("name", "slug")
    }
    ranked = sorted(by_tenant, key=lambda row: (-(row["gross"] or 0), -(row["made"] or 0)))
    top = [
        TopTenant(
            *names.get(row["tenant_id"], ("(deleted)", "")),
            bookings=row["made"] or 0,
            money=_money(row, row["currency"]),
        )  # fmt: skip
        for row in ranked[:TOP_TENANTS]
    ]
    failing: dict[int, int] = defaultdict(int)
    for row in by_tenant:
        failing[row["tenant_id"]] += row["failed"] or 0
    to_look_at = sorted(
        (TenantToLookAt(*names.get(pk, ("(deleted)", "")), failed_refunds=count)
         for pk, count in failing.items() if count > 0),
        key=lambda entry: -entry.failed_refunds,
    )  # fmt: skip

    weeks_from = first - timedelta(days=first.weekday())
    new_tenants = (
        Tenant.objects.exclude(schema_name="public")
        .filter(created_at__date__gte=weeks_from)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by("week")
    )
    failed_events = StripeEvent.objects.filter(outcome=StripeEventOutcome.FAILED)
    currencies = sorted(totals)
    for entry in per_day.values():
        entry.columns = [entry.money.get(currency) for currency in currencies]
    return PlatformView(
        first_day=first,
        last_day=today,
        days=[per_day[day] for day in sorted(per_day)],
        currencies=currencies,
        totals=totals,
        bookings=sum(day.bookings for day in per_day.values()),
        active_tenants=active,
        tenants=Tenant.objects.exclude(schema_name="public").count(),
        new_tenants_per_week=[(row["week"].date(), row["count"]) for row in new_tenants],
        top_tenants=top,
        failed_refunds=to_look_at,
        failed_webhooks=list(failed_events.order_by("-received_at")[:20]),
        failed_webhooks_count=failed_events.count(),
    )


def bookings_per_tenant(tenant_ids: list[int]) -> dict[int, int]:
    """All-time bookings (made, not cancelled) of each tenant: one indexed query, for the
    console's tenant list."""
    rows = (
        PlatformActivity.objects.filter(tenant_id__in=tenant_ids)
        .values("tenant_id")
        .annotate(made=Sum("bookings"))
    )
    return {row["tenant_id"]: row["made"] or 0 for row in rows}


def fees_kept_by_month() -> dict[tuple[str, str], int]:
    """Platform fees less fee refunds, by ("YYYY-MM" UTC, currency), across every tenant."""
    rows = (
        PlatformActivity.objects.annotate(month=TruncMonth("day"))
        .values("month", "currency")
        .annotate(fees=Sum("fee_minor"), refunded=Sum("fee_refunded_minor"))
    )
    kept = {(f"{row['month']:%Y-%m}", row["currency"].upper()):
            (row["fees"] or 0) - (row["refunded"] or 0) for row in rows}  # fmt: skip
    return {key: value for key, value in kept.items() if value}
