"""Confirming a PaymentIntent: the test card's outcome, the charge, capture with its fees and
transfers, and the `invoice_payment_result` hook for invoices' PaymentIntents."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import cards, core
from stripe_local.app.context import Context
from stripe_local.app.registry import INVOICE_PAYMENT_RESULT, notify
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.balance import add_balance_transaction, fee_detail
from stripe_local.connect.transfers import create_transfer_record
from stripe_local.core import APPLICATION_ID, StripeError, template
from stripe_local.payment_errors import decline_error, saved_error
from stripe_local.payments.intents import (
    PI_STATUSES_CONFIRMABLE,
    authentication_action,
    unexpected_state,
)
from stripe_local.payments.payment_methods import payment_method_from_data, resolve_payment_method


def confirm_payment_intent(ctx: Context, record: Record, params: dict[str, Any]) -> Any:
    data = record.data
    if data["status"] not in PI_STATUSES_CONFIRMABLE:
        raise unexpected_state(record, "confirm", PI_STATUSES_CONFIRMABLE, ctx)
    if params.get("payment_method_data"):
        pm = payment_method_from_data(ctx, params["payment_method_data"], "payment_method_data")
    elif params.get("payment_method"):
        pm = resolve_payment_method(ctx, params["payment_method"], "payment_method")
    elif data["payment_method"]:
        pm = ctx.store.get("payment_method", data["payment_method"], record.owner)
    else:
        raise saved_error(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To "
            "confirm the PaymentIntent, specify a payment method or set one on the PaymentIntent.",
            code="payment_intent_unexpected_state",
            extra={"payment_intent": ctx.state.render(record)},
        )
    if pm.data["customer"] and data["customer"] and pm.data["customer"] != data["customer"]:
        raise StripeError(
            "The provided PaymentMethod belongs to a different Customer than the one on this "
            "PaymentIntent.",
            param="payment_method",
        )
    if pm.data["customer"] and not data["customer"]:
        raise StripeError(
            "The provided PaymentMethod was previously used with a Customer. To use it with "
            "this PaymentIntent, set `customer` on the PaymentIntent.",
            param="payment_method",
        )
    data["payment_method"] = pm.id
    for name in ("receipt_email",):
        if params.get(name):
            data[name] = params[name]
    if params.get("setup_future_usage"):
        data["setup_future_usage"] = core.get_enum(
            params, "setup_future_usage", ["off_session", "on_session"]
        )
    if params.get("capture_method"):
        data["capture_method"] = core.get_enum(
            params, "capture_method", ["automatic", "automatic_async", "manual"]
        )
    off_session = bool(core.get_bool(params, "off_session", False))
    record.internal["return_url"] = core.get_str(params, "return_url") or record.internal.get(
        "return_url"
    )
    record.internal["off_session"] = off_session
    data["last_payment_error"] = None
    data["next_action"] = None
    behaviour = cards.behaviour_for(pm.internal.get("number", ""))
    needs_authentication = behaviour.outcome == "authenticate" or (
        behaviour.outcome == "authenticate_unless_setup"
        and not (off_session and pm.internal.get("setup_authenticated"))
    )
    if needs_authentication:
        if off_session or core.get_bool(params, "error_on_requires_action", False):
            return _fail_payment_intent(
                ctx,
                record,
                pm,
                cards.CardBehaviour(
                    behaviour.brand,
                    outcome="decline",
                    code="authentication_required",
                    decline_code="authentication_required",
                    message="Your card was declined. This transaction requires authentication.",
                ),
                create_charge=False,
            )
        data["status"] = "requires_action"
        data["next_action"] = authentication_action(ctx, record, params)
        ctx.state.emit("payment_intent.requires_action", record)
        return ctx.state.render(record)
    return charge_payment_method(ctx, record, pm, authenticated=False)


def _card_details(pm: Record, authenticated: bool) -> dict[str, Any]:
    card = pm.data["card"]
    return {
        "card": {
            "amount_authorized": None,
            "brand": card["brand"],
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": card["checks"]["cvc_check"] and "pass",
            },
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "overcapture": {"maximum_amount_capturable": 0, "status": "unavailable"},
            "three_d_secure": {
                "authentication_flow": "challenge",
                "electronic_commerce_indicator": "05",
                "exemption_indicator": None,
                "result": "authenticated",
                "result_reason": None,
                "transaction_id": secrets.token_hex(16),
                "version": "2.2.0",
            }
            if authenticated
            else None,
            "wallet": None,
            "authorization_code": f"{secrets.randbelow(999999):06d}",
            "regulated_status": "unregulated",
            "network_transaction_id": secrets.token_hex(8),
            "transaction_link_id": None,
        },
        "type": "card",
    }


def _new_charge(ctx: Context, pi: Record, pm: Record, authenticated: bool) -> Record:
    charge_id = core.new_id("ch")
    p = pi.data
    data = template(
        "charge",
        id=charge_id,
        amount=p["amount"],
        amount_captured=0,
        amount_refunded=0,
        application=None,
        application_fee=None,
        application_fee_amount=p["application_fee_amount"],
        balance_transaction=None,
        billing_details=core.deep_copy(pm.data["billing_details"]),
        calculated_statement_descriptor="CRENEAU* LOCAL",
        captured=False,
        created=ctx.now(p["customer"]),
        currency=p["currency"],
        customer=p["customer"],
        description=p["description"],
        disputed=False,
        failure_balance_transaction=None,
        fraud_details={},
        on_behalf_of=p["on_behalf_of"],
        payment_intent=pi.id,
        payment_method=pm.id,
        payment_method_details=_card_details(pm, authenticated),
        receipt_email=p["receipt_email"],
        receipt_number=None,
        receipt_url=f"{ctx.base_url}/_local/receipts/{charge_id}",
        refunded=False,
        source=None,
        source_transfer=None,
        statement_descriptor=p["statement_descriptor"],
        statement_descriptor_suffix=p["statement_descriptor_suffix"],
        transfer_data={
            "amount": p["transfer_data"].get("amount"),
            "destination": p["transfer_data"]["destination"],
        }
        if p["transfer_data"]
        else None,
        transfer_group=p["transfer_group"],
    )
    data["metadata"] = dict(p["metadata"])
    return ctx.store.add(Record(charge_id, "charge", pi.owner, data))


def _fail_payment_intent(
    ctx: Context,
    record: Record,
    pm: Record,
    behaviour: cards.CardBehaviour,
    create_charge: bool = True,
    authenticated: bool = False,
) -> Any:
    data = record.data
    charge = None
    if create_charge:
        charge = _new_charge(ctx, record, pm, authenticated)
        charge.data.update(
            status="failed",
            paid=False,
            failure_code=behaviour.code,
            failure_message=behaviour.message,
            outcome={
                "advice_code": "try_again_later"
                if behaviour.decline_code == "insufficient_funds"
                else "do_not_try_again",
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "declined_by_network",
                "reason": behaviour.decline_code,
                "risk_level": "normal",
                "risk_score": 30,
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            },
        )
        data["latest_charge"] = charge.id
    error = {
        "type": "card_error",
        "code": behaviour.code,
        "decline_code": behaviour.decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/"
        + (behaviour.code or "").replace("_", "-"),
        "message": behaviour.message,
        "payment_method": ctx.state.render(pm),
    }
    if charge is not None:
        error["charge"] = charge.id
    data["status"] = "requires_payment_method"
    data["last_payment_error"] = error
    data["next_action"] = None
    if charge is not None:
        ctx.state.emit("charge.failed", charge)
    ctx.state.emit("payment_intent.payment_failed", record)
    notify_invoice(ctx.state, record, succeeded=False)
    extra: dict[str, Any] = {
        "payment_intent": ctx.state.render(record),
        "payment_method": ctx.state.render(pm),
    }
    if charge is not None:
        extra["charge"] = charge.id
    raise decline_error(behaviour, extra)


def charge_payment_method(ctx: Context, record: Record, pm: Record, authenticated: bool) -> Any:
    data = record.data
    behaviour = cards.behaviour_for(pm.internal.get("number", ""))
    if behaviour.outcome in ("decline", "attach_then_decline"):
        if behaviour.outcome == "attach_then_decline" and behaviour.code is None:
            behaviour = cards.CARDS["4000000000000002"]
        return _fail_payment_intent(ctx, record, pm, behaviour, authenticated=authenticated)
    charge = _new_charge(ctx, record, pm, authenticated)
    charge.data.update(
        status="succeeded",
        paid=True,
        outcome={
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
    )
    data["latest_charge"] = charge.id
    if data["setup_future_usage"] and data["customer"]:
        customer = ctx.store.find(data["customer"])
        if customer is not None and pm.data["customer"] is None:
            pm.data["customer"] = customer.id
            ctx.state.emit("payment_method.attached", pm)
        if data["setup_future_usage"] == "off_session" and authenticated:
            pm.internal["setup_authenticated"] = True
    if data["capture_method"] == "manual":
        data["status"] = "requires_capture"
        data["amount_capturable"] = data["amount"]
        charge.data["payment_method_details"]["card"]["amount_authorized"] = data["amount"]
        ctx.state.emit("charge.succeeded", charge)
        ctx.state.emit("payment_intent.amount_capturable_updated", record, {"amount_capturable": 0})
        return ctx.state.render(record)
    charge.data["payment_method_details"]["card"]["amount_authorized"] = data["amount"]
    capture_charge(ctx.state, record, charge, data["amount"], data["application_fee_amount"])
    data["status"] = "succeeded"
    data["amount_received"] = data["amount"]
    ctx.state.emit("charge.succeeded", charge)
    emit_capture_events(ctx.state, charge)
    ctx.state.emit("payment_intent.succeeded", record)
    notify_invoice(ctx.state, record, succeeded=True)
    return ctx.state.render(record)


def emit_capture_events(state: State, charge: Record) -> None:
    if charge.data["application_fee"]:
        state.emit("application_fee.created", state.store.find(charge.data["application_fee"]))  # type: ignore[arg-type]
    if charge.internal.get("transfer"):
        state.emit("transfer.created", state.store.find(charge.internal["transfer"]))  # type: ignore[arg-type]


def capture_charge(state: State, pi: Record, charge: Record, amount: int, fee: int | None) -> None:
    """Money moves: balance transactions, application fee and destination transfer."""
    c = charge.data
    currency = c["currency"]
    c["captured"] = True
    c["amount_captured"] = amount
    if amount < c["amount"]:
        c["amount_refunded"] = c["amount"] - amount
    c["application_fee_amount"] = fee
    processing = min(cards.stripe_fee(amount), amount)
    fee_details = [fee_detail(processing, currency, "stripe_fee")]
    direct = charge.owner is not None
    if direct and fee:
        fee_details.append(fee_detail(fee, currency, "application_fee"))
    txn = add_balance_transaction(
        state,
        charge.owner,
        amount=amount,
        currency=currency,
        kind="charge",
        source=charge.id,
        description=c["description"],
        fee_details=fee_details,
    )
    c["balance_transaction"] = txn.id
    destination = (c["transfer_data"] or {}).get("destination")
    if fee:
        fee_id = core.new_id("fee")
        fee_txn = None
        if direct:
            fee_txn = add_balance_transaction(
                state,
                None,
                amount=fee,
                currency=currency,
                kind="application_fee",
                source=fee_id,
                description="Application fee",
            )
        fee_data = template(
            "application_fee",
            id=fee_id,
            account=charge.owner or destination,
            amount=fee,
            amount_refunded=0,
            application=APPLICATION_ID,
            balance_transaction=fee_txn.id if fee_txn else None,
            charge=charge.id,
            created=c["created"],
            currency=currency,
            fee_source={"charge": charge.id, "type": "charge"},
            originating_transaction=None,
            refunded=False,
        )
        state.store.add(Record(fee_id, "application_fee", None, fee_data))
        c["application_fee"] = fee_id
    if destination:
        explicit = (c["transfer_data"] or {}).get("amount")
        transfer_amount = explicit if explicit is not None else amount - (fee or 0)
        transfer = create_transfer_record(
            state,
            amount=transfer_amount,
            currency=currency,
            destination=destination,
            source_transaction=charge.id,
            transfer_group=c["transfer_group"],
            created=c["created"],
        )
        charge.internal["transfer"] = transfer.id


def notify_invoice(state: State, pi: Record, succeeded: bool) -> None:
    invoice_id = pi.internal.get("invoice")
    if invoice_id:
        notify(INVOICE_PAYMENT_RESULT, state, invoice_id, pi, succeeded)
