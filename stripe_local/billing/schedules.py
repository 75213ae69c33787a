"""/v1/subscription_schedules: create (from a subscription, or for a customer with phases),
retrieve, list, update phases, release and cancel; and what a test clock runs when a phase ends.

A schedule holds phases (items, start and end dates). While it is `active` its subscription's
`schedule` points at it; when the clock passes the current phase's end the subscription takes
the next phase's items (no proration at a period boundary, the phase's `proration_behavior`
otherwise), so the renewal invoice charges the new prices. After the last phase `end_behavior`
decides: `release` keeps the subscription going without the schedule, `cancel` cancels it.
A `start_date` in the future makes a `not_started` schedule whose subscription the test clock
creates at that moment; local Stripe never backdates a schedule.
"""

from __future__ import annotations

from typing import Any

from stripe_local import core
from stripe_local.app.context import Context
from stripe_local.app.lists import LIST_SPEC, equals, paginate
from stripe_local.app.registry import (
    SCHEDULE_PHASE_END,
    SCHEDULE_START,
    SUBSCRIPTION_CANCELED,
    hook,
    renderer,
    route,
)
from stripe_local.app.state import State
from stripe_local.app.store import Record
from stripe_local.billing.intervals import add_interval
from stripe_local.billing.invoicing import (
    attempt_invoice_payment,
    finalize_invoice,
    new_invoice,
    pull_pending_items,
    total_invoice,
)
from stripe_local.billing.periods import current_period, cycle_invoice, set_period
from stripe_local.billing.prorations import PRORATED_STATUSES
from stripe_local.billing.subscription_status import cancel_subscription
from stripe_local.billing.subscription_updates import apply_item_changes
from stripe_local.billing.subscriptions import subscription_create
from stripe_local.core import ANY, MAP, StripeError, template

PRORATIONS = ["always_invoice", "create_prorations", "none"]
END_BEHAVIORS = ["cancel", "release"]
PHASE_ITEM_SPEC = {"price": ANY, "quantity": ANY, "metadata": MAP}
PHASE_SPEC = {
    "items": PHASE_ITEM_SPEC,
    "start_date": ANY,
    "end_date": ANY,
    "iterations": ANY,
    "duration": {"interval": ANY, "interval_count": ANY},
    "proration_behavior": ANY,
    "metadata": MAP,
    "currency": ANY,
    "description": ANY,
}
LIVE_STATUSES = ("not_started", "active")


@renderer("subscription_schedule")
def _render_schedule(state: State, record: Record, obj: dict[str, Any]) -> None:
    if record.data["status"] == "active":
        phase = record.data["phases"][record.internal["phase"]]
        obj["current_phase"] = {"start_date": phase["start_date"], "end_date": phase["end_date"]}
    else:
        obj["current_phase"] = None


# -- phases ------------------------------------------------------------------------------------


def _phase_price(ctx: Context, given: dict[str, Any], label: str) -> Record:
    price_id = core.get_str(given, "price", required=True, label=f"{label}[price]")
    price = ctx.store.find(price_id or "")
    if price is None or price.kind != "price" or price.owner != ctx.account or price.deleted:
        # Stripe answers 400 (not 404) for a missing object named in a parameter.
        raise StripeError(
            f"No such price: '{price_id}'", code="resource_missing", param=f"{label}[price]"
        )
    if price.data["type"] != "recurring" or not price.data["active"]:
        raise StripeError(
            "The price specified must be an active price with `type=recurring`.",
            param=f"{label}[price]",
        )
    return price


