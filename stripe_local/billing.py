"""Billing: products, prices, coupons, promotion codes, subscriptions, invoices and test clocks.

Renewals, trial ends and payment retries happen only when a test clock advances (customers
created with `test_clock`); see docs/local-stripe.md for the dunning schedule.
"""

from __future__ import annotations

import calendar
import datetime
import secrets
from typing import Any

from stripe_local import core, payments
from stripe_local.core import (
    ANY,
    MAP,
    Context,
    Filter,
    Predicate,
    Record,
    StripeError,
    equals,
    flag,
    one_of,
    paginate,
    template,
    where,
)
from stripe_local.state import EXPAND_ONLY, State, renderer, route

LIST_SPEC = payments.LIST_SPEC
DAY = 86400
INCOMPLETE_EXPIRY_SECONDS = 23 * 3600
TRIAL_WILL_END_NOTICE = 3 * DAY


def add_interval(timestamp: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """`timestamp` moved by `count` intervals, months clamped to their last day like Stripe."""
    if interval == "day":
        return timestamp + count * DAY
    if interval == "week":
        return timestamp + count * 7 * DAY
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


# -- Products ----------------------------------------------------------------------------------

PRODUCT_SPEC = {
    "id": ANY,
    "name": ANY,
    "description": ANY,
    "active": ANY,
    "metadata": MAP,
    "images": ANY,
    "url": ANY,
    "unit_label": ANY,
    "statement_descriptor": ANY,
    "tax_code": ANY,
    "default_price_data": {
        "currency": ANY,
        "unit_amount": ANY,
        "unit_amount_decimal": ANY,
        "recurring": {"interval": ANY, "interval_count": ANY},
        "tax_behavior": ANY,
        "metadata": MAP,
    },
    "shippable": ANY,
    "marketing_features": ANY,
    "type": ANY,
    "default_price": ANY,
}


@route("POST", "/v1/products", spec=PRODUCT_SPEC)
def product_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = core.get_str(params, "name", required=True)
    product_id = core.get_str(params, "id") or core.new_id("prod", 15)
    if ctx.store.find(product_id) is not None:
        raise StripeError("Product already exists.", code="resource_already_exists", param="id")
    now = ctx.now()
    data = template(
        "product",
        id=product_id,
        active=core.get_bool(params, "active", True),
        created=now,
        default_price=None,
        description=core.get_str(params, "description"),
        images=list(params.get("images") or []),
        marketing_features=[],
        name=name,
        shippable=None,
        statement_descriptor=core.get_str(params, "statement_descriptor"),
        tax_code=core.get_str(params, "tax_code"),
        unit_label=core.get_str(params, "unit_label"),
        updated=now,
        url=core.get_str(params, "url"),
        type="service",
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(product_id, "product", ctx.account, data))
    ctx.state.emit("product.created", record)
    if isinstance(params.get("default_price_data"), dict):
        price = _create_price(ctx, {**params["default_price_data"], "product": product_id})
        data["default_price"] = price.id
    return ctx.state.render(record)


@route("GET", "/v1/products/{id}", spec={})
def product_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("product", id, ctx.account))


@route(
    "POST",
    "/v1/products/{id}",
    spec={k: v for k, v in PRODUCT_SPEC.items() if k not in ("id", "default_price_data", "type")},
)
def product_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("product", id, ctx.account)
    before = core.deep_copy(record.data)
    for name in ("name", "description", "url", "unit_label", "statement_descriptor", "tax_code"):
        if name in params:
            record.data[name] = core.get_str(params, name)
    if "active" in params:
        record.data["active"] = core.get_bool(params, "active")
    if "images" in params:
        record.data["images"] = list(params["images"] or [])
    if "default_price" in params:
        price_id = core.get_str(params, "default_price")
        if price_id:
            ctx.store.get("price", price_id, ctx.account, param="default_price")
        record.data["default_price"] = price_id
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        record.data["updated"] = ctx.now()
        ctx.state.emit("product.updated", record, previous)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/products",
    spec={**LIST_SPEC, "active": ANY, "ids": ANY, "url": ANY, "shippable": ANY},
)
def product_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "product", params, "/v1/products", flag("active"), one_of("ids", lambda r: r.id)
    )


@route("DELETE", "/v1/products/{id}", spec={})
def product_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("product", id, ctx.account)
    if any(p.data["product"] == id for p in ctx.store.iter_newest_first(ctx.account, "price")):
        raise StripeError(
            "This product cannot be deleted because it has one or more user-created prices."
        )
    record.deleted = True
    ctx.state.emit("product.deleted", record)
    return template("deleted_product", id=id)


# -- Prices ------------------------------------------------------------------------------------

PRICE_SPEC = {
    "product": ANY,
    "product_data": {
        "name": ANY,
        "metadata": MAP,
        "statement_descriptor": ANY,
        "unit_label": ANY,
        "active": ANY,
        "id": ANY,
        "tax_code": ANY,
    },
    "currency": ANY,
    "unit_amount": ANY,
    "unit_amount_decimal": ANY,
    "recurring": {
        "interval": ANY,
        "interval_count": ANY,
        "usage_type": ANY,
        "trial_period_days": ANY,
    },
    "nickname": ANY,
    "lookup_key": ANY,
    "active": ANY,
    "metadata": MAP,
    "billing_scheme": ANY,
    "tax_behavior": ANY,
    "transfer_lookup_key": ANY,
}


def _create_price(ctx: Context, params: dict[str, Any]) -> Record:
    product_id = core.get_str(params, "product")
    if product_id:
        ctx.store.get("product", product_id, ctx.account, param="product")
    elif isinstance(params.get("product_data"), dict):
        product_id = product_create(ctx, dict(params["product_data"]))["id"]
    else:
        raise StripeError("Missing required param: product.", param="product")
    currency = core.get_currency(params)
    unit_amount = core.get_int(params, "unit_amount", minimum=0)
    if unit_amount is None and params.get("unit_amount_decimal"):
        unit_amount = int(float(params["unit_amount_decimal"]))
    if unit_amount is None:
        raise StripeError("Missing required param: unit_amount.", param="unit_amount")
    recurring = params.get("recurring")
    if isinstance(recurring, dict):
        interval = core.get_enum(recurring, "interval", ["day", "month", "week", "year"])
        if interval is None:
            raise StripeError(
                "Missing required param: recurring[interval].", param="recurring[interval]"
            )
        recurring = {
            "interval": interval,
            "interval_count": core.get_int(recurring, "interval_count", default=1, minimum=1),
            "meter": None,
            "usage_type": core.get_enum(
                recurring, "usage_type", ["licensed", "metered"], "licensed"
            ),
            "trial_period_days": core.get_int(recurring, "trial_period_days"),
        }
    else:
        recurring = None
    lookup_key = core.get_str(params, "lookup_key")
    if lookup_key and any(
        p.data["lookup_key"] == lookup_key
        for p in ctx.store.iter_newest_first(ctx.account, "price")
    ):
        raise StripeError(
            f"A price (`{lookup_key}`) already uses that lookup key.", param="lookup_key"
        )
    price_id = core.new_id("price")
    data = template(
        "price",
        id=price_id,
        active=core.get_bool(params, "active", True),
        billing_scheme="per_unit",
        created=ctx.now(),
        currency=currency,
        lookup_key=lookup_key,
        nickname=core.get_str(params, "nickname"),
        product=product_id,
        recurring=recurring,
        tax_behavior=core.get_enum(
            params, "tax_behavior", ["exclusive", "inclusive", "unspecified"], "unspecified"
        ),
        tiers_mode=None,
        transform_quantity=None,
        type="recurring" if recurring else "one_time",
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
        custom_unit_amount=None,
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(price_id, "price", ctx.account, data))
    ctx.state.emit("price.created", record)
    return record


@route("POST", "/v1/prices", spec=PRICE_SPEC)
def price_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return ctx.state.render(_create_price(ctx, params))


