"""/v1/setup_intents and their confirmation (3-D Secure when the card asks for it)."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_local import cards, core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, template
from stripe_local.payment_errors import decline_error, saved_error
from stripe_local.payments.intents import (
    PI_STATUSES_CONFIRMABLE,
    authentication_action,
    check_client_secret,
    unexpected_state,
)
from stripe_local.payments.payment_methods import (
    PAYMENT_METHOD_DATA,
    payment_method_from_data,
    resolve_payment_method,
)

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
    check_client_secret(ctx, record, params)
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
    check_client_secret(ctx, record, params)
    return confirm_setup_intent(ctx, record, params)


def confirm_setup_intent(ctx: Context, record: Record, params: dict[str, Any]) -> Any:
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
        data["next_action"] = authentication_action(ctx, record, params)
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
    raise decline_error(behaviour, {"setup_intent": ctx.state.render(record)})


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


def authenticate_setup(ctx: Context, record: Record, pm: Record, outcome: str) -> dict[str, Any]:
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
        raise unexpected_state(record, "cancel", allowed, ctx)
    record.data["status"] = "canceled"
    record.data["cancellation_reason"] = core.get_enum(
        params, "cancellation_reason", ["abandoned", "duplicate", "requested_by_customer"]
    )
    ctx.state.emit("setup_intent.canceled", record)
    return ctx.state.render(record)


@route("GET", "/v1/setup_intents", spec={**LIST_SPEC, "customer": ANY, "payment_method": ANY})
def setup_intent_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "setup_intent", params, "/v1/setup_intents", equals("customer"))
