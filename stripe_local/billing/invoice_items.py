"""/v1/invoiceitems."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, flag, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.billing.invoicing import add_line, total_invoice
from stripe_local.billing.products import price_amount
from stripe_local.core import ANY, MAP, StripeError, template


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
        amount = price_amount(price.data, quantity)
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
        add_line(
            ctx,
            invoice,
            amount=amount,
            description=data["description"] or "",
            quantity=quantity,
            price=price.data if price else None,
            invoice_item=item_id,
        )
        total_invoice(ctx.state, invoice)
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
