"""/v1/promotion_codes."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, flag, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, template

PROMO_SPEC = {
    "promotion": {"type": ANY, "coupon": ANY},
    "coupon": ANY,
    "code": ANY,
    "active": ANY,
    "customer": ANY,
    "max_redemptions": ANY,
    "expires_at": ANY,
    "metadata": MAP,
    "restrictions": {
        "first_time_transaction": ANY,
        "minimum_amount": ANY,
        "minimum_amount_currency": ANY,
        "currency_options": MAP,
    },
}


@route("POST", "/v1/promotion_codes", spec=PROMO_SPEC)
def promotion_code_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    promotion = params.get("promotion") if isinstance(params.get("promotion"), dict) else {}
    coupon_id = promotion.get("coupon") or core.get_str(params, "coupon")
    if not coupon_id:
        raise StripeError("Missing required param: promotion[coupon].", param="promotion[coupon]")
    ctx.store.get("coupon", coupon_id, ctx.account, param="promotion[coupon]")
    code = core.get_str(params, "code") or secrets.token_hex(4).upper()
    for existing in ctx.store.iter_newest_first(ctx.account, "promotion_code"):
        if existing.data["active"] and existing.data["code"].lower() == code.lower():
            raise StripeError(
                "An active promotion code with `code: " + code + "` already exists.", param="code"
            )
    restrictions = params.get("restrictions") or {}
    promo_id = core.new_id("promo")
    data = template(
        "promotion_code",
        id=promo_id,
        active=core.get_bool(params, "active", True),
        code=code,
        created=ctx.now(),
        customer=core.get_str(params, "customer"),
        expires_at=core.get_int(params, "expires_at"),
        max_redemptions=core.get_int(params, "max_redemptions"),
        restrictions={
            "first_time_transaction": bool(
                core.get_bool(restrictions, "first_time_transaction", False)
            ),
            "minimum_amount": core.get_int(restrictions, "minimum_amount"),
            "minimum_amount_currency": core.get_str(restrictions, "minimum_amount_currency"),
        },
        times_redeemed=0,
        promotion={"coupon": coupon_id, "type": "coupon"},
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(promo_id, "promotion_code", ctx.account, data))
    ctx.state.emit("promotion_code.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/promotion_codes/{id}", spec={})
def promotion_code_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("promotion_code", id, ctx.account))


@route(
    "POST", "/v1/promotion_codes/{id}", spec={"active": ANY, "metadata": MAP, "restrictions": MAP}
)
def promotion_code_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("promotion_code", id, ctx.account)
    if "active" in params:
        record.data["active"] = core.get_bool(params, "active")
    core.apply_metadata(record.data, params)
    ctx.state.emit("promotion_code.updated", record)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/promotion_codes",
    spec={**LIST_SPEC, "code": ANY, "active": ANY, "coupon": ANY, "customer": ANY},
)
def promotion_code_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "promotion_code",
        params,
        "/v1/promotion_codes",
        equals("code"),
        flag("active"),
        equals("coupon", lambda r: r.data["promotion"]["coupon"]),
    )
