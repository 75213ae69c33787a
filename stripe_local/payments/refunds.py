"""/v1/refunds, with transfer reversals and application fee refunds for Connect charges."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.balance import add_balance_transaction
from stripe_local.connect.application_fees import create_fee_refund
from stripe_local.connect.transfers import create_transfer_reversal
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import saved_error

REFUND_SPEC = {
    "charge": ANY,
    "payment_intent": ANY,
    "amount": ANY,
    "reason": ANY,
    "metadata": MAP,
    "reverse_transfer": ANY,
    "refund_application_fee": ANY,
    "instructions_email": ANY,
    "origin": ANY,
    "currency": ANY,
    "customer": ANY,
}


@route("POST", "/v1/refunds", spec=REFUND_SPEC)
def refund_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    charge_id = core.get_str(params, "charge")
    pi_id = core.get_str(params, "payment_intent")
    if charge_id and pi_id:
        raise StripeError(
            "You may only specify one of these parameters: charge, payment_intent.", param="charge"
        )
    if pi_id:
        pi = ctx.store.get("payment_intent", pi_id, ctx.account, param="payment_intent")
        if pi.data["status"] != "succeeded" or not pi.data["latest_charge"]:
            raise saved_error(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable"
                if pi.data["status"] != "requires_capture"
                else "charge_not_refundable",
                param="payment_intent",
            )
        charge = ctx.store.get("charge", pi.data["latest_charge"], ctx.account)
    elif charge_id:
        charge = ctx.store.get("charge", charge_id, ctx.account, param="charge")
    else:
        raise StripeError(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            param="charge",
        )
    return ctx.state.render(create_refund(ctx, charge, params))


def create_refund(ctx: Context, charge: Record, params: dict[str, Any]) -> Record:
    c = charge.data
    currency = c["currency"]
    if c["status"] != "succeeded":
        raise saved_error(
            f"Charge {charge.id} has failed and cannot be refunded.",
            code="charge_not_refundable",
            param="charge",
        )
    if not c["captured"]:
        raise saved_error(
            f"Charge {charge.id} has not been captured. Cancel its PaymentIntent to release the "
            "authorization.",
            code="charge_not_refundable",
            param="charge",
        )
    refundable = c["amount"] - c["amount_refunded"]
    if refundable <= 0:
        raise saved_error(
            f"Charge {charge.id} has already been refunded.",
            code="charge_already_refunded",
            param="charge",
        )
    amount = core.get_int(params, "amount", default=refundable)
    assert amount is not None
    if amount <= 0:
        raise StripeError("Invalid positive integer", param="amount")
    if amount > refundable:
        if c["amount_refunded"] == 0:
            message = (
                f"Refund amount ({core.format_amount(amount, currency)}) is greater than charge "
                f"amount ({core.format_amount(c['amount'], currency)})"
            )
        else:
            message = (
                f"Refund amount ({core.format_amount(amount, currency)}) is greater than "
                f"unrefunded amount on charge ({core.format_amount(refundable, currency)})"
            )
        raise saved_error(message, param="amount")
    reason = core.get_enum(params, "reason", ["duplicate", "fraudulent", "requested_by_customer"])
    reverse_transfer = bool(core.get_bool(params, "reverse_transfer", False))
    refund_fee = bool(core.get_bool(params, "refund_application_fee", False))
    transfer = ctx.store.find(charge.internal.get("transfer", ""))
    if reverse_transfer and transfer is None:
        raise StripeError(
            "You cannot reverse the transfer of a charge that has no transfer (reverse_transfer "
            "is only for destination charges).",
            param="reverse_transfer",
        )
    fee = ctx.store.find(c["application_fee"]) if c["application_fee"] else None
    if refund_fee and fee is None:
        raise StripeError(
            "This charge has no application fee to refund.", param="refund_application_fee"
        )
    refund_id = core.new_id("re")
    txn = add_balance_transaction(
        ctx.state,
        charge.owner,
        amount=-amount,
        currency=currency,
        kind="refund",
        source=refund_id,
        description="REFUND FOR CHARGE",
    )
    refund = template(
        "refund",
        id=refund_id,
        amount=amount,
        balance_transaction=txn.id,
        charge=charge.id,
        created=ctx.now(c["customer"]),
        currency=currency,
        destination_details={"card": {"type": "refund"}, "type": "card"},
        payment_intent=c["payment_intent"],
        reason=reason,
        receipt_number=None,
        source_transfer_reversal=None,
        status="succeeded",
        transfer_reversal=None,
        customer=c["customer"],
        payment_method=c["payment_method"],
    )
    core.apply_metadata(refund, params)
    record = ctx.store.add(Record(refund_id, "refund", charge.owner, refund))
    previous = {"amount_refunded": c["amount_refunded"], "refunded": c["refunded"]}
    c["amount_refunded"] += amount
    c["refunded"] = c["amount_refunded"] >= c["amount"]
    if reverse_transfer and transfer is not None:
        share = (amount * transfer.data["amount"] + c["amount"] // 2) // c["amount"]
        share = min(share, transfer.data["amount"] - transfer.data["amount_reversed"])
        if share > 0:
            reversal = create_transfer_reversal(ctx.state, transfer, share, source_refund=refund_id)
            refund["transfer_reversal"] = reversal.id
    fee_refunded = None
    if refund_fee and fee is not None:
        share = (amount * fee.data["amount"] + c["amount"] // 2) // c["amount"]
        share = min(share, fee.data["amount"] - fee.data["amount_refunded"])
        if share > 0:
            fee_refunded = create_fee_refund(ctx.state, fee, share)
    ctx.state.emit("charge.refunded", charge, previous)
    ctx.state.emit("refund.created", record)
    if fee_refunded is not None:
        ctx.state.emit("application_fee.refunded", fee_refunded[0], fee_refunded[1])
    return record


@route("GET", "/v1/refunds/{id}", spec={})
def refund_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("refund", id, ctx.account, param="refund"))


@route("POST", "/v1/refunds/{id}", spec={"metadata": MAP})
def refund_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("refund", id, ctx.account, param="refund")
    previous = core.apply_metadata(record.data, params)
    if previous is not None:
        ctx.state.emit("refund.updated", record, {"metadata": previous})
    return ctx.state.render(record)


@route("GET", "/v1/refunds", spec={**LIST_SPEC, "charge": ANY, "payment_intent": ANY})
def refund_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "refund", params, "/v1/refunds", equals("charge"), equals("payment_intent")
    )
