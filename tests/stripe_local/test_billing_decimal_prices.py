"""Prices with fractional minor units (`unit_amount_decimal`, as Stripe documents: "a decimal
value in cents with at most 12 decimal places"): kept exactly, `unit_amount` null when not a
whole number, and line amounts rounded from the exact product, never from a truncated unit.
Also the product feature list that dj-stripe reads when it stores a product."""

from __future__ import annotations

from decimal import Decimal

import pytest
import stripe

from tests.stripe_local.test_billing import _clock_customer


def _price(client: stripe.StripeClient, **amount: str | int) -> stripe.Price:
    product = client.v1.products.create({"name": "API calls"})
    return client.v1.prices.create({
        "product": product.id, "currency": "eur", "recurring": {"interval": "month"}, **amount,
    })  # fmt: skip


def test_a_fractional_unit_amount_is_kept_exactly(client: stripe.StripeClient) -> None:
    price = _price(client, unit_amount_decimal="1234.5678")
    assert price.unit_amount is None  # not a whole number of cents
    assert price.unit_amount_decimal == Decimal("1234.5678")
    again = client.v1.prices.retrieve(price.id)
    assert again.unit_amount_decimal == Decimal("1234.5678")


def test_a_whole_decimal_sets_unit_amount_too(client: stripe.StripeClient) -> None:
    price = _price(client, unit_amount_decimal="2500.000")
    assert price.unit_amount == 2500 and price.unit_amount_decimal == Decimal("2500")


def test_the_invoice_charges_the_rounded_exact_amount(client: stripe.StripeClient) -> None:
    """3 × 12.345678 € = 37.037034 €: 3704 cents (truncating the unit first gave 3702)."""
    price = _price(client, unit_amount_decimal="1234.5678")
    _clock, customer = _clock_customer(client)
    sub = client.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id, "quantity": 3}],
        "expand": ["latest_invoice"],
    })  # fmt: skip
    invoice = sub.latest_invoice
    assert invoice.status == "paid"
    assert (invoice.subtotal, invoice.total, invoice.amount_paid) == (3704, 3704, 3704)
    [line] = invoice.lines.data
    assert line.amount == 3704
    assert line.pricing.unit_amount_decimal == Decimal("1234.5678")


def test_half_a_cent_rounds_up(client: stripe.StripeClient) -> None:
    """101 × 0.5 cent = 50.5 cents: 51 (half-up; the minimum charge is 50)."""
    price = _price(client, unit_amount_decimal="0.5")
    _clock, customer = _clock_customer(client)
    sub = client.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": price.id, "quantity": 101}],
        "expand": ["latest_invoice"],
    })  # fmt: skip
    assert sub.latest_invoice.amount_paid == 51


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ({"unit_amount_decimal": "abc"}, "Invalid decimal: abc"),
        ({"unit_amount_decimal": "-1"}, "Invalid decimal: -1"),
        ({"unit_amount_decimal": "0.1234567890123"}, "at most 12 decimal places"),
        ({"unit_amount": 100, "unit_amount_decimal": "100"}, "only specify one of"),
        ({}, "Missing required param: unit_amount"),
    ],
)
def test_bad_decimal_amounts_are_refused(client: stripe.StripeClient, amount, message) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _price(client, **amount)
    assert message in str(refused.value)


def test_a_products_feature_list_exists_and_is_empty(client: stripe.StripeClient) -> None:
    """dj-stripe reads it each time it stores a product (it answered 404 before)."""
    product = client.v1.products.create({"name": "Studio plan"})
    assert client.v1.products.features.list(product.id).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.features.list("prod_missing")
