"""Subscriptions sold for a connected account (destination charges): the platform's customer, the
connected account in `transfer_data[destination]`, the platform fee as `application_fee_percent`.
Every paid invoice (first, renewal) transfers its total less the fee; renewals, failures, dunning
and cancellation at period end run on test clocks. Real local Stripe over HTTP, official SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from stripe_local.testing import local, onboarded_account

DAY = 86400


@pytest.fixture
def account(client: stripe.StripeClient, stripe_base_url: str) -> str:
    return onboarded_account(client, stripe_base_url)


@pytest.fixture
def cancel_when_dunning_ends(stripe_base_url: str) -> Iterator[None]:
    """Stripe's "cancel the subscription" final dunning action (the server's default is
    mark_unpaid), restored afterwards for the other tests."""
    local(stripe_base_url, "/_local/config", {"dunning_final_action": "cancel"})
    yield
    local(stripe_base_url, "/_local/config", {"dunning_final_action": "mark_unpaid"})


def _monthly_price(client: stripe.StripeClient, amount: int = 4900) -> stripe.Price:
    product = client.v1.products.create(params={"name": "Unlimited yoga"})
    return client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "unit_amount": amount,
            "recurring": {"interval": "month"},
        }
    )


def _clocked_customer(client: stripe.StripeClient) -> tuple[str, str]:
    clock = client.v1.test_helpers.test_clocks.create(params={"frozen_time": int(time.time())})
    customer = client.v1.customers.create(
        params={"email": "member@example.com", "test_clock": clock.id}
    )
    return clock.id, customer.id


def _join(
    client: stripe.StripeClient, customer: str, price: str, account: str, **extra: Any
) -> stripe.Subscription:
    """Join as the widget does: default_incomplete, then confirm the first invoice's
    PaymentIntent with the card (here a test PaymentMethod instead of the Payment Element)."""
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer,
            "items": [{"price": price}],
            "payment_behavior": "default_incomplete",
            "payment_settings": {"save_default_payment_method": "on_subscription"},
            "transfer_data": {"destination": account},
            "application_fee_percent": 10,
            "metadata": {"tenant_schema": "zen"},
            "expand": ["latest_invoice.confirmation_secret"],
            **extra,
        }
    )
    assert sub.status == "incomplete"
    secret = sub.latest_invoice.confirmation_secret.client_secret
    client.v1.payment_intents.confirm(
        secret.split("_secret_")[0], params={"payment_method": "pm_card_visa"}
    )
    return client.v1.subscriptions.retrieve(sub.id)


def _charge_of(client: stripe.StripeClient, invoice_id: str) -> stripe.Charge:
    invoice = client.v1.invoices.retrieve(invoice_id, params={"expand": ["payments"]})
    intent_id = invoice.payments.data[0].payment.payment_intent
    intent = client.v1.payment_intents.retrieve(intent_id)
    return client.v1.charges.retrieve(intent.latest_charge)


def _transfer_of(client: stripe.StripeClient, charge_id: str) -> stripe.Transfer:
    [transfer] = [
        t
        for t in client.v1.transfers.list(params={"limit": 100}).data
        if t.source_transaction == charge_id
    ]
    return transfer


def _events(client: stripe.StripeClient, event_type: str, sub_id: str) -> list[stripe.Event]:
    found = client.v1.events.list(params={"type": event_type, "limit": 100}).data
    return [
        e
        for e in found
        if (e.data.object.get("parent") or {}).get("subscription_details", {}).get("subscription")
        == sub_id
    ]


def test_first_invoice_pays_the_connected_account_less_the_platform_fee(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 4900)
    _, customer = _clocked_customer(client)
    sub = _join(client, customer, price.id, account)
    assert sub.status == "active"
    assert sub.transfer_data.destination == account and sub.application_fee_percent == 10
    invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "paid" and invoice.amount_paid == 4900
    charge = _charge_of(client, invoice.id)
    intent = client.v1.payment_intents.retrieve(charge.payment_intent)
    assert intent.application_fee_amount == 490
    assert intent.transfer_data.destination == account
    assert client.v1.application_fees.retrieve(charge.application_fee).amount == 490
    assert _transfer_of(client, charge.id).amount == 4900 - 490
    balance = client.v1.balance.retrieve(options={"stripe_account": account})
    assert sum(b.amount for b in balance.pending) + sum(b.amount for b in balance.available) == (
        4410
    )
    # The card that paid the first invoice pays the renewals.
    assert sub.default_payment_method == intent.payment_method


def test_joining_fee_is_billed_on_the_first_invoice_only(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 3000)
    clock, customer = _clocked_customer(client)
    sub = _join(
        client,
        customer,
        price.id,
        account,
        add_invoice_items=[
            {"price_data": {"currency": "eur", "product": price.product, "unit_amount": 1500}}
        ],
    )
    first = client.v1.invoices.retrieve(sub.latest_invoice)
    assert first.amount_paid == 4500 and len(first.lines.data) == 2
    charge = _charge_of(client, first.id)
    assert _transfer_of(client, charge.id).amount == 4500 - 450
    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": end + 3600})
    renewal = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert renewal.billing_reason == "subscription_cycle" and renewal.amount_paid == 3000


def test_renewal_on_the_test_clock_pays_again_and_sends_invoice_paid_for_the_cycle(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 4900)
    clock, customer = _clocked_customer(client)
    sub = _join(client, customer, price.id, account)
    first_end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": first_end + 3600})
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "active"
    assert sub["items"].data[0].current_period_start == first_end
    paid = _events(client, "invoice.paid", sub.id)
    reasons = sorted(e.data.object.billing_reason for e in paid)
    assert reasons == ["subscription_create", "subscription_cycle"]
    renewal = next(
        e.data.object for e in paid if e.data.object.billing_reason != "subscription_create"
    )
    assert renewal.id == sub.latest_invoice
    assert renewal.lines.data[0].period.start == first_end
    charge = _charge_of(client, renewal.id)
    assert client.v1.application_fees.retrieve(charge.application_fee).amount == 490
    assert _transfer_of(client, charge.id).amount == 4410


def test_failed_renewal_goes_past_due_and_a_new_card_pays_it(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 4900)
    clock, customer = _clocked_customer(client)
    sub = _join(client, customer, price.id, account)
    declining = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer}
    )
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": declining.id})
    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": end + 3600})
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "past_due"
    failed = _events(client, "invoice.payment_failed", sub.id)
    assert [e.data.object.id for e in failed] == [sub.latest_invoice]
    # The customer fixes the card (a SetupIntent confirmed through the Payment Element), the
    # platform makes it the subscription's default and pays the open invoice.
    setup = client.v1.setup_intents.create(
        params={"customer": customer, "usage": "off_session", "payment_method_types": ["card"]}
    )
    setup = client.v1.setup_intents.confirm(setup.id, params={"payment_method": "pm_card_visa"})
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": setup.payment_method})
    invoice = client.v1.invoices.pay(sub.latest_invoice, params={})
    assert invoice.status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    charge = _charge_of(client, invoice.id)
    assert _transfer_of(client, charge.id).amount == 4410


@pytest.mark.usefixtures("cancel_when_dunning_ends")
def test_dunning_ends_in_cancellation_when_every_retry_fails(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 4900)
    clock, customer = _clocked_customer(client)
    sub = _join(client, customer, price.id, account)
    declining = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer}
    )
    client.v1.subscriptions.update(sub.id, params={"default_payment_method": declining.id})
    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": end + 16 * DAY})
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled"
    assert sub.cancellation_details.reason == "payment_failed"
    assert len(_events(client, "invoice.payment_failed", sub.id)) == 4
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "uncollectible"


def test_cancel_at_period_end_ends_the_subscription_without_another_invoice(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 4900)
    clock, customer = _clocked_customer(client)
    sub = _join(client, customer, price.id, account)
    end = sub["items"].data[0].current_period_end
    sub = client.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})
    assert sub.cancel_at_period_end and sub.cancel_at == end and sub.status == "active"
    client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": end + 3600})
    sub = client.v1.subscriptions.retrieve(sub.id)
    assert sub.status == "canceled" and sub.ended_at == end
    assert [e.data.object.billing_reason for e in _events(client, "invoice.paid", sub.id)] == [
        "subscription_create"
    ]


def test_transfer_amount_percent_sends_that_share(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 3333)
    _, customer = _clocked_customer(client)
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer,
            "items": [{"price": price.id}],
            "payment_behavior": "default_incomplete",
            "transfer_data": {"destination": account, "amount_percent": 87.5},
            "expand": ["latest_invoice.confirmation_secret"],
        }
    )
    secret = sub.latest_invoice.confirmation_secret.client_secret
    client.v1.payment_intents.confirm(
        secret.split("_secret_")[0], params={"payment_method": "pm_card_visa"}
    )
    charge = _charge_of(client, sub.latest_invoice.id)
    assert _transfer_of(client, charge.id).amount == 2916  # 3333 × 87.5 % = 2916.375


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"application_fee_percent": 10}, "application_fee_percent"),
        ({"application_fee_percent": 100.5, "transfer_data": {}}, "application_fee_percent"),
        ({"application_fee_percent": "1.234", "transfer_data": {}}, "application_fee_percent"),
        ({"transfer_data": {"destination": "acct_unknown"}}, "transfer_data[destination]"),
        (
            {"application_fee_percent": 5, "transfer_data": {"amount_percent": 90}},
            "application_fee_percent",
        ),
    ],
)
def test_connect_parameters_are_checked_like_stripe(
    client: stripe.StripeClient, account: str, params: dict[str, Any], param: str
) -> None:
    price = _monthly_price(client)
    _, customer = _clocked_customer(client)
    if "transfer_data" in params and "destination" not in params["transfer_data"]:
        params = {**params, "transfer_data": {**params["transfer_data"], "destination": account}}
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscriptions.create(
            params={
                "customer": customer,
                "items": [{"price": price.id}],
                "payment_behavior": "default_incomplete",
                **params,
            }
        )
    assert error.value.param == param
    assert client.v1.subscriptions.list(params={"customer": customer}).data == []


def test_fee_percent_can_change_for_the_next_invoices(
    client: stripe.StripeClient, account: str
) -> None:
    price = _monthly_price(client, 4000)
    clock, customer = _clocked_customer(client)
    sub = _join(client, customer, price.id, account)
    client.v1.subscriptions.update(sub.id, params={"application_fee_percent": 2.5})
    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock, params={"frozen_time": end + 3600})
    renewal = client.v1.subscriptions.retrieve(sub.id).latest_invoice
    charge = _charge_of(client, renewal)
    assert client.v1.application_fees.retrieve(charge.application_fee).amount == 100
    assert _transfer_of(client, charge.id).amount == 3900
