"""Billing: products, prices, coupons, subscriptions, invoices and test clocks with dunning."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import stripe

from stripe_local.testing import local

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


def _clock_customer(
    client: stripe.StripeClient, pm: str = "pm_card_visa"
) -> tuple[stripe.test_helpers.TestClock, stripe.Customer]:
    clock = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": int(time.time()), "name": "billing"}
    )
    customer = client.v1.customers.create(
        params={"email": "sub@example.com", "test_clock": clock.id}
    )
    method = client.v1.payment_methods.attach(pm, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return clock, customer


def test_products_prices_coupons_and_promotion_codes(client: stripe.StripeClient) -> None:
    product = client.v1.products.create(
        params={"name": "Massage", "default_price_data": {"currency": "eur", "unit_amount": 6000}}
    )
    assert product.default_price.startswith("price_")
    one_time = client.v1.prices.retrieve(product.default_price)
    assert one_time.type == "one_time" and one_time.recurring is None
    assert client.v1.products.update(product.id, params={"active": False}).active is False
    coupon = client.v1.coupons.create(
        params={"percent_off": 25, "duration": "repeating", "duration_in_months": 3}
    )
    promo = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "ZEN25"}
    )
    assert promo.id.startswith("promo_") and promo.promotion.coupon == coupon.id
    assert client.v1.promotion_codes.list(params={"code": "ZEN25"}).data[0].id == promo.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.delete(product.id)


def test_a_lookup_key_moves_to_a_new_price_only_when_transferred(
    client: stripe.StripeClient,
) -> None:
    product = client.v1.products.create(params={"name": "Plan"})
    recurring = {"interval": "month"}
    old = client.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount": 1900,
                "recurring": recurring, "lookup_key": "plan_monthly"}
    )  # fmt: skip
    with pytest.raises(stripe.InvalidRequestError, match="already uses that lookup key"):
        client.v1.prices.create(
            params={"product": product.id, "currency": "eur", "unit_amount": 2400,
                    "recurring": recurring, "lookup_key": "plan_monthly"}
        )  # fmt: skip
    new = client.v1.prices.create(
        params={"product": product.id, "currency": "eur", "unit_amount": 2400,
                "recurring": recurring, "lookup_key": "plan_monthly",
                "transfer_lookup_key": True}
    )  # fmt: skip

    found = client.v1.prices.list(params={"lookup_keys": ["plan_monthly"]}).data
    assert [p.id for p in found] == [new.id]
    kept = client.v1.prices.retrieve(old.id)
    assert kept.lookup_key is None and kept.unit_amount == 1900 and kept.active is True


def test_subscription_charges_immediately_and_applies_a_promotion_code(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    _clock, customer = _clock_customer(client)
    coupon = client.v1.coupons.create(
        params={"amount_off": 900, "currency": "eur", "duration": "once"}
    )
    promo = client.v1.promotion_codes.create(
        params={"promotion": {"type": "coupon", "coupon": coupon.id}}
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id, "quantity": 2}],
            "discounts": [{"promotion_code": promo.id}],
            "expand": ["latest_invoice"],
        }
    )
    assert sub.status == "active"
    assert sub["items"].data[0].quantity == 2
    invoice = sub.latest_invoice
    assert invoice.status == "paid" and invoice.subtotal == 5800 and invoice.amount_paid == 4900
    assert client.v1.coupons.retrieve(coupon.id).times_redeemed == 1


def test_trial_ends_and_subscription_renews_on_the_test_clock(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock, customer = _clock_customer(client)
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 14,
        }
    )
    assert sub.status == "trialing" and sub.trial_end - sub.trial_start == 14 * DAY
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 15 * DAY}
    )
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active" and sub.latest_invoice.amount_paid == 2900
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 50 * DAY}
    )
    invoices = client.v1.invoices.list(params={"subscription": sub.id, "limit": 10}).data
    assert [i.billing_reason for i in invoices] == [
        "subscription_cycle",
        "subscription_cycle",
        "subscription_create",
    ]
    assert all(i.status == "paid" for i in invoices)
    types = {e.type for e in client.v1.events.list(params={"limit": 100}).data}
    assert "customer.subscription.trial_will_end" in types


@pytest.fixture
def cancel_when_retries_fail(stripe_base_url: str) -> Iterator[None]:
    """The Dashboard setting "cancel the subscription" after the last failed retry."""
    local(stripe_base_url, "/_local/config", {"dunning_final_action": "cancel"})
    yield
    local(stripe_base_url, "/_local/config", {"dunning_final_action": "mark_unpaid"})


@pytest.mark.usefixtures("cancel_when_retries_fail")
def test_failing_card_goes_past_due_then_retries_then_cancels(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock, customer = _clock_customer(client, "pm_card_chargeCustomerFail")
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 7,
        }
    )
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 8 * DAY}
    )
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "past_due"
    assert sub.latest_invoice.status == "open" and sub.latest_invoice.attempt_count == 1
    assert sub.latest_invoice.next_payment_attempt == clock.frozen_time + 7 * DAY + 3 * DAY
    assert client.v1.customers.retrieve(customer.id).delinquent is True
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 30 * DAY}
    )
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "canceled"
    assert sub.latest_invoice.attempt_count == 4 and sub.latest_invoice.status == "uncollectible"


def test_past_due_subscription_recovers_when_the_invoice_is_paid(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock, customer = _clock_customer(client, "pm_card_chargeCustomerFail")
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id}],
            "trial_period_days": 3,
        }
    )
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 4 * DAY}
    )
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    with pytest.raises(stripe.CardError):
        client.v1.invoices.pay(sub.latest_invoice)
    paid = client.v1.invoices.pay(sub.latest_invoice, params={"payment_method": "pm_card_visa"})
    assert paid.status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"


def test_default_incomplete_subscription_is_paid_through_its_confirmation_secret(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    customer = client.v1.customers.create(params={"email": "inc@example.com"})
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id}],
            "payment_behavior": "default_incomplete",
            "expand": ["latest_invoice.confirmation_secret"],
        }
    )
    assert sub.status == "incomplete"
    secret = sub.latest_invoice.confirmation_secret.client_secret
    intent_id = secret.split("_secret_")[0]
    client.v1.payment_intents.confirm(intent_id, params={"payment_method": "pm_card_visa"})
    sub = client.v1.subscriptions.retrieve(sub.id, params={"expand": ["latest_invoice"]})
    assert sub.status == "active" and sub.latest_invoice.status == "paid"


def test_incomplete_subscription_expires_after_23_hours(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock, customer = _clock_customer(client)
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price.id}],
            "payment_behavior": "default_incomplete",
        }
    )
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + DAY}
    )
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"


def test_quantity_change_prorates_into_the_next_invoice(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock, customer = _clock_customer(client)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price.id}]}
    )
    item = sub["items"].data[0]
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 10 * DAY}
    )
    updated = client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": item.id, "quantity": 3}]}
    )
    assert updated["items"].data[0].quantity == 3
    pending = client.v1.invoice_items.list(params={"customer": customer.id, "pending": True}).data
    assert sorted(i.amount > 0 for i in pending) == [False, True] and all(
        i.proration for i in pending
    )
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 32 * DAY}
    )
    invoice = client.v1.invoices.list(params={"subscription": sub.id, "limit": 1}).data[0]
    assert invoice.billing_reason == "subscription_cycle"
    assert invoice.subtotal == 3 * 2900 + sum(i.amount for i in pending)


def test_cancel_at_period_end_and_immediate_cancel(
    client: stripe.StripeClient, monthly_price: stripe.Price
) -> None:
    clock, customer = _clock_customer(client)
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price.id}]}
    )
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sub.cancel_at_period_end is True and sub.status == "active"
    client.v1.test_helpers.test_clocks.advance(
        clock.id, params={"frozen_time": clock.frozen_time + 32 * DAY}
    )
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    other = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price.id}]}
    )
    canceled = client.v1.subscriptions.cancel(other.id)
    assert canceled.status == "canceled" and canceled.ended_at is not None
    assert other.id not in [
        s.id for s in client.v1.subscriptions.list(params={"customer": customer.id}).data
    ]


def test_manual_invoice_draft_finalize_pay_and_void(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "inv@example.com"})
    invoice = client.v1.invoices.create(
        params={"customer": customer.id, "collection_method": "charge_automatically"}
    )
    client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "amount": 4500,
            "currency": "eur",
            "invoice": invoice.id,
            "description": "Workshop",
        }
    )
    invoice = client.v1.invoices.finalize_invoice(invoice.id)
    assert invoice.status == "open" and invoice.amount_due == 4500 and invoice.number
    paid = client.v1.invoices.pay(invoice.id, params={"payment_method": "pm_card_visa"})
    assert paid.status == "paid" and paid.amount_paid == 4500
    other = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 100, "currency": "eur", "invoice": other.id}
    )
    client.v1.invoices.finalize_invoice(other.id)
    assert client.v1.invoices.void_invoice(other.id).status == "void"
    third = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 100, "currency": "eur", "invoice": third.id}
    )
    client.v1.invoices.finalize_invoice(third.id)
    assert client.v1.invoices.mark_uncollectible(third.id).status == "uncollectible"
    lines = client.v1.invoices.line_items.list(paid.id)
    assert lines.data[0].amount == 4500


def test_test_clock_crud(client: stripe.StripeClient) -> None:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": 1_900_000_000})
    assert clock.status == "ready" and clock.id.startswith("clock_")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": 1_800_000_000})
    assert clock.id in [
        c.id for c in client.v1.test_helpers.test_clocks.list(params={"limit": 100}).data
    ]
    assert client.v1.test_helpers.test_clocks.delete(clock.id).deleted is True
