"""The business's money, one row per payment whatever paid for it: the payments list, its CSV
and the customers' "total spent" read it.

Each kind of payment is a *source*: booking payments and card-on-file fees are ours
(`money_rows/bookings.py`); pass purchases and membership invoices are memberships', which sits
above us and registers its source in `MembershipsConfig.ready()` (`register_payment_rows`), so
this app never imports it. A source answers with a queryset of `.values(*COLUMNS)` in the common
shape below; the sources' querysets are joined with one `UNION ALL`, so a page of rows is one
query (plus one count), whatever the number of rows or sources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db import connection
from django.db.models import QuerySet, TextChoices
from django.utils.translation import gettext_lazy as _

# The common shape: every source annotates these names (prefixed: they never clash with a
# model's own fields), in this order. Amounts are minor units of `row_currency`.
COLUMNS = (
    "row_kind",  # the source's kind ("booking", "fee", "pass", "membership")
    "row_id",  # the record's id within its kind
    "row_moved_at",  # when the money moved (paid), else when the payment was started
    "row_customer_id",
    "row_customer_name",
    "row_customer_email",
    "row_title",  # the service, pass or membership name
    "row_reference",  # the booking reference ("" when no booking)
    "row_when",  # the booking's start, the membership period's start (or NULL)
    "row_until",  # the membership period's end (or NULL)
    "row_subkind",  # a detail of the kind (deposit, no-show fee…) for the label
    "row_currency",
    "row_gross",  # paid by the customer
    "row_refunded",  # refunded to the customer
    "row_fee",  # the platform fee taken on the payment
    "row_fee_refunded",  # the part of that fee returned with refunds
    "row_status",  # a MoneyStatus value
    "row_status_label",  # the source's own word for the status
    "row_note",  # what became of the booking ("cancelled, no refund under policy"), or ""
    "row_parent_id",  # the record the detail page is of (membership of a period…), or NULL
    "row_intent",  # Stripe's PaymentIntent id ("" if none)
    "row_charge",  # Stripe's charge id ("" if none)
    "row_price",  # the price before a discount
    "row_discount",  # a promo code's discount on it (0 if none)
    "row_promo",  # the promo code ("" if none)
    "row_amount",  # what was asked online (a deposit is less than the price)
    "row_balance_due",  # left to pay at the venue (a deposit's balance; 0 otherwise)
)


class MoneyStatus(TextChoices):
    """The status every kind of payment maps to, for the list's status filter."""

    AWAITING = "awaiting", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    NOT_PAID = "not_paid", _("Not paid")


@dataclass(frozen=True)
class RowFilters:
    """What the list, the CSV and the totals filter on; the same filters give the same rows."""

    kind: str = ""
    status: str = ""
    search: str = ""
    moved_from: datetime | None = None  # inclusive, aware
    moved_until: datetime | None = None  # exclusive, aware
    customer_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Presented:
    """What a source says of one of its rows: what it was for, and its page (or "")."""

    label: str
    detail_url: str = ""


class PaymentRowSource(Protocol):
    """A kind (or kinds) of payment for the payments list."""

    @property
    def kinds(self) -> Sequence[tuple[str, Any]]:
        """(value, label) of each kind this source answers."""

    def rows(self, filters: RowFilters) -> QuerySet | None:
        """The matching records as `.values(*COLUMNS)`, None when `filters.kind` is not ours.
        Must filter on every field of `filters` (use `apply_common_filters`)."""

    def present(self, row: dict[str, Any], *, link: bool = True) -> Presented:
        """The label of one row and, if `link`, its page's URL, from the row alone (no query).
        The CSV asks for no link: resolving 25,000 URLs was half its time."""


_sources: list[PaymentRowSource] = []


def register_payment_rows(source: PaymentRowSource) -> None:
    if all(type(known) is not type(source) for known in _sources):
        _sources.append(source)


def kinds() -> list[tuple[str, Any]]:
    return [kind for source in _sources for kind in source.kinds]


def apply_common_filters(queryset: QuerySet, filters: RowFilters, *, search_fields: Iterable[str]
                         ) -> QuerySet:  # fmt: skip
    """The filters every source applies the same way, on its annotated columns and its own
    searchable fields (`search_fields`: lookups that take `icontains`)."""
    from django.db.models import Q

    if filters.status:
        queryset = queryset.filter(row_status=filters.status)
    if filters.moved_from is not None:
        queryset = queryset.filter(row_moved_at__gte=filters.moved_from)
    if filters.moved_until is not None:
        queryset = queryset.filter(row_moved_at__lt=filters.moved_until)
    if filters.customer_ids is not None:
        queryset = queryset.filter(row_customer_id__in=filters.customer_ids)
    if filters.search:
        query = Q()
        for field in search_fields:
            query |= Q(**{f"{field}__icontains": filters.search})
        queryset = queryset.filter(query)
    return queryset


