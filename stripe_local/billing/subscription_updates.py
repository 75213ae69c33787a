"""POST /v1/subscriptions/{id}: items (prorated), trials, cancellation at period end, discounts,
payment method; and POST /v1/subscriptions/{id}/resume for a subscription paused at trial end.

Prorations (`create_prorations`, `always_invoice`, `none`) are computed by billing.prorations,
as invoice previews compute them; `proration_date` pins the moment they are computed for.
A change of billing interval (monthly to yearly) resets the period to now and invoices at once,
like Stripe.
"""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.billing.connected_subscriptions import apply_connect_params
from stripe_local.billing.discounts import discount_from
from stripe_local.billing.intervals import add_interval
from stripe_local.billing.invoicing import (
    attempt_invoice_payment,
    finalize_invoice,
    new_invoice,
    pull_pending_items,
    total_invoice,
)
from stripe_local.billing.periods import (
    billing_interval,
    current_period,
    cycle_invoice,
    end_trial,
    set_period,
)
from stripe_local.billing.prorations import PRORATED_STATUSES, prorate_item
from stripe_local.billing.subscriptions import (
    SUB_SPEC,
    discounts_param,
    new_item,
    price_for_item,
    trial_settings_from,
)
from stripe_local.core import ANY, StripeError
from stripe_local.payment_errors import saved_error

UPDATE_SPEC = {k: v for k, v in SUB_SPEC.items() if k != "customer"}


def proration_moment(params: dict[str, Any], now: int, param: str = "proration_date") -> int:
    """`proration_date` (a past or present timestamp), else now."""
    at = core.get_int(params, "proration_date", label=param)
    if at is None:
        return now
    if at > now:
        raise StripeError("Invalid proration_date: it can't be in the future.", param=param)
    return at


def apply_item_changes(
    ctx: Context, sub: Record, given_items: list[Any], proration: str, at: int
) -> tuple[list[Record], bool]:
    """Apply `items[...]` to `sub`; returns the proration invoice items made and whether the
    billing interval changed (which resets the period)."""
    data = sub.data
    prorate = proration != "none" and data["status"] in PRORATED_STATUSES
    old_interval = billing_interval(ctx.state, sub)
    period = current_period(ctx.state, sub)
    _check_items(ctx, sub, given_items)
    changes: list[tuple[Record, tuple[str, int] | None, tuple[str, int] | None]] = []
    for index, given in enumerate(given_items):
        if not isinstance(given, dict):
            raise StripeError(f"Invalid items[{index}]: must be a hash", param=f"items[{index}]")
        item = None
        if given.get("id"):
            item = ctx.store.get(
                "subscription_item", given["id"], ctx.account, param=f"items[{index}][id]"
            )
            if item.data["subscription"] != sub.id:
                raise core.not_found("subscription_item", given["id"], f"items[{index}][id]")
        if item is not None and core.get_bool(given, "deleted", False):
            changes.append((item, (item.data["price"], item.data["quantity"]), None))
            sub.internal["items"].remove(item.id)
            item.deleted = True
            continue
        if item is None:
            price = price_for_item(ctx, given, index)
            quantity = core.get_int(given, "quantity", default=1, minimum=0) or 0
            new = new_item(ctx, sub, price, quantity, given.get("metadata"), period)
            changes.append((new, None, (price.id, quantity)))
            continue
        old = (item.data["price"], item.data["quantity"])
        if given.get("price"):
            item.data["price"] = price_for_item(ctx, given, index).id
        if given.get("quantity") not in (None, ""):
            item.data["quantity"] = core.get_int(
                given, "quantity", minimum=0, label=f"items[{index}][quantity]"
            )
        if isinstance(given.get("metadata"), dict):
            core.apply_metadata(item.data, given)
        changes.append((item, old, (item.data["price"], item.data["quantity"])))
    if not sub.internal["items"]:
        raise StripeError("A subscription must have at least one active plan.", param="items")
    interval_changed = billing_interval(ctx.state, sub) != old_interval
    created: list[Record] = []
    if prorate:
        for item, old, new in changes:
            # A new interval is billed in full from now: only the unused old time is credited.
            target = None if interval_changed else new
            created += prorate_item(ctx, sub, item, old, target, at, period)
    return created, interval_changed


