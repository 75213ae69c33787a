"""The customer portal: configurations, sessions, and the stand-in page's forms over HTTP
(card update paying an open invoice, cancel at period end and undo, CSRF, expiry)."""

from __future__ import annotations

import html
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import stripe

DAY = 86400


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _post(url: str, fields: dict[str, str]) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), method="POST"
    )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", ""), error.read().decode()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return html.unescape(found.group(1))


def _past_due(client: stripe.StripeClient) -> tuple[stripe.Customer, stripe.Subscription]:
    product = client.v1.products.create(params={"name": "Studio plan"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": 2900,
            "recurring": {"interval": "month"},
        }
    )
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "email": "owner@example.com",
            "test_clock": clock.id,
            "payment_method": "pm_card_chargeCustomerFail",
            "invoice_settings": {"default_payment_method": "pm_card_chargeCustomerFail"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}], "trial_period_days": 3}
    )
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 4 * DAY}
    )
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    return customer, sub


def test_configurations_create_retrieve_list_and_session_urls(
    client: stripe.StripeClient,
) -> None:
    config = client.v1.billing_portal.configurations.create(
        params={
            "features": {
                "invoice_history": {"enabled": True},
                "payment_method_update": {"enabled": True},
                "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
            },
            "default_return_url": "https://example.com/billing",
        }
    )
    assert config.id.startswith("bpc_") and config.features.subscription_cancel.enabled is True
    assert client.v1.billing_portal.configurations.retrieve(config.id).id == config.id
    listed = client.v1.billing_portal.configurations.list(params={"limit": 100}).data
    assert config.id in [c.id for c in listed]
    customer = client.v1.customers.create(params={"email": "p@example.com"})
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "configuration": config.id}
    )
    assert session.return_url == "https://example.com/billing"
    assert "Return to the site" in _get(session.url)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create(params={"customer": "cus_missing"})
    with urllib.request.urlopen(session.url, timeout=10):
        pass
    wrong = session.url.rsplit("/", 1)[0] + "/not-the-secret"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(wrong, timeout=10)
    assert missing.value.code == 404


def test_portal_card_update_pays_the_open_invoice_and_cancel_can_be_undone(
    client: stripe.StripeClient,
) -> None:
    customer, sub = _past_due(client)
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "https://example.com/back"}
    )
    page = _get(session.url)
    assert "past_due" in page and "Invoice history" in page
    status, _, body = _post(session.url, {"action": "card", "number": "4242424242424242"})
    assert status == 403
    token = _csrf(page)
    status, _, body = _post(
        session.url,
        {"csrf": token, "action": "card", "number": "4242424242424241", "expiry": "12/40"},
    )
    assert status == 400 and "incorrect" in body
    status, location, _ = _post(
        session.url,
        {"csrf": token, "action": "card", "number": "4242 4242 4242 4242", "expiry": "12 / 40"},
    )
    assert status == 303 and location.startswith(session.url)
    customer = client.v1.customers.retrieve(customer.id)
    card = client.v1.payment_methods.retrieve(customer.invoice_settings.default_payment_method)
    assert card.card.last4 == "4242" and card.customer == customer.id
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active" and sub.latest_invoice.status == "paid"
    paid = client.v1.events.list(params={"type": "invoice.paid", "limit": 20}).data
    assert sub.latest_invoice.id in [e.data.object.id for e in paid]
    assert "1 open invoice(s) paid" in _get(location)
    status, _, _ = _post(session.url, {"csrf": token, "action": "cancel", "sub": sub.id})
    assert status == 303
    canceling = client.v1.subscriptions.retrieve(sub.id)
    assert canceling.cancel_at_period_end is True and canceling.status == "active"
    assert "Cancels on" in _get(session.url)
    _post(session.url, {"csrf": token, "action": "renew", "sub": sub.id})
    assert client.v1.subscriptions.retrieve(sub.id).cancel_at_period_end is False
    updates = client.v1.events.list(
        params={"type": "customer.subscription.updated", "limit": 10}
    ).data
    assert any(
        e.data.object.id == sub.id and "cancel_at_period_end" in e.data.previous_attributes
        for e in updates
    )
