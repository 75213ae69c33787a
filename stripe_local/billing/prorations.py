"""Prorations: what changing an item mid-period credits and charges, shared by subscription
updates (which store them as pending invoice items) and invoice previews (which only show them).

Both sides compute through `proration_amounts`, so a preview with a `proration_date` equals the
update made with the same `proration_date`.
"""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.products import price_amount
from stripe_local.core import template

# Statuses whose item changes are prorated (a trial is free, so changing it costs nothing).
PRORATED_STATUSES = ("active", "past_due")


def proration_amounts(
    old_amount: int, new_amount: int, start: int, end: int, at: int
) -> list[tuple[int, str]]:
    """[(amount, label prefix)]: the unused time of the old amount (negative) and the remaining
    time of the new one, for a change at `at` in the period [start, end)."""
    at = max(at, start)
    if end <= start or at >= end:
        return []
    remaining, length = end - at, end - start
    lines = []
    unused = -((old_amount * remaining) // length)
    if unused:
        lines.append((unused, "Unused time on "))
    charged = (new_amount * remaining) // length
    if charged:
        lines.append((charged, "Remaining time on "))
    return lines


def item_label(state: State, price_id: str, quantity: int) -> str:
    price = state.store.records[price_id].data
    product = state.store.find(price["product"])
    name = product.data["name"] if product else price["product"]
    return f"{quantity} × {name}"


def line_amount(state: State, price_id: str, quantity: int) -> int:
    return price_amount(state.store.records[price_id].data, quantity)


def prorate_item(
    ctx: Context,
    sub: Record,
    item: Record,
    old: tuple[str, int] | None,
    new: tuple[str, int] | None,
    at: int,
    period: tuple[int, int],
) -> list[Record]:
    """Pending invoice items for an item going from `old` (price, quantity) to `new`."""
    state = ctx.state
    customer = state.store.records[sub.data["customer"]]
    created = []
    for amount, prefix, target in _proration_parts(state, old, new, at, period):
        item_id = core.new_id("ii")
        data = template(
            "invoiceitem",
            id=item_id,
            amount=amount,
            currency=sub.data["currency"],
            customer=customer.id,
            date=at,
            description=prefix + item_label(state, target[0], target[1]),
            discountable=False,
            discounts=[],
            invoice=None,
            period={"end": period[1], "start": max(at, period[0])},
            proration=True,
            quantity=target[1],
            tax_rates=[],
            test_clock=customer.data["test_clock"],
            parent={
                "subscription_details": {"subscription": sub.id, "subscription_item": item.id},
                "type": "subscription_details",
            },
            pricing=None,
            net_amount=amount,
            customer_account=None,
            quantity_decimal=str(target[1]),
        )
        created.append(
            ctx.store.add(
                Record(
                    item_id,
                    "invoiceitem",
                    sub.owner,
                    data,
                    {"subscription": sub.id, "price": target[0]},
                )
            )
        )
    return created


def _proration_parts(
    state: State,
    old: tuple[str, int] | None,
    new: tuple[str, int] | None,
    at: int,
    period: tuple[int, int],
) -> list[tuple[int, str, tuple[str, int]]]:
    old_amount = line_amount(state, *old) if old else 0
    new_amount = line_amount(state, *new) if new else 0
    if old_amount == new_amount and old == new:
        return []
    parts = []
    for amount, prefix in proration_amounts(old_amount, new_amount, period[0], period[1], at):
        target = old if amount < 0 else new
        assert target is not None
        parts.append((amount, prefix, target))
    return parts


def proration_lines(
    state: State,
    item_id: str,
    old: tuple[str, int] | None,
    new: tuple[str, int] | None,
    at: int,
    period: tuple[int, int],
) -> list[dict[str, Any]]:
    """The same prorations as `prorate_item`, as plain line descriptions for a preview."""
    return [
        {
            "amount": amount,
            "description": prefix + item_label(state, target[0], target[1]),
            "price": target[0],
            "quantity": target[1],
            "subscription_item": item_id,
            "proration": True,
            "period": (max(at, period[0]), period[1]),
        }
        for amount, prefix, target in _proration_parts(state, old, new, at, period)
    ]
