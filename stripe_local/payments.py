"""Payments: customers, payment methods, setup and payment intents, charges, refunds, transfers,
application fees and balances, with Stripe's state machines and test-card behaviour."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from stripe_local import cards, core
from stripe_local.core import (
    ANY,
    MAP,
    Context,
    Record,
    StripeError,
    created,
    equals,
    paginate,
    template,
    where,
)
from stripe_local.state import State, renderer, route

APPLICATION_ID = "ca_1LocalStripeCreneauApplication"
LIST_SPEC = {"limit": ANY, "starting_after": ANY, "ending_before": ANY, "created": MAP}


def _error(message: str, **kwargs: Any) -> StripeError:
    """A state error that, like Stripe, is saved under its idempotency key."""
    extra = kwargs.pop("extra", {}) or {}
    extra["_save"] = True
    return StripeError(message, extra=extra, **kwargs)


def _card_error(behaviour: cards.CardBehaviour, extra: dict[str, Any]) -> StripeError:
    extra = dict(extra)
    extra["_save"] = True
    return StripeError(
        behaviour.message or cards.DECLINED,
        status=402,
        type="card_error",
        code=behaviour.code,
        decline_code=behaviour.decline_code,
        extra=extra,
    )


# -- Customers ---------------------------------------------------------------------------------

ADDRESS = {
    "city": ANY,
    "country": ANY,
    "line1": ANY,
    "line2": ANY,
    "postal_code": ANY,
    "state": ANY,
}
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
    if pm_id:
        pm = resolve_payment_method(ctx, pm_id, "payment_method")
        attach_payment_method(ctx, pm, record)
    if "invoice_settings" in params:
        _set_customer_fields(ctx, data, {"invoice_settings": params["invoice_settings"]})
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
    from stripe_local import billing

    billing.cancel_customer_subscriptions(ctx.state, record)
    record.deleted = True
    ctx.state.emit("customer.deleted", record)
    return template("deleted_customer", id=record.id)


@route("GET", "/v1/customers", spec={**LIST_SPEC, "email": ANY, "test_clock": ANY})
def customer_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "customer", params, "/v1/customers", equals("email"), equals("test_clock"), created()
    )


@route(
    "GET",
    "/v1/customers/{id}/payment_methods",
    spec={**LIST_SPEC, "type": ANY, "allow_redisplay": ANY},
)
def customer_payment_methods(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("customer", id, ctx.account, param="customer")
    return paginate(
        ctx,
        "payment_method",
        params,
        f"/v1/customers/{id}/payment_methods",
        where(lambda r: r.data["customer"] == id),
        equals("type"),
    )


# -- Payment methods ---------------------------------------------------------------------------

BILLING_DETAILS = {"address": ADDRESS, "email": ANY, "name": ANY, "phone": ANY, "tax_id": ANY}
CARD_SPEC = {"number": ANY, "exp_month": ANY, "exp_year": ANY, "cvc": ANY, "token": ANY}
PAYMENT_METHOD_DATA = {
    "type": ANY,
    "card": CARD_SPEC,
    "billing_details": BILLING_DETAILS,
    "metadata": MAP,
    "allow_redisplay": ANY,
}


def _billing_details(given: Any) -> dict[str, Any]:
    details = {
        "address": {k: None for k in ADDRESS},
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    if isinstance(given, dict):
        for key in ("email", "name", "phone", "tax_id"):
            if given.get(key):
                details[key] = given[key]
        if isinstance(given.get("address"), dict):
            for key in ADDRESS:
                details["address"][key] = given["address"].get(key) or None
    return details


def create_card_payment_method(
    ctx: Context,
    number: str,
    exp_month: int,
    exp_year: int,
    cvc: str | None,
    billing_details: Any = None,
    metadata: Any = None,
) -> Record:
    today = datetime.date.today()
    cards.validate_card(number, exp_month, exp_year, cvc, today.year, today.month)
    if exp_year < 100:
        exp_year += 2000
    behaviour = cards.behaviour_for(number)
    pm_id = core.new_id("pm")
    data = template("payment_method", id=pm_id, created=core.now_seconds(), type="card")
    data["allow_redisplay"] = "unspecified"
    data["billing_details"] = _billing_details(billing_details)
    data["card"].update(
        brand=behaviour.brand,
        checks={
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "unchecked" if cvc else None,
        },
        country=behaviour.country,
        display_brand=behaviour.brand,
        exp_month=exp_month,
        exp_year=exp_year,
        fingerprint=cards.fingerprint(number),
        funding=behaviour.funding,
        generated_from=None,
        last4=number[-4:],
        networks={"available": [behaviour.brand], "preferred": None},
        three_d_secure_usage={"supported": True},
        wallet=None,
        regulated_status="unregulated",
    )
    data["customer"] = None
    if isinstance(metadata, dict):
        data["metadata"] = {k: str(v) for k, v in metadata.items() if v}
    return ctx.store.add(Record(pm_id, "payment_method", ctx.account, data, {"number": number}))


def payment_method_from_data(ctx: Context, given: Any, param: str) -> Record:
    if not isinstance(given, dict):
        raise StripeError(f"Invalid {param}: must be a hash", param=param)
    pm_type = given.get("type")
    if pm_type != "card":
        raise StripeError(
            f"Invalid {param}[type]: local Stripe supports only `card`", param=f"{param}[type]"
        )
    card = given.get("card")
    if not isinstance(card, dict):
        raise StripeError(f"Missing required param: {param}[card].", param=f"{param}[card]")
    if card.get("token"):
        number = cards.TEST_PAYMENT_METHODS.get(
            card["token"].replace("tok_", "pm_card_"), "4242424242424242"
        )
        return create_card_payment_method(ctx, number, 12, datetime.date.today().year + 3, None)
    number = str(card.get("number") or "").replace(" ", "")
    if not number:
        raise StripeError(
            f"Missing required param: {param}[card][number].", param=f"{param}[card][number]"
        )
    exp_month = core.get_int(card, "exp_month", required=True, label=f"{param}[card][exp_month]")
    exp_year = core.get_int(card, "exp_year", required=True, label=f"{param}[card][exp_year]")
    assert exp_month is not None and exp_year is not None
    return create_card_payment_method(
        ctx,
        number,
        exp_month,
        exp_year,
        card.get("cvc"),
        given.get("billing_details"),
        given.get("metadata"),
    )


def resolve_payment_method(ctx: Context, pm_id: str, param: str) -> Record:
    """A stored PaymentMethod, or a new one for Stripe's `pm_card_*` test ids."""
    number = cards.TEST_PAYMENT_METHODS.get(pm_id)
    if number is not None:
        return create_card_payment_method(ctx, number, 12, datetime.date.today().year + 3, None)
    return ctx.store.get("payment_method", pm_id, ctx.account, param=param, label="PaymentMethod")


