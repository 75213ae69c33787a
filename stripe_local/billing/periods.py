"""A subscription's items and current period, its cycle invoice, renewal and trial end."""

from __future__ import annotations

from stripe_local.app.context import Context
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.intervals import add_interval
from stripe_local.billing.invoicing import (
    add_line,
    attempt_invoice_payment,
    finalize_invoice,
    new_invoice,
    pull_pending_items,
    total_invoice,
)
from stripe_local.billing.products import price_amount, price_unit_text
from stripe_local.billing.subscription_status import cancel_subscription


def _items(state: State, sub: Record) -> list[Record]:
    return [state.store.records[i] for i in sub.internal["items"]]


def current_period(state: State, sub: Record) -> tuple[int, int]:
    first = _items(state, sub)[0].data
    return first["current_period_start"], first["current_period_end"]


def billing_interval(state: State, sub: Record) -> tuple[str, int]:
    price = state.store.records[_items(state, sub)[0].data["price"]].data
    return price["recurring"]["interval"], price["recurring"]["interval_count"]


def set_period(state: State, sub: Record, start: int, end: int) -> None:
    for item in _items(state, sub):
        item.data["current_period_start"] = start
        item.data["current_period_end"] = end


def cycle_invoice(
    ctx: Context, sub: Record, billing_reason: str, first: bool, zero: bool = False
) -> Record:
    state = ctx.state
    customer = state.store.records[sub.data["customer"]]
    start, end = current_period(state, sub)
    invoice = new_invoice(
        ctx,
        customer,
        subscription=sub,
        billing_reason=billing_reason,
        currency=sub.data["currency"],
        collection_method=sub.data["collection_method"],
        period=(start, end) if billing_reason != "subscription_create" else (start, start),
        days_until_due=sub.data["days_until_due"],
    )
    invoice.data["default_payment_method"] = None
    pull_pending_items(ctx, invoice, customer.id, sub.id)
    for item in _items(state, sub):
        price = state.store.records[item.data["price"]].data
        product = state.store.find(price["product"])
        name = product.data["name"] if product else price["product"]
        quantity = item.data["quantity"]
        amount = 0 if zero else price_amount(price, quantity)
        unit = price_unit_text(price)
        label = (
            f"Trial period for {name}"
            if zero
            else f"{quantity} × {name} (at {unit} / {price['recurring']['interval']})"
        )
        add_line(
            ctx,
            invoice,
            amount=amount,
            description=label,
            quantity=quantity,
            price=price,
            subscription_item=item.id,
            period=(start, end),
        )
    discount_id = sub.data["discounts"][0] if sub.data["discounts"] else None
    total_invoice(state, invoice, discount_id, first)
    previous_latest = sub.data["latest_invoice"]
    sub.data["latest_invoice"] = invoice.id
    state.emit("invoice.created", invoice)
    if not first:
        state.emit("customer.subscription.updated", sub, {"latest_invoice": previous_latest})
    return invoice


def has_payment_method(state: State, sub: Record) -> bool:
    """Whether renewing `sub` has a card to charge (its own default, else its customer's)."""
    customer = state.store.find(sub.data["customer"])
    customer_default = (
        customer.data["invoice_settings"]["default_payment_method"] if customer else None
    )
    return bool(sub.data["default_payment_method"] or customer_default)


def end_trial(ctx: Context, sub: Record, at: int) -> None:
    """The trial is over: without a payment method `trial_settings` decides (pause, cancel or
    create_invoice); otherwise the first paid period starts and is invoiced."""
    behavior = sub.data["trial_settings"]["end_behavior"]["missing_payment_method"]
    if behavior != "create_invoice" and not has_payment_method(ctx.state, sub):
        if behavior == "cancel":
            cancel_subscription(ctx.state, sub)
        else:
            sub.data["status"] = "paused"
            ctx.state.emit("customer.subscription.paused", sub)
            ctx.state.emit("customer.subscription.updated", sub, {"status": "trialing"})
        return
    interval, count = billing_interval(ctx.state, sub)
    previous = {"status": "trialing", "trial_end": sub.data["trial_end"]}
    sub.data["trial_end"] = at
    sub.data["billing_cycle_anchor"] = at
    set_period(ctx.state, sub, at, add_interval(at, interval, count))
    sub.data["status"] = "active"
    ctx.state.emit("customer.subscription.updated", sub, previous)
    renew_subscription(ctx, sub)


def renew_subscription(ctx: Context, sub: Record) -> None:
    invoice = cycle_invoice(ctx, sub, "subscription_cycle", first=False)
    finalize_invoice(ctx, invoice)
    if (
        invoice.data["status"] == "open"
        and sub.data["collection_method"] == "charge_automatically"
        and sub.data["status"] != "unpaid"
    ):
        attempt_invoice_payment(ctx, invoice, None, off_session=True)
