"""/v1/subscriptions: create, retrieve, update (with prorations), cancel and list."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, Filter, Predicate, equals, paginate
from stripe_local.app.registry import renderer, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.added_invoice_items import add_items_to_first_invoice, check_added_items
from stripe_local.billing.connected_subscriptions import apply_connect_params
from stripe_local.billing.discounts import coupon_from, coupon_takes, discount_from
from stripe_local.billing.intervals import DAY, add_interval
from stripe_local.billing.invoicing import (
    attempt_invoice_payment,
    finalize_invoice,
)
from stripe_local.billing.periods import cycle_invoice
from stripe_local.billing.products import price_amount
from stripe_local.billing.subscription_status import cancel_subscription, set_subscription_status
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import saved_error


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
    "coupon": ANY,
    "promotion_code": ANY,
}

TRIAL_END_BEHAVIORS = ["cancel", "create_invoice", "pause"]


def trial_settings_from(params: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """`trial_settings[end_behavior][missing_payment_method]`, checked like Stripe."""
    given = params.get("trial_settings")
    if given in (None, ""):
        return current
    behavior = given.get("end_behavior") if isinstance(given, dict) else None
    if not isinstance(behavior, dict) or not behavior.get("missing_payment_method"):
        raise StripeError(
            "Missing required param: trial_settings[end_behavior][missing_payment_method].",
            param="trial_settings[end_behavior][missing_payment_method]",
        )
    if behavior["missing_payment_method"] not in TRIAL_END_BEHAVIORS:
        raise StripeError(
            "Invalid trial_settings[end_behavior][missing_payment_method]: must be one of "
            "cancel, create_invoice, or pause",
            param="trial_settings[end_behavior][missing_payment_method]",
        )
    return {"end_behavior": {"missing_payment_method": behavior["missing_payment_method"]}}


def save_default_payment_method_from(params: dict[str, Any]) -> str:
    """`payment_settings[save_default_payment_method]`: `on_subscription` makes the card that
    pays an invoice the subscription's default (how a card entered in the Payment Element for
    the first invoice pays the renewals)."""
    settings = params.get("payment_settings")
    if not isinstance(settings, dict):
        return "off"
    value = settings.get("save_default_payment_method") or "off"
    if value not in ("off", "on_subscription"):
        raise StripeError(
            "Invalid payment_settings[save_default_payment_method]: must be one of off or "
            "on_subscription",
            param="payment_settings[save_default_payment_method]",
        )
    return str(value)


def discounts_param(params: dict[str, Any]) -> Any:
    """`discounts`, or the legacy `coupon` / `promotion_code` parameters as one discount."""
    if params.get("discounts"):
        return params["discounts"]
    if params.get("coupon"):
        return [{"coupon": params["coupon"]}]
    if params.get("promotion_code"):
        return [{"promotion_code": params["promotion_code"]}]
    return None


def price_for_item(ctx: Context, item: dict[str, Any], index: int) -> Record:
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


def new_item(
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


@route("POST", "/v1/subscriptions", spec=SUB_SPEC)
def subscription_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    customer_id = core.get_str(params, "customer", required=True)
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    items_given = params.get("items")
    if not isinstance(items_given, list) or not items_given:
        raise StripeError("Missing required param: items.", param="items")
    prices = [price_for_item(ctx, item, i) for i, item in enumerate(items_given)]
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
    quantities = [
        core.get_int(item, "quantity", default=1, minimum=0, label=f"items[{index}][quantity]") or 0
        for index, item in enumerate(items_given)
    ]
    first_amount = sum(price_amount(p.data, q) for p, q in zip(prices, quantities, strict=True))
    added_items = check_added_items(ctx, params.get("add_invoice_items"), currency)
    coupon = coupon_from(ctx, discounts_param(params), "discounts")
    if coupon is not None:
        first_amount -= coupon_takes(coupon[0].data, first_amount)
    if (
        not trial_end
        and collection == "charge_automatically"
        and behaviour in ("allow_incomplete", "error_if_incomplete", "pending_if_incomplete")
        and not has_pm
        and first_amount > 0
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
            "save_default_payment_method": save_default_payment_method_from(params),
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
        trial_settings=trial_settings_from(
            params, {"end_behavior": {"missing_payment_method": "create_invoice"}}
        ),
        billing_thresholds=None,
        billing_mode={"type": "classic", "flexible": None},
        customer_account=None,
        managed_payments=None,
        billing_schedules=[],
    )
    apply_connect_params(ctx, data, params)
    core.apply_metadata(data, params)
    discount = discount_from(ctx, discounts_param(params), customer_id, sub_id, "discounts")
    if discount is not None:
        data["discounts"] = [discount.id]
    sub = ctx.store.add(Record(sub_id, "subscription", ctx.account, data, {"items": []}))
    period = (now, trial_end) if trial_end else (now, add_interval(now, interval, count))
    for item, price, quantity in zip(items_given, prices, quantities, strict=True):
        new_item(ctx, sub, price, quantity, item.get("metadata"), period)
    if customer.data["currency"] is None:
        customer.data["currency"] = currency
    if trial_end:
        data["status"] = "trialing"
    add_items_to_first_invoice(ctx, sub, added_items)
    ctx.state.emit("customer.subscription.created", sub)
    invoice = cycle_invoice(ctx, sub, "subscription_create", first=True, zero=bool(trial_end))
    if behaviour == "default_incomplete" or collection == "send_invoice":
        finalize_invoice(ctx, invoice)
        if invoice.data["status"] == "paid" and data["status"] == "incomplete":
            set_subscription_status(ctx.state, sub, "active")
        if collection == "send_invoice" and data["status"] == "incomplete":
            set_subscription_status(ctx.state, sub, "active")
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


@route(
    "DELETE",
    "/v1/subscriptions/{id}",
    spec={"invoice_now": ANY, "prorate": ANY, "cancellation_details": MAP},
)
def subscription_cancel(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    sub = ctx.store.get("subscription", id, ctx.account)
    if sub.data["status"] in ("canceled", "incomplete_expired"):
        raise saved_error(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    details = params.get("cancellation_details") or {}
    cancel_subscription(ctx.state, sub)
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
