"""Billing webhooks over HTTP, duplicated, reordered and lost: the local subscription state ends
equal to Stripe's every time (the handler re-reads the subscription; the reconciliation repairs
what lost events left behind).

Local Stripe sends its signed deliveries to a recording endpoint; the test posts those exact
bodies and signatures to /stripe/webhook/ on the platform host in the order it chooses. The
inbox stores each event once and hands its processing to a real Celery worker (a thread on the
real Redis broker) through the outbox after commit. Nothing is mocked; the writes are committed
(the worker must see them) and put back afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from django.core.management import call_command

from billing.catalogue import price_for
from billing.models import Plan, TenantSubscription
from billing.seats import is_seat_item, seat_quantity_of
from billing.subscriptions import trial_start
from connect_payments.models import StripeEvent, StripeEventOutcome
from stripe_local.testing import WebhookReceiver, local, webhook_receiver
from tenants.models import Tenant
from tests.billing.committed import restored_billing_state
from tests.factories import client_for
from tests.processes import wait_for
from tests.saas_platform import conftest as platform_fixtures

real_worker = platform_fixtures.real_worker  # a Celery worker thread on the real Redis broker

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def receiver(settings, stripe_client, stripe_base_url) -> Iterator[WebhookReceiver]:
    """A platform webhook endpoint in local Stripe whose deliveries are recorded, not relayed."""
    with webhook_receiver() as recorded:
        endpoint = stripe_client.v1.webhook_endpoints.create(
            {"url": recorded.url, "enabled_events": ["*"]}
        )
        settings.STRIPE_WEBHOOK_SECRET = endpoint.secret
        settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
        try:
            yield recorded
        finally:
            stripe_client.v1.webhook_endpoints.delete(endpoint.id)
            local(stripe_base_url, "/_local/webhooks/wait", {"timeout": 5})


@pytest.fixture
def alpha(real_worker) -> Iterator[Tenant]:
    tenant = Tenant.objects.get(slug="alpha")
    with restored_billing_state([tenant]):
        yield tenant


def stripe_state(sub: Any) -> dict[str, Any]:
    """What Stripe says, in the local row's terms."""
    base = next(item for item in sub["items"]["data"] if not is_seat_item(item))
    return {
        "status": sub["status"],
        "plan": base["price"]["metadata"]["plan_code"],
        "interval": base["price"]["recurring"]["interval"],
        "extra_seats": seat_quantity_of(sub),
        "cancel_at_period_end": bool(sub["cancel_at_period_end"]),
    }


def local_state(tenant: Tenant) -> dict[str, Any]:
    row = TenantSubscription.objects.select_related("plan").get(tenant=tenant)
    return {
        "status": row.status,
        "plan": row.plan.code if row.plan else None,
        "interval": row.interval,
        "extra_seats": row.extra_seats,
        "cancel_at_period_end": row.cancel_at_period_end,
    }


def history(client: stripe.StripeClient, tenant: Tenant, *, ending: str) -> str:
    """A trial on Starter monthly, then `changes`. Returns the subscription id; the local row
    still says what the trial said."""
    row = trial_start(tenant=tenant)
    changes(client, row.stripe_subscription_id, ending=ending)
    return row.stripe_subscription_id


def changes(client: stripe.StripeClient, subscription_id: str, *, ending: str) -> None:
    """In Stripe only (the portal, an operator): Studio yearly with two extra seats, then
    cancellation at the period end, then (`ending="now"`) cancelled now."""
    studio = Plan.objects.get(code="studio")
    yearly, seat = price_for(studio, "year"), price_for(studio, "year", seat=True)
    assert yearly is not None and seat is not None
    sub = client.v1.subscriptions.retrieve(subscription_id)
    client.v1.subscriptions.update(subscription_id, {
        "items": [{"id": sub["items"]["data"][0]["id"], "price": yearly.id},
                  {"price": seat.id, "quantity": 2}],
        "proration_behavior": "none",
    })  # fmt: skip
    client.v1.subscriptions.update(subscription_id, {"cancel_at_period_end": True})
    if ending == "now":
        client.v1.subscriptions.cancel(subscription_id)


def deliveries(receiver: WebhookReceiver, base_url: str, subscription_id: str) -> list[dict]:
    """Every signed delivery local Stripe made, in the order it sent them (the subscription's
    `created` among them)."""
    assert local(base_url, "/_local/webhooks/wait", {"timeout": 10})["idle"]
    sent = list(receiver.received)
    created = [json.loads(d["body"]) for d in sent]
    assert any(
        e["type"] == "customer.subscription.created"
        and e["data"]["object"]["id"] == subscription_id
        for e in created
    )
    return sent


