"""Discounts: redeeming a coupon or promotion code, and the amount it takes off an invoice."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.intervals import add_interval
from stripe_local.core import StripeError, template


def coupon_from(ctx: Context, given: Any, param: str) -> tuple[Record, Record | None] | None:
    """The coupon (and promotion code) that `discounts[0][coupon|promotion_code]` names, checked
    but not redeemed; None when no discount is given."""
    if not given:
        return None
    entry = given[0] if isinstance(given, list) else given
    if not isinstance(entry, dict):
        raise StripeError(f"Invalid {param}", param=param)
    promo = None
    if entry.get("promotion_code"):
        promo = ctx.store.get(
            "promotion_code",
            entry["promotion_code"],
            ctx.account,
            param=f"{param}[0][promotion_code]",
        )
        if not promo.data["active"]:
            raise StripeError(
                "This promotion code is not active.", param=f"{param}[0][promotion_code]"
            )
        coupon_id = promo.data["promotion"]["coupon"]
    elif entry.get("coupon"):
        coupon_id = entry["coupon"]
    else:
        return None
    coupon = ctx.store.get("coupon", coupon_id, ctx.account, param=f"{param}[0][coupon]")
    limit = coupon.data["max_redemptions"]
    if limit is not None and coupon.data["times_redeemed"] >= limit:
        raise StripeError(
            f"Coupon {coupon_id} has been redeemed the maximum number of times.",
            param=f"{param}[0][coupon]",
        )
    return coupon, promo


def discount_from(
    ctx: Context, given: Any, customer_id: str, subscription_id: str | None, param: str
) -> Record | None:
    """A Discount for `discounts[0][coupon|promotion_code]`, redeeming the coupon."""
    found = coupon_from(ctx, given, param)
    if found is None:
        return None
    coupon, promo = found
    coupon_id = coupon.id
    coupon.data["times_redeemed"] += 1
    if promo is not None:
        promo.data["times_redeemed"] += 1
    discount_id = core.new_id("di")
    start = ctx.now(customer_id)
    end = None
    if coupon.data["duration"] == "repeating":
        end = add_interval(start, "month", coupon.data["duration_in_months"])
    data = template(
        "discount",
        id=discount_id,
        checkout_session=None,
        customer=customer_id,
        end=end,
        invoice=None,
        invoice_item=None,
        promotion_code=promo.id if promo else None,
        start=start,
        subscription=subscription_id,
        subscription_item=None,
        source={"coupon": coupon_id, "type": "coupon"},
    )
    return ctx.store.add(Record(discount_id, "discount", ctx.account, data, {"coupon": coupon_id}))


def coupon_takes(coupon: dict[str, Any], subtotal: int) -> int:
    """What a coupon takes off a (non-negative) subtotal."""
    if coupon["percent_off"] is not None:
        return min(subtotal, int(round(subtotal * coupon["percent_off"] / 100)))
    return min(subtotal, coupon["amount_off"] or 0)


def discount_amount(
    state: State, discount_id: str | None, subtotal: int, now: int, first: bool
) -> int:
    if not discount_id:
        return 0
    discount = state.store.find(discount_id)
    if discount is None:
        return 0
    coupon = state.store.find(discount.internal["coupon"])
    if coupon is None:
        return 0
    c = coupon.data
    if c["duration"] == "once" and not first:
        return 0
    if discount.data["end"] is not None and now >= discount.data["end"]:
        return 0
    return coupon_takes(c, subtotal)
