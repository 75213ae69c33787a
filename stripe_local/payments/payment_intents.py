"""/v1/payment_intents: create, retrieve, update, confirm, capture, cancel and list."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, created, equals, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.connect.accounts import get_connected_account
from stripe_local.core import ANY, MAP, StripeError, template
from stripe_local.payment_errors import saved_error
from stripe_local.payments.charging import (
    capture_charge,
    confirm_payment_intent,
    emit_capture_events,
    notify_invoice,
)
from stripe_local.payments.intents import (
    PI_STATUSES_CONFIRMABLE,
    check_client_secret,
    unexpected_state,
)
from stripe_local.payments.payment_methods import PAYMENT_METHOD_DATA, resolve_payment_method

PI_STATUSES_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)


CONFIRM_SPEC = {
    "payment_method": ANY,
    "payment_method_data": PAYMENT_METHOD_DATA,
    "return_url": ANY,
    "receipt_email": ANY,
    "setup_future_usage": ANY,
    "off_session": ANY,
    "use_stripe_sdk": ANY,
    "mandate_data": MAP,
    "error_on_requires_action": ANY,
    "payment_method_options": MAP,
    "payment_method_types": ANY,
    "capture_method": ANY,
    "shipping": MAP,
    "radar_options": MAP,
    "confirmation_token": ANY,
}


PI_SPEC = {
    **CONFIRM_SPEC,
    "amount": ANY,
    "currency": ANY,
    "customer": ANY,
    "description": ANY,
    "metadata": MAP,
    "confirm": ANY,
    "confirmation_method": ANY,
    "automatic_payment_methods": {"enabled": ANY, "allow_redirects": ANY},
    "application_fee_amount": ANY,
    "transfer_data": {"destination": ANY, "amount": ANY},
    "on_behalf_of": ANY,
    "statement_descriptor": ANY,
    "statement_descriptor_suffix": ANY,
    "transfer_group": ANY,
    "payment_method_configuration": ANY,
}


def _check_amount(params: dict[str, Any], currency: str, name: str = "amount") -> int:
    amount = core.get_int(params, name, required=True)
    assert amount is not None
    minimum = core.MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        raise StripeError(
            f"Amount must be at least {core.format_amount(minimum, currency)} {currency}",
            code="amount_too_small",
            param=name,
        )
    if amount > 99999999:
        raise StripeError(
            "Amount must be no more than 999,999.99", code="amount_too_large", param=name
        )
    return amount


def check_destination(ctx: Context, destination: str) -> None:
    account = get_connected_account(ctx, destination, "transfer_data[destination]")
    if account.data["capabilities"].get("transfers") != "active":
        raise StripeError(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            param="transfer_data[destination]",
            code="insufficient_capabilities_for_transfer",
        )


@route("POST", "/v1/payment_intents", spec=PI_SPEC)
def payment_intent_create(ctx: Context, params: dict[str, Any]) -> Any:
    currency = core.get_currency(params)
    amount = _check_amount(params, currency)
    customer_id = core.get_str(params, "customer")
    if customer_id:
        ctx.store.get("customer", customer_id, ctx.account, param="customer")
    capture_method = core.get_enum(
        params, "capture_method", ["automatic", "automatic_async", "manual"], "automatic_async"
    )
    confirm = core.get_bool(params, "confirm", False)
    if core.get_bool(params, "off_session") is not None and not confirm:
        raise StripeError(
            "You can only pass `off_session` when `confirm=true`.", param="off_session"
        )
    fee = core.get_int(params, "application_fee_amount", minimum=0)
    transfer_data = params.get("transfer_data") or None
    destination = None
    if transfer_data:
        destination = core.get_str(transfer_data, "destination", label="transfer_data[destination]")
        if not destination:
            raise StripeError(
                "Missing required param: transfer_data[destination].",
                param="transfer_data[destination]",
            )
        if ctx.account is not None:
            raise StripeError(
                "Destination charges cannot be created on a connected account.",
                param="transfer_data",
            )
        check_destination(ctx, destination)
        transfer_amount = core.get_int(transfer_data, "amount", label="transfer_data[amount]")
        transfer_data = {"destination": destination}
        if transfer_amount is not None:
            transfer_data["amount"] = transfer_amount
    if fee is not None and ctx.account is None and destination is None:
        raise StripeError(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
            "direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param="application_fee_amount",
        )
    if fee is not None and fee > amount:
        raise StripeError(
            "The application fee amount cannot be greater than the amount.",
            param="application_fee_amount",
        )
    on_behalf_of = core.get_str(params, "on_behalf_of")
    if on_behalf_of:
        get_connected_account(ctx, on_behalf_of, "on_behalf_of")
    methods = params.get("payment_method_types")
    automatic = params.get("automatic_payment_methods")
    if methods and automatic:
        raise StripeError(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types.",
            param="automatic_payment_methods",
        )
    pi_id = core.new_id("pi")
    data = template(
        "payment_intent",
        id=pi_id,
        amount=amount,
        amount_capturable=0,
        amount_details={"tip": {}},
        amount_received=0,
        application=None,
        application_fee_amount=fee,
        automatic_payment_methods=None
        if methods
        else {
            "allow_redirects": "always",
            "enabled": True,
        },
        capture_method=capture_method,
        client_secret=f"{pi_id}_secret_{secrets.token_hex(12)}",
        confirmation_method=core.get_enum(
            params, "confirmation_method", ["automatic", "manual"], "automatic"
        ),
        created=ctx.now(customer_id),
        currency=currency,
        customer=customer_id,
        description=core.get_str(params, "description"),
        on_behalf_of=on_behalf_of,
        payment_method=None,
        payment_method_options={
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        payment_method_types=list(methods) if methods else ["card"],
        receipt_email=core.get_str(params, "receipt_email"),
        setup_future_usage=core.get_enum(
            params, "setup_future_usage", ["off_session", "on_session"]
        ),
        statement_descriptor=core.get_str(params, "statement_descriptor"),
        statement_descriptor_suffix=core.get_str(params, "statement_descriptor_suffix"),
        status="requires_payment_method",
        transfer_data=transfer_data,
        transfer_group=core.get_str(params, "transfer_group"),
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(pi_id, "payment_intent", ctx.account, data))
    if params.get("payment_method"):
        pm = resolve_payment_method(ctx, params["payment_method"], "payment_method")
        data["payment_method"] = pm.id
        data["status"] = "requires_confirmation"
    ctx.state.emit("payment_intent.created", record)
    if confirm:
        confirm_params = {k: v for k, v in params.items() if k in CONFIRM_SPEC}
        confirm_params.pop("payment_method", None)
        return confirm_payment_intent(ctx, record, confirm_params)
    return ctx.state.render(record)


@route("GET", "/v1/payment_intents/{id}", publishable=True, spec={})
def payment_intent_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("payment_intent", id, ctx.account, param="intent")
    check_client_secret(ctx, record, params)
    return ctx.state.render(record)


@route(
    "POST",
    "/v1/payment_intents/{id}",
    spec={k: v for k, v in PI_SPEC.items() if k not in ("confirm", "return_url", "off_session")},
)
def payment_intent_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("payment_intent", id, ctx.account, param="intent")
    data = record.data
    if set(params) - {"metadata", "description", "receipt_email"} and data["status"] not in (
        PI_STATUSES_CONFIRMABLE
    ):
        raise saved_error(
            f"This PaymentIntent's amount could not be updated because it has a status of "
            f"{data['status']}. You may only update the amount of a PaymentIntent with one of "
            "the following statuses: requires_payment_method, requires_confirmation, "
            "requires_action.",
            code="payment_intent_unexpected_state",
            extra={"payment_intent": ctx.state.render(record)},
        )
    if "currency" in params:
        data["currency"] = core.get_currency(params)
    if "amount" in params:
        data["amount"] = _check_amount(params, data["currency"])
    for name in (
        "description",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_group",
    ):
        if name in params:
            data[name] = core.get_str(params, name)
    if "customer" in params:
        customer_id = core.get_str(params, "customer")
        if customer_id:
            ctx.store.get("customer", customer_id, ctx.account, param="customer")
        data["customer"] = customer_id
    if "payment_method" in params:
        pm_id = core.get_str(params, "payment_method")
        data["payment_method"] = (
            resolve_payment_method(ctx, pm_id, "payment_method").id if pm_id else None
        )
        data["status"] = "requires_confirmation" if pm_id else "requires_payment_method"
    if "application_fee_amount" in params:
        data["application_fee_amount"] = core.get_int(params, "application_fee_amount", minimum=0)
    if "setup_future_usage" in params:
        data["setup_future_usage"] = core.get_enum(
            params, "setup_future_usage", ["off_session", "on_session"]
        )
    if "capture_method" in params:
        data["capture_method"] = core.get_enum(
            params, "capture_method", ["automatic", "automatic_async", "manual"]
        )
    core.apply_metadata(data, params)
    return ctx.state.render(record)


@route("POST", "/v1/payment_intents/{id}/confirm", publishable=True, spec=CONFIRM_SPEC)
def payment_intent_confirm(ctx: Context, params: dict[str, Any], id: str) -> Any:  # noqa: A002
    record = ctx.store.get("payment_intent", id, ctx.account, param="intent")
    check_client_secret(ctx, record, params)
    return confirm_payment_intent(ctx, record, params)


@route(
    "POST",
    "/v1/payment_intents/{id}/capture",
    spec={
        "amount_to_capture": ANY,
        "application_fee_amount": ANY,
        "metadata": MAP,
        "final_capture": ANY,
        "statement_descriptor": ANY,
        "statement_descriptor_suffix": ANY,
        "transfer_data": {"amount": ANY},
    },
)
def payment_intent_capture(ctx: Context, params: dict[str, Any], id: str) -> Any:  # noqa: A002
    record = ctx.store.get("payment_intent", id, ctx.account, param="intent")
    data = record.data
    if data["status"] != "requires_capture":
        raise saved_error(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{data['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture.",
            code="payment_intent_unexpected_state",
            extra={"payment_intent": ctx.state.render(record)},
        )
    amount = core.get_int(params, "amount_to_capture", default=data["amount_capturable"], minimum=1)
    assert amount is not None
    if amount > data["amount_capturable"]:
        raise saved_error(
            "The amount_to_capture must be less than or equal to the amount_capturable "
            f"({data['amount_capturable']}).",
            code="amount_too_large",
            param="amount_to_capture",
        )
    fee = core.get_int(params, "application_fee_amount", default=data["application_fee_amount"])
    if fee is not None and fee > amount:
        raise StripeError(
            "The application fee amount cannot be greater than the captured amount.",
            param="application_fee_amount",
        )
    core.apply_metadata(data, params)
    charge = ctx.store.find(data["latest_charge"])
    assert charge is not None
    if isinstance(params.get("transfer_data"), dict) and "amount" in params["transfer_data"]:
        charge.data["transfer_data"]["amount"] = core.get_int(params["transfer_data"], "amount")
    capture_charge(ctx.state, record, charge, amount, fee)
    data.update(
        status="succeeded", amount_received=amount, amount_capturable=0, application_fee_amount=fee
    )
    ctx.state.emit("charge.captured", charge, {"amount_captured": 0, "captured": False})
    emit_capture_events(ctx.state, charge)
    ctx.state.emit("payment_intent.succeeded", record)
    notify_invoice(ctx.state, record, succeeded=True)
    return ctx.state.render(record)


@route("POST", "/v1/payment_intents/{id}/cancel", spec={"cancellation_reason": ANY})
def payment_intent_cancel(ctx: Context, params: dict[str, Any], id: str) -> Any:  # noqa: A002
    record = ctx.store.get("payment_intent", id, ctx.account, param="intent")
    data = record.data
    if data["status"] not in PI_STATUSES_CANCELABLE:
        raise unexpected_state(record, "cancel", PI_STATUSES_CANCELABLE, ctx)
    reason = core.get_enum(
        params,
        "cancellation_reason",
        ["abandoned", "duplicate", "fraudulent", "requested_by_customer"],
    )
    if data["status"] == "requires_capture":
        charge = ctx.store.find(data["latest_charge"])
        if charge is not None:
            charge.data["amount_refunded"] = charge.data["amount"]
            charge.data["refunded"] = True
        data["amount_capturable"] = 0
    data.update(
        status="canceled",
        canceled_at=ctx.now(data["customer"]),
        cancellation_reason=reason,
        next_action=None,
    )
    ctx.state.emit("payment_intent.canceled", record)
    return ctx.state.render(record)


@route("GET", "/v1/payment_intents", spec={**LIST_SPEC, "customer": ANY})
def payment_intent_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "payment_intent", params, "/v1/payment_intents", equals("customer"), created()
    )
