"""Invoices as objects: creation, lines, totals, finalizing, payment attempts and dunning."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.registry import INVOICE_PAYMENT_RESULT, expand_only, hook, renderer
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.connected_subscriptions import invoice_charge_params
from stripe_local.billing.discounts import discount_amount
from stripe_local.billing.intervals import DAY
from stripe_local.billing.subscription_status import (
    cancel_subscription,
    save_payment_method_on_subscription,
    saves_payment_method,
    set_subscription_status,
)
from stripe_local.billing.tax_ids import customer_tax_ids
from stripe_local.core import StripeError, template
from stripe_local.payment_errors import saved_error
from stripe_local.payments.charging import confirm_payment_intent
from stripe_local.payments.intents import PI_STATUSES_CONFIRMABLE
from stripe_local.payments.payment_intents import payment_intent_create


@renderer("invoice")
def _render_invoice(state: State, record: Record, obj: dict[str, Any]) -> None:
    lines = [state.render(state.store.records[i]) for i in record.internal.get("lines", [])]
    obj["lines"] = {
        "object": "list",
        "data": lines[:10],
        "has_more": len(lines) > 10,
        "url": f"/v1/invoices/{record.id}/lines",
    }


@expand_only("invoice", "confirmation_secret")
def _confirmation_secret(state: State, record: Record) -> Any:
    pi = state.store.find(record.internal.get("payment_intent", ""))
    if pi is None or record.data["status"] != "open":
        return None
    return {"client_secret": pi.data["client_secret"], "type": "payment_intent"}


@expand_only("invoice", "payments")
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


def new_invoice(
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
    invoice_id = core.new_id("in")
    data = invoice_fields(
        ctx,
        customer,
        invoice_id,
        subscription=subscription,
        billing_reason=billing_reason,
        currency=currency,
        collection_method=collection_method,
        description=description,
        period=period,
        days_until_due=days_until_due,
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


def invoice_fields(
    ctx: Context,
    customer: Record,
    invoice_id: str | None,
    *,
    subscription: Record | None,
    billing_reason: str,
    currency: str,
    collection_method: str = "charge_automatically",
    description: str | None = None,
    period: tuple[int, int] | None = None,
    days_until_due: int | None = None,
) -> dict[str, Any]:
    """A draft invoice's fields (stored by new_invoice, or only shown by a preview)."""
    now = ctx.now(customer.id)
    c = customer.data
    return template(
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
        customer_tax_ids=customer_tax_ids(ctx.state, customer.id),
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


def add_line(
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
    data = line_fields(
        invoice.data,
        invoice.internal.get("subscription"),
        line_id,
        amount=amount,
        description=description,
        quantity=quantity,
        price=price,
        subscription_item=subscription_item,
        invoice_item=invoice_item,
        proration=proration,
        period=period,
    )
    record = ctx.store.add(Record(line_id, "line_item", invoice.owner, data))
    invoice.internal["lines"].append(line_id)
    return record


def line_fields(
    invoice: dict[str, Any],
    sub_id: str | None,
    line_id: str,
    *,
    amount: int,
    description: str,
    quantity: int = 1,
    price: dict[str, Any] | None = None,
    subscription_item: str | None = None,
    invoice_item: str | None = None,
    proration: bool = False,
    period: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """An invoice line's fields (`invoice` is the invoice's data)."""
    start, end = period or (invoice["period_start"], invoice["period_end"])
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
    return template(
        "line_item",
        id=line_id,
        amount=amount,
        currency=invoice["currency"],
        description=description,
        discount_amounts=[],
        discountable=True,
        discounts=[],
        invoice=invoice["id"],
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


def total_invoice(
    state: State, invoice: Record, discount_id: str | None = None, first: bool = True
) -> None:
    subtotal = sum(state.store.records[i].data["amount"] for i in invoice.internal["lines"])
    apply_totals(state, invoice.data, subtotal, discount_id, first)


def apply_totals(
    state: State, d: dict[str, Any], subtotal: int, discount_id: str | None, first: bool
) -> None:
    """subtotal, total, discounts and amount_due of invoice data `d`."""
    discount = discount_amount(state, discount_id, max(subtotal, 0), d["created"], first)
    d["subtotal"] = d["subtotal_excluding_tax"] = subtotal
    d["total"] = d["total_excluding_tax"] = subtotal - discount
    if discount:
        d["discounts"] = [discount_id]
        d["total_discount_amounts"] = [{"amount": discount, "discount": discount_id}]
    d["amount_due"] = max(d["total"], 0)
    d["amount_remaining"] = d["amount_due"]


def pull_pending_items(
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
            parent = (i.get("parent") or {}).get("subscription_details") or {}
            add_line(
                ctx,
                invoice,
                amount=i["amount"],
                description=i["description"] or "",
                quantity=i["quantity"],
                price=price.data if price else None,
                subscription_item=parent.get("subscription_item"),
                invoice_item=item.id,
                proration=i["proration"],
                period=(i["period"]["start"], i["period"]["end"]),
            )


def finalize_invoice(ctx: Context, invoice: Record) -> None:
    d = invoice.data
    if d["status"] != "draft":
        raise saved_error(
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
    token = invoice.internal.setdefault("page_token", secrets.token_urlsafe(18))
    d["hosted_invoice_url"] = f"{ctx.base_url}/_local/invoices/{invoice.id}/{token}"
    d["invoice_pdf"] = f"{ctx.base_url}/_local/invoices/{invoice.id}/{token}/pdf"
    ctx.state.emit("invoice.finalized", invoice)
    if d["amount_due"] == 0:
        mark_paid(ctx.state, invoice, None)
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
        pi_params.update(invoice_charge_params(sub, d["amount_due"]))
        if sub is not None and saves_payment_method(sub):
            pi_params["setup_future_usage"] = "off_session"
        pi = payment_intent_create(ctx, pi_params)
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
    if pi.data["status"] not in PI_STATUSES_CONFIRMABLE:
        return pi.data["status"] == "succeeded"
    # One attempt, counted here (the result hook below counts only payments made elsewhere,
    # e.g. through Stripe.js with the invoice's confirmation secret).
    d["attempt_count"] += 1
    d["attempted"] = True
    if not pm_id:
        invoice_payment_result(ctx.state, invoice.id, pi, succeeded=False)
        return False
    try:
        result = confirm_payment_intent(
            ctx, pi, {"payment_method": pm_id, "off_session": off_session}
        )
    except StripeError:
        return False
    if isinstance(result, dict) and result.get("status") == "requires_action":
        ctx.state.emit("invoice.payment_action_required", invoice)
        return None
    return invoice.data["status"] == "paid"


def mark_paid(state: State, invoice: Record, pi: Record | None) -> None:
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
    if sub is not None and pi is not None and saves_payment_method(sub):
        save_payment_method_on_subscription(state, sub, pi)
    if sub is not None and sub.data["status"] in ("incomplete", "past_due", "unpaid"):
        set_subscription_status(state, sub, "active")
    if customer is not None and customer.data["delinquent"]:
        customer.data["delinquent"] = False


@hook(INVOICE_PAYMENT_RESULT)
def invoice_payment_result(state: State, invoice_id: str, pi: Record, succeeded: bool) -> None:
    """Called when an invoice's PaymentIntent succeeds or fails (also via Stripe.js)."""
    invoice = state.store.find(invoice_id)
    if invoice is None or invoice.data["status"] != "open":
        return
    d = invoice.data
    if succeeded:
        d["attempt_count"] = max(d["attempt_count"], 1)
        mark_paid(state, invoice, pi)
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
        set_subscription_status(state, sub, "past_due")
    if (
        d["next_payment_attempt"] is None
        and d["billing_reason"] != "subscription_create"
        and sub.data["status"] == "past_due"
    ):
        _dunning_exhausted(state, sub, invoice)


def _dunning_exhausted(state: State, sub: Record, invoice: Record) -> None:
    """The last retry failed: Config.dunning_final_action, like the Dashboard's setting."""
    action = state.config.dunning_final_action
    if action == "mark_unpaid":
        set_subscription_status(state, sub, "unpaid")
        return
    if action == "leave_past_due":
        return
    invoice.data["status"] = "uncollectible"
    invoice.data["status_transitions"]["marked_uncollectible_at"] = state.now(
        invoice.data["customer"]
    )
    state.emit("invoice.marked_uncollectible", invoice, {"status": "open"})
    cancel_subscription(state, sub, reason="payment_failed")
