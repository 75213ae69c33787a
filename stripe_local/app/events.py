"""Events and webhook endpoints: /v1/events and /v1/webhook_endpoints.

Events are recorded (and their deliveries queued) by `State.emit`; this module serves them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, created, one_of, paginate
from stripe_local.app.registry import route
from stripe_local.app.store import Record
from stripe_local.core import ANY, MAP, StripeError, template

KNOWN_EVENT_TYPES = {
    "account.updated",
    "account.application.authorized",
    "account.application.deauthorized",
    "account.external_account.created",
    "account.external_account.updated",
    "application_fee.created",
    "application_fee.refunded",
    "application_fee.refund.updated",
    "balance.available",
    "capability.updated",
    "charge.captured",
    "charge.expired",
    "charge.failed",
    "charge.pending",
    "charge.refunded",
    "charge.succeeded",
    "charge.updated",
    "charge.dispute.created",
    "charge.dispute.closed",
    "charge.dispute.updated",
    "charge.refund.updated",
    "checkout.session.completed",
    "checkout.session.expired",
    "coupon.created",
    "coupon.deleted",
    "coupon.updated",
    "customer.created",
    "customer.deleted",
    "customer.updated",
    "customer.discount.created",
    "customer.discount.deleted",
    "customer.discount.updated",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
    "invoice.created",
    "invoice.deleted",
    "invoice.finalization_failed",
    "invoice.finalized",
    "invoice.marked_uncollectible",
    "invoice.overdue",
    "invoice.paid",
    "invoice.payment_action_required",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.sent",
    "invoice.upcoming",
    "invoice.updated",
    "invoice.voided",
    "invoice.will_be_due",
    "invoice_payment.paid",
    "invoiceitem.created",
    "invoiceitem.deleted",
    "login_link.created",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.partially_funded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "payment_method.attached",
    "payment_method.automatically_updated",
    "payment_method.detached",
    "payment_method.updated",
    "payout.created",
    "payout.paid",
    "payout.failed",
    "price.created",
    "price.deleted",
    "price.updated",
    "product.created",
    "product.deleted",
    "product.updated",
    "promotion_code.created",
    "promotion_code.updated",
    "refund.created",
    "refund.failed",
    "refund.updated",
    "setup_intent.canceled",
    "setup_intent.created",
    "setup_intent.requires_action",
    "setup_intent.setup_failed",
    "setup_intent.succeeded",
    "subscription_schedule.aborted",
    "subscription_schedule.canceled",
    "subscription_schedule.completed",
    "subscription_schedule.created",
    "subscription_schedule.expiring",
    "subscription_schedule.released",
    "subscription_schedule.updated",
    "test_helpers.test_clock.advancing",
    "test_helpers.test_clock.created",
    "test_helpers.test_clock.deleted",
    "test_helpers.test_clock.ready",
    "transfer.created",
    "transfer.reversed",
    "transfer.updated",
}


# -- /v1/events --------------------------------------------------------------------------------


@route("GET", "/v1/events/{id}", spec={})
def event_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("event", id, ctx.account))


@route(
    "GET",
    "/v1/events",
    spec={
        **LIST_SPEC,
        "type": ANY,
        "types": ANY,
        "delivery_success": ANY,
    },
)
def event_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "event", params, "/v1/events", _event_type, one_of("types", "type"), created()
    )


def _event_type(params: dict[str, Any]) -> Callable[[Record], bool] | None:
    """`type=charge.succeeded`, or a wildcard such as `type=charge.*`."""
    wanted = core.get_str(params, "type")
    if not wanted:
        return None
    if wanted.endswith(".*"):
        return lambda record: record.data["type"].startswith(wanted[:-1])
    return lambda record: record.data["type"] == wanted


# -- /v1/webhook_endpoints ---------------------------------------------------------------------


def _check_enabled_events(params: dict[str, Any]) -> list[str]:
    events = params.get("enabled_events")
    if not isinstance(events, list) or not events:
        raise StripeError("Missing required param: enabled_events.", param="enabled_events")
    for index, name in enumerate(events):
        if name != "*" and name not in KNOWN_EVENT_TYPES:
            raise StripeError(
                f"Invalid enabled_events[{index}]: must be one of the documented event types "
                f"(got {name!r})",
                param=f"enabled_events[{index}]",
            )
    return events


WEBHOOK_SPEC = {
    "url": ANY,
    "enabled_events": ANY,
    "connect": ANY,
    "description": ANY,
    "metadata": MAP,
    "api_version": ANY,
    "disabled": ANY,
}


@route("POST", "/v1/webhook_endpoints", spec=WEBHOOK_SPEC)
def webhook_endpoint_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    if ctx.account is not None:
        raise StripeError("Webhook endpoints belong to the platform; omit Stripe-Account.")
    url = core.get_str(params, "url", required=True)
    assert url is not None
    if not url.startswith(("http://", "https://")):
        raise StripeError("Invalid URL: must be an http or https URL.", param="url")
    enabled = _check_enabled_events(params)
    endpoint = template(
        "webhook_endpoint",
        id=core.new_id("we"),
        api_version=core.get_str(params, "api_version"),
        created=ctx.now(),
        description=core.get_str(params, "description"),
        enabled_events=enabled,
        status="enabled",
        url=url,
    )
    core.apply_metadata(endpoint, params)
    secret = "whsec_" + secrets.token_hex(16)
    record = ctx.store.add(
        Record(
            endpoint["id"],
            "webhook_endpoint",
            None,
            endpoint,
            {"secret": secret, "connect": bool(core.get_bool(params, "connect", False))},
        )
    )
    rendered = ctx.state.render(record)
    rendered["secret"] = secret  # Stripe shows the secret only in the create response.
    return rendered


@route("GET", "/v1/webhook_endpoints/{id}", spec={})
def webhook_endpoint_retrieve(
    ctx: Context,
    params: dict[str, Any],
    id: str,  # noqa: A002
) -> dict[str, Any]:
    return ctx.state.render(ctx.store.get("webhook_endpoint", id, ctx.account))


@route("POST", "/v1/webhook_endpoints/{id}", spec=WEBHOOK_SPEC)
def webhook_endpoint_update(
    ctx: Context,
    params: dict[str, Any],
    id: str,  # noqa: A002
) -> dict[str, Any]:
    record = ctx.store.get("webhook_endpoint", id, ctx.account)
    if "connect" in params:
        raise StripeError("Received unknown parameter: connect", param="connect")
    if "url" in params:
        record.data["url"] = core.get_str(params, "url", required=True)
    if "enabled_events" in params:
        record.data["enabled_events"] = _check_enabled_events(params)
    if "description" in params:
        record.data["description"] = core.get_str(params, "description")
    disabled = core.get_bool(params, "disabled")
    if disabled is not None:
        record.data["status"] = "disabled" if disabled else "enabled"
    core.apply_metadata(record.data, params)
    return ctx.state.render(record)


@route(
    "GET",
    "/v1/webhook_endpoints",
    spec={"limit": ANY, "starting_after": ANY, "ending_before": ANY},
)
def webhook_endpoint_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "webhook_endpoint", params, "/v1/webhook_endpoints")


@route("DELETE", "/v1/webhook_endpoints/{id}", spec={})
def webhook_endpoint_delete(
    ctx: Context,
    params: dict[str, Any],
    id: str,  # noqa: A002
) -> dict[str, Any]:
    record = ctx.store.get("webhook_endpoint", id, ctx.account)
    record.deleted = True
    return {"id": record.id, "object": "webhook_endpoint", "deleted": True}
