"""/v1/products and /v1/prices (one module: each can create the other), plans from prices."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, flag, one_of, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, template

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


@route("GET", "/v1/products/{id}/features", spec=LIST_SPEC)
def product_features(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    """A product's entitlement features: none here (local Stripe has no Entitlements), but the
    list exists, as dj-stripe reads it whenever it stores a product."""
    ctx.store.get("product", id, ctx.account)
    return paginate(ctx, "product_feature", params, f"/v1/products/{id}/features")


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


DECIMAL_PLACES = 12  # Stripe: "a decimal value in cents with at most 12 decimal places"


def _unit_amounts(params: dict[str, Any]) -> tuple[int | None, str]:
    """`unit_amount` and `unit_amount_decimal` of a new price, from either parameter.

    A price may cost a fraction of the minor unit (0.5 cent per API call): Stripe keeps the
    exact decimal string and sets `unit_amount` only when it is a whole number (null
    otherwise). Line amounts round the product of the decimal and the quantity
    (`price_amount`)."""
    given_integer = params.get("unit_amount") not in (None, "")
    given_decimal = params.get("unit_amount_decimal") not in (None, "")
    if given_integer and given_decimal:
        raise StripeError(
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            param="unit_amount_decimal",
        )
    if given_integer:
        unit_amount = core.get_int(params, "unit_amount", minimum=0)
        assert unit_amount is not None
        return unit_amount, str(unit_amount)
    if not given_decimal:
        raise StripeError("Missing required param: unit_amount.", param="unit_amount")
    text = str(params["unit_amount_decimal"]).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    exponent = value.as_tuple().exponent if value.is_finite() else 0
    if (
        not value.is_finite()
        or value < 0
        or (isinstance(exponent, int) and -exponent > DECIMAL_PLACES)
    ):
        raise StripeError(
            f"Invalid decimal: {text}. unit_amount_decimal is a non-negative decimal with at "
            f"most {DECIMAL_PLACES} decimal places.",
            param="unit_amount_decimal",
        )
    exact = format(value.normalize(), "f")
    whole = value == value.to_integral_value()
    return (int(value) if whole else None), exact


def price_amount(price: dict[str, Any], quantity: int) -> int:
    """The amount of `quantity` units of a price in minor units: the exact decimal unit amount
    times the quantity, rounded half-up to a whole minor unit."""
    unit = Decimal(str(price.get("unit_amount_decimal") or price.get("unit_amount") or 0))
    return int((unit * quantity).to_integral_value(rounding=ROUND_HALF_UP))


def price_unit_text(price: dict[str, Any]) -> str:
    """The unit amount as Stripe writes it in descriptions (a fractional one in full)."""
    if price.get("unit_amount") is not None:
        return core.format_amount(price["unit_amount"], price["currency"])
    major = Decimal(str(price["unit_amount_decimal"])) / 100
    symbol = core.CURRENCY_SYMBOLS.get(price["currency"], "")
    return f"{symbol}{format(major.normalize(), 'f')}"


def _create_price(ctx: Context, params: dict[str, Any]) -> Record:
    product_id = core.get_str(params, "product")
    if product_id:
        ctx.store.get("product", product_id, ctx.account, param="product")
    elif isinstance(params.get("product_data"), dict):
        product_id = product_create(ctx, dict(params["product_data"]))["id"]
    else:
        raise StripeError("Missing required param: product.", param="product")
    currency = core.get_currency(params)
    unit_amount, unit_amount_decimal = _unit_amounts(params)
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
    _lookup_key_take(ctx, lookup_key, core.get_bool(params, "transfer_lookup_key", False))
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
        unit_amount_decimal=unit_amount_decimal,
        custom_unit_amount=None,
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(price_id, "price", ctx.account, data))
    ctx.state.emit("price.created", record)
    return record


@route("POST", "/v1/prices", spec=PRICE_SPEC)
def price_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return ctx.state.render(_create_price(ctx, params))


def _lookup_key_take(ctx: Context, lookup_key: str | None, transfer: bool) -> None:
    """A lookup key names one price: with `transfer_lookup_key` it moves from the price that has
    it (which keeps everything else, `price.updated`), without it the request is refused."""
    if not lookup_key:
        return
    for holder in ctx.store.iter_newest_first(ctx.account, "price"):
        if holder.data["lookup_key"] != lookup_key:
            continue
        if not transfer:
            raise StripeError(
                f"A price (`{holder.data['id']}`) already uses that lookup key.",
                param="lookup_key",
            )
        holder.data["lookup_key"] = None
        ctx.state.emit("price.updated", holder, {"lookup_key": lookup_key})


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
    if "lookup_key" in params:
        wanted = core.get_str(params, "lookup_key")
        if wanted != record.data["lookup_key"]:
            _lookup_key_take(ctx, wanted, core.get_bool(params, "transfer_lookup_key", False))
        record.data["lookup_key"] = wanted
    if "nickname" in params:
        record.data["nickname"] = core.get_str(params, "nickname")
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


def plan_from_price(price: dict[str, Any]) -> dict[str, Any]:
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