def _phase_end(given: dict[str, Any], label: str, start: int, price: Record, last: bool) -> int:
    """`end_date`, else `iterations` or `duration` from `start`; the last phase defaults to one
    iteration of its first price."""
    recurring = price.data["recurring"]
    if given.get("end_date") not in (None, ""):
        end = core.get_int(given, "end_date", label=f"{label}[end_date]")
        assert end is not None
        if end <= start:
            raise StripeError(
                f"The end_date of {label} must be after its start_date.",
                param=f"{label}[end_date]",
            )
        return end
    duration = given.get("duration")
    if isinstance(duration, dict):
        interval = core.get_enum(duration, "interval", ["day", "week", "month", "year"])
        if interval is None:
            raise StripeError(
                f"Missing required param: {label}[duration][interval].",
                param=f"{label}[duration][interval]",
            )
        count = core.get_int(
            duration, "interval_count", default=1, minimum=1, label=f"{label}[duration]"
        )
        return add_interval(start, interval, count or 1)
    iterations = core.get_int(given, "iterations", minimum=1, label=f"{label}[iterations]")
    if iterations is None and not last:
        raise StripeError(
            f"{label} needs one of `end_date`, `duration` or `iterations`: only the last phase "
            "may leave them all out.",
            param=f"{label}[end_date]",
        )
    return add_interval(
        start, recurring["interval"], recurring["interval_count"] * (iterations or 1)
    )


def read_phases(
    ctx: Context, given: Any, start: int, first_start: int | None
) -> list[dict[str, Any]]:
    """Check `phases[...]` and build them in Stripe's shape, contiguous from `start`.

    `first_start` (an active schedule's current phase start) is what phases[0][start_date]
    must be if given. Everything is checked before anything changes."""
    if not isinstance(given, list) or not given:
        raise StripeError("Missing required param: phases.", param="phases")
    phases: list[dict[str, Any]] = []
    for index, phase in enumerate(given):
        label = f"phases[{index}]"
        if not isinstance(phase, dict):
            raise StripeError(f"Invalid {label}: must be a hash", param=label)
        items = phase.get("items")
        if not isinstance(items, list) or not items:
            raise StripeError(f"Missing required param: {label}[items].", param=f"{label}[items]")
        phase_start = start if index == 0 else phases[-1]["end_date"]
        if phase.get("start_date") not in (None, "", "now"):
            asked = core.get_int(phase, "start_date", label=f"{label}[start_date]")
            expected = first_start if index == 0 and first_start is not None else phase_start
            if asked != expected:
                message = (
                    "You can not modify the start date of the current phase."
                    if index == 0 and first_start is not None
                    else f"The start_date of {label} must be the end_date of the phase before it."
                    if index
                    else "phases[0][start_date] must be the schedule's start_date."
                )
                raise StripeError(message, param=f"{label}[start_date]")
        built_items = []
        prices = []
        for item_index, item in enumerate(items):
            item_label = f"{label}[items][{item_index}]"
            if not isinstance(item, dict):
                raise StripeError(f"Invalid {item_label}: must be a hash", param=item_label)
            price = _phase_price(ctx, item, item_label)
            quantity = core.get_int(
                item, "quantity", default=1, minimum=0, label=f"{item_label}[quantity]"
            )
            prices.append(price)
            built_items.append(
                {
                    "billing_thresholds": None,
                    "discounts": [],
                    "metadata": {k: str(v) for k, v in (item.get("metadata") or {}).items()},
                    "plan": price.id,
                    "price": price.id,
                    "quantity": quantity,
                    "tax_rates": [],
                }
            )
        currency = prices[0].data["currency"]
        if any(p.data["currency"] != currency for p in prices) or (
            phases and phases[0]["currency"] != currency
        ):
            raise StripeError(
                "All prices on a subscription schedule must have the same currency.",
                param=f"{label}[items]",
            )
        end = _phase_end(phase, label, phase_start, prices[0], index == len(given) - 1)
        proration = core.get_enum(phase, "proration_behavior", PRORATIONS, "create_prorations")
        phases.append(
            {
                "add_invoice_items": [],
                "application_fee_percent": None,
                "billing_cycle_anchor": None,
                "collection_method": None,
                "currency": currency,
                "default_payment_method": None,
                "default_tax_rates": [],
                "description": core.get_str(phase, "description", label=f"{label}[description]"),
                "discounts": [],
                "end_date": end,
                "invoice_settings": None,
                "items": built_items,
                "metadata": {k: str(v) for k, v in (phase.get("metadata") or {}).items()},
                "on_behalf_of": None,
                "proration_behavior": proration,
                "start_date": phase_start,
                "transfer_data": None,
                "trial_end": None,
                "billing_thresholds": None,
            }
        )
    return phases


