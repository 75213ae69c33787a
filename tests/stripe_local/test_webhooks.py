"""Events and webhooks: endpoint API, Stripe signatures, filters, Connect routing, retries."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from stripe_local.testing import WebhookReceiver, local, onboarded_account


def _endpoint(
    client: stripe.StripeClient, url: str, events: list[str], connect: bool = False
) -> stripe.WebhookEndpoint:
    return client.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": events, "connect": connect}
    )  # type: ignore[arg-type]


def _events_of(receiver: WebhookReceiver, secret: str) -> list[stripe.Event]:
    return [
        stripe.Webhook.construct_event(r["body"], r["signature"], secret) for r in receiver.received
    ]


def test_webhook_endpoint_secret_is_shown_on_create_only(client: stripe.StripeClient) -> None:
    endpoint = _endpoint(client, "https://example.com/hook", ["charge.succeeded"])
    assert endpoint.id.startswith("we_") and endpoint.secret.startswith("whsec_")
    fetched = client.v1.webhook_endpoints.retrieve(endpoint.id)
    assert "secret" not in fetched
    updated = client.v1.webhook_endpoints.update(
        endpoint.id, params={"disabled": True, "enabled_events": ["*"]}
    )
    assert updated.status == "disabled" and updated.enabled_events == ["*"]
    assert endpoint.id in [
        e.id for e in client.v1.webhook_endpoints.list(params={"limit": 100}).data
    ]
    assert client.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        _endpoint(client, "https://example.com/hook", ["charge.bogus"])


def test_signed_webhooks_verify_with_the_sdk_and_honour_enabled_events(
    client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    endpoint = _endpoint(client, receiver.url, ["payment_intent.succeeded", "charge.refunded"])
    try:
        intent = client.v1.payment_intents.create(
            params={
                "amount": 3000,
                "currency": "eur",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
        receiver.wait_for(lambda got: len(got) >= 2)
        events = _events_of(receiver, endpoint.secret)
        assert {e.type for e in events} == {"payment_intent.succeeded", "charge.refunded"}
        refunded = next(e for e in events if e.type == "charge.refunded")
        assert refunded.data.object.amount_refunded == 1000
        assert refunded.data.previous_attributes["amount_refunded"] == 0
        assert "account" not in refunded
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(
                receiver.received[0]["body"], receiver.received[0]["signature"], "whsec_wrong"
            )
        assert client.v1.events.retrieve(refunded.id).type == "charge.refunded"
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def test_connect_endpoints_get_connected_account_events_only(
    client: stripe.StripeClient, stripe_base_url: str, receiver: WebhookReceiver
) -> None:
    connect_endpoint = _endpoint(
        client, receiver.url + "?connect", ["customer.created"], connect=True
    )
    platform_endpoint = _endpoint(client, receiver.url + "?platform", ["customer.created"])
    try:
        account = onboarded_account(client, stripe_base_url)
        on_account = client.v1.customers.create(
            params={"email": "a@example.com"}, options={"stripe_account": account}
        )
        on_platform = client.v1.customers.create(params={"email": "p@example.com"})
        received = receiver.wait_for(lambda got: len(got) >= 2)
        time.sleep(0.2)
        by_customer = {}
        for item in received:
            payload = json.loads(item["body"])
            by_customer[payload["data"]["object"]["id"]] = payload
        assert by_customer[on_account.id]["account"] == account
        stripe.Webhook.construct_event(
            received[0]["body"],
            received[0]["signature"],
            connect_endpoint.secret
            if "account" in json.loads(received[0]["body"])
            else platform_endpoint.secret,
        )
        assert "account" not in by_customer[on_platform.id]
        assert len(received) == 2
    finally:
        client.v1.webhook_endpoints.delete(connect_endpoint.id)
        client.v1.webhook_endpoints.delete(platform_endpoint.id)


def test_failed_deliveries_are_retried_until_the_endpoint_recovers(
    client: stripe.StripeClient, stripe_base_url: str, receiver: WebhookReceiver
) -> None:
    receiver.fail_first = 2
    endpoint = _endpoint(client, receiver.url, ["product.created"])
    try:
        product = client.v1.products.create(params={"name": "Retry me"})
        received = receiver.wait_for(lambda got: len(got) >= 1)
        event = stripe.Webhook.construct_event(
            received[0]["body"], received[0]["signature"], endpoint.secret
        )
        assert event.data.object.id == product.id
        assert receiver.statuses[:3] == [500, 500, 200]
        # The receiver records the body before its 200 reaches the server: wait until the
        # server has booked the outcome of that last attempt.
        assert local(stripe_base_url, "/_local/webhooks/wait", {"timeout": 10})["idle"]
        deliveries = local(stripe_base_url, f"/_local/webhooks/deliveries?event={event.id}")["data"]
        assert deliveries[0]["status"] == "succeeded"
        assert [a["status_code"] for a in deliveries[0]["attempts"]] == [500, 500, 200]
        assert client.v1.events.retrieve(event.id).pending_webhooks == 0
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def test_paused_webhooks_are_dropped_but_events_stay_listed(
    client: stripe.StripeClient, stripe_base_url: str, receiver: WebhookReceiver
) -> None:
    endpoint = _endpoint(client, receiver.url, ["coupon.created"])
    try:
        local(stripe_base_url, "/_local/webhooks/pause", {})
        dropped = client.v1.coupons.create(params={"percent_off": 10, "duration": "once"})
        local(stripe_base_url, "/_local/webhooks/resume", {})
        delivered = client.v1.coupons.create(params={"percent_off": 20, "duration": "once"})
        received = receiver.wait_for(lambda got: len(got) >= 1)
        local(stripe_base_url, "/_local/webhooks/wait", {"timeout": 2})
        ids = [json.loads(r["body"])["data"]["object"]["id"] for r in receiver.received]
        assert ids == [delivered.id] and received
        listed = client.v1.events.list(params={"type": "coupon.created", "limit": 10})
        assert dropped.id in [e.data.object.id for e in listed.data]
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def test_events_list_filters_by_type(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "evt@example.com"})
    client.v1.customers.update(customer.id, params={"name": "Eve"})
    updated = client.v1.events.list(params={"type": "customer.updated", "limit": 5}).data
    assert updated[0].data.object.id == customer.id
    assert updated[0].data.previous_attributes["name"] is None
    assert updated[0]["request"]["id"].startswith("req_")
    wildcard = client.v1.events.list(params={"type": "customer.*", "limit": 5}).data
    assert {e.type for e in wildcard} <= {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "customer.tax_id.created",  # other tests of the session add VAT numbers
        "customer.tax_id.updated",
        "customer.tax_id.deleted",
    }