@route("GET", "/v1/prices/{id}", spec={})
def price_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("price", id, ctx.account))


@route(
    "POST",
    "/v1/prices/{id}",
    spec={
        "active": ANY,
        "nickname": ANY,
        "metadata": MAP,
        "lookup_key": ANY,
        "transfer_lookup_key": ANY,
        "tax_behavior": ANY,
    },
)
def price_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("price", id, ctx.account)
    before = core.deep_copy(record.data)
    if "active" in params:
        record.data["active"] = core.get_bool(params, "active")
    for name in ("nickname", "lookup_key"):
        if name in params:
            record.data[name] = core.get_str(params, name)
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        ctx.state.emit("price.updated", record, previous)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/prices",
    spec={
        **LIST_SPEC,
        "product": ANY,
        "active": ANY,
        "type": ANY,
        "currency": ANY,
        "lookup_keys": ANY,
        "recurring": MAP,
    },
)
def price_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "price",
        params,
        "/v1/prices",
        equals("product"),
        flag("active"),
        equals("type"),
        one_of("lookup_keys", "lookup_key"),
    )


def _plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
    recurring = price["recurring"] or {}
    plan = template(
        "plan",
        id=price["id"],
        active=price["active"],
        amount=price["unit_amount"],
        amount_decimal=price["unit_amount_decimal"],
        billing_scheme=price["billing_scheme"],
        created=price["created"],
        currency=price["currency"],
        interval=recurring.get("interval"),
        interval_count=recurring.get("interval_count"),
        meter=None,
        nickname=price["nickname"],
        product=price["product"],
        tiers_mode=None,
        transform_usage=None,
        trial_period_days=recurring.get("trial_period_days"),
        usage_type=recurring.get("usage_type"),
    )
    plan["metadata"] = dict(price["metadata"])
    return plan


# -- Coupons and promotion codes -----------------------------------------------------------------

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


def _discount_from(
    ctx: Context, given: Any, customer_id: str, subscription_id: str | None, param: str
) -> Record | None:
    """A Discount for `discounts[0][coupon|promotion_code]`, redeeming the coupon."""
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


def _discount_amount(
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
    if c["percent_off"] is not None:
        return min(subtotal, int(round(subtotal * c["percent_off"] / 100)))
    return min(subtotal, c["amount_off"] or 0)


# -- Invoices ----------------------------------------------------------------------------------


@renderer("invoice")
def _render_invoice(state: State, record: Record, obj: dict[str, Any]) -> None:
    lines = [state.render(state.store.records[i]) for i in record.internal.get("lines", [])]
    obj["lines"] = {
        "object": "list",
        "data": lines[:10],
        "has_more": len(lines) > 10,
        "url": f"/v1/invoices/{record.id}/lines",
    }


def _confirmation_secret(state: State, record: Record) -> Any:
    pi = state.store.find(record.internal.get("payment_intent", ""))
    if pi is None or record.data["status"] != "open":
        return None
    return {"client_secret": pi.data["client_secret"], "type": "payment_intent"}


def _invoice_payments(state: State, record: Record) -> Any:
    pi_id = record.internal.get("payment_intent")
    data = []
    if pi_id:
        pi = state.store.find(pi_id)
        data.append(
            {
                "id": "inpay_" + pi_id[3:],
                "object": "invoice_payment",
                "amount_paid": pi.data["amount_received"] if pi else 0,
                "amount_requested": record.data["amount_due"],
                "created": record.data["created"],
                "currency": record.data["currency"],
                "invoice": record.id,
                "is_default": True,
                "livemode": False,
                "payment": {"payment_intent": pi_id, "type": "payment_intent"},
                "status": "paid" if record.data["status"] == "paid" else "open",
                "status_transitions": {
                    "canceled_at": None,
                    "paid_at": record.data["status_transitions"]["paid_at"],
                },
            }
        )
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "url": f"/v1/invoice_payments?invoice={record.id}",
    }


EXPAND_ONLY[("invoice", "confirmation_secret")] = _confirmation_secret
EXPAND_ONLY[("invoice", "payments")] = _invoice_payments


def _new_invoice(
    ctx: Context,
    customer: Record,
    *,
    subscription: Record | None,
    billing_reason: str,
    currency: str,
    collection_method: str = "charge_automatically",
    description: str | None = None,
    period: tuple[int, int] | None = None,
    days_until_due: int | None = None,
) -> Record:
    now = ctx.now(customer.id)
    invoice_id = core.new_id("in")
    c = customer.data
    data = template(
        "invoice",
        id=invoice_id,
        account_country="FR",
        account_name="Creneau (local Stripe)",
        account_tax_ids=None,
        amount_due=0,
        amount_paid=0,
        amount_remaining=0,
        amount_shipping=0,
        application=None,
        attempt_count=0,
        attempted=False,
        auto_advance=billing_reason != "manual",
        automatic_tax={
            "enabled": False,
            "liability": None,
            "status": None,
            "disabled_reason": None,
            "provider": None,
        },
        billing_reason=billing_reason,
        collection_method=collection_method,
        created=now,
        currency=currency,
        customer=customer.id,
        customer_email=c["email"],
        customer_name=c["name"],
        customer_phone=c["phone"],
        customer_tax_exempt="none",
        customer_tax_ids=[],
        default_payment_method=None,
        default_source=None,
        default_tax_rates=[],
        description=description,
        discounts=[],
        due_date=now + days_until_due * DAY if days_until_due else None,
        effective_at=None,
        ending_balance=None,
        footer=None,
        from_invoice=None,
        hosted_invoice_url=None,
        invoice_pdf=None,
        issuer={"type": "self"},
        last_finalization_error=None,
        latest_revision=None,
        next_payment_attempt=None,
        number=None,
        on_behalf_of=None,
        payment_settings={
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        period_end=period[1] if period else now,
        period_start=period[0] if period else now,
        post_payment_credit_notes_amount=0,
        pre_payment_credit_notes_amount=0,
        receipt_number=None,
        rendering=None,
        shipping_cost=None,
        shipping_details=None,
        starting_balance=0,
        statement_descriptor=None,
        status="draft",
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        subtotal=0,
        subtotal_excluding_tax=0,
        test_clock=c["test_clock"],
        total=0,
        total_discount_amounts=[],
        total_excluding_tax=0,
        webhooks_delivered_at=None,
        automatically_finalizes_at=now + 3600 if billing_reason != "manual" else None,
        total_pretax_credit_amounts=[],
        total_taxes=[],
        amount_overpaid=0,
        parent={
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription.data["metadata"]),
                "subscription": subscription.id,
            },
            "type": "subscription_details",
        }
        if subscription
        else None,
        customer_account=None,
    )
    return ctx.store.add(
        Record(
            invoice_id,
            "invoice",
            customer.owner,
            data,
            {"lines": [], "subscription": subscription.id if subscription else None},
        )
    )


def _add_line(
    ctx: Context,
    invoice: Record,
    *,
    amount: int,
    description: str,
    quantity: int = 1,
    price: dict[str, Any] | None = None,
    subscription_item: str | None = None,
    invoice_item: str | None = None,
    proration: bool = False,
    period: tuple[int, int] | None = None,
) -> Record:
    line_id = core.new_id("il")
    sub_id = invoice.internal.get("subscription")
    start, end = period or (invoice.data["period_start"], invoice.data["period_end"])
    if subscription_item:
        parent = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
                "subscription_item": subscription_item,
            },
            "type": "subscription_item_details",
        }
    else:
        parent = {
            "invoice_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    data = template(
        "line_item",
        id=line_id,
        amount=amount,
        currency=invoice.data["currency"],
        description=description,
        discount_amounts=[],
        discountable=True,
        discounts=[],
        invoice=invoice.id,
        period={"end": end, "start": start},
        quantity=quantity,
        subscription=sub_id,
        pretax_credit_amounts=[],
        taxes=[],
        parent=parent,
        pricing={
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        }
        if price
        else None,
        subtotal=amount,
        quantity_decimal=str(quantity),
    )
    record = ctx.store.add(Record(line_id, "line_item", invoice.owner, data))
    invoice.internal["lines"].append(line_id)
    return record


