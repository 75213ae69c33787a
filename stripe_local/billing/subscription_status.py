"""Subscription status changes and cancellation (also when their customer is deleted)."""

from __future__ import annotations

from stripe_local.app.registry import CUSTOMER_DELETING, SUBSCRIPTION_CANCELED, hook, notify
from stripe_local.app.state import State
from stripe_local.app.store import Record


def set_subscription_status(state: State, sub: Record, status: str) -> None:
    previous = {"status": sub.data["status"]}
    if previous["status"] == status:
        return
    sub.data["status"] = status
    state.emit("customer.subscription.updated", sub, previous)


def cancel_subscription(state: State, sub: Record, reason: str = "cancellation_requested") -> None:
    now = state.now(sub.data["customer"])
    previous = {
        "status": sub.data["status"],
        "canceled_at": sub.data["canceled_at"],
        "ended_at": sub.data["ended_at"],
    }
    sub.data.update(status="canceled", canceled_at=sub.data["canceled_at"] or now, ended_at=now)
    sub.data["cancellation_details"] = {"comment": None, "feedback": None, "reason": reason}
    state.emit("customer.subscription.deleted", sub, previous)
    notify(SUBSCRIPTION_CANCELED, state, sub)


@hook(CUSTOMER_DELETING)
def cancel_customer_subscriptions(state: State, customer: Record) -> None:
    for sub in list(state.store.iter_newest_first(customer.owner, "subscription")):
        if sub.data["customer"] == customer.id and sub.data["status"] not in (
            "canceled",
            "incomplete_expired",
        ):
            cancel_subscription(state, sub)


def saves_payment_method(sub: Record) -> bool:
    settings = sub.data.get("payment_settings") or {}
    return settings.get("save_default_payment_method") == "on_subscription"


def save_payment_method_on_subscription(state: State, sub: Record, pi: Record) -> None:
    """`save_default_payment_method=on_subscription`: the card that paid becomes the default."""
    pm_id = pi.data.get("payment_method")
    if not pm_id or sub.data["default_payment_method"] == pm_id:
        return
    previous = {"default_payment_method": sub.data["default_payment_method"]}
    sub.data["default_payment_method"] = pm_id
    state.emit("customer.subscription.updated", sub, previous)