def _phase_matches(ctx: Context, sub: Record, phase: dict[str, Any]) -> bool:
    current = [
        (ctx.store.records[i].data["price"], ctx.store.records[i].data["quantity"])
        for i in sub.internal["items"]
    ]
    return current == [(i["price"], i["quantity"]) for i in phase["items"]]


def apply_phase(ctx: Context, sub: Record, phase: dict[str, Any], proration: str, at: int) -> None:
    """Give `sub` the items of `phase` (items reused in order, extra ones deleted or added)."""
    if _phase_matches(ctx, sub, phase):
        return
    before = ctx.state.render(sub)
    given: list[dict[str, Any]] = []
    for position, item_id in enumerate(sub.internal["items"]):
        if position < len(phase["items"]):
            wanted = phase["items"][position]
            given.append({"id": item_id, "price": wanted["price"], "quantity": wanted["quantity"]})
        else:
            given.append({"id": item_id, "deleted": True})
    for wanted in phase["items"][len(sub.internal["items"]) :]:
        given.append({"price": wanted["price"], "quantity": wanted["quantity"]})
    boundary = at == current_period(ctx.state, sub)[1]
    created, interval_changed = apply_item_changes(
        ctx, sub, given, "none" if boundary else proration, at
    )
    ctx.state.emit("customer.subscription.updated", sub, {"items": before["items"]})
    if proration == "always_invoice" and created and not interval_changed:
        invoice = new_invoice(
            ctx,
            ctx.store.records[sub.data["customer"]],
            subscription=sub,
            billing_reason="subscription_update",
            currency=sub.data["currency"],
        )
        pull_pending_items(ctx, invoice, sub.data["customer"], sub.id)
        total_invoice(ctx.state, invoice)
        sub.data["latest_invoice"] = invoice.id
        ctx.state.emit("invoice.created", invoice)
        _charge(ctx, sub, invoice)
    if interval_changed and not boundary and sub.data["status"] in PRORATED_STATUSES:
        # A new billing interval starts a new period now, invoiced at once (as an update does).
        price = ctx.store.records[phase["items"][0]["price"]].data["recurring"]
        set_period(ctx.state, sub, at, add_interval(at, price["interval"], price["interval_count"]))
        sub.data["billing_cycle_anchor"] = at
        _charge(ctx, sub, cycle_invoice(ctx, sub, "subscription_update", first=False))


def _charge(ctx: Context, sub: Record, invoice: Record) -> None:
    finalize_invoice(ctx, invoice)
    if invoice.data["status"] == "open" and sub.data["collection_method"] == (
        "charge_automatically"
    ):
        attempt_invoice_payment(ctx, invoice, None, off_session=True)


def next_phase_items(state: State, sub: Record, at: int) -> dict[str, tuple[str, int]] | None:
    """The items `sub` will have from `at` if its schedule starts a new phase then, keyed the way
    apply_phase reuses items (existing item ids in order, then `new_N`); else None."""
    record = state.store.find(sub.data["schedule"] or "")
    if record is None or record.data["status"] != "active":
        return None
    current = record.internal["phase"]
    phases = record.data["phases"]
    if current + 1 >= len(phases) or phases[current]["end_date"] != at:
        return None
    wanted = [(i["price"], i["quantity"]) for i in phases[current + 1]["items"]]
    keys = list(sub.internal["items"])[: len(wanted)]
    keys += [f"new_{n}" for n in range(len(keys), len(wanted))]
    return dict(zip(keys, wanted, strict=True))


# -- create, retrieve, list --------------------------------------------------------------------


