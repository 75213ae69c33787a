"""Failed renewals on test clocks: past_due, retries 3/5/7 days apart, unpaid (the default final
action), paying after a card change, invoice.upcoming, and the hosted invoice page and PDF."""

from __future__ import annotations

import time
import urllib.request

import stripe

DAY = 86400


def _types(client: stripe.StripeClient, object_id: str) -> list[str]:
    events = client.v1.events.list(params={"limit": 100}).data
    return [e.type for e in reversed(events) if e.data.object.get("id") == object_id]


def test_declined_renewal_retries_then_goes_unpaid_and_recovers_after_a_card_change(
    client: stripe.StripeClient,
) -> None:
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
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    assert sub.status == "active"
    period_end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": period_end - 6 * DAY}
    )
    upcoming = client.v1.events.list(params={"type": "invoice.upcoming", "limit": 20}).data
    mine = [e for e in upcoming if e.data.object.parent.subscription_details.subscription == sub.id]
    assert len(mine) == 1 and mine[0].data.object.amount_due == 2900
    declining = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer.id}
    )
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": declining.id}}
    )
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": period_end + 3600})
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    invoice = sub.latest_invoice
    assert sub.status == "past_due" and invoice.status == "open"
    assert invoice.attempt_count == 1 and invoice.next_payment_attempt == period_end + 3 * DAY
    types = _types(client, invoice.id)
    assert {"invoice.created", "invoice.finalized", "invoice.payment_failed"} <= set(types)
    for days, attempts in ((3, 2), (8, 3)):
        client.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": period_end + days * DAY + 3600}
        )
        invoice = client.v1.invoices.retrieve(invoice.id)
        assert invoice.attempt_count == attempts and invoice.status == "open"
        assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": period_end + 15 * DAY + 3600}
    )
    invoice = client.v1.invoices.retrieve(invoice.id)
    assert invoice.attempt_count == 4 and invoice.next_payment_attempt is None
    assert invoice.status == "open"
    assert client.v1.subscriptions.retrieve(sub.id).status == "unpaid"
    with urllib.request.urlopen(invoice.hosted_invoice_url, timeout=10) as page:
        assert invoice.number in page.read().decode()
    with urllib.request.urlopen(invoice.invoice_pdf, timeout=10) as pdf:
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.read().startswith(b"%PDF-")
    card = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": card.id}}
    )
    paid = client.v1.invoices.pay(invoice.id)
    assert paid.status == "paid" and paid.amount_paid == 2900
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert "invoice.paid" in _types(client, invoice.id)