def _check_items(ctx: Context, sub: Record, given_items: list[Any]) -> None:
    """Refuse bad `items[...]` before anything changes (no half-applied update)."""
    remaining = set(sub.internal["items"])
    for index, given in enumerate(given_items):
        if not isinstance(given, dict):
            raise StripeError(f"Invalid items[{index}]: must be a hash", param=f"items[{index}]")
        if given.get("id"):
            item = ctx.store.get(
                "subscription_item", given["id"], ctx.account, param=f"items[{index}][id]"
            )
            if item.data["subscription"] != sub.id:
                raise core.not_found("subscription_item", given["id"], f"items[{index}][id]")
            if core.get_bool(given, "deleted", False):
                remaining.discard(item.id)
                continue
        if given.get("price") or not given.get("id"):
            price_for_item(ctx, given, index)
            remaining.add(f"new_{index}")
        core.get_int(given, "quantity", minimum=0, label=f"items[{index}][quantity]")
    if not remaining:
        raise StripeError("A subscription must have at least one active plan.", param="items")


@route("POST", "/v1/subscriptions/{id}", spec=UPDATE_SPEC)
def subscription_update_route(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    """The API's update; a subscription managed by a schedule refuses cancellation changes."""
    sub = ctx.store.get("subscription", id, ctx.account)
    if sub.data["schedule"] and ("cancel_at_period_end" in params or "cancel_at" in params):
        raise StripeError(
            "The subscription is managed by the subscription schedule "
            f"`{sub.data['schedule']}`, and updating any cancelation behavior directly is not "
            "allowed. Please update the schedule instead.",
            param="cancel_at_period_end" if "cancel_at_period_end" in params else "cancel_at",
        )
    return subscription_update(ctx, params, id)


def subscription_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    """Apply an update (the API route and the customer portal's actions)."""
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
    at = proration_moment(params, now)
    trial_end = _trial_end_param(params, now)
    if isinstance(trial_end, int) and data["status"] != "trialing":
        raise saved_error(
            "local Stripe moves `trial_end` only while the subscription is trialing.",
            param="trial_end",
        )
    pm_id = _payment_method_param(ctx, sub, params)
    apply_connect_params(ctx, data, params)
    data["trial_settings"] = trial_settings_from(params, data["trial_settings"])
    proration_items: list[Record] = []
    interval_changed = False
    if isinstance(params.get("items"), list):
        proration_items, interval_changed = apply_item_changes(
            ctx, sub, params["items"], proration, at
        )
    if "cancel_at_period_end" in params:
        data["cancel_at_period_end"] = bool(core.get_bool(params, "cancel_at_period_end", False))
        if data["cancel_at_period_end"]:
            data["cancel_at"] = current_period(ctx.state, sub)[1]
            data["canceled_at"] = now
        else:
            data["cancel_at"] = None
            data["canceled_at"] = None
    if "cancel_at" in params:
        data["cancel_at"] = core.get_int(params, "cancel_at")
        data["cancel_at_period_end"] = False
        data["canceled_at"] = now if data["cancel_at"] else None
    if "description" in params:
        data["description"] = core.get_str(params, "description")
    if "default_payment_method" in params:
        data["default_payment_method"] = pm_id
    if "collection_method" in params:
        data["collection_method"] = core.get_enum(
            params, "collection_method", ["charge_automatically", "send_invoice"]
        )
    if "days_until_due" in params:
        data["days_until_due"] = core.get_int(params, "days_until_due")
    if "discounts" in params and not params["discounts"]:
        data["discounts"] = []
    elif discounts_param(params):
        discount = discount_from(ctx, discounts_param(params), data["customer"], id, "discounts")
        data["discounts"] = [discount.id] if discount else []
    core.apply_metadata(data, params)
    if isinstance(trial_end, int):
        _move_trial_end(ctx, sub, trial_end)
    after = ctx.state.render(sub)
    previous = {k: before[k] for k in before if before[k] != after[k]}
    if previous:
        ctx.state.emit("customer.subscription.updated", sub, previous)
    if trial_end == "now" and data["status"] == "trialing":
        end_trial(ctx, sub, now)
    elif interval_changed and data["status"] in PRORATED_STATUSES:
        interval, count = billing_interval(ctx.state, sub)
        set_period(ctx.state, sub, now, add_interval(now, interval, count))
        data["billing_cycle_anchor"] = now
        _charge(ctx, sub, cycle_invoice(ctx, sub, "subscription_update", first=False))
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
        _charge(ctx, sub, invoice)
    return ctx.state.render(sub)


def _charge(ctx: Context, sub: Record, invoice: Record) -> None:
    finalize_invoice(ctx, invoice)
    if invoice.data["status"] == "open" and sub.data["collection_method"] == (
        "charge_automatically"
    ):
        attempt_invoice_payment(ctx, invoice, None, off_session=True)


def _trial_end_param(params: dict[str, Any], now: int) -> int | str | None:
    value = params.get("trial_end")
    if value in (None, ""):
        return None
    if value == "now":
        return "now"
    at = core.get_int(params, "trial_end")
    assert at is not None
    if at <= now:
        raise StripeError(
            "Invalid timestamp: must be an integer Unix timestamp in the future.",
            param="trial_end",
        )
    return at


def _move_trial_end(ctx: Context, sub: Record, trial_end: int) -> None:
    """A new trial end for a trialing subscription (extending or shortening its trial)."""
    sub.data["trial_end"] = trial_end
    sub.data["billing_cycle_anchor"] = trial_end
    start = current_period(ctx.state, sub)[0]
    set_period(ctx.state, sub, start, trial_end)
    sub.internal.pop("trial_will_end_sent", None)


def _payment_method_param(ctx: Context, sub: Record, params: dict[str, Any]) -> str | None:
    pm_id = core.get_str(params, "default_payment_method")
    if pm_id:
        pm = ctx.store.get(
            "payment_method",
            pm_id,
            ctx.account,
            param="default_payment_method",
            label="PaymentMethod",
        )
        if pm.data["customer"] != sub.data["customer"]:
            raise StripeError(
                "The payment method must be attached to the customer.",
                param="default_payment_method",
            )
    return pm_id


# -- resume ------------------------------------------------------------------------------------


@route(
    "POST",
    "/v1/subscriptions/{id}/resume",
    spec={"billing_cycle_anchor": ANY, "proration_behavior": ANY, "proration_date": ANY},
)
def subscription_resume(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    """Resume a paused subscription: `billing_cycle_anchor=now` (default) starts a new period
    now, invoiced in full; `unchanged` keeps the anchor and invoices the rest of the current
    period prorated (nothing with `proration_behavior=none`)."""
    sub = ctx.store.get("subscription", id, ctx.account)
    data = sub.data
    if data["status"] != "paused":
        raise saved_error(
            "Only a paused subscription can be resumed (this one is " + data["status"] + ").",
            code="subscription_not_paused",
        )
    anchor = core.get_enum(params, "billing_cycle_anchor", ["now", "unchanged"], "now")
    proration = core.get_enum(
        params,
        "proration_behavior",
        ["always_invoice", "create_prorations", "none"],
        "create_prorations",
    )
    now = ctx.now(data["customer"])
    at = proration_moment(params, now)
    interval, count = billing_interval(ctx.state, sub)
    invoice = None
    previous = {"status": "paused"}
    if anchor == "now":
        set_period(ctx.state, sub, now, add_interval(now, interval, count))
        data["billing_cycle_anchor"] = now
        data["status"] = "active"
        invoice = cycle_invoice(ctx, sub, "subscription_update", first=False)
    else:
        start = data["billing_cycle_anchor"]
        end = add_interval(start, interval, count)
        for _ in range(10000):
            if end > now:
                break
            start, end = end, add_interval(end, interval, count)
        set_period(ctx.state, sub, start, end)
        data["status"] = "active"
        if proration != "none":
            for item_id in sub.internal["items"]:
                item = ctx.store.records[item_id]
                target = (item.data["price"], item.data["quantity"])
                prorate_item(ctx, sub, item, None, target, at, (start, end))
            invoice = new_invoice(
                ctx,
                ctx.store.records[data["customer"]],
                subscription=sub,
                billing_reason="subscription_update",
                currency=data["currency"],
                period=(at, end),
            )
            pull_pending_items(ctx, invoice, data["customer"], id)
            total_invoice(ctx.state, invoice, data["discounts"][0] if data["discounts"] else None)
            data["latest_invoice"] = invoice.id
            ctx.state.emit("invoice.created", invoice)
    ctx.state.emit("customer.subscription.resumed", sub)
    ctx.state.emit("customer.subscription.updated", sub, previous)
    if invoice is not None:
        _charge(ctx, sub, invoice)
    return ctx.state.render(sub)
