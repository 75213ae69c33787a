"""/v1/payment_methods (cards, `pm_card_*` test ids) and /v1/customers/{id}/payment_methods."""

from __future__ import annotations

import datetime
from typing import Any

from stripe_local import cards, core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate, where
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import decline_error, saved_error

ADDRESS = {
    "city": ANY,
    "country": ANY,
    "line1": ANY,
    "line2": ANY,
    "postal_code": ANY,
    "state": ANY,
}


@route(
    "GET",
    "/v1/customers/{id}/payment_methods",
    spec={**LIST_SPEC, "type": ANY, "allow_redisplay": ANY},
)
def customer_payment_methods(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("customer", id, ctx.account, param="customer")
    return paginate(
        ctx,
        "payment_method",
        params,
        f"/v1/customers/{id}/payment_methods",
        where(lambda r: r.data["customer"] == id),
        equals("type"),
    )


BILLING_DETAILS = {"address": ADDRESS, "email": ANY, "name": ANY, "phone": ANY, "tax_id": ANY}


CARD_SPEC = {"number": ANY, "exp_month": ANY, "exp_year": ANY, "cvc": ANY, "token": ANY}


PAYMENT_METHOD_DATA = {
    "type": ANY,
    "card": CARD_SPEC,
    "billing_details": BILLING_DETAILS,
    "metadata": MAP,
    "allow_redisplay": ANY,
}


def _billing_details(given: Any) -> dict[str, Any]:
    details = {
        "address": {k: None for k in ADDRESS},
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    if isinstance(given, dict):
        for key in ("email", "name", "phone", "tax_id"):
            if given.get(key):
                details[key] = given[key]
        if isinstance(given.get("address"), dict):
            for key in ADDRESS:
                details["address"][key] = given["address"].get(key) or None
    return details


def create_card_payment_method(
    ctx: Context,
    number: str,
    exp_month: int,
    exp_year: int,
    cvc: str | None,
    billing_details: Any = None,
    metadata: Any = None,
) -> Record:
    today = datetime.date.today()
    cards.validate_card(number, exp_month, exp_year, cvc, today.year, today.month)
    if exp_year < 100:
        exp_year += 2000
    behaviour = cards.behaviour_for(number)
    pm_id = core.new_id("pm")
    data = template("payment_method", id=pm_id, created=core.now_seconds(), type="card")
    data["allow_redisplay"] = "unspecified"
    data["billing_details"] = _billing_details(billing_details)
    data["card"].update(
        brand=behaviour.brand,
        checks={
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "unchecked" if cvc else None,
        },
        country=behaviour.country,
        display_brand=behaviour.brand,
        exp_month=exp_month,
        exp_year=exp_year,
        fingerprint=cards.fingerprint(number),
        funding=behaviour.funding,
        generated_from=None,
        last4=number[-4:],
        networks={"available": [behaviour.brand], "preferred": None},
        three_d_secure_usage={"supported": True},
        wallet=None,
        regulated_status="unregulated",
    )
    data["customer"] = None
    if isinstance(metadata, dict):
        data["metadata"] = {k: str(v) for k, v in metadata.items() if v}
    return ctx.store.add(Record(pm_id, "payment_method", ctx.account, data, {"number": number}))


def payment_method_from_data(ctx: Context, given: Any, param: str) -> Record:
    if not isinstance(given, dict):
        raise StripeError(f"Invalid {param}: must be a hash", param=param)
    pm_type = given.get("type")
    if pm_type != "card":
        raise StripeError(
            f"Invalid {param}[type]: local Stripe supports only `card`", param=f"{param}[type]"
        )
    card = given.get("card")
    if not isinstance(card, dict):
        raise StripeError(f"Missing required param: {param}[card].", param=f"{param}[card]")
    if card.get("token"):
        number = cards.TEST_PAYMENT_METHODS.get(
            card["token"].replace("tok_", "pm_card_"), "4242424242424242"
        )
        return create_card_payment_method(ctx, number, 12, datetime.date.today().year + 3, None)
    number = str(card.get("number") or "").replace(" ", "")
    if not number:
        raise StripeError(
            f"Missing required param: {param}[card][number].", param=f"{param}[card][number]"
        )
    exp_month = core.get_int(card, "exp_month", required=True, label=f"{param}[card][exp_month]")
    exp_year = core.get_int(card, "exp_year", required=True, label=f"{param}[card][exp_year]")
    assert exp_month is not None and exp_year is not None
    return create_card_payment_method(
        ctx,
        number,
        exp_month,
        exp_year,
        card.get("cvc"),
        given.get("billing_details"),
        given.get("metadata"),
    )


def resolve_payment_method(ctx: Context, pm_id: str, param: str) -> Record:
    """A stored PaymentMethod, or a new one for Stripe's `pm_card_*` test ids."""
    number = cards.TEST_PAYMENT_METHODS.get(pm_id)
    if number is not None:
        return create_card_payment_method(ctx, number, 12, datetime.date.today().year + 3, None)
    return ctx.store.get("payment_method", pm_id, ctx.account, param=param, label="PaymentMethod")


@route(
    "POST",
    "/v1/payment_methods",
    publishable=True,
    spec={
        **PAYMENT_METHOD_DATA,
        "customer": ANY,
        "payment_method": ANY,
    },
)
def payment_method_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("payment_method"):
        # Cloning a platform PaymentMethod onto a connected account (Stripe-Account).
        source = ctx.store.find(params["payment_method"])
        if source is None or source.kind != "payment_method" or source.owner is not None:
            raise core.not_found("payment_method", params["payment_method"], "payment_method")
        clone_ctx = ctx
        record = create_card_payment_method(
            clone_ctx,
            source.internal["number"],
            source.data["card"]["exp_month"],
            source.data["card"]["exp_year"],
            None,
            source.data["billing_details"],
        )
        return ctx.state.render(record)
    if not params.get("type"):
        raise StripeError("Missing required param: type.", param="type")
    record = payment_method_from_data(
        ctx, {k: v for k, v in params.items() if k != "customer"}, "payment_method_data"
    )
    return ctx.state.render(record)


@route("GET", "/v1/payment_methods/{id}", spec={})
def payment_method_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    if id in cards.TEST_PAYMENT_METHODS:
        return ctx.state.render(resolve_payment_method(ctx, id, "id"))
    return ctx.state.render(ctx.store.get("payment_method", id, ctx.account, label="PaymentMethod"))


@route(
    "POST",
    "/v1/payment_methods/{id}",
    spec={
        "billing_details": BILLING_DETAILS,
        "metadata": MAP,
        "card": {"exp_month": ANY, "exp_year": ANY},
        "allow_redisplay": ANY,
    },
)
def payment_method_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("payment_method", id, ctx.account, label="PaymentMethod")
    before = core.deep_copy(record.data)
    if "billing_details" in params:
        record.data["billing_details"] = _billing_details(params["billing_details"])
    if isinstance(params.get("card"), dict):
        for key in ("exp_month", "exp_year"):
            value = core.get_int(params["card"], key)
            if value is not None:
                record.data["card"][key] = value
    if "allow_redisplay" in params:
        record.data["allow_redisplay"] = core.get_enum(
            params, "allow_redisplay", ["always", "limited", "unspecified"]
        )
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        ctx.state.emit("payment_method.updated", record, previous)
    return ctx.state.render(record)


def attach_payment_method(ctx: Context, pm: Record, customer: Record) -> None:
    if pm.data["customer"] == customer.id:
        return
    if pm.data["customer"] is not None:
        raise saved_error(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    behaviour = cards.behaviour_for(pm.internal.get("number", ""))
    if behaviour.outcome == "decline":
        raise decline_error(behaviour, {"param": "payment_method"})
    pm.data["customer"] = customer.id
    ctx.state.emit("payment_method.attached", pm)


@route("POST", "/v1/payment_methods/{id}/attach", spec={"customer": ANY})
def payment_method_attach(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    customer_id = core.get_str(params, "customer", required=True)
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    pm = resolve_payment_method(ctx, id, "payment_method")
    attach_payment_method(ctx, pm, customer)
    return ctx.state.render(pm)


@route("POST", "/v1/payment_methods/{id}/detach", spec={})
def payment_method_detach(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    pm = ctx.store.get("payment_method", id, ctx.account, label="PaymentMethod")
    customer_id = pm.data["customer"]
    if customer_id is None:
        raise saved_error(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible."
        )
    pm.data["customer"] = None
    customer = ctx.store.find(customer_id)
    if customer is not None and customer.data["invoice_settings"]["default_payment_method"] == id:
        customer.data["invoice_settings"]["default_payment_method"] = None
    ctx.state.emit("payment_method.detached", pm, {"customer": customer_id})
    return ctx.state.render(pm)


@route("GET", "/v1/payment_methods", spec={**LIST_SPEC, "customer": ANY, "type": ANY})
def payment_method_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "payment_method", params, "/v1/payment_methods", equals("customer"), equals("type")
    )