def _total_invoice(
    state: State, invoice: Record, discount_id: str | None = None, first: bool = True
) -> None:
    d = invoice.data
    subtotal = sum(state.store.records[i].data["amount"] for i in invoice.internal["lines"])
    discount = _discount_amount(state, discount_id, max(subtotal, 0), d["created"], first)
    d["subtotal"] = d["subtotal_excluding_tax"] = subtotal
    d["total"] = d["total_excluding_tax"] = subtotal - discount
    if discount:
        d["discounts"] = [discount_id]
        d["total_discount_amounts"] = [{"amount": discount, "discount": discount_id}]
    d["amount_due"] = max(d["total"], 0)
    d["amount_remaining"] = d["amount_due"]


def _pull_pending_items(
    ctx: Context, invoice: Record, customer_id: str, subscription_id: str | None
) -> None:
    for item in list(ctx.store.iter_newest_first(invoice.owner, "invoiceitem"))[::-1]:
        i = item.data
        if (
            i["invoice"] is None
            and i["customer"] == customer_id
            and (
                subscription_id is None
                or item.internal.get("subscription") in (None, subscription_id)
            )
        ):
            i["invoice"] = invoice.id
            price = ctx.store.find(item.internal.get("price") or "")
            _add_line(
                ctx,
                invoice,
                amount=i["amount"],
                description=i["description"] or "",
                quantity=i["quantity"],
                price=price.data if price else None,
                invoice_item=item.id,
                proration=i["proration"],
                period=(i["period"]["start"], i["period"]["end"]),
            )


def finalize_invoice(ctx: Context, invoice: Record) -> None:
    d = invoice.data
    if d["status"] != "draft":
        raise payments._error(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    customer = ctx.store.find(d["customer"])
    assert customer is not None
    sequence = customer.data["next_invoice_sequence"]
    customer.data["next_invoice_sequence"] = sequence + 1
    now = ctx.now(customer.id)
    d.update(
        status="open",
        number=f"{customer.data['invoice_prefix']}-{sequence:04d}",
        effective_at=now,
        automatically_finalizes_at=None,
    )
    d["status_transitions"]["finalized_at"] = now
    ctx.state.emit("invoice.finalized", invoice)
    if d["amount_due"] == 0:
        _mark_paid(ctx.state, invoice, None)
        return
    if d["collection_method"] == "charge_automatically":
        pi_params = {
            "amount": d["amount_due"],
            "currency": d["currency"],
            "customer": d["customer"],
            "description": f"Invoice {d['number']}",
            "metadata": {},
        }
        sub = ctx.store.find(invoice.internal.get("subscription") or "")
        if sub is not None and sub.data["transfer_data"]:
            pi_params["transfer_data"] = {"destination": sub.data["transfer_data"]["destination"]}
        pi = payments.payment_intent_create(ctx, pi_params)
        pi_record = ctx.store.records[pi["id"]]
        pi_record.internal["invoice"] = invoice.id
        invoice.internal["payment_intent"] = pi_record.id


def attempt_invoice_payment(
    ctx: Context, invoice: Record, payment_method: str | None, off_session: bool
) -> bool | None:
    """Try to pay an open invoice; True paid, False failed, None waiting for authentication."""
    d = invoice.data
    pi = ctx.store.find(invoice.internal.get("payment_intent") or "")
    if pi is None:
        return None
    customer = ctx.store.find(d["customer"])
    sub = ctx.store.find(invoice.internal.get("subscription") or "")
    pm_id = (
        payment_method
        or (sub.data["default_payment_method"] if sub else None)
        or d["default_payment_method"]
        or (customer.data["invoice_settings"]["default_payment_method"] if customer else None)
    )
    if pi.data["status"] in ("requires_action",) and not payment_method:
        return None
    if not pm_id:
        d["attempt_count"] += 1
        d["attempted"] = True
        invoice_payment_result(ctx.state, invoice.id, pi, succeeded=False)
        return False
    if pi.data["status"] not in payments.PI_STATUSES_CONFIRMABLE:
        return pi.data["status"] == "succeeded"
    try:
        result = payments.confirm_payment_intent(
            ctx, pi, {"payment_method": pm_id, "off_session": off_session}
        )
    except StripeError:
        return False
    if isinstance(result, dict) and result.get("status") == "requires_action":
        d["attempt_count"] += 1
        d["attempted"] = True
        ctx.state.emit("invoice.payment_action_required", invoice)
        return None
    return invoice.data["status"] == "paid"


def _mark_paid(state: State, invoice: Record, pi: Record | None) -> None:
    d = invoice.data
    customer = state.store.find(d["customer"])
    now = state.now(d["customer"])
    previous = {
        "status": d["status"],
        "amount_paid": d["amount_paid"],
        "amount_remaining": d["amount_remaining"],
    }
    d.update(
        status="paid", amount_paid=d["amount_due"], amount_remaining=0, next_payment_attempt=None
    )
    d["attempted"] = True
    d["status_transitions"]["paid_at"] = now
    state.emit("invoice.paid", invoice, previous)
    state.emit("invoice.payment_succeeded", invoice)
    sub = state.store.find(invoice.internal.get("subscription") or "")
    if sub is not None and sub.data["status"] in ("incomplete", "past_due", "unpaid"):
        _set_sub_status(state, sub, "active")
    if customer is not None and customer.data["delinquent"]:
        customer.data["delinquent"] = False


def invoice_payment_result(state: State, invoice_id: str, pi: Record, succeeded: bool) -> None:
    """Called when an invoice's PaymentIntent succeeds or fails (also via Stripe.js)."""
    invoice = state.store.find(invoice_id)
    if invoice is None or invoice.data["status"] != "open":
        return
    d = invoice.data
    if succeeded:
        if not d["attempted"]:
            d["attempt_count"] += 1
        _mark_paid(state, invoice, pi)
        return
    d["attempted"] = True
    d["attempt_count"] = max(d["attempt_count"], 1)
    sub = state.store.find(invoice.internal.get("subscription") or "")
    retry_days = state.config.dunning_retry_days
    attempts = d["attempt_count"]
    if (
        sub is not None
        and d["billing_reason"] != "subscription_create"
        and attempts <= len(retry_days)
    ):
        d["next_payment_attempt"] = state.now(d["customer"]) + retry_days[attempts - 1] * DAY
    else:
        d["next_payment_attempt"] = None
    customer = state.store.find(d["customer"])
    if customer is not None:
        customer.data["delinquent"] = True
    state.emit("invoice.payment_failed", invoice)
    if sub is None:
        return
    if (
        sub.data["status"] in ("active", "trialing")
        and d["billing_reason"] != "subscription_create"
    ):
        _set_sub_status(state, sub, "past_due")
    if (
        d["next_payment_attempt"] is None
        and d["billing_reason"] != "subscription_create"
        and sub.data["status"] == "past_due"
    ):
        _dunning_exhausted(state, sub, invoice)


def _dunning_exhausted(state: State, sub: Record, invoice: Record) -> None:
    if state.config.dunning_final_action == "mark_unpaid":
        _set_sub_status(state, sub, "unpaid")
        return
    invoice.data["status"] = "uncollectible"
    invoice.data["status_transitions"]["marked_uncollectible_at"] = state.now(
        invoice.data["customer"]
    )
    state.emit("invoice.marked_uncollectible", invoice, {"status": "open"})
    _cancel_subscription(state, sub, reason="payment_failed")


def _set_sub_status(state: State, sub: Record, status: str) -> None:
    previous = {"status": sub.data["status"]}
    if previous["status"] == status:
        return
    sub.data["status"] = status
    state.emit("customer.subscription.updated", sub, previous)


def _cancel_subscription(state: State, sub: Record, reason: str = "cancellation_requested") -> None:
    now = state.now(sub.data["customer"])
    previous = {
        "status": sub.data["status"],
        "canceled_at": sub.data["canceled_at"],
        "ended_at": sub.data["ended_at"],
    }
    sub.data.update(status="canceled", canceled_at=sub.data["canceled_at"] or now, ended_at=now)
    sub.data["cancellation_details"] = {"comment": None, "feedback": None, "reason": reason}
    state.emit("customer.subscription.deleted", sub, previous)


def cancel_customer_subscriptions(state: State, customer: Record) -> None:
    for sub in list(state.store.iter_newest_first(customer.owner, "subscription")):
        if sub.data["customer"] == customer.id and sub.data["status"] not in (
            "canceled",
            "incomplete_expired",
        ):
            _cancel_subscription(state, sub)


INVOICE_SPEC = {
    "customer": ANY,
    "auto_advance": ANY,
    "collection_method": ANY,
    "days_until_due": ANY,
    "description": ANY,
    "metadata": MAP,
    "subscription": ANY,
    "pending_invoice_items_behavior": ANY,
    "default_payment_method": ANY,
    "footer": ANY,
    "due_date": ANY,
    "currency": ANY,
    "discounts": ANY,
    "on_behalf_of": ANY,
    "application_fee_amount": ANY,
    "transfer_data": MAP,
    "automatic_tax": MAP,
}


@route("POST", "/v1/invoices", spec=INVOICE_SPEC)
def invoice_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = core.get_str(params, "customer", required=True)
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    currency = core.get_currency(params, required=False) or customer.data["currency"] or "eur"
    invoice = _new_invoice(
        ctx,
        customer,
        subscription=None,
        billing_reason="manual",
        currency=currency,
        collection_method=core.get_enum(
            params,
            "collection_method",
            ["charge_automatically", "send_invoice"],
            "charge_automatically",
        ),
        description=core.get_str(params, "description"),
        days_until_due=core.get_int(params, "days_until_due"),
    )
    invoice.data["auto_advance"] = bool(core.get_bool(params, "auto_advance", False))
    invoice.data["default_payment_method"] = core.get_str(params, "default_payment_method")
    core.apply_metadata(invoice.data, params)
    if (
        core.get_enum(params, "pending_invoice_items_behavior", ["exclude", "include"], "exclude")
        == "include"
    ):
        _pull_pending_items(ctx, invoice, customer.id, None)
    _total_invoice(ctx.state, invoice)
    ctx.state.emit("invoice.created", invoice)
    return ctx.state.render(invoice)


@route("GET", "/v1/invoices/{id}", spec={})
def invoice_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("invoice", id, ctx.account, param="invoice"))