class CombinedRows:
    """Every source's matching rows as one list, newest money first, for a `Paginator`: a slice
    is one `UNION ALL` query; the count is each source's own count (no join, no label: counting
    the union would build every row twice)."""

    ordered = True  # read by Paginator

    def __init__(self, parts: list[QuerySet]) -> None:
        self.parts = parts
        combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        self.union = combined.order_by("-row_moved_at", "-row_kind", "-row_id")

    def count(self) -> int:
        return sum(part.count() for part in self.parts)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[dict[str, Any]]:
        return list(self.union[index])

    def iterator(self, chunk_size: int) -> Iterator[dict[str, Any]]:
        return self.union.iterator(chunk_size=chunk_size)


def payment_rows(filters: RowFilters) -> CombinedRows | None:
    """Every matching payment of every source, newest money first (None: no source matches)."""
    parts = [part for source in _sources if (part := source.rows(filters)) is not None]
    return CombinedRows(parts) if parts else None


@dataclass(frozen=True)
class MoneyRow:
    kind: str
    kind_label: str
    id: int
    moved_at: datetime
    customer_id: int
    customer_name: str
    customer_email: str
    label: str
    reference: str
    currency: str
    gross_minor: int
    refunded_minor: int
    fee_minor: int
    fee_refunded_minor: int
    status: str
    status_label: str
    detail_url: str
    payment_intent: str
    charge: str
    price_minor: int = 0
    discount_minor: int = 0
    promo_code: str = ""
    amount_minor: int = 0
    balance_due_minor: int = 0

    @property
    def platform_fee_minor(self) -> int:
        """The fee the platform keeps: taken minus returned."""
        return self.fee_minor - self.fee_refunded_minor

    @property
    def net_minor(self) -> int:
        """What the business keeps: paid − refunded − (fee − fee refunded)."""
        return self.gross_minor - self.refunded_minor - self.platform_fee_minor


def present_rows(rows: Iterable[dict[str, Any]], *, links: bool = True) -> list[MoneyRow]:
    """The rows of `payment_rows`, labelled by their sources (no query)."""
    labels = dict(kinds())
    sources = {kind: source for source in _sources for kind, _label in source.kinds}
    presented = []
    for row in rows:
        told = sources[row["row_kind"]].present(row, link=links)
        status_label = str(row["row_status_label"])
        if row["row_note"]:
            status_label = f"{status_label} · {row['row_note']}"
        presented.append(
            MoneyRow(
                kind=row["row_kind"],
                kind_label=str(labels[row["row_kind"]]),
                id=row["row_id"],
                moved_at=row["row_moved_at"],
                customer_id=row["row_customer_id"],
                customer_name=row["row_customer_name"],
                customer_email=row["row_customer_email"],
                label=told.label,
                reference=row["row_reference"],
                currency=row["row_currency"],
                gross_minor=int(row["row_gross"]),
                refunded_minor=int(row["row_refunded"]),
                fee_minor=int(row["row_fee"]),
                fee_refunded_minor=int(row["row_fee_refunded"]),
                status=row["row_status"],
                status_label=status_label,
                detail_url=told.detail_url,
                payment_intent=row["row_intent"],
                charge=row["row_charge"],
                price_minor=int(row["row_price"]),
                discount_minor=int(row["row_discount"]),
                promo_code=row["row_promo"],
                amount_minor=int(row["row_amount"]),
                balance_due_minor=int(row["row_balance_due"]),
            )
        )
    return presented


def spent_by_customer(customer_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """What each customer paid, net of refunds, per currency ({customer: {currency: minor}}):
    the same rows as the payments list, summed in one query."""
    ids = tuple(sorted(set(customer_ids)))
    if not ids:
        return {}
    rows = payment_rows(RowFilters(customer_ids=ids))
    if rows is None:
        return {}
    sql, params = rows.union.order_by().query.sql_with_params()
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    # `sql` is Django's own compiled query (its values are in `params`), not user text.
    spent = "SUM(row_gross - row_refunded)"
    total = f"SELECT row_customer_id, row_currency, {spent} FROM ({sql}) AS money"  # noqa: S608
    total += " GROUP BY row_customer_id, row_currency"
    with connection.cursor() as cursor:
        cursor.execute(total, params)
        for customer_id, currency, spent in cursor.fetchall():
            totals[customer_id][currency] = int(spent)
    return dict(totals)