def _new_schedule(
    ctx: Context,
    customer: Record,
    sub: Record | None,
    phases: list[dict[str, Any]],
    params: dict[str, Any],
) -> Record:
    """A schedule `active` on `sub`, or `not_started` (no subscription until its start)."""
    schedule_id = core.new_id("sub_sched")
    data = template(
        "subscription_schedule",
        id=schedule_id,
        application=None,
        canceled_at=None,
        completed_at=None,
        created=ctx.now(customer.id),
        customer=customer.id,
        end_behavior=core.get_enum(params, "end_behavior", END_BEHAVIORS, "release"),
        phases=phases,
        released_at=None,
        released_subscription=None,
        status="active" if sub else "not_started",
        subscription=sub.id if sub else None,
        test_clock=customer.data["test_clock"],
        billing_mode={"type": "classic", "flexible": None},
        customer_account=None,
    )
    data["default_settings"].update(
        application_fee_percent=None,
        billing_cycle_anchor="automatic",
        collection_method=sub.data["collection_method"] if sub else "charge_automatically",
        default_payment_method=sub.data["default_payment_method"] if sub else None,
        description=None,
        on_behalf_of=None,
        transfer_data=None,
        billing_thresholds=None,
    )
    data["default_settings"]["automatic_tax"] = {
        "enabled": False,
        "liability": None,
        "disabled_reason": None,
    }
    data["default_settings"]["invoice_settings"].update(issuer={"type": "self"})
    core.apply_metadata(data, params)
    record = ctx.store.add(
        Record(schedule_id, "subscription_schedule", ctx.account, data, {"phase": 0})
    )
    ctx.state.emit("subscription_schedule.created", record)
    if sub is not None:
        sub.data["schedule"] = schedule_id
        ctx.state.emit("customer.subscription.updated", sub, {"schedule": None})
    return record


def _start_subscription(ctx: Context, customer_id: str, phase: dict[str, Any]) -> Record:
    """Create (and charge) the subscription of a schedule from its first phase."""
    sub_params: dict[str, Any] = {
        "customer": customer_id,
        "items": [{"price": i["price"], "quantity": i["quantity"]} for i in phase["items"]],
    }
    return ctx.store.records[subscription_create(ctx, sub_params)["id"]]


def _future_start(params: dict[str, Any], name: str, label: str, now: int) -> int:
    """`start_date`: now (default, or `now`) or a future timestamp; local Stripe never
    backdates a schedule."""
    if params.get(name) in (None, "", "now"):
        return now
    start = core.get_int(params, name, label=label)
    assert start is not None
    if start < now:
        raise StripeError(
            f"local Stripe does not backdate subscription schedules: `{label}` must be now or "
            "in the future.",
            param=label,
        )
    return start


@route(
    "POST",
    "/v1/subscription_schedules",
    spec={
        "customer": ANY,
        "from_subscription": ANY,
        "phases": PHASE_SPEC,
        "start_date": ANY,
        "end_behavior": ANY,
        "metadata": MAP,
    },
)
def schedule_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    core.get_enum(params, "end_behavior", END_BEHAVIORS)
    from_sub = core.get_str(params, "from_subscription")
    if from_sub:
        for other in ("phases", "customer", "start_date"):
            if other in params:
                raise StripeError(
                    f"You cannot set `{other}` if `from_subscription` is set.", param=other
                )
        sub = ctx.store.get("subscription", from_sub, ctx.account, param="from_subscription")
        if sub.data["schedule"]:
            raise StripeError(
                "You cannot migrate a subscription that is already attached to a schedule: "
                f"`{sub.data['schedule']}`.",
                param="from_subscription",
            )
        if sub.data["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                "You cannot migrate a canceled subscription to a schedule.",
                param="from_subscription",
            )
        start, end = current_period(ctx.state, sub)
        items = [
            {
                "price": ctx.store.records[i].data["price"],
                "quantity": ctx.store.records[i].data["quantity"],
            }
            for i in sub.internal["items"]
        ]
        phases = read_phases(ctx, [{"items": items, "end_date": end}], start, None)
        customer = ctx.store.records[sub.data["customer"]]
        return ctx.state.render(_new_schedule(ctx, customer, sub, phases, params))
    customer_id = core.get_str(params, "customer", required=True)
    assert customer_id is not None
    customer = ctx.store.get("customer", customer_id, ctx.account, param="customer")
    now = ctx.now(customer_id)
    start = _future_start(params, "start_date", "start_date", now)
    phases = read_phases(ctx, params.get("phases"), start, None)
    if start > now:
        return ctx.state.render(_new_schedule(ctx, customer, None, phases, params))
    sub = _start_subscription(ctx, customer_id, phases[0])
    return ctx.state.render(_new_schedule(ctx, customer, sub, phases, params))


