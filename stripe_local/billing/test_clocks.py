"""/v1/test_helpers/test_clocks, and what advancing one runs: trial ends, renewals, retries,
incomplete expiry and cancellations at period end."""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, paginate
from stripe_local.app.registry import SCHEDULE_PHASE_END, SCHEDULE_START, notify, route
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.intervals import DAY, add_interval
from stripe_local.billing.invoicing import attempt_invoice_payment
from stripe_local.billing.periods import (
    billing_interval,
    current_period,
    end_trial,
    renew_subscription,
    set_period,
)
from stripe_local.billing.previews import subscription_preview
from stripe_local.billing.subscription_status import cancel_subscription, set_subscription_status
from stripe_local.core import ANY, StripeError, template

INCOMPLETE_EXPIRY_SECONDS = 23 * 3600


TRIAL_WILL_END_NOTICE = 3 * DAY


def _next_action(state: State, sub: Record) -> tuple[int, str] | None:
    d = sub.data
    status = d["status"]
    candidates: list[tuple[int, str]] = []
    if status == "incomplete":
        candidates.append((d["created"] + INCOMPLETE_EXPIRY_SECONDS, "expire"))
    elif status == "trialing":
        if (
            not sub.internal.get("trial_will_end_sent")
            and d["trial_end"] - TRIAL_WILL_END_NOTICE > d["created"]
        ):
            candidates.append((d["trial_end"] - TRIAL_WILL_END_NOTICE, "trial_will_end"))
        if d["cancel_at"] is not None:
            candidates.append((d["cancel_at"], "cancel"))
        candidates.append((d["trial_end"], "trial_end"))
    elif status in ("active", "past_due", "unpaid"):
        start, end = current_period(state, sub)
        if d["cancel_at"] is not None:
            candidates.append((d["cancel_at"], "cancel"))
        notice = end - state.config.upcoming_invoice_days * DAY
        if (
            notice > start
            and sub.internal.get("upcoming_sent_for") != end
            and (d["cancel_at"] is None or d["cancel_at"] > end)
        ):
            candidates.append((notice, "upcoming"))
        candidates.append((end, "renew"))
        latest = state.store.find(d["latest_invoice"] or "")
        if (
            status == "past_due"
            and latest is not None
            and latest.data["status"] == "open"
            and latest.data["next_payment_attempt"]
        ):
            candidates.append((latest.data["next_payment_attempt"], "retry"))
    schedule = state.store.find(d["schedule"] or "")
    if (
        schedule is not None
        and schedule.data["status"] == "active"
        and status in ("trialing", "active", "past_due", "unpaid")
    ):
        # The end of the schedule's current phase. At the same moment as a renewal "phase"
        # sorts first ("phase" < "renew"), so the renewal invoices the next phase's prices.
        phase = schedule.data["phases"][schedule.internal["phase"]]
        candidates.append((phase["end_date"], "phase"))
    return min(candidates) if candidates else None


def _run_action(ctx: Context, sub: Record, action: str, at: int) -> None:
    state = ctx.state
    if action == "expire":
        invoice = state.store.find(sub.data["latest_invoice"] or "")
        if invoice is not None and invoice.data["status"] == "open":
            invoice.data["status"] = "void"
            invoice.data["status_transitions"]["voided_at"] = at
            state.emit("invoice.voided", invoice, {"status": "open"})
        sub.data["ended_at"] = at
        set_subscription_status(state, sub, "incomplete_expired")
    elif action == "trial_will_end":
        sub.internal["trial_will_end_sent"] = True
        state.emit("customer.subscription.trial_will_end", sub)
    elif action == "upcoming":
        sub.internal["upcoming_sent_for"] = current_period(state, sub)[1]
        customer = state.store.records[sub.data["customer"]]
        state.emit("invoice.upcoming", sub, obj=subscription_preview(ctx, customer, sub, {}))
    elif action == "trial_end":
        end_trial(ctx, sub, at)
    elif action == "cancel":
        cancel_subscription(state, sub)
    elif action == "renew":
        start, end = current_period(state, sub)
        interval, count = billing_interval(state, sub)
        set_period(state, sub, end, add_interval(end, interval, count))
        renew_subscription(ctx, sub)
    elif action == "phase":
        notify(SCHEDULE_PHASE_END, ctx, sub, at)
    elif action == "retry":
        invoice = state.store.records[sub.data["latest_invoice"]]
        attempt_invoice_payment(ctx, invoice, None, off_session=True)


