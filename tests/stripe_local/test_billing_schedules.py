"""Subscription schedules on test clocks: a downgrade at the period end, release, cancel, bad
phases; through the official SDK against a running local Stripe."""

from __future__ import annotations

import time

import pytest
import stripe

from stripe_local.testing import WebhookReceiver

DAY = 86400


def _price(client: stripe.StripeClient, name: str, amount: int, interval: str = "month") -> str:
    product = client.v1.products.create(params={"name": name})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": interval},
        }
    )
    return price.id


@pytest.fixture
def plans(client: stripe.StripeClient) -> dict[str, str]:
    return {"pro": _price(client, "Pro", 4900), "starter": _price(client, "Starter", 1900)}


def _subscribed(
    client: stripe.StripeClient, price: str
) -> tuple[stripe.test_helpers.TestClock, stripe.Subscription]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price}]}
    )
    assert sub.status == "active"
    return clock, sub


def _advance_to(client: stripe.StripeClient, clock: stripe.test_helpers.TestClock, at: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": at})


def _events(client: stripe.StripeClient, object_id: str) -> list[str]:
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.data.object.get("id") == object_id]


def _downgrade_at_period_end(
    client: stripe.StripeClient, sub: stripe.Subscription, lower: str
) -> stripe.SubscriptionSchedule:
    """What the platform's billing code does: a schedule from the subscription, then phase 1 =
    the current items until the period end, phase 2 = the lower price."""
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    return _plan_downgrade(client, schedule, lower)


def _plan_downgrade(
    client: stripe.StripeClient, schedule: stripe.SubscriptionSchedule, lower: str
) -> stripe.SubscriptionSchedule:
    current = schedule.phases[0]
    return client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "end_behavior": "release",
            "proration_behavior": "none",
            "phases": [
                {
                    "items": [{"price": i.price, "quantity": i.quantity} for i in current["items"]],
                    "start_date": current.start_date,
                    "end_date": current.end_date,
                },
                {"items": [{"price": lower, "quantity": 1}], "iterations": 1},
            ],
        },
    )


def test_downgrade_at_period_end_through_a_schedule(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock, sub = _subscribed(client, plans["pro"])
    period_end = sub["items"].data[0].current_period_end
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    assert schedule.status == "active" and schedule.subscription == sub.id
    assert schedule.end_behavior == "release"
    assert [(i.price, i.quantity) for i in schedule.phases[0]["items"]] == [(plans["pro"], 1)]
    assert schedule.phases[0].end_date == period_end
    assert client.v1.subscriptions.retrieve(sub.id).schedule == schedule.id

    schedule = _plan_downgrade(client, schedule, plans["starter"])
    assert [p["items"][0].price for p in schedule.phases] == [plans["pro"], plans["starter"]]
    assert schedule.phases[1].start_date == period_end
    assert schedule.current_phase.end_date == period_end
    listed = client.v1.subscription_schedules.list(params={"customer": sub.customer}).data
    assert [s.id for s in listed] == [schedule.id]
    expanded = client.v1.subscription_schedules.retrieve(
        schedule.id, params={"expand": ["subscription", "customer"]}
    )
    assert expanded.subscription.id == sub.id and expanded.customer.id == sub.customer

    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert preview.amount_due == 1900 and preview.period_start == period_end

    _advance_to(client, clock, period_end - DAY)
    before = client.v1.subscriptions.retrieve(sub.id)
    assert before["items"].data[0].price.id == plans["pro"]
    assert len(client.v1.invoices.list(params={"subscription": sub.id}).data) == 1

    _advance_to(client, clock, period_end + DAY)
    after = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert after["items"].data[0].price.id == plans["starter"]
    assert after.status == "active" and after.schedule == schedule.id
    invoice = after.latest_invoice
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.amount_due == 1900 and invoice.status == "paid"
    assert [line.amount for line in invoice.lines.data] == [1900]  # no proration at the boundary
    schedule = client.v1.subscription_schedules.retrieve(schedule.id)
    assert schedule.current_phase.start_date == period_end
    # An update may repeat the phase that has ended (Stripe lets it be included or omitted).
    repeated = client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "phases": [
                {
                    "items": [{"price": i.price, "quantity": i.quantity} for i in p["items"]],
                    "start_date": p.start_date,
                    "end_date": p.end_date,
                }
                for p in schedule.phases
            ]
        },
    )
    assert [(p.start_date, p.end_date) for p in repeated.phases] == [
        (p.start_date, p.end_date) for p in schedule.phases
    ]
    types = _events(client, schedule.id)
    assert types[:2] == ["subscription_schedule.created", "subscription_schedule.updated"]
    assert types.count("subscription_schedule.updated") == 2  # the update, then the new phase

    # The last phase ends after one month: the schedule completes and releases the subscription.
    second_end = schedule.phases[1].end_date
    _advance_to(client, clock, second_end + DAY)
    schedule = client.v1.subscription_schedules.retrieve(schedule.id)
    assert schedule.status == "completed" and schedule.completed_at == second_end
    assert schedule.current_phase is None
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active" and sub.schedule is None
    assert sub["items"].data[0].price.id == plans["starter"]
    assert _events(client, schedule.id)[-1] == "subscription_schedule.completed"
    amounts = [i.amount_due for i in client.v1.invoices.list(params={"subscription": sub.id})]
    assert amounts == [1900, 1900, 4900]


