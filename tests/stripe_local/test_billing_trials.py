"""Billing trials on test clocks: Stripe's customer recipe, trial end behaviours, resume."""

from __future__ import annotations

import time

import pytest
import stripe

from stripe_local.testing import WebhookReceiver

DAY = 86400


@pytest.fixture
def monthly_price(client: stripe.StripeClient) -> stripe.Price:
    product = client.v1.products.create(params={"name": "Studio plan"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 2900,
            "recurring": {"interval": "month"},
        }
    )


def _clock(client: stripe.StripeClient) -> stripe.test_helpers.TestClock:
    return client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})


def _advance(
    client: stripe.StripeClient, clock: stripe.test_helpers.TestClock, days: float
) -> None:
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + int(days * DAY)}
    )


def _events(client: stripe.StripeClient, object_id: str) -> list[str]:
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.data.object.get("id") == object_id]


def test_stripes_test_clock_recipe_creates_a_customer_with_a_default_card(
    client: stripe.StripeClient,
) -> None:
    clock = _clock(client)
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    default = customer.invoice_settings.default_payment_method
    assert default.startswith("pm_") and default != "pm_card_visa"
    method = client.v1.payment_methods.retrieve(default)
    assert method.customer == customer.id and method.card.last4 == "4242"
    types = _events(client, customer.id) + _events(client, default)
    assert "customer.created" in types and "customer.updated" in types
    assert "payment_method.attached" in types


def test_trial_without_a_card_pauses_then_resumes_with_an_invoice(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock = _clock(client)
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 14,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        }
    )
    assert sub.status == "trialing"
    assert sub.trial_settings.end_behavior.missing_payment_method == "pause"
    _advance(client, clock, 12)
    _advance(client, clock, 15)
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "paused"
    types = _events(client, sub.id)
    assert types.count("customer.subscription.trial_will_end") == 1
    assert "customer.subscription.paused" in types
    assert client.v1.invoices.list(params={"subscription": sub.id}).data[0].amount_due == 0
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    resumed = client.v1.subscriptions.resume(
        sub.id, params={"billing_cycle_anchor": "now", "expand": ["latest_invoice"]}
    )
    assert resumed.status == "active"
    assert resumed.latest_invoice.status == "paid" and resumed.latest_invoice.amount_paid == 2900
    assert resumed["items"].data[0].current_period_start == clock.frozen_time + 15 * DAY
    assert "customer.subscription.resumed" in _events(client, sub.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.resume(sub.id)


def test_resume_with_an_unchanged_anchor_invoices_the_rest_of_the_period(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock = _clock(client)
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
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 10,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
            "default_payment_method": "",
        }
    )
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": ""}}
    )
    _advance(client, clock, 11)
    assert client.v1.subscriptions.retrieve(sub.id).status == "paused"
    client.v1.customers.update(
        customer.id,
        params={
            "invoice_settings": {
                "default_payment_method": client.v1.payment_methods.list(
                    params={"customer": customer.id}
                )
                .data[0]
                .id
            }
        },
    )
    resumed = client.v1.subscriptions.resume(
        sub.id, params={"billing_cycle_anchor": "unchanged", "expand": ["latest_invoice"]}
    )
    invoice = resumed.latest_invoice
    start = resumed["items"].data[0].current_period_start
    end = resumed["items"].data[0].current_period_end
    assert start == sub.trial_end and resumed.status == "active"
    assert invoice.status == "paid"
    assert invoice.amount_paid == 2900 * (end - clock.frozen_time - 11 * DAY) // (end - start)


def test_trial_without_a_card_can_cancel_or_invoice_at_its_end(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock = _clock(client)
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    subs = {
        behaviour: client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": monthly_price.id}],
                "trial_period_days": 7,
                "trial_settings": {"end_behavior": {"missing_payment_method": behaviour}},
            }
        )
        for behaviour in ("cancel", "create_invoice")
    }
    _advance(client, clock, 8)
    canceled = client.v1.subscriptions.retrieve(subs["cancel"].id)
    assert canceled.status == "canceled"
    assert "customer.subscription.deleted" in _events(client, canceled.id)
    invoiced = client.v1.subscriptions.retrieve(
        subs["create_invoice"].id, params={"expand": ["latest_invoice"]}
    )
    assert invoiced.status == "past_due" and invoiced.latest_invoice.status == "open"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": monthly_price.id}],
                "trial_period_days": 7,
                "trial_settings": {"end_behavior": {"missing_payment_method": "sleep"}},
            }
        )


def test_trial_with_a_card_becomes_active_with_a_paid_invoice_and_can_be_extended(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock = _clock(client)
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
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        }
    )
    extended = client.v1.subscriptions.update(sub.id, params={"trial_end": sub.trial_end + 7 * DAY})
    assert extended.trial_end == sub.trial_end + 7 * DAY
    _advance(client, clock, 10)
    assert client.v1.subscriptions.retrieve(sub.id).status == "trialing"
    _advance(client, clock, 15)
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active"
    assert sub.latest_invoice.status == "paid" and sub.latest_invoice.amount_paid == 2900
    assert _events(client, sub.id).count("customer.subscription.trial_will_end") == 1


def test_billing_events_are_signed_and_delivered(
    client: stripe.StripeClient, monthly_price: stripe.Price, receiver: WebhookReceiver
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": [
                "customer.subscription.paused",
                "customer.subscription.resumed",
                "payment_method.attached",
            ],
        }
    )
    try:
        clock = _clock(client)
        customer = client.v1.customers.create(params={"test_clock": clock.id})
        sub = client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": monthly_price.id}],
                "trial_period_days": 3,
                "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
            }
        )
        _advance(client, clock, 4)
        client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
        client.v1.subscriptions.resume(sub.id)
        wanted = {
            "customer.subscription.paused",
            "customer.subscription.resumed",
            "payment_method.attached",
        }
        received = receiver.wait_for(lambda got: len(got) >= 3)
        events = [
            stripe.Webhook.construct_event(r["body"], r["signature"], endpoint.secret)
            for r in received
        ]
        assert {e.type for e in events} == wanted
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def test_trial_canceled_at_period_end_ends_with_the_trial_without_an_invoice(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock = _clock(client)
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
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 7,
        }
    )
    canceling = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert canceling.cancel_at == sub.trial_end and canceling.status == "trialing"
    _advance(client, clock, 8)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at == sub.trial_end
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.amount_due for i in invoices] == [0]
