"""/v1/customers.

Deleting a customer runs the `customer_deleting` hook (billing cancels its subscriptions).
"""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, created, equals, paginate
from stripe_local.app.registry import CUSTOMER_DELETING, notify, route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payments.payment_methods import (
    ADDRESS,
    attach_payment_method,
    resolve_payment_method,
)

CUSTOMER_SPEC = {
    "email": ANY,
    "name": ANY,
    "phone": ANY,
    "description": ANY,
    "metadata": MAP,
    "address": ADDRESS,
    "payment_method": ANY,
    "test_clock": ANY,
    "preferred_locales": ANY,
    "shipping": MAP,
    "balance": ANY,
    "tax_exempt": ANY,
    "source": ANY,
    "invoice_settings": {
        "default_payment_method": ANY,
        "custom_fields": ANY,
        "footer": ANY,
        "rendering_options": MAP,
    },
}


def _set_customer_fields(ctx: Context, data: dict[str, Any], params: dict[str, Any]) -> None:
    for name in ("email", "name", "phone", "description", "tax_exempt"):
        if name in params:
            data[name] = core.get_str(params, name)
    if "address" in params:
        given = params["address"]
        data["address"] = (
            {k: (given.get(k) or None) for k in ADDRESS} if isinstance(given, dict) else None
        )
    if "preferred_locales" in params:
        data["preferred_locales"] = list(params["preferred_locales"] or [])
    if "balance" in params:
        data["balance"] = core.get_int(params, "balance", default=0)
    settings = params.get("invoice_settings")
    if isinstance(settings, dict) and "default_payment_method" in settings:
        pm_id = settings.get("default_payment_method") or None
        if pm_id is not None:
            pm = ctx.store.get(
                "payment_method",
                pm_id,
                ctx.account,
                param="invoice_settings[default_payment_method]",
            )
            if pm.data["customer"] != data["id"]:
                raise StripeError(
                    f"No such PaymentMethod: '{pm_id}'; It's possible this PaymentMethod "
                    "exists on one of your connected accounts, in which case you should retry "
                    "this request on that connected account. Learn more at "
                    "https://stripe.com/docs/connect/authentication",
                    param="invoice_settings[default_payment_method]",
                    code="resource_missing",
                )
        data["invoice_settings"]["default_payment_method"] = pm_id


@route("POST", "/v1/customers", spec=CUSTOMER_SPEC)
def customer_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    clock_id = core.get_str(params, "test_clock")
    if clock_id:
        ctx.store.get("test_helpers.test_clock", clock_id, ctx.account, param="test_clock")
    customer_id = core.new_id("cus", 15)
    data = template(
        "customer",
        id=customer_id,
        balance=0,
        currency=None,
        delinquent=False,
        invoice_prefix=secrets.token_hex(4).upper(),
        next_invoice_sequence=1,
        preferred_locales=[],
        tax_exempt="none",
        test_clock=clock_id,
    )
    record = ctx.store.add(Record(customer_id, "customer", ctx.account, data))
    data["created"] = ctx.now(customer_id)
    pm_id = core.get_str(params, "payment_method")
    _set_customer_fields(ctx, data, {k: v for k, v in params.items() if k != "invoice_settings"})
    core.apply_metadata(data, params)
    ctx.state.emit("customer.created", record)
    settings = params.get("invoice_settings")
    if pm_id:
        pm = resolve_payment_method(ctx, pm_id, "payment_method")
        attach_payment_method(ctx, pm, record)
        if isinstance(settings, dict) and settings.get("default_payment_method") == pm_id:
            # Stripe's test-clock recipe names the same `pm_card_*` test id twice: the default
            # is the PaymentMethod that `payment_method` just created and attached.
            settings = {**settings, "default_payment_method": pm.id}
    if "invoice_settings" in params:
        before = core.deep_copy(data["invoice_settings"])
        _set_customer_fields(ctx, data, {"invoice_settings": settings})
        if pm_id and before != data["invoice_settings"]:
            ctx.state.emit("customer.updated", record, {"invoice_settings": before})
    return ctx.state.render(record)


@route("GET", "/v1/customers/{id}", spec={})
def customer_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("customer", id, ctx.account, allow_deleted=True)
    if record.deleted:
        return {"id": record.id, "object": "customer", "deleted": True}
    return ctx.state.render(record)


@route("POST", "/v1/customers/{id}", spec=CUSTOMER_SPEC)
def customer_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("customer", id, ctx.account)
    if "test_clock" in params:
        raise StripeError("Received unknown parameter: test_clock", param="test_clock")
    before = core.deep_copy(record.data)
    _set_customer_fields(ctx, record.data, params)
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data.get(k)}
    if previous:
        ctx.state.emit("customer.updated", record, previous)
    return ctx.state.render(record)


@route("DELETE", "/v1/customers/{id}", spec={})
def customer_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("customer", id, ctx.account)
    notify(CUSTOMER_DELETING, ctx.state, record)
    record.deleted = True
    ctx.state.emit("customer.deleted", record)
    return template("deleted_customer", id=record.id)


@route("GET", "/v1/customers", spec={**LIST_SPEC, "email": ANY, "test_clock": ANY})
def customer_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "customer", params, "/v1/customers", equals("email"), equals("test_clock"), created()
    )
