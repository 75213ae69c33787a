"""/v1/coupons."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, template

COUPON_SPEC = {
    "id": ANY,
    "percent_off": ANY,
    "amount_off": ANY,
    "currency": ANY,
    "duration": ANY,
    "duration_in_months": ANY,
    "name": ANY,
    "max_redemptions": ANY,
    "redeem_by": ANY,
    "metadata": MAP,
    "applies_to": MAP,
    "currency_options": MAP,
}


@route("POST", "/v1/coupons", spec=COUPON_SPEC)
def coupon_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    percent = params.get("percent_off")
    amount_off = core.get_int(params, "amount_off", minimum=1)
    if (percent in (None, "")) == (amount_off is None):
        raise StripeError(
            "You must pass exactly one of percent_off or amount_off.", param="percent_off"
        )
    percent_off = None
    if percent not in (None, ""):
        try:
            percent_off = float(percent)
        except ValueError:
            raise StripeError(f"Invalid decimal: {percent}", param="percent_off")
        if not 0 < percent_off <= 100:
            raise StripeError("percent_off must be between 0 and 100.", param="percent_off")
    currency = core.get_currency(params, required=amount_off is not None) or None
    duration = core.get_enum(params, "duration", ["forever", "once", "repeating"], "once")
    months = core.get_int(params, "duration_in_months")
    if duration == "repeating" and months is None:
        raise StripeError("Missing required param: duration_in_months.", param="duration_in_months")
    coupon_id = core.get_str(params, "id") or secrets.token_hex(4).upper()
    if ctx.store.find(coupon_id) is not None:
        raise StripeError("Coupon already exists.", code="resource_already_exists", param="id")
    data = template(
        "coupon",
        id=coupon_id,
        amount_off=amount_off,
        created=ctx.now(),
        currency=currency,
        duration=duration,
        duration_in_months=months if duration == "repeating" else None,
        max_redemptions=core.get_int(params, "max_redemptions"),
        name=core.get_str(params, "name"),
        percent_off=percent_off,
        redeem_by=core.get_int(params, "redeem_by"),
        times_redeemed=0,
        valid=True,
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(coupon_id, "coupon", ctx.account, data))
    ctx.state.emit("coupon.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/coupons/{id}", spec={})
def coupon_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("coupon", id, ctx.account))


@route("POST", "/v1/coupons/{id}", spec={"name": ANY, "metadata": MAP})
def coupon_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("coupon", id, ctx.account)
    if "name" in params:
        record.data["name"] = core.get_str(params, "name")
    core.apply_metadata(record.data, params)
    ctx.state.emit("coupon.updated", record)
    return ctx.state.render(record)


@route("DELETE", "/v1/coupons/{id}", spec={})
def coupon_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("coupon", id, ctx.account)
    record.deleted = True
    record.data["valid"] = False
    ctx.state.emit("coupon.deleted", record)
    return template("deleted_coupon", id=id)


@route("GET", "/v1/coupons", spec=LIST_SPEC)
def coupon_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "coupon", params, "/v1/coupons")