@route("GET", "/v1/subscription_schedules/{id}", spec={})
def schedule_retrieve(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    return ctx.state.render(ctx.store.get("subscription_schedule", id, ctx.account))


@route(
    "GET",
    "/v1/subscription_schedules",
    spec={**LIST_SPEC, "customer": ANY},
)
def schedule_list(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return paginate(
        ctx, "subscription_schedule", params, "/v1/subscription_schedules", equals("customer")
    )


# -- update, release, cancel -------------------------------------------------------------------


def _live(record: Record, action: str) -> None:
    status = record.data["status"]
    if status not in LIVE_STATUSES:
        raise StripeError(
            f"You cannot {action} a subscription schedule that is currently in the `{status}` "
            "status. It must be in `not_started` or `active`.",
        )


@route(
    "POST",
    "/v1/subscription_schedules/{id}",
    spec={"phases": PHASE_SPEC, "end_behavior": ANY, "proration_behavior": ANY, "metadata": MAP},
)
def schedule_update(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    record = ctx.store.get("subscription_schedule", id, ctx.account)
    _live(record, "update")
    data = record.data
    before = ctx.state.render(record)
    proration = core.get_enum(params, "proration_behavior", PRORATIONS, "create_prorations")
    end_behavior = core.get_enum(params, "end_behavior", END_BEHAVIORS)
    now = ctx.now(data["customer"])
    current = record.internal["phase"]
    if "phases" in params and data["status"] == "not_started":
        first = params["phases"][0] if isinstance(params["phases"], list) else None
        start = data["phases"][0]["start_date"]
        if isinstance(first, dict) and first.get("start_date") not in (None, ""):
            start = _future_start(first, "start_date", "phases[0][start_date]", now)
        data["phases"] = read_phases(ctx, params["phases"], start, None)
        if start <= now:
            schedule_started(ctx, record, now)
    elif "phases" in params:
        sub = ctx.store.records[data["subscription"]]
        start = data["phases"][current]["start_date"]
        phases = read_phases(ctx, _without_past(data, current, params["phases"]), start, start)
        if phases[0]["end_date"] <= now:
            raise StripeError(
                "The end_date of the current phase (phases[0]) must be in the future.",
                param="phases[0][end_date]",
            )
        data["phases"] = data["phases"][:current] + phases
        assert proration is not None
        apply_phase(ctx, sub, phases[0], proration, now)
    if end_behavior:
        data["end_behavior"] = end_behavior
    core.apply_metadata(data, params)
    after = ctx.state.render(record)
    previous = {k: before[k] for k in before if before[k] != after[k]}
    if previous:
        ctx.state.emit("subscription_schedule.updated", record, previous)
    return after


def _without_past(data: dict[str, Any], current: int, given: Any) -> Any:
    """`phases` as given, less leading phases that repeat the schedule's past ones (Stripe lets
    an update include or omit phases that have ended)."""
    if not isinstance(given, list):
        return given
    skip = 0
    while (
        skip < current
        and skip < len(given)
        and isinstance(given[skip], dict)
        and str(given[skip].get("start_date")) == str(data["phases"][skip]["start_date"])
    ):
        skip += 1
    return given[skip:]


def _detach(ctx: Context, record: Record, sub: Record) -> None:
    if sub.data["schedule"] == record.id:
        sub.data["schedule"] = None
        ctx.state.emit("customer.subscription.updated", sub, {"schedule": record.id})


@route("POST", "/v1/subscription_schedules/{id}/release", spec={"preserve_cancel_date": ANY})
def schedule_release(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    """The subscription keeps going as it is now, without the schedule."""
    record = ctx.store.get("subscription_schedule", id, ctx.account)
    _live(record, "release")
    core.get_bool(params, "preserve_cancel_date", True)
    sub = ctx.store.find(record.data["subscription"] or "")
    previous = {
        "status": record.data["status"],
        "subscription": record.data["subscription"],
        "released_at": None,
    }
    record.data.update(
        status="released",
        released_at=ctx.now(record.data["customer"]),
        released_subscription=sub.id if sub else None,
        subscription=None,
    )
    ctx.state.emit("subscription_schedule.released", record, previous)
    if sub is not None:
        _detach(ctx, record, sub)
    return ctx.state.render(record)


@route(
    "POST",
    "/v1/subscription_schedules/{id}/cancel",
    spec={"invoice_now": ANY, "prorate": ANY},
)
def schedule_cancel(ctx: Context, params: dict[str, Any], id: str) -> dict[str, Any]:  # noqa: A002
    """Cancel the schedule and its subscription now."""
    record = ctx.store.get("subscription_schedule", id, ctx.account)
    _live(record, "cancel")
    core.get_bool(params, "invoice_now")
    core.get_bool(params, "prorate")
    sub = ctx.store.find(record.data["subscription"] or "")
    previous = {"status": record.data["status"], "canceled_at": None}
    record.data.update(status="canceled", canceled_at=ctx.now(record.data["customer"]))
    ctx.state.emit("subscription_schedule.canceled", record, previous)
    if sub is not None and sub.data["status"] not in ("canceled", "incomplete_expired"):
        cancel_subscription(ctx.state, sub)
    return ctx.state.render(record)


# -- the clock ---------------------------------------------------------------------------------


@hook(SCHEDULE_START)
def schedule_started(ctx: Context, record: Record, at: int) -> None:
    """The clock reached a `not_started` schedule's start: its subscription begins."""
    sub = _start_subscription(ctx, record.data["customer"], record.data["phases"][0])
    record.data.update(status="active", subscription=sub.id)
    sub.data["schedule"] = record.id
    ctx.state.emit("customer.subscription.updated", sub, {"schedule": None})
    ctx.state.emit(
        "subscription_schedule.updated", record, {"status": "not_started", "subscription": None}
    )


@hook(SCHEDULE_PHASE_END)
def phase_ended(ctx: Context, sub: Record, at: int) -> None:
    """The clock passed the current phase's end: start the next phase, or end the schedule."""
    record = ctx.store.records[sub.data["schedule"]]
    before = ctx.state.render(record)
    current = record.internal["phase"]
    phases = record.data["phases"]
    if current + 1 < len(phases):
        record.internal["phase"] = current + 1
        following = phases[current + 1]
        apply_phase(ctx, sub, following, following["proration_behavior"], at)
        ctx.state.emit(
            "subscription_schedule.updated", record, {"current_phase": before["current_phase"]}
        )
        return
    record.data.update(status="completed", completed_at=at)
    if record.data["end_behavior"] == "release":
        record.data["released_subscription"] = sub.id
    ctx.state.emit(
        "subscription_schedule.completed",
        record,
        {"status": "active", "completed_at": None, "current_phase": before["current_phase"]},
    )
    _detach(ctx, record, sub)
    if record.data["end_behavior"] == "cancel":
        cancel_subscription(ctx.state, sub)


@hook(SUBSCRIPTION_CANCELED)
def subscription_canceled(state: State, sub: Record) -> None:
    """Canceling a subscription (DELETE, dunning, its customer deleted) cancels its schedule."""
    record = state.store.find(sub.data["schedule"] or "")
    if record is None or record.data["status"] not in LIVE_STATUSES:
        return
    record.data.update(status="canceled", canceled_at=state.now(sub.data["customer"]))
    state.emit("subscription_schedule.canceled", record, {"status": "active", "canceled_at": None})