def advance_clock(ctx: Context, clock: Record, target: int) -> None:
    """Run every scheduled subscription action due before `target`, in time order."""
    state = ctx.state
    customers = {
        c.id
        for c in state.store.iter_newest_first(clock.owner, "customer")
        if c.data["test_clock"] == clock.id
    }

    def clock_subscriptions() -> list[Record]:
        return [
            s
            for s in state.store.iter_newest_first(clock.owner, "subscription")
            if s.data["customer"] in customers
        ]

    subs = clock_subscriptions()
    # Schedules starting in the future: the clock creates their subscriptions when they start.
    waiting = [
        s
        for s in state.store.iter_newest_first(clock.owner, "subscription_schedule")
        if s.data["customer"] in customers and s.data["status"] == "not_started"
    ]
    saved_ctx = state.current_ctx
    state.current_ctx = Context(state=state, account=clock.owner, base_url=ctx.base_url)
    try:
        for _ in range(10000):
            due = [
                (action, sub)
                for sub in subs
                if (action := _next_action(state, sub)) and action[0] <= target
            ]
            due += [
                ((s.data["phases"][0]["start_date"], "start"), s)
                for s in waiting
                if s.data["status"] == "not_started" and s.data["phases"][0]["start_date"] <= target
            ]
            if not due:
                break
            (at, action), record = min(due, key=lambda pair: pair[0])
            clock.data["frozen_time"] = max(clock.data["frozen_time"], at)
            run_ctx = Context(state=state, account=clock.owner, base_url=ctx.base_url)
            if action == "start":
                notify(SCHEDULE_START, run_ctx, record, at)
                subs = clock_subscriptions()
            else:
                _run_action(run_ctx, record, action, at)
        clock.data["frozen_time"] = target
    finally:
        state.current_ctx = saved_ctx


@route("POST", "/v1/test_helpers/test_clocks", spec={"frozen_time": ANY, "name": ANY})
def test_clock_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    frozen = core.get_int(params, "frozen_time", required=True)
    clock_id = core.new_id("clock")
    now = core.now_seconds()
    data = template(
        "test_helpers.test_clock",
        id=clock_id,
        created=now,
        deletes_after=now + 30 * DAY,
        frozen_time=frozen,
        name=core.get_str(params, "name"),
        status="ready",
        status_details={},
    )
    record = ctx.store.add(Record(clock_id, "test_helpers.test_clock", ctx.account, data))
    ctx.state.emit("test_helpers.test_clock.created", record)
    return ctx.state.render(record)


@route("GET", "/v1/test_helpers/test_clocks/{id}", spec={})
def test_clock_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(
        ctx.store.get("test_helpers.test_clock", id, ctx.account, label="test_clock")
    )


@route("GET", "/v1/test_helpers/test_clocks", spec=LIST_SPEC)
def test_clock_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(ctx, "test_helpers.test_clock", params, "/v1/test_helpers/test_clocks")


@route("DELETE", "/v1/test_helpers/test_clocks/{id}", spec={})
def test_clock_delete(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("test_helpers.test_clock", id, ctx.account, label="test_clock")
    for customer in list(ctx.store.iter_newest_first(ctx.account, "customer")):
        if customer.data["test_clock"] == id:
            customer.deleted = True
    record.deleted = True
    ctx.state.emit("test_helpers.test_clock.deleted", record)
    return template("deleted_test_helpers.test_clock", id=id)


@route("POST", "/v1/test_helpers/test_clocks/{id}/advance", spec={"frozen_time": ANY})
def test_clock_advance(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("test_helpers.test_clock", id, ctx.account, label="test_clock")
    target = core.get_int(params, "frozen_time", required=True)
    assert target is not None
    if target <= record.data["frozen_time"]:
        raise StripeError(
            "The test clock's frozen_time can only be advanced to a time after its current "
            "frozen_time.",
            param="frozen_time",
        )
    record.data["status"] = "advancing"
    ctx.state.emit("test_helpers.test_clock.advancing", record)
    advance_clock(ctx, record, target)
    record.data["status"] = "ready"
    ctx.state.emit("test_helpers.test_clock.ready", record)
    return ctx.state.render(record)
