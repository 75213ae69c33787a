"""/v1/invoices: create, update, delete, finalize, pay, void, mark uncollectible, list, lines."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate, where
from stripe_local.app.registry import route
from stripe_local.billing.invoicing import (
    attempt_invoice_payment,
    finalize_invoice,
    mark_paid,
    new_invoice,
    pull_pending_items,
    total_invoice,
)
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import saved_error
from stripe_local.payments.payment_methods import attach_payment_method, resolve_payment_method

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
    invoice = new_invoice(
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
        pull_pending_items(ctx, invoice, customer.id, None)
    total_invoice(ctx.state, invoice)
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
        raise saved_error("You can only update these fields on a draft invoice.")
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
        raise saved_error("You can only delete draft invoices.")
    record.deleted = True
    ctx.state.emit("invoice.deleted", record)
    return template("deleted_invoice", id=id)


@route("POST", "/v1/invoices/{id}/finalize", spec={"auto_advance": ANY})
def invoice_finalize(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("invoice", id, ctx.account, param="invoice")
    if record.data["status"] != "draft":
        raise saved_error(f"Invoice {id} is already finalized.", code="invoice_not_editable")
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
        raise saved_error("Invoice is already paid", code="invoice_already_paid")
    if record.data["status"] not in ("open", "uncollectible"):
        raise saved_error(f"You cannot pay an invoice with status {record.data['status']}.")
    if record.data["status"] == "uncollectible":
        record.data["status"] = "open"
    if core.get_bool(params, "paid_out_of_band", False):
        mark_paid(ctx.state, record, None)
        return ctx.state.render(record)
    pm_id = core.get_str(params, "payment_method")
    if pm_id:
        pm = resolve_payment_method(ctx, pm_id, "payment_method")
        pm_id = pm.id
        customer = ctx.store.find(record.data["customer"])
        if pm.data["customer"] is None and customer is not None:
            attach_payment_method(ctx, pm, customer)
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
            raise saved_error(
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
        raise saved_error(
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
        raise saved_error("You can only mark open invoices as uncollectible.")
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
