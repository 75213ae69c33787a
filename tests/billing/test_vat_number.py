"""The VAT number on the billing page: a Stripe tax id (`eu_vat`) on the platform customer,
printed on the invoices made afterwards (`customer_tax_ids`, the hosted page and its PDF)."""

from __future__ import annotations

import pytest
import requests

from tests.billing.conftest import advance

pytestmark = pytest.mark.django_db

DETAILS = {
    "name": "Yoga Alpha SARL",
    "line1": "1 rue de la Paix",
    "line2": "",
    "postal_code": "75002",
    "city": "Paris",
    "country": "FR",
}


def _vat_ids(stripe_client, row) -> list[tuple[str, str]]:
    listed = stripe_client.v1.customers.tax_ids.list(row.stripe_customer_id).data
    return [(t.type, t.value) for t in listed]


def test_the_vat_number_goes_on_the_customer_and_on_the_next_invoice(
    subscribed, stripe_client, clock
) -> None:
    client, row = subscribed
    saved = client.post("/billing/details/", {**DETAILS, "vat_number": "fr 40 303 265 045"})
    assert saved.status_code == 302
    assert _vat_ids(stripe_client, row) == [("eu_vat", "FR40303265045")]
    assert 'value="FR40303265045"' in client.get("/billing/").content.decode()
    first = stripe_client.v1.customers.tax_ids.list(row.stripe_customer_id).data[0].id
    # The same number again: nothing changes in Stripe (the tax id is kept, not re-created).
    assert (
        client.post("/billing/details/", {**DETAILS, "vat_number": "FR40303265045"}).status_code
        == 302
    )
    assert [t.id for t in stripe_client.v1.customers.tax_ids.list(row.stripe_customer_id).data] == [
        first
    ]

    advance(stripe_client, clock, 32 * 86_400)  # the renewal invoice

    renewal = stripe_client.v1.invoices.list({"customer": row.stripe_customer_id, "limit": 1}).data[
        0
    ]
    assert renewal.billing_reason == "subscription_cycle"
    assert [(t.type, t.value) for t in renewal.customer_tax_ids] == [("eu_vat", "FR40303265045")]
    page = requests.get(renewal.hosted_invoice_url, timeout=10).text
    assert "VAT: FR40303265045" in page and "Billed to: Yoga Alpha SARL" in page


def test_a_new_number_replaces_the_old_one_and_an_empty_one_removes_it(
    subscribed, stripe_client
) -> None:
    client, row = subscribed
    client.post("/billing/details/", {**DETAILS, "vat_number": "FR40303265045"})
    client.post("/billing/details/", {**DETAILS, "vat_number": "DE123456789"})
    assert _vat_ids(stripe_client, row) == [("eu_vat", "DE123456789")]
    client.post("/billing/details/", {**DETAILS, "vat_number": ""})
    assert _vat_ids(stripe_client, row) == []


def test_a_malformed_number_is_a_form_error_and_changes_nothing(subscribed, stripe_client) -> None:
    client, row = subscribed
    before = stripe_client.v1.customers.retrieve(row.stripe_customer_id).name
    page = client.post("/billing/details/", {**DETAILS, "name": "Changed", "vat_number": "12345"})
    assert page.status_code == 400
    assert "with its country prefix" in page.content.decode()
    # Shaped like one but refused by Stripe (no such member state): the field says so, and the
    # name and address are not saved without it.
    refused = client.post(
        "/billing/details/", {**DETAILS, "name": "Changed", "vat_number": "US123456789"}
    )
    assert refused.status_code == 400
    assert "Stripe does not accept this VAT number" in refused.content.decode()
    assert stripe_client.v1.customers.retrieve(row.stripe_customer_id).name == before
    assert _vat_ids(stripe_client, row) == []