@route(
    "POST",
    "/v1/payment_methods",
    publishable=True,
    spec={
        **PAYMENT_METHOD_DATA,
        "customer": ANY,
        "payment_method": ANY,
    },
)
def payment_method_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("payment_method"):
        # Cloning a platform PaymentMethod onto a connected account (Stripe-Account).
        source = ctx.store.find(params["payment_method"])
        if source is None or source.kind != "payment_method" or source.owner is not None:
            raise core.not_found("payment_method", params["payment_method"], "payment_method")
        clone_ctx = ctx
        record = create_card_payment_method(
            clone_ctx,
            source.internal["number"],
            source.data["card"]["exp_month"],
            source.data["card"]["exp_year"],
            None,
            source.data["billing_details"],
        )
        return ctx.state.render(record)
    if not params.get("type"):
        raise StripeError("Missing required param: type.", param="type")
    record = payment_method_from_data(
        ctx, {k: v for k, v in params.items() if k != "customer"}, "payment_method_data"
    )
    return ctx.state.render(record)


@route("GET", "/v1/payment_methods/{id}", spec={})
def payment_method_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    if id in cards.TEST_PAYMENT_METHODS:
        return ctx.state.render(resolve_payment_method(ctx, id, "id"))
    return ctx.state.render(ctx.store.get("payment_method", id, ctx.account, label="PaymentMethod"))


@route(
    "POST",
    "/v1/payment_methods/{id}",
    spec={
        "billing_details": BILLING_DETAILS,
        "metadata": MAP,
        "card": {"exp_month": ANY, "exp_year": ANY},
        "allow_redisplay": ANY,
    },
)
def payment_method_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("payment_method", id, ctx.account, label="PaymentMethod")
    before = core.deep_copy(record.data)
    if "billing_details" in params:
        record.data["billing_details"] = _billing_details(params["billing_details"])
    if isinstance(params.get("card"), dict):
        for key in ("exp_month", "exp_year"):
            value = core.get_int(params["card"], key)
            if value is not None:
                record.data["card"][key] = value
    if "allow_redisplay" in params:
        record.data["allow_redisplay"] = core.get_enum(
            params, "allow_redisplay", ["always", "limited", "unspecified"]
        )
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        ctx.state.emit("payment_method.updated", record, previous)
    return ctx.state.render(record)