def post_all(bodies: list[dict]) -> list[int]:
    platform = client_for(None)
    return [
        platform.post(
            "/stripe/webhook/",
            d["body"],
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=d["signature"],
        ).status_code
        for d in bodies
    ]


def processed_by_the_worker(sent: list[dict]) -> list[StripeEvent]:
    ids = {json.loads(d["body"])["id"] for d in sent}
    events = StripeEvent.objects.filter(event_id__in=ids)
    done = (StripeEventOutcome.PROCESSED, StripeEventOutcome.IGNORED)
    assert wait_for(lambda: events.count() == len(ids) and not events.exclude(outcome__in=done))
    return list(events)


@pytest.mark.parametrize("ending", ["at_period_end", "now"])
def test_every_event_delivered_twice_ends_equal_to_stripe_and_is_processed_once(
    alpha, receiver, stripe_client, stripe_base_url, ending
) -> None:
    call_command("billing_sync_plans")
    subscription_id = history(stripe_client, alpha, ending=ending)
    sent = deliveries(receiver, stripe_base_url, subscription_id)

    assert post_all([d for d in sent for _twice in (1, 2)]) == [200] * (2 * len(sent))

    events = processed_by_the_worker(sent)
    assert {e.attempts for e in events if e.outcome == StripeEventOutcome.PROCESSED} == {1}
    truth = stripe_state(stripe_client.v1.subscriptions.retrieve(subscription_id))
    assert local_state(alpha) == truth
    assert truth["plan"] == "studio" and truth["extra_seats"] == 2
    types = [json.loads(d["body"])["type"] for d in sent]
    assert "customer.subscription.updated" in types


@pytest.mark.parametrize("ending", ["at_period_end", "now"])
def test_events_delivered_newest_first_end_equal_to_stripe(
    alpha, receiver, stripe_client, stripe_base_url, ending
) -> None:
    """The oldest event (the trial's `created`, which says trialing on Starter) is processed
    last: had its copy been applied, the row would be back on the trial."""
    call_command("billing_sync_plans")
    subscription_id = history(stripe_client, alpha, ending=ending)
    sent = deliveries(receiver, stripe_base_url, subscription_id)

    assert post_all(list(reversed(sent))) == [200] * len(sent)

    processed_by_the_worker(sent)
    truth = stripe_state(stripe_client.v1.subscriptions.retrieve(subscription_id))
    assert local_state(alpha) == truth
    assert truth["status"] == ("canceled" if ending == "now" else "trialing")


@pytest.mark.parametrize("ending", ["at_period_end", "now"])
def test_lost_events_leave_a_difference_that_the_reconciliation_repairs(
    alpha, receiver, stripe_client, stripe_base_url, ending, capsys
) -> None:
    """The trial's events arrive and are processed; every event of the later changes is lost
    (an event processed after a change would re-read it and repair the row by itself)."""
    call_command("billing_sync_plans")
    row = trial_start(tenant=alpha)
    trial_events = deliveries(receiver, stripe_base_url, row.stripe_subscription_id)
    assert post_all(trial_events) == [200] * len(trial_events)
    processed_by_the_worker(trial_events)
    before_changes = len(receiver.received)

    changes(stripe_client, row.stripe_subscription_id, ending=ending)

    assert local(stripe_base_url, "/_local/webhooks/wait", {"timeout": 10})["idle"]
    lost = [json.loads(d["body"])["type"] for d in receiver.received[before_changes:]]
    assert "customer.subscription.updated" in lost  # sent by Stripe, never posted to us
    truth = stripe_state(stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id))
    assert local_state(alpha) != truth
    assert local_state(alpha)["plan"] == "starter"
    capsys.readouterr()

    call_command("reconcile_billing")

    out = capsys.readouterr().out
    assert "alpha: interval month → year" in out and "alpha: extra_seats 0 → 2" in out
    # Read again: on a live subscription the reconciliation also sets the seats to the active
    # staff counted now (none in alpha: Studio's three included seats cover them).
    fresh = stripe_state(stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id))
    assert local_state(alpha) == fresh
    assert {k: v for k, v in fresh.items() if k != "extra_seats"} == {
        k: v for k, v in truth.items() if k != "extra_seats"
    }
    if ending == "at_period_end":
        assert "alpha: seat quantity 2 → 0" in out
    call_command("reconcile_billing")
    assert "0 repair(s)" in capsys.readouterr().out
