"""POST /v1/invoices/create_preview: the invoice a subscription (or a change to it, or a new one)
would produce, computed like the real thing and never stored.

With `subscription_details[items]` and `proration_behavior=always_invoice` the preview is the
invoice the update would charge at once (pending items plus prorations); otherwise it is the
next renewal (pending items, prorations, the next period at the new prices, the discount).
Proration lines have `parent.subscription_item_details.proration = true`, as on real invoices.
"""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.billing.discounts import coupon_from, coupon_takes, discount_amount
from stripe_local.billing.intervals import add_interval
from stripe_local.billing.invoicing import invoice_fields, line_fields
from stripe_local.billing.periods import billing_interval, current_period
from stripe_local.billing.prorations import (
    PRORATED_STATUSES,
    item_label,
    line_amount,
    proration_lines,
)
from stripe_local.billing.schedules import next_phase_items
from stripe_local.billing.subscription_updates import proration_moment
from stripe_local.billing.subscriptions import SUB_ITEM_SPEC, price_for_item
from stripe_local.core import ANY, MAP, StripeError

PREVIEW_SPEC = {
    "customer": ANY,
    "subscription": ANY,
    "subscription_details": {
        "items": SUB_ITEM_SPEC,
        "proration_behavior": ANY,
        "proration_date": ANY,
    },
    "discounts": ANY,
    "automatic_tax": MAP,
    "currency": ANY,
    "preview_mode": ANY,
}

Line = dict[str, Any]