@route(
    "POST",
    "/v1/invoices/{id}",
    spec={
        "metadata": MAP,
        "description": ANY,
        "auto_advance": ANY,
        "footer": ANY,
        "default_payment_method": ANY,
        "days_until_due": ANY,
        "collection_method": ANY,
    },
)
def invoice_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    before = core.deep_copy(record.data)
    if (
        set(params) - {"metadata", "description", "auto_advance", "footer"}
        and record.data["status"] != "draft"
    ):
        raise payments._error("You can only update these fields on a draft invoice.")
    for name in ("description", "footer", "default_payment_method"):
        if name in params:
            record.data[name] = core.get_str(params, name)
    if "auto_advance" in params:
        record.data["auto_advance"] = core.get_bool(params, "auto_advance")
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        ctx.state.emit("invoice.updated", record, previous)
    return ctx.state.render(record)


@route("DELETE", "/v1/invoices/{id}", spec={})
def invoice_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    if record.data["status"] != "draft":
        raise payments._error("You can only delete draft invoices.")
    record.deleted = True
    ctx.state.emit("invoice.deleted", record)
    return template("deleted_invoice", id=id)


@route("POST", "/v1/invoices/{id}/finalize", spec={"auto_advance": ANY})
def invoice_finalize(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    if record.data["status"] != "draft":
        raise payments._error(f"Invoice {id} is already finalized.", code="invoice_not_editable")
    finalize_invoice(ctx, record)
    return ctx.state.render(record)


@route(
    "POST",
    "/v1/invoices/{id}/pay",
    spec={
        "payment_method": ANY,
        "paid_out_of_band": ANY,
        "off_session": ANY,
        "forgive": ANY,
        "source": ANY,
        "mandate": ANY,
    },
)
def invoice_pay(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    if record.data["status"] == "draft":
        finalize_invoice(ctx, record)
    if record.data["status"] == "paid":
        raise payments._error("Invoice is already paid", code="invoice_already_paid")
    if record.data["status"] not in ("open", "uncollectible"):
        raise payments._error(f"You cannot pay an invoice with status {record.data['status']}.")
    if record.data["status"] == "uncollectible":
        record.data["status"] = "open"
    if core.get_bool(params, "paid_out_of_band", False):
        _mark_paid(ctx.state, record, None)
        return ctx.state.render(record)
    pm_id = core.get_str(params, "payment_method")
    if pm_id:
        pm = payments.resolve_payment_method(ctx, pm_id, "payment_method")
        pm_id = pm.id
        customer = ctx.store.find(record.data["customer"])
        if pm.data["customer"] is None and customer is not None:
            payments.attach_payment_method(ctx, pm, customer)
    pi = ctx.store.find(record.internal.get("payment_intent") or "")
    if pi is not None and pi.data["status"] == "requires_action":
        pi.data["status"] = "requires_payment_method"
    outcome = attempt_invoice_payment(
        ctx, record, pm_id, off_session=bool(core.get_bool(params, "off_session", True))
    )
    if outcome is False:
        pi = ctx.store.find(record.internal.get("payment_intent") or "")
        error = (pi.data["last_payment_error"] if pi else None) or {}
        if not error:
            raise payments._error(
                "This customer has no attached payment source or default payment method.",
                code="invoice_no_payment_method_types",
            )
        raise StripeError(
            error.get("message") or "Your card was declined.",
            status=402,
            type="card_error",
            code=error.get("code"),
            decline_code=error.get("decline_code"),
            extra={"_save": True},
        )
    return ctx.state.render(record)


@route("POST", "/v1/invoices/{id}/void", spec={})
def invoice_void(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    if record.data["status"] not in ("open", "uncollectible"):
        raise payments._error(
            "You can only void open or uncollectible invoices "
            f"(this one is {record.data['status']})."
        )
    previous = {"status": record.data["status"]}
    record.data["status"] = "void"
    record.data["status_transitions"]["voided_at"] = ctx.now(record.data["customer"])
    record.data["amount_remaining"] = record.data["amount_due"] - record.data["amount_paid"]
    ctx.state.emit("invoice.voided", record, previous)
    return ctx.state.render(record)


@route("POST", "/v1/invoices/{id}/mark_uncollectible", spec={})
def invoice_mark_uncollectible(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    if record.data["status"] != "open":
        raise payments._error("You can only mark open invoices as uncollectible.")
    record.data["status"] = "uncollectible"
    record.data["status_transitions"]["marked_uncollectible_at"] = ctx.now(record.data["customer"])
    ctx.state.emit("invoice.marked_uncollectible", record, {"status": "open"})
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/invoices",
    spec={
        **LIST_SPEC,
        "customer": ANY,
        "subscription": ANY,
        "status": ANY,
        "collection_method": ANY,
        "due_date": MAP,
    },
)
def invoice_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "invoice",
        params,
        "/v1/invoices",
        equals("customer"),
        equals("subscription", lambda r: r.internal.get("subscription")),
        equals("status"),
    )


@route("GET", "/v1/invoices/{id}/lines", spec=LIST_SPEC)
def invoice_lines(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("invoice", id, ctx.account, param="invoice")
    return paginate(
        ctx,
        "line_item",
        params,
        f"/v1/invoices/{id}/lines",
        where(lambda r: r.data["invoice"] == id),
    )


# -- Invoice items -----------------------------------------------------------------------------


@route(
    "POST",
    "/v1/invoiceitems",
    spec={
        "customer": ANY,
        "amount": ANY,
        "currency": ANY,
        "description": ANY,
        "invoice": ANY,
        "metadata": MAP,
        "quantity": ANY,
        "subscription": ANY,
        "period": MAP,
        "pricing": MAP,
        "price_data": MAP,
        "discountable": ANY,
        "unit_amount_decimal": ANY,
    },
)
def invoice_item_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = core.get_str(params, "customer", required=True)
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    price = None
    pricing = params.get("pricing") if isinstance(params.get("pricing"), dict) else {}
    if pricing.get("price"):
        price = ctx.store.get("price", pricing["price"], ctx.account, param="pricing[price]")
    quantity = core.get_int(params, "quantity", default=1, minimum=1) or 1
    if price is not None:
        amount = price.data["unit_amount"] * quantity
        currency = price.data["currency"]
    else:
        amount = core.get_int(params, "amount", required=True) or 0
        currency = core.get_currency(params)
    invoice = None
    if params.get("invoice"):
        invoice = ctx.store.get("invoice", params["invoice"], ctx.account, param="invoice")
        if invoice.data["status"] != "draft":
            raise StripeError("You can only add invoice items to draft invoices.", param="invoice")
    now = ctx.now(customer_id)
    item_id = core.new_id("ii")
    data = template(
        "invoiceitem",
        id=item_id,
        amount=amount,
        currency=currency,
        customer=customer_id,
        date=now,
        description=core.get_str(params, "description"),
        discountable=True,
        discounts=[],
        invoice=None,
        period={"end": now, "start": now},
        proration=False,
        quantity=quantity,
        tax_rates=[],
        test_clock=customer.data["test_clock"],
        parent=None,
        pricing={
            "price_details": {"price": price.id, "product": price.data["product"]},
            "type": "price_details",
            "unit_amount_decimal": price.data["unit_amount_decimal"],
        }
        if price
        else None,
        net_amount=amount,
        customer_account=None,
        quantity_decimal=str(quantity),
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(
        Record(item_id, "invoiceitem", ctx.account, data, {"price": price.id if price else None})
    )
    if invoice is not None:
        data["invoice"] = invoice.id
        _add_line(
            ctx,
            invoice,
            amount=amount,
            description=data["description"] or "",
            quantity=quantity,
            price=price.data if price else None,
            invoice_item=item_id,
        )
        _total_invoice(ctx.state, invoice)
    ctx.state.emit("invoiceitem.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/invoiceitems/{id}", spec={})
def invoice_item_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("invoiceitem", id, ctx.account))


@route(
    "GET", "/v1/invoiceitems", spec={**LIST_SPEC, "customer": ANY, "invoice": ANY, "pending": ANY}
)
def invoice_item_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "invoiceitem",
        params,
        "/v1/invoiceitems",
        equals("customer"),
        equals("invoice"),
        flag("pending", lambda r: r.data["invoice"] is None),
    )


@route("DELETE", "/v1/invoiceitems/{id}", spec={})
def invoice_item_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoiceitem", id, ctx.account)
    if record.data["invoice"] is not None:
        raise StripeError("You can only delete pending invoice items.")
    record.deleted = True
    ctx.state.emit("invoiceitem.deleted", record)
    return template("deleted_invoiceitem", id=id)


# -- Subscriptions -----------------------------------------------------------------------------


@renderer("subscription_item")
def _render_item(state: State, record: Record, obj: dict[str, Any]) -> None:
    price = state.store.find(record.data["price"])
    if price is not None:
        obj["price"] = state.render(price)
        obj["plan"] = _plan_from_price(price.data)


@renderer("subscription")
def _render_subscription(state: State, record: Record, obj: dict[str, Any]) -> None:
    items = [state.render(state.store.records[i]) for i in record.internal["items"]]
    obj["items"] = {
        "object": "list",
        "data": items,
        "has_more": False,
        "url": f"/v1/subscription_items?subscription={record.id}",
    }


SUB_ITEM_SPEC = {
    "id": ANY,
    "price": ANY,
    "quantity": ANY,
    "deleted": ANY,
    "metadata": MAP,
    "price_data": MAP,
    "discounts": ANY,
    "tax_rates": ANY,
    "clear_usage": ANY,
}
SUB_SPEC = {
    "customer": ANY,
    "items": SUB_ITEM_SPEC,
    "trial_period_days": ANY,
    "trial_end": ANY,
    "default_payment_method": ANY,
    "payment_behavior": ANY,
    "cancel_at_period_end": ANY,
    "cancel_at": ANY,
    "metadata": MAP,
    "discounts": ANY,
    "proration_behavior": ANY,
    "collection_method": ANY,
    "days_until_due": ANY,
    "application_fee_percent": ANY,
    "transfer_data": {"destination": ANY, "amount_percent": ANY},
    "off_session": ANY,
    "description": ANY,
    "payment_settings": MAP,
    "trial_settings": MAP,
    "currency": ANY,
    "billing_cycle_anchor": ANY,
    "automatic_tax": MAP,
    "on_behalf_of": ANY,
    "proration_date": ANY,
    "billing_mode": MAP,
    "trial_from_plan": ANY,
    "pause_collection": ANY,
    "cancellation_details": MAP,
    "default_tax_rates": ANY,
    "add_invoice_items": ANY,
}


def _price_for_item(ctx: Context, item: dict[str, Any], index: int) -> Record:
    price_id = item.get("price")
    if not price_id:
        raise StripeError(
            f"Missing required param: items[{index}][price].", param=f"items[{index}][price]"
        )
    price = ctx.store.get("price", price_id, ctx.account, param=f"items[{index}][price]")
    if price.data["type"] != "recurring":
        raise StripeError(
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
            param=f"items[{index}][price]",
        )
    if not price.data["active"]:
        raise StripeError(
            "The price specified is inactive. This field only accepts active prices.",
            param=f"items[{index}][price]",
        )
    return price


def _new_item(
    ctx: Context, sub: Record, price: Record, quantity: int, metadata: Any, period: tuple[int, int]
) -> Record:
    item_id = core.new_id("si", 15)
    data = template(
        "subscription_item",
        id=item_id,
        created=sub.data["created"],
        discounts=[],
        price=price.id,
        quantity=quantity,
        subscription=sub.id,
        tax_rates=[],
        current_period_start=period[0],
        current_period_end=period[1],
        billing_thresholds=None,
    )
    if isinstance(metadata, dict):
        data["metadata"] = {k: str(v) for k, v in metadata.items()}
    record = ctx.store.add(Record(item_id, "subscription_item", sub.owner, data))
    sub.internal["items"].append(item_id)
    return record


def _items(state: State, sub: Record) -> list[Record]:
    return [state.store.records[i] for i in sub.internal["items"]]


def _period(state: State, sub: Record) -> tuple[int, int]:
    first = _items(state, sub)[0].data
    return first["current_period_start"], first["current_period_end"]


def _interval(state: State, sub: Record) -> tuple[str, int]:
    price = state.store.records[_items(state, sub)[0].data["price"]].data
    return price["recurring"]["interval"], price["recurring"]["interval_count"]


def _set_period(state: State, sub: Record, start: int, end: int) -> None:
    for item in _items(state, sub):
        item.data["current_period_start"] = start
        item.data["current_period_end"] = end


def _cycle_invoice(
    ctx: Context, sub: Record, billing_reason: str, first: bool, zero: bool = False
) -> Record:
    state = ctx.state
    customer = state.store.records[sub.data["customer"]]
    start, end = _period(state, sub)
    invoice = _new_invoice(
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
    _pull_pending_items(ctx, invoice, customer.id, sub.id)
    for item in _items(state, sub):
        price = state.store.records[item.data["price"]].data
        product = state.store.find(price["product"])
        name = product.data["name"] if product else price["product"]
        quantity = item.data["quantity"]
        amount = 0 if zero else price["unit_amount"] * quantity
        unit = core.format_amount(price["unit_amount"], price["currency"])
        label = (
            f"Trial period for {name}"
            if zero
            else f"{quantity} × {name} (at {unit} / {price['recurring']['interval']})"
        )
        _add_line(
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
    _total_invoice(state, invoice, discount_id, first)
    previous_latest = sub.data["latest_invoice"]
    sub.data["latest_invoice"] = invoice.id
    state.emit("invoice.created", invoice)
    if not first:
        state.emit("customer.subscription.updated", sub, {"latest_invoice": previous_latest})
    return invoice


@route("POST", "/v1/subscriptions", spec=SUB_SPEC)
def subscription_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = core.get_str(params, "customer", required=True)
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    items_given = params.get("items")
    if not isinstance(items_given, list) or not items_given:
        raise StripeError("Missing required param: items.", param="items")
    prices = [_price_for_item(ctx, item, i) for i, item in enumerate(items_given)]
    currency = prices[0].data["currency"]
    if any(p.data["currency"] != currency for p in prices):
        raise StripeError(
            "All prices on a subscription must have the same currency.", param="items"
        )
    behaviour = core.get_enum(
        params,
        "payment_behavior",
        ["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"],
        "allow_incomplete",
    )
    collection = core.get_enum(
        params,
        "collection_method",
        ["charge_automatically", "send_invoice"],
        "charge_automatically",
    )
    now = ctx.now(customer_id)
    trial_end_param = params.get("trial_end")
    trial_days = core.get_int(params, "trial_period_days", minimum=0)
    trial_end = None
    if trial_end_param == "now":
        trial_end = None
    elif trial_end_param not in (None, ""):
        trial_end = core.get_int(params, "trial_end")
        if trial_end is not None and trial_end <= now:
            raise StripeError(
                "Invalid timestamp: must be an integer Unix timestamp in the future.",
                param="trial_end",
            )
    elif trial_days:
        trial_end = now + trial_days * DAY
    pm_id = core.get_str(params, "default_payment_method")
    if pm_id:
        pm = ctx.store.get(
            "payment_method",
            pm_id,
            ctx.account,
            param="default_payment_method",
            label="PaymentMethod",
        )
        if pm.data["customer"] != customer_id:
            raise StripeError(
                "The customer does not have a payment method with the ID "
                + pm_id
                + ". The payment "
                "method must be attached to the customer.",
                param="default_payment_method",
            )
    has_pm = bool(pm_id or customer.data["invoice_settings"]["default_payment_method"])
    if (
        not trial_end
        and collection == "charge_automatically"
        and behaviour in ("allow_incomplete", "error_if_incomplete", "pending_if_incomplete")
        and not has_pm
        and sum(p.data["unit_amount"] for p in prices) > 0
    ):
        raise StripeError(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method. For more information, visit "
            "https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.",
            code="resource_missing",
        )
    sub_id = core.new_id("sub")
    interval, count = (
        prices[0].data["recurring"]["interval"],
        prices[0].data["recurring"]["interval_count"],
    )
    anchor = trial_end or now
    data = template(
        "subscription",
        id=sub_id,
        application=None,
        application_fee_percent=None,
        automatic_tax={"enabled": False, "liability": None, "disabled_reason": None},
        billing_cycle_anchor=anchor,
        billing_cycle_anchor_config=None,
        cancel_at=core.get_int(params, "cancel_at"),
        cancel_at_period_end=bool(core.get_bool(params, "cancel_at_period_end", False)),
        canceled_at=None,
        cancellation_details={"comment": None, "feedback": None, "reason": None},
        collection_method=collection,
        created=now,
        currency=currency,
        customer=customer_id,
        days_until_due=core.get_int(params, "days_until_due"),
        default_payment_method=pm_id,
        default_source=None,
        default_tax_rates=[],
        description=core.get_str(params, "description"),
        discounts=[],
        ended_at=None,
        invoice_settings={
            "account_tax_ids": None,
            "issuer": {"type": "self"},
            "custom_fields": None,
            "description": None,
            "footer": None,
        },
        latest_invoice=None,
        next_pending_invoice_item_invoice=None,
        on_behalf_of=core.get_str(params, "on_behalf_of"),
        pause_collection=None,
        payment_settings={
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        pending_invoice_item_interval=None,
        pending_setup_intent=None,
        pending_update=None,
        schedule=None,
        start_date=now,
        status="incomplete",
        test_clock=customer.data["test_clock"],
        transfer_data=None,
        trial_end=trial_end,
        trial_start=now if trial_end else None,
        trial_settings={"end_behavior": {"missing_payment_method": "create_invoice"}},
        billing_thresholds=None,
        billing_mode={"type": "classic", "flexible": None},
        customer_account=None,
        managed_payments=None,
        billing_schedules=[],
    )
    if isinstance(params.get("transfer_data"), dict):
        destination = params["transfer_data"].get("destination")
        payments._check_destination(ctx, destination)
        data["transfer_data"] = {"amount_percent": None, "destination": destination}
    if params.get("application_fee_percent"):
        data["application_fee_percent"] = float(params["application_fee_percent"])
    core.apply_metadata(data, params)
    sub = ctx.store.add(Record(sub_id, "subscription", ctx.account, data, {"items": []}))
    period = (now, trial_end) if trial_end else (now, add_interval(now, interval, count))
    for index, (item, price) in enumerate(zip(items_given, prices, strict=True)):
        quantity = core.get_int(
            item, "quantity", default=1, minimum=0, label=f"items[{index}][quantity]"
        )
        _new_item(ctx, sub, price, quantity or 0, item.get("metadata"), period)
    discount = _discount_from(ctx, params.get("discounts"), customer_id, sub_id, "discounts")
    if discount is not None:
        data["discounts"] = [discount.id]
    if customer.data["currency"] is None:
        customer.data["currency"] = currency
    if trial_end:
        data["status"] = "trialing"
    ctx.state.emit("customer.subscription.created", sub)
    invoice = _cycle_invoice(ctx, sub, "subscription_create", first=True, zero=bool(trial_end))
    if behaviour == "default_incomplete" or collection == "send_invoice":
        finalize_invoice(ctx, invoice)
        if invoice.data["status"] == "paid" and data["status"] == "incomplete":
            _set_sub_status(ctx.state, sub, "active")
        if collection == "send_invoice" and data["status"] == "incomplete":
            _set_sub_status(ctx.state, sub, "active")
        return ctx.state.render(sub)
    finalize_invoice(ctx, invoice)
    if invoice.data["status"] == "open":
        outcome = attempt_invoice_payment(
            ctx, invoice, None, off_session=bool(core.get_bool(params, "off_session", False))
        )
        if outcome is not True and behaviour == "error_if_incomplete":
            sub.deleted = True
            pi = ctx.store.find(invoice.internal.get("payment_intent") or "")
            error = (pi.data["last_payment_error"] if pi else None) or {}
            raise StripeError(
                error.get("message")
                or "Payment for this subscription requires additional user action before it "
                "can be completed successfully.",
                status=402,
                type="card_error",
                code=error.get("code") or "subscription_payment_intent_requires_action",
                decline_code=error.get("decline_code"),
                extra={"_save": True},
            )
    return ctx.state.render(sub)


@route("GET", "/v1/subscriptions/{id}", spec={})
def subscription_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("subscription", id, ctx.account))


def _prorate(
    ctx: Context,
    sub: Record,
    item: Record,
    old_amount: int,
    new_amount: int,
    now: int,
    description: str,
) -> list[Record]:
    start, end = _period(ctx.state, sub)
    if end <= start or now >= end:
        return []
    fraction_num, fraction_den = end - now, end - start
    created = []
    customer = ctx.store.records[sub.data["customer"]]
    for amount, label in (
        (-((old_amount * fraction_num) // fraction_den), "Unused time on " + description),
        ((new_amount * fraction_num) // fraction_den, "Remaining time on " + description),
    ):
        if amount == 0:
            continue
        item_id = core.new_id("ii")
        data = template(
            "invoiceitem",
            id=item_id,
            amount=amount,
            currency=sub.data["currency"],
            customer=customer.id,
            date=now,
            description=label,
            discountable=False,
            discounts=[],
            invoice=None,
            period={"end": end, "start": now},
            proration=True,
            quantity=1,
            tax_rates=[],
            test_clock=customer.data["test_clock"],
            parent={
                "subscription_details": {"subscription": sub.id, "subscription_item": item.id},
                "type": "subscription_details",
            },
            pricing=None,
            net_amount=amount,
            customer_account=None,
            quantity_decimal="1",
        )
        created.append(
            ctx.store.add(Record(item_id, "invoiceitem", sub.owner, data, {"subscription": sub.id}))
        )
    return created


@route(
    "POST", "/v1/subscriptions/{id}", spec={k: v for k, v in SUB_SPEC.items() if k != "customer"}
)
def subscription_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    sub = ctx.store.get("subscription", id, ctx.account)
    data = sub.data
    if data["status"] in ("canceled", "incomplete_expired"):
        raise payments._error(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    before = ctx.state.render(sub)
    now = ctx.now(data["customer"])
    proration = core.get_enum(
        params,
        "proration_behavior",
        ["always_invoice", "create_prorations", "none"],
        "create_prorations",
    )
    proration_items: list[Record] = []
    if isinstance(params.get("items"), list):
        for index, given in enumerate(params["items"]):
            item = None
            if given.get("id"):
                item = ctx.store.get(
                    "subscription_item", given["id"], ctx.account, param=f"items[{index}][id]"
                )
                if item.data["subscription"] != id:
                    raise core.not_found("subscription_item", given["id"], f"items[{index}][id]")
            if item is not None and core.get_bool(given, "deleted", False):
                old_price = ctx.store.records[item.data["price"]].data
                if proration != "none" and data["status"] == "active":
                    proration_items += _prorate(
                        ctx,
                        sub,
                        item,
                        old_price["unit_amount"] * item.data["quantity"],
                        0,
                        now,
                        "subscription item",
                    )
                sub.internal["items"].remove(item.id)
                item.deleted = True
                continue
            if item is None:
                price = _price_for_item(ctx, given, index)
                quantity = core.get_int(given, "quantity", default=1, minimum=0) or 0
                new = _new_item(
                    ctx, sub, price, quantity, given.get("metadata"), _period(ctx.state, sub)
                )
                if proration != "none" and data["status"] == "active":
                    proration_items += _prorate(
                        ctx,
                        sub,
                        new,
                        0,
                        price.data["unit_amount"] * quantity,
                        now,
                        "subscription item",
                    )
                continue
            old_price = ctx.store.records[item.data["price"]].data
            old_amount = old_price["unit_amount"] * item.data["quantity"]
            if given.get("price"):
                item.data["price"] = _price_for_item(ctx, given, index).id
            if given.get("quantity") not in (None, ""):
                item.data["quantity"] = core.get_int(given, "quantity", minimum=0)
            if isinstance(given.get("metadata"), dict):
                core.apply_metadata(item.data, given)
            new_price = ctx.store.records[item.data["price"]].data
            new_amount = new_price["unit_amount"] * item.data["quantity"]
            if new_amount != old_amount and proration != "none" and data["status"] == "active":
                product = ctx.store.find(new_price["product"])
                proration_items += _prorate(
                    ctx,
                    sub,
                    item,
                    old_amount,
                    new_amount,
                    now,
                    product.data["name"] if product else "subscription",
                )
    if not sub.internal["items"]:
        raise StripeError("A subscription must have at least one active plan.", param="items")
    for name in ("cancel_at_period_end",):
        if name in params:
            data[name] = bool(core.get_bool(params, name, False))
            if data[name]:
                data["cancel_at"] = _period(ctx.state, sub)[1]
                data["canceled_at"] = now
            else:
                data["cancel_at"] = None
                data["canceled_at"] = None
    if "cancel_at" in params:
        data["cancel_at"] = core.get_int(params, "cancel_at")
    if "description" in params:
        data["description"] = core.get_str(params, "description")
    if "default_payment_method" in params:
        pm_id = core.get_str(params, "default_payment_method")
        if pm_id:
            pm = ctx.store.get(
                "payment_method",
                pm_id,
                ctx.account,
                param="default_payment_method",
                label="PaymentMethod",
            )
            if pm.data["customer"] != data["customer"]:
                raise StripeError(
                    "The payment method must be attached to the customer.",
                    param="default_payment_method",
                )
        data["default_payment_method"] = pm_id
    if "collection_method" in params:
        data["collection_method"] = core.get_enum(
            params, "collection_method", ["charge_automatically", "send_invoice"]
        )
    if "days_until_due" in params:
        data["days_until_due"] = core.get_int(params, "days_until_due")
    if params.get("discounts"):
        discount = _discount_from(ctx, params["discounts"], data["customer"], id, "discounts")
        data["discounts"] = [discount.id] if discount else []
    core.apply_metadata(data, params)
    trial_end = params.get("trial_end")
    after = ctx.state.render(sub)
    previous = {k: before[k] for k in before if before[k] != after[k]}
    if previous:
        ctx.state.emit("customer.subscription.updated", sub, previous)
    if trial_end == "now" and data["status"] == "trialing":
        _end_trial(ctx, sub, now)
    elif proration == "always_invoice" and proration_items:
        invoice = _new_invoice(
            ctx,
            ctx.store.records[data["customer"]],
            subscription=sub,
            billing_reason="subscription_update",
            currency=data["currency"],
        )
        _pull_pending_items(ctx, invoice, data["customer"], id)
        _total_invoice(ctx.state, invoice)
        data["latest_invoice"] = invoice.id
        ctx.state.emit("invoice.created", invoice)
        finalize_invoice(ctx, invoice)
        if invoice.data["status"] == "open":
            attempt_invoice_payment(ctx, invoice, None, off_session=True)
    return ctx.state.render(sub)


@route(
    "DELETE",
    "/v1/subscriptions/{id}",
    spec={"invoice_now": ANY, "prorate": ANY, "cancellation_details": MAP},
)
def subscription_cancel(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    sub = ctx.store.get("subscription", id, ctx.account)
    if sub.data["status"] in ("canceled", "incomplete_expired"):
        raise payments._error(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    details = params.get("cancellation_details") or {}
    _cancel_subscription(ctx.state, sub)
    if isinstance(details, dict):
        sub.data["cancellation_details"].update(
            {k: details.get(k) for k in ("comment", "feedback") if details.get(k)}
        )
    return ctx.state.render(sub)


@route(
    "GET",
    "/v1/subscriptions",
    spec={
        **LIST_SPEC,
        "customer": ANY,
        "price": ANY,
        "status": ANY,
        "test_clock": ANY,
        "collection_method": ANY,
        "current_period_end": MAP,
        "current_period_start": MAP,
    },
)
def subscription_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "subscription",
        params,
        "/v1/subscriptions",
        equals("customer"),
        _price_filter(ctx),
        _status_filter,
        equals("test_clock"),
    )


def _price_filter(ctx: Context) -> Filter:
    """`price=...`: subscriptions with an item on that price."""

    def read(params: dict[str, Any]) -> Predicate | None:
        price_id = core.get_str(params, "price")
        if not price_id:
            return None
        return lambda r: any(
            ctx.store.records[i].data["price"] == price_id for i in r.internal["items"]
        )

    return read


def _status_filter(params: dict[str, Any]) -> Predicate:
    """`status=...` or `status=all`; without it, every status but canceled."""
    status = core.get_str(params, "status")

    def keep(record: Record) -> bool:
        s = record.data["status"]
        if status is None and s == "canceled":
            return False
        return status in (None, "all") or s == status

    return keep


@route("GET", "/v1/subscription_items", spec={**LIST_SPEC, "subscription": ANY})
def subscription_item_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    sub_id = core.get_str(params, "subscription", required=True)
    ctx.store.get("subscription", sub_id, ctx.account, param="subscription")
    return paginate(
        ctx,
        "subscription_item",
        params,
        f"/v1/subscription_items?subscription={sub_id}",
        where(lambda r: r.data["subscription"] == sub_id),
    )


@route("GET", "/v1/subscription_items/{id}", spec={})
def subscription_item_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("subscription_item", id, ctx.account))


# -- Scheduled work (test clocks) --------------------------------------------------------------


def _end_trial(ctx: Context, sub: Record, at: int) -> None:
    interval, count = _interval(ctx.state, sub)
    previous = {"status": "trialing", "trial_end": sub.data["trial_end"]}
    sub.data["trial_end"] = at
    sub.data["billing_cycle_anchor"] = at
    _set_period(ctx.state, sub, at, add_interval(at, interval, count))
    sub.data["status"] = "active"
    ctx.state.emit("customer.subscription.updated", sub, previous)
    _renew_invoice(ctx, sub)


def _renew_invoice(ctx: Context, sub: Record) -> None:
    invoice = _cycle_invoice(ctx, sub, "subscription_cycle", first=False)
    finalize_invoice(ctx, invoice)
    if (
        invoice.data["status"] == "open"
        and sub.data["collection_method"] == "charge_automatically"
        and sub.data["status"] != "unpaid"
    ):
        attempt_invoice_payment(ctx, invoice, None, off_session=True)


def _next_action(state: State, sub: Record) -> tuple[int, str] | None:
    d = sub.data
    status = d["status"]
    candidates: list[tuple[int, str]] = []
    if status == "incomplete":
        candidates.append((d["created"] + INCOMPLETE_EXPIRY_SECONDS, "expire"))
    elif status == "trialing":
        if (
            not sub.internal.get("trial_will_end_sent")
            and d["trial_end"] - TRIAL_WILL_END_NOTICE > d["created"]
        ):
            candidates.append((d["trial_end"] - TRIAL_WILL_END_NOTICE, "trial_will_end"))
        candidates.append((d["trial_end"], "trial_end"))
    elif status in ("active", "past_due", "unpaid"):
        end = _period(state, sub)[1]
        if d["cancel_at"] is not None:
            candidates.append((d["cancel_at"], "cancel"))
        candidates.append((end, "renew"))
        latest = state.store.find(d["latest_invoice"] or "")
        if (
            status == "past_due"
            and latest is not None
            and latest.data["status"] == "open"
            and latest.data["next_payment_attempt"]
        ):
            candidates.append((latest.data["next_payment_attempt"], "retry"))
    return min(candidates) if candidates else None


def _run_action(ctx: Context, sub: Record, action: str, at: int) -> None:
    state = ctx.state
    if action == "expire":
        invoice = state.store.find(sub.data["latest_invoice"] or "")
        if invoice is not None and invoice.data["status"] == "open":
            invoice.data["status"] = "void"
            invoice.data["status_transitions"]["voided_at"] = at
            state.emit("invoice.voided", invoice, {"status": "open"})
        sub.data["ended_at"] = at
        _set_sub_status(state, sub, "incomplete_expired")
    elif action == "trial_will_end":
        sub.internal["trial_will_end_sent"] = True
        state.emit("customer.subscription.trial_will_end", sub)
    elif action == "trial_end":
        _end_trial(ctx, sub, at)
    elif action == "cancel":
        _cancel_subscription(state, sub)
    elif action == "renew":
        start, end = _period(state, sub)
        interval, count = _interval(state, sub)
        _set_period(state, sub, end, add_interval(end, interval, count))
        _renew_invoice(ctx, sub)
    elif action == "retry":
        invoice = state.store.records[sub.data["latest_invoice"]]
        invoice.data["attempt_count"] += 1
        outcome = attempt_invoice_payment(ctx, invoice, None, off_session=True)
        if outcome is False and invoice.data["status"] == "open":
            pass


def advance_clock(ctx: Context, clock: Record, target: int) -> None:
    """Run every scheduled subscription action due before `target`, in time order."""
    state = ctx.state
    customers = {
        c.id
        for c in state.store.iter_newest_first(clock.owner, "customer")
        if c.data["test_clock"] == clock.id
    }
    subs = [
        s
        for s in state.store.iter_newest_first(clock.owner, "subscription")
        if s.data["customer"] in customers
    ]
    saved_ctx = state.current_ctx
    state.current_ctx = Context(state=state, account=clock.owner, base_url=ctx.base_url)
    try:
        for _ in range(10000):
            due = [
                (action, sub)
                for sub in subs
                if (action := _next_action(state, sub)) and action[0] <= target
            ]
            if not due:
                break
            (at, action), sub = min(due, key=lambda pair: pair[0])
            clock.data["frozen_time"] = max(clock.data["frozen_time"], at)
            _run_action(
                Context(state=state, account=clock.owner, base_url=ctx.base_url), sub, action, at
            )
        clock.data["frozen_time"] = target
    finally:
        state.current_ctx = saved_ctx


@route("POST", "/v1/test_helpers/test_clocks", spec={"frozen_time": ANY, "name": ANY})
def test_clock_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    frozen = core.get_int(params, "frozen_time", required=True)
    clock_id = core.new_id("clock")
    now = core.now_seconds()
    data = template(
        "test_helpers.test_clock",
        id=clock_id,
        created=now,
        deletes_after=now + 30 * DAY,
        frozen_time=frozen,
        name=core.get_str(params, "name"),
        status="ready",
        status_details={},
    )
    record = ctx.store.add(Record(clock_id, "test_helpers.test_clock", ctx.account, data))
    ctx.state.emit("test_helpers.test_clock.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/test_helpers/test_clocks/{id}", spec={})
def test_clock_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(
        ctx.store.get("test_helpers.test_clock", id, ctx.account, label="test_clock")
    )


@route("GET", "/v1/test_helpers/test_clocks", spec=LIST_SPEC)
def test_clock_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "test_helpers.test_clock", params, "/v1/test_helpers/test_clocks")


@route("DELETE", "/v1/test_helpers/test_clocks/{id}", spec={})
def test_clock_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("test_helpers.test_clock", id, ctx.account, label="test_clock")
    for customer in list(ctx.store.iter_newest_first(ctx.account, "customer")):
        if customer.data["test_clock"] == id:
            customer.deleted = True
    record.deleted = True
    ctx.state.emit("test_helpers.test_clock.deleted", record)
    return template("deleted_test_helpers.test_clock", id=id)


@route("POST", "/v1/test_helpers/test_clocks/{id}/advance", spec={"frozen_time": ANY})
def test_clock_advance(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("test_helpers.test_clock", id, ctx.account, label="test_clock")
    target = core.get_int(params, "frozen_time", required=True)
    assert target is not None
    if target <= record.data["frozen_time"]:
        raise StripeError(
            "The test clock's frozen_time can only be advanced to a time after its current "
            "frozen_time.",
            param="frozen_time",
        )
    record.data["status"] = "advancing"
    ctx.state.emit("test_helpers.test_clock.advancing", record)
    advance_clock(ctx, record, target)
    record.data["status"] = "ready"
    ctx.state.emit("test_helpers.test_clock.ready", record)
    return ctx.state.render(record)