def test_a_downgrade_planned_during_the_trial_is_the_first_paid_price(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": plans["pro"]}],
            "trial_period_days": 14,
        }
    )
    schedule = _downgrade_at_period_end(client, sub, plans["starter"])
    assert schedule.phases[0].end_date == sub.trial_end
    _advance_to(client, clock, sub.trial_end + DAY)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active" and sub["items"].data[0].price.id == plans["starter"]
    assert sub.latest_invoice.amount_paid == 1900


def test_release_keeps_the_subscription_going_without_the_schedule(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock, sub = _subscribed(client, plans["pro"])
    period_end = sub["items"].data[0].current_period_end
    schedule = _downgrade_at_period_end(client, sub, plans["starter"])
    released = client.v1.subscription_schedules.release(schedule.id)
    assert released.status == "released" and released.released_subscription == sub.id
    assert released.subscription is None and released.released_at is not None
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.schedule is None and sub.status == "active"
    # Released: the planned downgrade no longer happens, the old price renews.
    _advance_to(client, clock, period_end + DAY)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub["items"].data[0].price.id == plans["pro"]
    assert sub.latest_invoice.amount_due == 4900
    assert "subscription_schedule.released" in _events(client, schedule.id)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscription_schedules.release(schedule.id)
    assert error.value.http_status == 400
    assert "`released` status" in str(error.value.user_message)


def test_cancel_a_schedule_cancels_its_subscription(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    _clock, sub = _subscribed(client, plans["pro"])
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    canceled = client.v1.subscription_schedules.cancel(schedule.id)
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert "subscription_schedule.canceled" in _events(client, schedule.id)
    assert "customer.subscription.deleted" in _events(client, sub.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscription_schedules.update(schedule.id, params={"end_behavior": "cancel"})


def test_end_behavior_cancel_ends_the_subscription_with_the_last_phase(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock, sub = _subscribed(client, plans["pro"])
    schedule = client.v1.subscription_schedules.create(
        params={"from_subscription": sub.id, "end_behavior": "cancel"}
    )
    end = schedule.phases[0].end_date
    _advance_to(client, clock, end + DAY)
    assert client.v1.subscription_schedules.retrieve(schedule.id).status == "completed"
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled" and sub.ended_at == end
    assert len(client.v1.invoices.list(params={"subscription": sub.id}).data) == 1


def test_schedule_created_with_phases_starts_a_subscription(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    schedule = client.v1.subscription_schedules.create(
        params={
            "customer": customer.id,
            "phases": [
                {"items": [{"price": plans["pro"]}], "iterations": 2},
                {"items": [{"price": plans["starter"], "quantity": 3}]},
            ],
        }
    )
    sub = client.v1.subscriptions.retrieve(schedule.subscription)
    assert sub.schedule == schedule.id and sub.status == "active"
    assert sub["items"].data[0].price.id == plans["pro"]
    second = schedule.phases[1]
    assert second.start_date == schedule.phases[0].end_date
    _advance_to(client, clock, second.start_date + DAY)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert [(i.price.id, i.quantity) for i in sub["items"].data] == [(plans["starter"], 3)]
    assert sub.latest_invoice.amount_due == 3 * 1900
    amounts = [i.amount_due for i in client.v1.invoices.list(params={"subscription": sub.id})]
    assert amounts == [5700, 4900, 4900]


def test_a_phase_ending_mid_period_prorates_into_the_next_invoice(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock, sub = _subscribed(client, plans["pro"])
    start = sub["items"].data[0].current_period_start
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "phases": [
                {"items": [{"price": plans["pro"]}], "end_date": start + 10 * DAY},
                {"items": [{"price": plans["starter"]}], "iterations": 1},
            ]
        },
    )
    _advance_to(client, clock, start + 11 * DAY)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub["items"].data[0].price.id == plans["starter"]
    pending = client.v1.invoice_items.list(params={"customer": sub.customer, "pending": True}).data
    assert sorted(i.amount > 0 for i in pending) == [False, True]
    assert all(i.proration for i in pending)
    assert sum(i.amount for i in pending) < 0  # the unused Pro time is worth more than Starter's
    _advance_to(client, clock, sub["items"].data[0].current_period_end + DAY)
    invoice = client.v1.invoices.list(params={"subscription": sub.id, "limit": 1}).data[0]
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.subtotal == 1900 + sum(i.amount for i in pending)


def test_changing_the_current_phase_applies_now_with_its_proration_behavior(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    _clock, sub = _subscribed(client, plans["starter"])
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    phase = schedule.phases[0]
    client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "proration_behavior": "always_invoice",
            "phases": [
                {
                    "items": [{"price": plans["pro"], "quantity": 2}],
                    "start_date": phase.start_date,
                    "end_date": phase.end_date,
                }
            ],
        },
    )
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert [(i.price.id, i.quantity) for i in sub["items"].data] == [(plans["pro"], 2)]
    invoice = sub.latest_invoice
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    assert invoice.amount_paid == sum(line.amount for line in invoice.lines.data) > 0
    assert "customer.subscription.updated" in _events(client, sub.id)


def test_a_scheduled_subscription_refuses_cancel_at_period_end_directly(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    _clock, sub = _subscribed(client, plans["pro"])
    schedule = _downgrade_at_period_end(client, sub, plans["starter"])
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert error.value.http_status == 400 and schedule.id in str(error.value.user_message)
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    client.v1.subscription_schedules.release(schedule.id)
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sub.cancel_at_period_end is True


def test_canceling_the_subscription_cancels_its_schedule(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    _clock, sub = _subscribed(client, plans["pro"])
    schedule = _downgrade_at_period_end(client, sub, plans["starter"])
    client.v1.subscriptions.cancel(sub.id)
    schedule = client.v1.subscription_schedules.retrieve(schedule.id)
    assert schedule.status == "canceled" and schedule.canceled_at is not None
    assert _events(client, schedule.id)[-1] == "subscription_schedule.canceled"


def test_a_schedule_starting_later_creates_its_subscription_on_the_clock(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    start = clock.frozen_time + 5 * DAY
    schedule = client.v1.subscription_schedules.create(
        params={
            "customer": customer.id,
            "start_date": start,
            "phases": [{"items": [{"price": plans["pro"]}], "iterations": 1}],
        }
    )
    assert schedule.status == "not_started" and schedule.subscription is None
    assert schedule.current_phase is None and schedule.phases[0].start_date == start
    moved = client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "phases": [
                {"items": [{"price": plans["starter"]}], "start_date": start + DAY, "iterations": 1}
            ]
        },
    )
    assert moved.phases[0].start_date == start + DAY
    _advance_to(client, clock, start + 12 * 3600)
    assert client.v1.subscriptions.list(params={"customer": customer.id}).data == []
    _advance_to(client, clock, start + 2 * DAY)
    schedule = client.v1.subscription_schedules.retrieve(
        schedule.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert schedule.status == "active"
    sub = schedule.subscription
    assert sub.schedule == schedule.id and sub.start_date == start + DAY
    assert sub.latest_invoice.amount_paid == 1900
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscription_schedules.create(
            params={
                "customer": customer.id,
                "start_date": clock.frozen_time - DAY,
                "phases": [{"items": [{"price": plans["pro"]}]}],
            }
        )
    assert error.value.param == "start_date" and "backdate" in str(error.value.user_message)


def test_a_schedule_not_started_can_be_released_or_canceled_without_a_subscription(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    customer = client.v1.customers.create(params={})
    params = {
        "customer": customer.id,
        "start_date": int(time.time()) + 30 * DAY,
        "phases": [{"items": [{"price": plans["pro"]}]}],
    }
    first = client.v1.subscription_schedules.create(params=params)
    second = client.v1.subscription_schedules.create(params=params)
    released = client.v1.subscription_schedules.release(first.id)
    assert released.status == "released" and released.released_subscription is None
    assert client.v1.subscription_schedules.cancel(second.id).status == "canceled"
    assert client.v1.subscriptions.list(params={"customer": customer.id}).data == []


def test_a_schedule_not_started_moved_to_now_starts_at_once(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    customer = client.v1.customers.create(
        params={
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    schedule = client.v1.subscription_schedules.create(
        params={
            "customer": customer.id,
            "start_date": int(time.time()) + 30 * DAY,
            "phases": [{"items": [{"price": plans["pro"]}]}],
        }
    )
    started = client.v1.subscription_schedules.update(
        schedule.id,
        params={"phases": [{"items": [{"price": plans["starter"]}], "start_date": "now"}]},
    )
    assert started.status == "active" and started.subscription is not None
    sub = client.v1.subscriptions.retrieve(started.subscription)
    assert sub.schedule == schedule.id and sub["items"].data[0].price.id == plans["starter"]


@pytest.mark.parametrize(
    ("case", "param", "words"),
    [
        ("no_items", "phases[0][items]", "Missing required param"),
        ("unknown_price", "phases[0][items][0][price]", "No such price"),
        ("no_price", "phases[0][items][0][price]", "Missing required param"),
        ("open_middle", "phases[1][end_date]", "needs one of `end_date`"),
        ("backwards", "phases[0][end_date]", "must be after its start_date"),
        ("gap", "phases[1][start_date]", "must be the end_date of the phase before it"),
        ("moved", "phases[0][start_date]", "can not modify the start date"),
    ],
)
def test_bad_phases_are_refused_with_a_400_and_nothing_changes(
    client: stripe.StripeClient, plans: dict[str, str], case: str, param: str, words: str
) -> None:
    _clock, sub = _subscribed(client, plans["pro"])
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    start, end = schedule.phases[0].start_date, schedule.phases[0].end_date
    pro = [{"price": plans["pro"]}]
    starter = [{"price": plans["starter"]}]
    given = {
        "no_items": [{"end_date": end}],
        "unknown_price": [{"items": [{"price": "price_nope"}]}],
        "no_price": [{"items": [{"quantity": 2}]}],
        "open_middle": [{"items": pro, "end_date": end}, {"items": starter}, {"items": pro}],
        "backwards": [{"items": pro, "end_date": start - DAY}],
        "gap": [
            {"items": pro, "end_date": end},
            {"items": starter, "start_date": end + DAY, "iterations": 1},
        ],
        "moved": [{"items": pro, "start_date": start + 60, "end_date": end}],
    }[case]
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscription_schedules.update(schedule.id, params={"phases": given})
    assert error.value.http_status == 400
    assert error.value.param == param
    assert words in str(error.value.user_message)
    unchanged = client.v1.subscription_schedules.retrieve(schedule.id)
    assert len(unchanged.phases) == 1 and unchanged.phases[0].end_date == end
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].price.id == plans["pro"]


def test_from_subscription_refuses_a_second_schedule_and_phases(
    client: stripe.StripeClient, plans: dict[str, str]
) -> None:
    _clock, sub = _subscribed(client, plans["pro"])
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscription_schedules.create(
            params={"from_subscription": sub.id, "phases": [{"items": [{"price": plans["pro"]}]}]}
        )
    assert error.value.param == "phases"
    schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscription_schedules.create(params={"from_subscription": sub.id})
    assert schedule.id in str(error.value.user_message)
    assert error.value.param == "from_subscription"


def test_schedule_events_are_signed_and_delivered(
    client: stripe.StripeClient, plans: dict[str, str], receiver: WebhookReceiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": [
                "subscription_schedule.created",
                "subscription_schedule.updated",
                "subscription_schedule.released",
            ],
        }
    )
    try:
        _clock, sub = _subscribed(client, plans["pro"])
        schedule = _downgrade_at_period_end(client, sub, plans["starter"])
        client.v1.subscription_schedules.release(schedule.id)
        received = receiver.wait_for(lambda got: len(got) >= 3)
        events = [
            stripe.Webhook.construct_event(r["body"], r["signature"], endpoint.secret)
            for r in received
        ]
        # Stripe does not guarantee the order of deliveries (and local Stripe's delivery threads
        # send in parallel, as Stripe does): each event exactly once, in any order.
        assert sorted(e.type for e in events) == [
            "subscription_schedule.created",
            "subscription_schedule.released",
            "subscription_schedule.updated",
        ]
        assert {e.data.object.id for e in events} == {schedule.id}
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)
