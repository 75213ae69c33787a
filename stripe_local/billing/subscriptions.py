"""/v1/subscriptions: create, retrieve, update (with prorations), cancel and list."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, Filter, Predicate, equals, paginate
from stripe_local.app.registry import renderer, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.discounts import discount_from
from stripe_local.billing.intervals import DAY, add_interval
from stripe_local.billing.invoicing import (
    attempt_invoice_payment,
    finalize_invoice,
    new_invoice,
    pull_pending_items,
    total_invoice,
)
from stripe_local.billing.periods import current_period, cycle_invoice, end_trial
from stripe_local.billing.subscription_status import cancel_subscription, set_subscription_status
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import saved_error
from stripe_local.payments.payment_intents import check_destination


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
        check_destination(ctx, destination)
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
    discount = discount_from(ctx, params.get("discounts"), customer_id, sub_id, "discounts")
    if discount is not None:
        data["discounts"] = [discount.id]
    if customer.data["currency"] is None:
        customer.data["currency"] = currency
    if trial_end:
        data["status"] = "trialing"
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


def _prorate(
    ctx: Context,
    sub: Record,
    item: Record,
    old_amount: int,
    new_amount: int,
    now: int,
    description: str,
) -> list[Record]:
    start, end = current_period(ctx.state, sub)
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
        raise saved_error(
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
                    ctx, sub, price, quantity, given.get("metadata"), current_period(ctx.state, sub)
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
                data["cancel_at"] = current_period(ctx.state, sub)[1]
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
        discount = discount_from(ctx, params["discounts"], data["customer"], id, "discounts")
        data["discounts"] = [discount.id] if discount else []
    core.apply_metadata(data, params)
    trial_end = params.get("trial_end")
    after = ctx.state.render(sub)
    previous = {k: before[k] for k in before if before[k] != after[k]}
    if previous:
        ctx.state.emit("customer.subscription.updated", sub, previous)
    if trial_end == "now" and data["status"] == "trialing":
        end_trial(ctx, sub, now)
    elif proration == "always_invoice" and proration_items:
        invoice = new_invoice(
            ctx,
            ctx.store.records[data["customer"]],
            subscription=sub,
            billing_reason="subscription_update",
            currency=data["currency"],
        )
        pull_pending_items(ctx, invoice, data["customer"], id)
        total_invoice(ctx.state, invoice)
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
