"""Invoice previews and subscription changes on test clocks: upgrades with prorations, seats,
interval changes, cancel at period end (and undo), coupons."""

from __future__ import annotations

import time

import pytest
import stripe

DAY = 86400


def _price(client: stripe.StripeClient, amount: int, interval: str = "month") -> stripe.Price:
    product = client.v1.products.create(params={"name": f"Plan {amount}"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": interval},
        }
    )


def _customer(client: stripe.StripeClient) -> tuple[stripe.test_helpers.TestClock, str]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    return clock, customer.id


def _advance(client: stripe.StripeClient, clock: stripe.test_helpers.TestClock, days: int) -> None:
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + days * DAY}
    )


def test_upgrade_preview_with_always_invoice_equals_what_the_update_charges(
    client: stripe.StripeClient,
) -> None:
    basic, pro = _price(client, 1900), _price(client, 4900)
    clock, customer = _customer(client)
    sub = client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": basic.id}]}
    )
    item = sub["items"].data[0]
    _advance(client, clock, 10)
    moment = clock.frozen_time + 10 * DAY
    preview = client.v1.invoices.create_preview(
        params={
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": item.id, "price": pro.id}],
                "proration_behavior": "always_invoice",
                "proration_date": moment,
            },
        }
    )
    prorations = [
        line for line in preview.lines.data if line.parent.subscription_item_details.proration
    ]
    assert len(prorations) == 2 and sorted(line.amount > 0 for line in prorations) == [False, True]
    assert preview.subtotal == preview.total == preview.amount_due > 0
    assert preview.amount_due < 4900 - 1900 and preview.total_taxes == []
    assert client.v1.invoices.list(params={"subscription": sub.id}).data[0].id != preview.id
    updated = client.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": item.id, "price": pro.id}],
            "proration_behavior": "always_invoice",
            "proration_date": moment,
            "expand": ["latest_invoice"],
        },
    )
    assert updated.latest_invoice.billing_reason == "subscription_update"
    assert updated.latest_invoice.amount_paid == preview.amount_due
    assert updated.latest_invoice.status == "paid"


def test_renewal_preview_shows_pending_prorations_and_new_seats(
    client: stripe.StripeClient,
) -> None:
    plan, seat = _price(client, 2900), _price(client, 500)
    clock, customer = _customer(client)
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer,
            "items": [{"price": plan.id}, {"price": seat.id, "quantity": 2}],
        }
    )
    seats = sub["items"].data[1]
    _advance(client, clock, 15)
    client.v1.subscriptions.update(sub.id, params={"items": [{"id": seats.id, "quantity": 4}]})
    preview = client.v1.invoices.create_preview(
        params={"customer": customer, "subscription": sub.id}
    )
    pending = client.v1.invoice_items.list(params={"customer": customer, "pending": True}).data
    assert preview.billing_reason == "subscription_cycle"
    assert preview.subtotal == 2900 + 4 * 500 + sum(i.amount for i in pending)
    _advance(client, clock, 32)
    renewal = client.v1.invoices.list(params={"subscription": sub.id, "limit": 1}).data[0]
    assert renewal.billing_reason == "subscription_cycle" and renewal.subtotal == preview.subtotal
    no_proration = client.v1.invoices.create_preview(
        params={
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": seats.id, "quantity": 1}],
                "proration_behavior": "none",
            },
        }
    )
    assert no_proration.subtotal == 2900 + 500


def test_monthly_to_yearly_resets_the_period_and_invoices_at_once(
    client: stripe.StripeClient,
) -> None:
    monthly, yearly = _price(client, 2900), _price(client, 29000, "year")
    clock, customer = _customer(client)
    sub = client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": monthly.id}]}
    )
    item = sub["items"].data[0]
    _advance(client, clock, 10)
    change = {"items": [{"id": item.id, "price": yearly.id}]}
    preview = client.v1.invoices.create_preview(
        params={"subscription": sub.id, "subscription_details": change}
    )
    updated = client.v1.subscriptions.update(
        sub.id, params={**change, "expand": ["latest_invoice"]}
    )
    now = clock.frozen_time + 10 * DAY
    assert updated["items"].data[0].current_period_start == now
    assert updated.latest_invoice.amount_paid == preview.amount_due
    assert 29000 - 2900 < preview.amount_due < 29000


def test_cancel_at_period_end_undo_and_cancel_on_the_clock(client: stripe.StripeClient) -> None:
    plan = _price(client, 2900)
    clock, customer = _customer(client)
    sub = client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plan.id}]}
    )
    end = sub["items"].data[0].current_period_end
    canceling = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert canceling.cancel_at == end and canceling.status == "active"
    undone = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": False})
    assert undone.cancel_at is None and undone.cancel_at_period_end is False
    client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    _advance(client, clock, 40)
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled" and ended.ended_at == end
    assert len(client.v1.invoices.list(params={"subscription": sub.id}).data) == 1
    deleted = client.v1.events.list(params={"type": "customer.subscription.deleted"}).data
    assert sub.id in [e.data.object.id for e in deleted]


@pytest.mark.parametrize("style", ["discounts", "coupon"])
def test_full_coupon_gives_zero_invoices_paid_automatically(
    client: stripe.StripeClient, style: str
) -> None:
    plan = _price(client, 2900)
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(params={"test_clock": clock.id})
    coupon = client.v1.coupons.create(params={"percent_off": 100, "duration": "forever"})
    given = (
        {"discounts": [{"coupon": coupon.id}]} if style == "discounts" else {"coupon": coupon.id}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": plan.id}], **given}
    )
    assert sub.status == "active"
    preview = client.v1.invoices.create_preview(params={"subscription": sub.id})
    assert preview.subtotal == 2900 and preview.amount_due == 0
    _advance(client, clock, 35)
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert len(invoices) == 2
    assert all(i.status == "paid" and i.amount_due == 0 and i.subtotal == 2900 for i in invoices)


def test_preview_of_a_new_subscription_and_bad_input(client: stripe.StripeClient) -> None:
    plan = _price(client, 2900)
    _clock, customer = _customer(client)
    coupon = client.v1.coupons.create(params={"percent_off": 50, "duration": "once"})
    preview = client.v1.invoices.create_preview(
        params={
            "customer": customer,
            "subscription_details": {"items": [{"price": plan.id, "quantity": 2}]},
            "discounts": [{"coupon": coupon.id}],
        }
    )
    assert preview.billing_reason == "subscription_create"
    assert preview.subtotal == 5800 and preview.total == 2900
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 0
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.create_preview(params={})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.create_preview(params={"subscription": "sub_missing"})


def test_a_bad_item_refuses_the_whole_update(client: stripe.StripeClient) -> None:
    plan, seat = _price(client, 2900), _price(client, 500)
    _clock, customer = _customer(client)
    sub = client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": plan.id}, {"price": seat.id}]}
    )
    seats = sub["items"].data[1]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(
            sub.id,
            params={"items": [{"id": seats.id, "quantity": 5}, {"price": "price_missing"}]},
        )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(
            sub.id,
            params={
                "items": [
                    {"id": sub["items"].data[0].id, "deleted": True},
                    {"id": seats.id, "deleted": True},
                ]
            },
        )
    unchanged = client.v1.subscriptions.retrieve(sub.id)
    assert [i.quantity for i in unchanged["items"].data] == [1, 1]
    assert client.v1.invoice_items.list(params={"customer": customer, "pending": True}).data == []