def attach_payment_method(ctx: Context, pm: Record, customer: Record) -> None:
    if pm.data["customer"] == customer.id:
        return
    if pm.data["customer"] is not None:
        raise _error(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    behaviour = cards.behaviour_for(pm.internal.get("number", ""))
    if behaviour.outcome == "decline":
        raise _card_error(behaviour, {"param": "payment_method"})
    pm.data["customer"] = customer.id
    ctx.state.emit("payment_method.attached", pm)


@route("POST", "/v1/payment_methods/{id}/attach", spec={"customer": ANY})
def payment_method_attach(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    customer_id = core.get_str(params, "customer", required=True)
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    pm = resolve_payment_method(ctx, id, "payment_method")
    attach_payment_method(ctx, pm, customer)
    return ctx.state.render(pm)


@route("POST", "/v1/payment_methods/{id}/detach", spec={})
def payment_method_detach(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    pm = ctx.store.get("payment_method", id, ctx.account, label="PaymentMethod")
    customer_id = pm.data["customer"]
    if customer_id is None:
        raise _error(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible."
        )
    pm.data["customer"] = None
    customer = ctx.store.find(customer_id)
    if customer is not None and customer.data["invoice_settings"]["default_payment_method"] == id:
        customer.data["invoice_settings"]["default_payment_method"] = None
    ctx.state.emit("payment_method.detached", pm, {"customer": customer_id})
    return ctx.state.render(pm)


@route("GET", "/v1/payment_methods", spec={**LIST_SPEC, "customer": ANY, "type": ANY})
def payment_method_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "payment_method", params, "/v1/payment_methods", equals("customer"), equals("type")
    )


# -- Balance transactions ----------------------------------------------------------------------


def add_balance_transaction(
    state: State,
    owner: str | None,
    *,
    amount: int,
    currency: str,
    kind: str,
    source: str | None,
    description: str | None = None,
    fee_details: list[dict[str, Any]] | None = None,
    reporting_category: str | None = None,
    created: int | None = None,
) -> Record:
    fee_details = fee_details or []
    fee = sum(item["amount"] for item in fee_details)
    created = created or core.now_seconds()
    txn_id = core.new_id("txn")
    data = template(
        "balance_transaction",
        id=txn_id,
        amount=amount,
        available_on=created,
        created=created,
        currency=currency,
        description=description,
        exchange_rate=None,
        fee=fee,
        fee_details=fee_details,
        net=amount - fee,
        reporting_category=reporting_category or kind,
        source=source,
        status="available",
        type=kind,
        balance_type="payments",
    )
    return state.store.add(Record(txn_id, "balance_transaction", owner, data))


def _fee_detail(amount: int, currency: str, kind: str) -> dict[str, Any]:
    return {
        "amount": amount,
        "application": APPLICATION_ID if kind == "application_fee" else None,
        "currency": currency,
        "description": "Stripe processing fees" if kind == "stripe_fee" else "Application fee",
        "type": kind,
    }


def balance_for(state: State, owner: str | None) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for txn in state.store.iter_newest_first(owner, "balance_transaction"):
        totals[txn.data["currency"]] = totals.get(txn.data["currency"], 0) + txn.data["net"]
    if not totals:
        totals = {"eur": 0}
    balance = template("balance")
    balance["available"] = [
        {"amount": amount, "currency": currency, "source_types": {"card": amount}}
        for currency, amount in sorted(totals.items())
    ]
    balance["pending"] = [
        {"amount": 0, "currency": currency, "source_types": {"card": 0}}
        for currency in sorted(totals)
    ]
    balance["connect_reserved"] = [{"amount": 0, "currency": c} for c in sorted(totals)]
    return balance


@route("GET", "/v1/balance", spec={})
def balance_retrieve(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return balance_for(ctx.state, ctx.account)


@route("GET", "/v1/balance_transactions/{id}", spec={})
def balance_transaction_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("balance_transaction", id, ctx.account))


@route(
    "GET",
    "/v1/balance_transactions",
    spec={
        **LIST_SPEC,
        "type": ANY,
        "source": ANY,
        "currency": ANY,
        "payout": ANY,
    },
)
def balance_transaction_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "balance_transaction",
        params,
        "/v1/balance_transactions",
        equals("type"),
        equals("source"),
        equals("currency"),
    )


# -- Payment intents ---------------------------------------------------------------------------

PI_STATUSES_CONFIRMABLE = ("requires_confirmation", "requires_payment_method", "requires_action")
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


def _client_secret_check(ctx: Context, record: Record, params: dict[str, Any]) -> None:
    """Publishable-key calls must present the intent's client secret (like Stripe.js does)."""
    given = params.pop("client_secret", None)
    if ctx.key_type == "publishable" or given is not None:
        if given != record.data["client_secret"]:
            raise StripeError(
                "The client_secret provided does not match the client_secret associated with "
                f"the {'PaymentIntent' if record.kind == 'payment_intent' else 'SetupIntent'}.",
                param="client_secret",
            )


def _check_destination(ctx: Context, destination: str) -> None:
    from stripe_local import connect

    account = connect.get_connected_account(ctx, destination, "transfer_data[destination]")
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
        _check_destination(ctx, destination)
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
        from stripe_local import connect

        connect.get_connected_account(ctx, on_behalf_of, "on_behalf_of")
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
    _client_secret_check(ctx, record, params)
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
        raise _error(
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
    _client_secret_check(ctx, record, params)
    return confirm_payment_intent(ctx, record, params)


def _unexpected_state(
    record: Record, action: str, allowed: tuple[str, ...], ctx: Context
) -> StripeError:
    noun = "PaymentIntent" if record.kind == "payment_intent" else "SetupIntent"
    return _error(
        f"You cannot {action} this {noun} because it has a status of {record.data['status']}. "
        f"Only a {noun} with one of the following statuses may be "
        f"{'canceled' if action == 'cancel' else action + 'ed'}: {', '.join(allowed)}.",
        code=f"{record.kind}_unexpected_state",
        extra={record.kind: ctx.state.render(record)},
    )


def confirm_payment_intent(ctx: Context, record: Record, params: dict[str, Any]) -> Any:
    data = record.data
    if data["status"] not in PI_STATUSES_CONFIRMABLE:
        raise _unexpected_state(record, "confirm", PI_STATUSES_CONFIRMABLE, ctx)
    if params.get("payment_method_data"):
        pm = payment_method_from_data(ctx, params["payment_method_data"], "payment_method_data")
    elif params.get("payment_method"):
        pm = resolve_payment_method(ctx, params["payment_method"], "payment_method")
    elif data["payment_method"]:
        pm = ctx.store.get("payment_method", data["payment_method"], record.owner)
    else:
        raise _error(
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
        data["next_action"] = _next_action(ctx, record, params)
        ctx.state.emit("payment_intent.requires_action", record)
        return ctx.state.render(record)
    return _charge(ctx, record, pm, authenticated=False)


def _next_action(ctx: Context, record: Record, params: dict[str, Any]) -> dict[str, Any]:
    challenge = (
        f"{ctx.base_url}/_local/3ds/{record.id}/challenge?client_secret="
        f"{record.data['client_secret']}"
    )
    if ctx.account:
        challenge += f"&account={ctx.account}"
    return_url = record.internal.get("return_url")
    if return_url and not core.get_bool(params, "use_stripe_sdk", False):
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {"return_url": return_url, "url": challenge},
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": challenge,
            "source": core.new_id("src"),
        },
    }


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
    _notify_invoice(ctx.state, record, succeeded=False)
    extra: dict[str, Any] = {
        "payment_intent": ctx.state.render(record),
        "payment_method": ctx.state.render(pm),
    }
    if charge is not None:
        extra["charge"] = charge.id
    raise _card_error(behaviour, extra)


def _charge(ctx: Context, record: Record, pm: Record, authenticated: bool) -> Any:
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
    _capture(ctx.state, record, charge, data["amount"], data["application_fee_amount"])
    data["status"] = "succeeded"
    data["amount_received"] = data["amount"]
    ctx.state.emit("charge.succeeded", charge)
    _emit_capture_side_events(ctx.state, charge)
    ctx.state.emit("payment_intent.succeeded", record)
    _notify_invoice(ctx.state, record, succeeded=True)
    return ctx.state.render(record)


def _emit_capture_side_events(state: State, charge: Record) -> None:
    if charge.data["application_fee"]:
        state.emit("application_fee.created", state.store.find(charge.data["application_fee"]))  # type: ignore[arg-type]
    if charge.internal.get("transfer"):
        state.emit("transfer.created", state.store.find(charge.internal["transfer"]))  # type: ignore[arg-type]


def _capture(state: State, pi: Record, charge: Record, amount: int, fee: int | None) -> None:
    """Money moves: balance transactions, application fee and destination transfer."""
    c = charge.data
    currency = c["currency"]
    c["captured"] = True
    c["amount_captured"] = amount
    if amount < c["amount"]:
        c["amount_refunded"] = c["amount"] - amount
    c["application_fee_amount"] = fee
    processing = min(cards.stripe_fee(amount), amount)
    fee_details = [_fee_detail(processing, currency, "stripe_fee")]
    direct = charge.owner is not None
    if direct and fee:
        fee_details.append(_fee_detail(fee, currency, "application_fee"))
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


def create_transfer_record(
    state: State,
    *,
    amount: int,
    currency: str,
    destination: str,
    source_transaction: str | None = None,
    transfer_group: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    created: int | None = None,
) -> Record:
    transfer_id = core.new_id("tr")
    payment_id = core.new_id("py")
    txn = add_balance_transaction(
        state,
        None,
        amount=-amount,
        currency=currency,
        kind="transfer",
        source=transfer_id,
        description=description,
    )
    add_balance_transaction(
        state,
        destination,
        amount=amount,
        currency=currency,
        kind="payment",
        source=payment_id,
    )
    data = template(
        "transfer",
        id=transfer_id,
        amount=amount,
        amount_reversed=0,
        balance_transaction=txn.id,
        created=created or core.now_seconds(),
        currency=currency,
        description=description,
        destination=destination,
        destination_payment=payment_id,
        reversed=False,
        source_transaction=source_transaction,
        source_type="card",
        transfer_group=transfer_group,
    )
    data["metadata"] = dict(metadata or {})
    return state.store.add(Record(transfer_id, "transfer", None, data))


def _notify_invoice(state: State, pi: Record, succeeded: bool) -> None:
    invoice_id = pi.internal.get("invoice")
    if invoice_id:
        from stripe_local import billing

        billing.invoice_payment_result(state, invoice_id, pi, succeeded)


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
        raise _error(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{data['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture.",
            code="payment_intent_unexpected_state",
            extra={"payment_intent": ctx.state.render(record)},
        )
    amount = core.get_int(params, "amount_to_capture", default=data["amount_capturable"], minimum=1)
    assert amount is not None
    if amount > data["amount_capturable"]:
        raise _error(
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
    _capture(ctx.state, record, charge, amount, fee)
    data.update(
        status="succeeded", amount_received=amount, amount_capturable=0, application_fee_amount=fee
    )
    ctx.state.emit("charge.captured", charge, {"amount_captured": 0, "captured": False})
    _emit_capture_side_events(ctx.state, charge)
    ctx.state.emit("payment_intent.succeeded", record)
    _notify_invoice(ctx.state, record, succeeded=True)
    return ctx.state.render(record)


@route("POST", "/v1/payment_intents/{id}/cancel", spec={"cancellation_reason": ANY})
def payment_intent_cancel(ctx: Context, params: dict[str, Any], id: str) -> Any:  # noqa: A002
    record = ctx.store.get("payment_intent", id, ctx.account, param="intent")
    data = record.data
    if data["status"] not in PI_STATUSES_CANCELABLE:
        raise _unexpected_state(record, "cancel", PI_STATUSES_CANCELABLE, ctx)
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


def authenticate_intent(
    state: State, intent_id: str, client_secret: str | None, outcome: str, account: str | None
) -> dict[str, Any]:
    """Finish a 3-D Secure challenge ("complete" or "fail"), as the bank's page would."""
    record = state.store.find(intent_id)
    if record is None or record.kind not in ("payment_intent", "setup_intent"):
        raise core.not_found("payment_intent", intent_id)
    if client_secret is not None and client_secret != record.data["client_secret"]:
        raise StripeError("The client_secret provided does not match.", param="client_secret")
    if record.data["status"] != "requires_action":
        raise StripeError(
            f"This intent is not awaiting authentication (status {record.data['status']}).",
            code=f"{record.kind}_unexpected_state",
        )
    ctx = Context(state=state, account=record.owner, base_url=state.config.public_url or "")
    state.current_ctx = ctx
    try:
        pm = state.store.find(record.data["payment_method"])
        assert pm is not None
        if record.kind == "setup_intent":
            return _authenticate_setup(ctx, record, pm, outcome)
        if outcome == "complete":
            try:
                return _charge(ctx, record, pm, authenticated=True)
            except StripeError:
                return state.render(record)
        record.data["status"] = "requires_payment_method"
        record.data["next_action"] = None
        record.data["last_payment_error"] = {
            "type": "invalid_request_error",
            "code": "payment_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": "The provided PaymentMethod has failed authentication. You can provide "
            "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent "
            "again.",
            "payment_method": state.render(pm),
        }
        state.emit("payment_intent.payment_failed", record)
        _notify_invoice(state, record, succeeded=False)
        return state.render(record)
    finally:
        state.current_ctx = None
        state.dirty = True


# -- Setup intents -----------------------------------------------------------------------------

SETUP_CONFIRM_SPEC = {
    "payment_method": ANY,
    "payment_method_data": PAYMENT_METHOD_DATA,
    "return_url": ANY,
    "use_stripe_sdk": ANY,
    "mandate_data": MAP,
    "payment_method_options": MAP,
    "confirmation_token": ANY,
}
SETUP_SPEC = {
    **SETUP_CONFIRM_SPEC,
    "customer": ANY,
    "payment_method_types": ANY,
    "usage": ANY,
    "confirm": ANY,
    "metadata": MAP,
    "automatic_payment_methods": MAP,
    "description": ANY,
    "on_behalf_of": ANY,
    "attach_to_self": ANY,
    "flow_directions": ANY,
    "single_use": MAP,
    "payment_method_configuration": ANY,
}


@route("POST", "/v1/setup_intents", spec=SETUP_SPEC)
def setup_intent_create(ctx: Context, params: dict[str, Any]) -> Any:
    customer_id = core.get_str(params, "customer")
    if customer_id:
        ctx.store.get("customer", customer_id, ctx.account, param="customer")
    methods = params.get("payment_method_types")
    seti_id = core.new_id("seti")
    data = template(
        "setup_intent",
        id=seti_id,
        automatic_payment_methods=None
        if methods
        else {"allow_redirects": "always", "enabled": True},
        client_secret=f"{seti_id}_secret_{secrets.token_hex(16)}",
        created=ctx.now(customer_id),
        customer=customer_id,
        description=core.get_str(params, "description"),
        on_behalf_of=core.get_str(params, "on_behalf_of"),
        payment_method_options={
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        payment_method_types=list(methods) if methods else ["card"],
        status="requires_payment_method",
        usage=core.get_enum(params, "usage", ["off_session", "on_session"], "off_session"),
    )
    core.apply_metadata(data, params)
    record = ctx.store.add(Record(seti_id, "setup_intent", ctx.account, data))
    if params.get("payment_method"):
        data["payment_method"] = resolve_payment_method(
            ctx, params["payment_method"], "payment_method"
        ).id
        data["status"] = "requires_confirmation"
    ctx.state.emit("setup_intent.created", record)
    if core.get_bool(params, "confirm", False):
        return confirm_setup_intent(
            ctx,
            record,
            {k: v for k, v in params.items() if k in SETUP_CONFIRM_SPEC and k != "payment_method"},
        )
    return ctx.state.render(record)


@route("GET", "/v1/setup_intents/{id}", publishable=True, spec={})
def setup_intent_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("setup_intent", id, ctx.account, param="intent")
    _client_secret_check(ctx, record, params)
    return ctx.state.render(record)


@route(
    "POST",
    "/v1/setup_intents/{id}",
    spec={"metadata": MAP, "description": ANY, "customer": ANY, "payment_method": ANY},
)
def setup_intent_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("setup_intent", id, ctx.account, param="intent")
    if "description" in params:
        record.data["description"] = core.get_str(params, "description")
    if params.get("customer"):
        record.data["customer"] = ctx.store.get(
            "customer", params["customer"], ctx.account, param="customer"
        ).id
    if params.get("payment_method"):
        record.data["payment_method"] = resolve_payment_method(
            ctx, params["payment_method"], "payment_method"
        ).id
        record.data["status"] = "requires_confirmation"
    core.apply_metadata(record.data, params)
    return ctx.state.render(record)


@route("POST", "/v1/setup_intents/{id}/confirm", publishable=True, spec=SETUP_CONFIRM_SPEC)
def setup_intent_confirm(ctx: Context, params: dict[str, Any], id: str) -> Any:  # noqa: A002
    record = ctx.store.get("setup_intent", id, ctx.account, param="intent")
    _client_secret_check(ctx, record, params)
    return confirm_setup_intent(ctx, record, params)


def confirm_setup_intent(ctx: Context, record: Record, params: dict[str, Any]) -> Any:
    data = record.data
    if data["status"] not in PI_STATUSES_CONFIRMABLE:
        raise _unexpected_state(record, "confirm", PI_STATUSES_CONFIRMABLE, ctx)
    if params.get("payment_method_data"):
        pm = payment_method_from_data(ctx, params["payment_method_data"], "payment_method_data")
    elif params.get("payment_method"):
        pm = resolve_payment_method(ctx, params["payment_method"], "payment_method")
    elif data["payment_method"]:
        pm = ctx.store.get("payment_method", data["payment_method"], record.owner)
    else:
        raise _error(
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
            extra={"setup_intent": ctx.state.render(record)},
        )
    data["payment_method"] = pm.id
    data["last_setup_error"] = None
    record.internal["return_url"] = core.get_str(params, "return_url") or record.internal.get(
        "return_url"
    )
    behaviour = cards.behaviour_for(pm.internal.get("number", ""))
    if behaviour.outcome in ("authenticate", "authenticate_unless_setup"):
        data["status"] = "requires_action"
        data["next_action"] = _next_action(ctx, record, params)
        ctx.state.emit("setup_intent.requires_action", record)
        return ctx.state.render(record)
    if behaviour.outcome == "decline":
        return _fail_setup(ctx, record, pm, behaviour)
    return _succeed_setup(ctx, record, pm, authenticated=False)


def _fail_setup(ctx: Context, record: Record, pm: Record, behaviour: cards.CardBehaviour) -> Any:
    record.data["status"] = "requires_payment_method"
    record.data["last_setup_error"] = {
        "type": "card_error",
        "code": behaviour.code,
        "decline_code": behaviour.decline_code,
        "message": behaviour.message,
        "payment_method": ctx.state.render(pm),
    }
    ctx.state.emit("setup_intent.setup_failed", record)
    raise _card_error(behaviour, {"setup_intent": ctx.state.render(record)})


def _succeed_setup(ctx: Context, record: Record, pm: Record, authenticated: bool) -> dict[str, Any]:
    data = record.data
    if data["customer"] and pm.data["customer"] is None:
        pm.data["customer"] = data["customer"]
        ctx.state.emit("payment_method.attached", pm)
    pm.internal["setup_authenticated"] = True
    data["status"] = "succeeded"
    data["next_action"] = None
    data["latest_attempt"] = core.new_id("setatt")
    ctx.state.emit("setup_intent.succeeded", record)
    return ctx.state.render(record)


def _authenticate_setup(ctx: Context, record: Record, pm: Record, outcome: str) -> dict[str, Any]:
    if outcome == "complete":
        return _succeed_setup(ctx, record, pm, authenticated=True)
    record.data["status"] = "requires_payment_method"
    record.data["next_action"] = None
    record.data["last_setup_error"] = {
        "type": "invalid_request_error",
        "code": "setup_intent_authentication_failure",
        "message": "The latest attempt to set up the payment method has failed because "
        "authentication failed.",
        "payment_method": ctx.state.render(pm),
    }
    ctx.state.emit("setup_intent.setup_failed", record)
    return ctx.state.render(record)


@route("POST", "/v1/setup_intents/{id}/cancel", spec={"cancellation_reason": ANY})
def setup_intent_cancel(ctx: Context, params: dict[str, Any], id: str) -> Any:  # noqa: A002
    record = ctx.store.get("setup_intent", id, ctx.account, param="intent")
    allowed = ("requires_payment_method", "requires_confirmation", "requires_action")
    if record.data["status"] not in allowed:
        raise _unexpected_state(record, "cancel", allowed, ctx)
    record.data["status"] = "canceled"
    record.data["cancellation_reason"] = core.get_enum(
        params, "cancellation_reason", ["abandoned", "duplicate", "requested_by_customer"]
    )
    ctx.state.emit("setup_intent.canceled", record)
    return ctx.state.render(record)


@route("GET", "/v1/setup_intents", spec={**LIST_SPEC, "customer": ANY, "payment_method": ANY})
def setup_intent_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "setup_intent", params, "/v1/setup_intents", equals("customer"))


# -- Charges -----------------------------------------------------------------------------------


@renderer("charge")
def _render_charge(state: State, record: Record, obj: dict[str, Any]) -> None:
    refunds = (
        [
            state.render(r)
            for r in state.store.iter_newest_first(record.owner, "refund")
            if r.data["charge"] == record.id
        ][:10]
        if record.data["amount_refunded"]
        else []
    )
    obj["refunds"] = {
        "object": "list",
        "data": refunds,
        "has_more": False,
        "url": f"/v1/charges/{record.id}/refunds",
    }
    if record.internal.get("transfer"):
        obj["transfer"] = record.internal["transfer"]


@route("GET", "/v1/charges/{id}", spec={})
def charge_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("charge", id, ctx.account, param="charge"))


@route(
    "POST",
    "/v1/charges/{id}",
    spec={
        "metadata": MAP,
        "description": ANY,
        "receipt_email": ANY,
        "fraud_details": MAP,
        "shipping": MAP,
        "transfer_group": ANY,
        "customer": ANY,
    },
)
def charge_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("charge", id, ctx.account, param="charge")
    before = core.deep_copy(record.data)
    for name in ("description", "receipt_email", "transfer_group"):
        if name in params:
            record.data[name] = core.get_str(params, name)
    core.apply_metadata(record.data, params)
    previous = {k: before[k] for k in before if before[k] != record.data[k]}
    if previous:
        ctx.state.emit("charge.updated", record, previous)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/charges",
    spec={**LIST_SPEC, "customer": ANY, "payment_intent": ANY, "transfer_group": ANY},
)
def charge_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx,
        "charge",
        params,
        "/v1/charges",
        equals("customer"),
        equals("payment_intent"),
        created(),
    )


@route("GET", "/v1/charges/{id}/refunds", spec=LIST_SPEC)
def charge_refunds(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("charge", id, ctx.account, param="charge")
    return paginate(
        ctx, "refund", params, f"/v1/charges/{id}/refunds", where(lambda r: r.data["charge"] == id)
    )


@route("GET", "/v1/charges/{charge}/refunds/{id}", spec={})
def charge_refund_retrieve(
    ctx: Context, params: dict[str, Any], charge: str, id: str
) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("refund", id, ctx.account)
    if record.data["charge"] != charge:
        raise core.not_found("refund", id)
    return ctx.state.render(record)


# -- Refunds -----------------------------------------------------------------------------------

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
            raise _error(
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
        raise _error(
            f"Charge {charge.id} has failed and cannot be refunded.",
            code="charge_not_refundable",
            param="charge",
        )
    if not c["captured"]:
        raise _error(
            f"Charge {charge.id} has not been captured. Cancel its PaymentIntent to release the "
            "authorization.",
            code="charge_not_refundable",
            param="charge",
        )
    refundable = c["amount"] - c["amount_refunded"]
    if refundable <= 0:
        raise _error(
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
        raise _error(message, param="amount")
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


def create_transfer_reversal(
    state: State,
    transfer: Record,
    amount: int,
    source_refund: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Record:
    t = transfer.data
    reversal_id = core.new_id("trr")
    txn = add_balance_transaction(
        state,
        None,
        amount=amount,
        currency=t["currency"],
        kind="transfer_refund",
        source=reversal_id,
        description="Transfer reversal",
    )
    add_balance_transaction(
        state,
        t["destination"],
        amount=-amount,
        currency=t["currency"],
        kind="payment_refund",
        source=core.new_id("pyr"),
    )
    data = template(
        "transfer_reversal",
        id=reversal_id,
        amount=amount,
        balance_transaction=txn.id,
        created=core.now_seconds(),
        currency=t["currency"],
        destination_payment_refund=core.new_id("pyr"),
        source_refund=source_refund,
        transfer=transfer.id,
    )
    data["metadata"] = dict(metadata or {})
    record = state.store.add(Record(reversal_id, "transfer_reversal", None, data))
    previous = {"amount_reversed": t["amount_reversed"], "reversed": t["reversed"]}
    t["amount_reversed"] += amount
    t["reversed"] = t["amount_reversed"] >= t["amount"]
    state.emit("transfer.reversed", transfer, previous)
    return record


def create_fee_refund(
    state: State, fee: Record, amount: int, metadata: dict[str, str] | None = None
) -> tuple[Record, dict[str, Any]]:
    f = fee.data
    fr_id = core.new_id("fr")
    txn = add_balance_transaction(
        state,
        None,
        amount=-amount,
        currency=f["currency"],
        kind="application_fee_refund",
        source=fr_id,
        description="Application fee refund",
    )
    if f["account"]:
        add_balance_transaction(
            state,
            f["account"],
            amount=amount,
            currency=f["currency"],
            kind="application_fee_refund",
            source=fr_id,
        )
    data = template(
        "fee_refund",
        id=fr_id,
        amount=amount,
        balance_transaction=txn.id,
        created=core.now_seconds(),
        currency=f["currency"],
        fee=fee.id,
    )
    data["metadata"] = dict(metadata or {})
    state.store.add(Record(fr_id, "fee_refund", None, data))
    previous = {"amount_refunded": f["amount_refunded"], "refunded": f["refunded"]}
    f["amount_refunded"] += amount
    f["refunded"] = f["amount_refunded"] >= f["amount"]
    return fee, previous


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


# -- Transfers and reversals -------------------------------------------------------------------


@renderer("transfer")
def _render_transfer(state: State, record: Record, obj: dict[str, Any]) -> None:
    reversals = (
        [
            state.render(r)
            for r in state.store.iter_newest_first(None, "transfer_reversal")
            if r.data["transfer"] == record.id
        ][:10]
        if record.data["amount_reversed"]
        else []
    )
    obj["reversals"] = {
        "object": "list",
        "data": reversals,
        "has_more": False,
        "url": f"/v1/transfers/{record.id}/reversals",
    }


@route(
    "POST",
    "/v1/transfers",
    spec={
        "amount": ANY,
        "currency": ANY,
        "destination": ANY,
        "description": ANY,
        "metadata": MAP,
        "source_transaction": ANY,
        "transfer_group": ANY,
        "source_type": ANY,
    },
)
def transfer_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.account is not None:
        raise StripeError("Transfers are made by the platform; omit Stripe-Account.")
    currency = core.get_currency(params)
    amount = core.get_int(params, "amount", required=True, minimum=1)
    assert amount is not None
    destination = core.get_str(params, "destination", required=True)
    assert destination is not None
    from stripe_local import connect

    account = connect.get_connected_account(ctx, destination, "destination")
    if account.data["capabilities"].get("transfers") != "active":
        raise StripeError(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            param="destination",
            code="insufficient_capabilities_for_transfer",
        )
    source = core.get_str(params, "source_transaction")
    if source:
        ctx.store.get("charge", source, None, param="source_transaction")
    else:
        available = next(
            (
                b["amount"]
                for b in balance_for(ctx.state, None)["available"]
                if b["currency"] == currency
            ),
            0,
        )
        if available < amount:
            raise _error(
                "You have insufficient available funds in your Stripe account. Try adding funds "
                "directly to your available balance by creating Charges using the "
                "4000000000000077 test card.",
                code="balance_insufficient",
            )
    metadata: dict[str, Any] = {}
    core.apply_metadata(metadata, params)
    record = create_transfer_record(
        ctx.state,
        amount=amount,
        currency=currency,
        destination=destination,
        source_transaction=source,
        transfer_group=core.get_str(params, "transfer_group"),
        description=core.get_str(params, "description"),
        metadata=metadata.get("metadata"),
    )
    ctx.state.emit("transfer.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/transfers/{id}", spec={})
def transfer_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("transfer", id, ctx.account, param="transfer"))


@route("POST", "/v1/transfers/{id}", spec={"metadata": MAP, "description": ANY})
def transfer_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("transfer", id, ctx.account, param="transfer")
    if "description" in params:
        record.data["description"] = core.get_str(params, "description")
    previous = core.apply_metadata(record.data, params)
    if previous is not None:
        ctx.state.emit("transfer.updated", record, {"metadata": previous})
    return ctx.state.render(record)


@route("GET", "/v1/transfers", spec={**LIST_SPEC, "destination": ANY, "transfer_group": ANY})
def transfer_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "transfer", params, "/v1/transfers", equals("destination"), equals("transfer_group")
    )


@route(
    "POST",
    "/v1/transfers/{id}/reversals",
    spec={
        "amount": ANY,
        "metadata": MAP,
        "description": ANY,
        "refund_application_fee": ANY,
    },
)
def transfer_reversal_create(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    transfer = ctx.store.get("transfer", id, ctx.account, param="id")
    remaining = transfer.data["amount"] - transfer.data["amount_reversed"]
    amount = core.get_int(params, "amount", default=remaining, minimum=1)
    assert amount is not None
    if remaining <= 0:
        raise _error(
            f"Transfer {id} has already been fully reversed.",
            code="transfer_already_reversed",
        )
    if amount > remaining:
        raise _error(
            f"Reversal amount ({core.format_amount(amount, transfer.data['currency'])}) is "
            f"greater than the remaining transfer amount "
            f"({core.format_amount(remaining, transfer.data['currency'])}).",
            param="amount",
        )
    metadata: dict[str, Any] = {}
    core.apply_metadata(metadata, params)
    record = create_transfer_reversal(
        ctx.state, transfer, amount, metadata=metadata.get("metadata")
    )
    return ctx.state.render(record)


@route("GET", "/v1/transfers/{id}/reversals", spec=LIST_SPEC)
def transfer_reversal_list(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("transfer", id, ctx.account, param="id")
    return paginate(
        ctx,
        "transfer_reversal",
        params,
        f"/v1/transfers/{id}/reversals",
        where(lambda r: r.data["transfer"] == id),
    )


@route("GET", "/v1/transfers/{transfer}/reversals/{id}", spec={})
def transfer_reversal_retrieve(
    ctx: Context, params: dict[str, Any], transfer: str, id: str
) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("transfer_reversal", id, ctx.account)
    if record.data["transfer"] != transfer:
        raise core.not_found("transfer_reversal", id)
    return ctx.state.render(record)


# -- Application fees --------------------------------------------------------------------------


@renderer("application_fee")
def _render_fee(state: State, record: Record, obj: dict[str, Any]) -> None:
    refunds = (
        [
            state.render(r)
            for r in state.store.iter_newest_first(None, "fee_refund")
            if r.data["fee"] == record.id
        ][:10]
        if record.data["amount_refunded"]
        else []
    )
    obj["refunds"] = {
        "object": "list",
        "data": refunds,
        "has_more": False,
        "url": f"/v1/application_fees/{record.id}/refunds",
    }


@route("GET", "/v1/application_fees/{id}", spec={})
def application_fee_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("application_fee", id, ctx.account))


@route("GET", "/v1/application_fees", spec={**LIST_SPEC, "charge": ANY})
def application_fee_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "application_fee", params, "/v1/application_fees", equals("charge"))


@route("POST", "/v1/application_fees/{id}/refunds", spec={"amount": ANY, "metadata": MAP})
def application_fee_refund_create(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    fee = ctx.store.get("application_fee", id, ctx.account, param="id")
    remaining = fee.data["amount"] - fee.data["amount_refunded"]
    if remaining <= 0:
        raise _error(f"Application fee {id} has already been refunded.", param="id")
    amount = core.get_int(params, "amount", default=remaining, minimum=1)
    assert amount is not None
    if amount > remaining:
        raise _error(
            f"Refund amount ({core.format_amount(amount, fee.data['currency'])}) is greater than "
            f"unrefunded amount on fee ({core.format_amount(remaining, fee.data['currency'])})",
            param="amount",
        )
    metadata: dict[str, Any] = {}
    core.apply_metadata(metadata, params)
    _fee, previous = create_fee_refund(ctx.state, fee, amount, metadata.get("metadata"))
    ctx.state.emit("application_fee.refunded", fee, previous)
    newest = next(ctx.store.iter_newest_first(None, "fee_refund"))
    return ctx.state.render(newest)


@route("GET", "/v1/application_fees/{id}/refunds", spec=LIST_SPEC)
def application_fee_refund_list(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    ctx.store.get("application_fee", id, ctx.account, param="id")
    return paginate(
        ctx,
        "fee_refund",
        params,
        f"/v1/application_fees/{id}/refunds",
        where(lambda r: r.data["fee"] == id),
    )


@route("GET", "/v1/application_fees/{fee}/refunds/{id}", spec={})
def application_fee_refund_retrieve(
    ctx: Context, params: dict[str, Any], fee: str, id: str
) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("fee_refund", id, ctx.account)
    if record.data["fee"] != fee:
        raise core.not_found("fee_refund", id)
    return ctx.state.render(record)