@route("POST", "/v1/invoices/create_preview", spec=PREVIEW_SPEC)
def invoice_create_preview(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    sub_id = core.get_str(params, "subscription")
    customer_id = core.get_str(params, "customer")
    sub = None
    if sub_id:
        sub = ctx.store.get("subscription", sub_id, ctx.account, param="subscription")
        if customer_id and customer_id != sub.data["customer"]:
            raise StripeError(
                "The subscription does not belong to this customer.", param="subscription"
            )
        customer_id = sub.data["customer"]
    if not customer_id:
        raise StripeError("Missing required param: customer (or subscription).", param="customer")
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    details = params.get("subscription_details") or {}
    if not isinstance(details, dict):
        raise StripeError(
            "Invalid subscription_details: must be a hash", param="subscription_details"
        )
    if sub is not None:
        if sub.data["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                f"No upcoming invoices for subscription: {sub.id}", code="invoice_upcoming_none"
            )
        return subscription_preview(ctx, customer, sub, details)
    if details.get("items"):
        return _new_subscription_preview(ctx, customer, details, params.get("discounts"))
    pending = _pending_lines(ctx, customer.id, None)
    if not pending:
        raise StripeError(
            f"Nothing to invoice for customer: {customer.id}", code="invoice_upcoming_none"
        )
    currency = ctx.store.records[pending[0]["invoice_item"]].data["currency"]
    now = ctx.now(customer.id)
    return _invoice(ctx, customer, None, "manual", currency, (now, now), pending, 0, None)


def subscription_preview(
    ctx: Context, customer: Record, sub: Record, details: dict[str, Any]
) -> dict[str, Any]:
    """The next invoice of `sub`, with the item changes in `details` applied."""
    state = ctx.state
    now = ctx.now(customer.id)
    proration = core.get_enum(
        details,
        "proration_behavior",
        ["always_invoice", "create_prorations", "none"],
        "create_prorations",
    )
    at = proration_moment(details, now, "subscription_details[proration_date]")
    current = {
        i: (state.store.records[i].data["price"], state.store.records[i].data["quantity"])
        for i in sub.internal["items"]
    }
    target = dict(current)
    for index, given in enumerate(details.get("items") or []):
        if not isinstance(given, dict):
            raise StripeError(f"Invalid subscription_details[items][{index}]")
        item_id = given.get("id")
        if item_id:
            if item_id not in current:
                raise core.not_found(
                    "subscription_item", item_id, f"subscription_details[items][{index}][id]"
                )
            if core.get_bool(given, "deleted", False):
                target.pop(item_id)
                continue
            price_id = price_for_item(ctx, given, index).id if given.get("price") else None
            quantity = core.get_int(given, "quantity", minimum=0)
            old_price, old_quantity = current[item_id]
            target[item_id] = (
                price_id or old_price,
                old_quantity if quantity is None else quantity,
            )
        else:
            quantity = core.get_int(given, "quantity", default=1, minimum=0) or 0
            target[f"new_{index}"] = (price_for_item(ctx, given, index).id, quantity)
    if not target:
        raise StripeError("A subscription must have at least one active plan.", param="items")
    period = current_period(state, sub)
    old_interval = billing_interval(state, sub)
    first_price = state.store.records[next(iter(target.values()))[0]].data["recurring"]
    new_interval = (first_price["interval"], first_price["interval_count"])
    interval_changed = new_interval != old_interval
    changed = [k for k in {**current, **target} if current.get(k) != target.get(k)]
    lines = _pending_lines(ctx, customer.id, sub.id)
    if proration != "none" and sub.data["status"] in PRORATED_STATUSES:
        for key in changed:
            lines += proration_lines(
                state,
                key if key in current else "",
                current.get(key),
                None if interval_changed else target.get(key),
                at,
                period,
            )
    discount_id = sub.data["discounts"][0] if sub.data["discounts"] else None
    if interval_changed and sub.data["status"] in PRORATED_STATUSES:
        new_period = (now, add_interval(now, *new_interval))
        lines += _period_lines(state, target, new_period)
        return _invoice(
            ctx,
            customer,
            sub,
            "subscription_update",
            sub.data["currency"],
            new_period,
            lines,
            *_discount(state, discount_id, lines, now),
        )
    if proration == "always_invoice" and changed and sub.data["status"] in PRORATED_STATUSES:
        return _invoice(
            ctx,
            customer,
            sub,
            "subscription_update",
            sub.data["currency"],
            (at, period[1]),
            lines,
            0,
            None,
        )
    start = period[1]
    scheduled = None if details.get("items") else next_phase_items(state, sub, start)
    if scheduled:
        # The subscription's schedule starts a new phase at the renewal: its prices are billed.
        target = scheduled
        recurring = state.store.records[next(iter(target.values()))[0]].data["recurring"]
        new_interval = (recurring["interval"], recurring["interval_count"])
    next_period = (start, add_interval(start, *new_interval))
    lines += _period_lines(state, target, next_period)
    return _invoice(
        ctx,
        customer,
        sub,
        "subscription_cycle",
        sub.data["currency"],
        next_period,
        lines,
        *_discount(state, discount_id, lines, start, first=False),
    )


def _discount(
    state: Any, discount_id: str | None, lines: list[Line], at: int, first: bool = False
) -> tuple[int, str | None]:
    subtotal = max(sum(line["amount"] for line in lines), 0)
    amount = discount_amount(state, discount_id, subtotal, at, first)
    return amount, discount_id if amount else None


def _new_subscription_preview(
    ctx: Context, customer: Record, details: dict[str, Any], discounts: Any
) -> dict[str, Any]:
    items = {}
    for index, given in enumerate(details["items"]):
        if not isinstance(given, dict):
            raise StripeError(f"Invalid subscription_details[items][{index}]")
        quantity = core.get_int(given, "quantity", default=1, minimum=0) or 0
        items[f"new_{index}"] = (price_for_item(ctx, given, index).id, quantity)
    price = ctx.store.records[next(iter(items.values()))[0]].data
    now = ctx.now(customer.id)
    period = (
        now,
        add_interval(now, price["recurring"]["interval"], price["recurring"]["interval_count"]),
    )
    lines = _period_lines(ctx.state, items, period)
    found = coupon_from(ctx, discounts, "discounts")
    subtotal = max(sum(line["amount"] for line in lines), 0)
    taken = coupon_takes(found[0].data, subtotal) if found else 0
    return _invoice(
        ctx, customer, None, "subscription_create", price["currency"], period, lines, taken, None
    )


def _period_lines(
    state: Any, items: dict[str, tuple[str, int]], period: tuple[int, int]
) -> list[Line]:
    return [
        {
            "amount": line_amount(state, price_id, quantity),
            "description": item_label(state, price_id, quantity),
            "price": price_id,
            "quantity": quantity,
            "subscription_item": key if not key.startswith("new_") else "",
            "proration": False,
            "period": period,
        }
        for key, (price_id, quantity) in items.items()
    ]


def _pending_lines(ctx: Context, customer_id: str, sub_id: str | None) -> list[Line]:
    lines = []
    for item in reversed(list(ctx.store.iter_newest_first(ctx.account, "invoiceitem"))):
        i = item.data
        if i["invoice"] is not None or i["customer"] != customer_id:
            continue
        if sub_id is not None and item.internal.get("subscription") not in (None, sub_id):
            continue
        parent = (i.get("parent") or {}).get("subscription_details") or {}
        lines.append(
            {
                "amount": i["amount"],
                "description": i["description"] or "",
                "price": item.internal.get("price"),
                "quantity": i["quantity"],
                "subscription_item": parent.get("subscription_item") or "",
                "invoice_item": item.id,
                "proration": bool(i["proration"]),
                "period": (i["period"]["start"], i["period"]["end"]),
            }
        )
    return lines


def _invoice(
    ctx: Context,
    customer: Record,
    sub: Record | None,
    billing_reason: str,
    currency: str,
    period: tuple[int, int],
    lines: list[Line],
    discount: int,
    discount_id: str | None,
) -> dict[str, Any]:
    state = ctx.state
    data = invoice_fields(
        ctx,
        customer,
        "upcoming_" + core.new_id("in"),
        subscription=sub,
        billing_reason=billing_reason,
        currency=currency,
        collection_method=sub.data["collection_method"] if sub else "charge_automatically",
        period=period,
    )
    rendered = []
    for line in lines:
        price = state.store.find(line.get("price") or "")
        rendered.append(
            line_fields(
                data,
                sub.id if sub else None,
                core.new_id("il_tmp"),
                amount=line["amount"],
                description=line["description"],
                quantity=line["quantity"],
                price=price.data if price else None,
                subscription_item=line["subscription_item"] or None,
                invoice_item=line.get("invoice_item"),
                proration=line["proration"],
                period=line["period"],
            )
        )
    subtotal = sum(line["amount"] for line in lines)
    data["subtotal"] = data["subtotal_excluding_tax"] = subtotal
    data["total"] = data["total_excluding_tax"] = subtotal - discount
    if discount and discount_id:
        data["discounts"] = [discount_id]
        data["total_discount_amounts"] = [{"amount": discount, "discount": discount_id}]
    data["amount_due"] = data["amount_remaining"] = max(data["total"], 0)
    data["automatically_finalizes_at"] = None
    data["lines"] = {
        "object": "list",
        "data": rendered,
        "has_more": False,
        "url": "/v1/invoices/upcoming/lines",
    }
    return data
