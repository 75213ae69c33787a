"""Customer tax ids (/v1/customers/{id}/tax_ids) through the official SDK: create, list,
retrieve, delete, Stripe's refusal of a malformed VAT number, the object's shape from Stripe's
fixture, the events, and the ids printed on invoices made afterwards (`customer_tax_ids`)."""

from __future__ import annotations

import json

import pytest
import stripe

from stripe_local.shapes import fixtures
from stripe_local.testing import raw
from tests.stripe_local.test_shapes import assert_same_shape


@pytest.fixture
def customer(client: stripe.StripeClient) -> stripe.Customer:
    return client.v1.customers.create({"name": "Studio Zen", "email": "owner@zen.test"})


def test_create_list_retrieve_and_delete(client, customer) -> None:
    created = client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "de 123 456 789"}
    )
    assert created.id.startswith("txi_")
    assert (created.type, created.value, created.country) == ("eu_vat", "DE123456789", "DE")
    assert created.customer == customer.id and created.verification.status == "pending"
    greek = client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "EL094259216"}
    )
    assert greek.country == "GR"

    listed = client.v1.customers.tax_ids.list(customer.id)
    assert [t.id for t in listed.data] == [greek.id, created.id]  # newest first
    assert client.v1.customers.tax_ids.retrieve(customer.id, created.id).value == "DE123456789"

    deleted = client.v1.customers.tax_ids.delete(customer.id, created.id)
    assert deleted.deleted is True and deleted.id == created.id
    assert [t.id for t in client.v1.customers.tax_ids.list(customer.id).data] == [greek.id]
    with pytest.raises(stripe.InvalidRequestError) as gone:
        client.v1.customers.tax_ids.retrieve(customer.id, created.id)
    assert gone.value.code == "resource_missing"


@pytest.mark.parametrize(
    ("kind", "value"),
    [("eu_vat", "DE1"), ("eu_vat", "US123456789"), ("eu_vat", "DE 123!456"),
     ("gb_vat", "GB12")],
)  # fmt: skip
def test_a_malformed_number_is_refused_as_stripe_does(client, customer, kind, value) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.customers.tax_ids.create(customer.id, {"type": kind, "value": value})
    assert refused.value.code == "tax_id_invalid" and refused.value.param == "value"
    assert client.v1.customers.tax_ids.list(customer.id).data == []


def test_another_customers_tax_id_is_not_found(client, customer) -> None:
    other = client.v1.customers.create({"name": "Other"})
    theirs = client.v1.customers.tax_ids.create(
        other.id, {"type": "eu_vat", "value": "FR40303265045"}
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.tax_ids.retrieve(customer.id, theirs.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.tax_ids.delete(customer.id, theirs.id)
    assert client.v1.customers.tax_ids.list(customer.id).data == []


def test_the_shape_is_stripes(client, customer, stripe_base_url) -> None:
    created = client.v1.customers.tax_ids.create(
        customer.id, {"type": "eu_vat", "value": "DE123456789"}
    )
    status, _headers, body = raw(stripe_base_url, "GET",
                                 f"/v1/customers/{customer.id}/tax_ids/{created.id}",
                                 headers={"Authorization": "Bearer sk_test_shape"})  # fmt: skip
    assert status == 200
    assert_same_shape(body, fixtures()["tax_id"], "", True, "tax_id")


def test_events_and_the_ids_on_invoices_made_afterwards(client, customer, receiver) -> None:
    # Deleted afterwards: the local Stripe server is shared by the session, and an endpoint left
    # pointing at this test's stopped receiver kept retrying every later event (the full run
    # found tests/stripe_local/test_webhooks.py waiting for an idle server in vain).
    endpoint = client.v1.webhook_endpoints.create({"url": receiver.url, "enabled_events": ["*"]})
    try:
        client.v1.customers.tax_ids.create(customer.id, {"type": "eu_vat", "value": "DE123456789"})
        invoice = client.v1.invoices.create({"customer": customer.id})
        assert [(t.type, t.value) for t in invoice.customer_tax_ids] == [("eu_vat", "DE123456789")]
        receiver.wait_for(lambda got: any("customer.tax_id.created" in d["body"] for d in got))
        types = [json.loads(d["body"])["type"] for d in receiver.received]
        assert "customer.tax_id.created" in types
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)
