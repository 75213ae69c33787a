"""Operators create and retire plans in the console (issue #12, against a running local Stripe).

A new plan gets its Stripe Product and Prices at once and is on sale; a retired plan is no longer
offered to businesses or operators' moves, its Prices are archived (Stripe then refuses them for a
new subscription), and the business already on it keeps it: its subscription renews on the
archived Price. Putting it back on sale switches the same Prices back on. Bad input changes
nothing; the default plan cannot be retired; every change is audited; only operators."""

from __future__ import annotations

import pytest
import stripe
from django.core.management import call_command

from billing.catalogue import plan_product_id, price_lookup_key
from billing.models import Plan, TenantSubscription
from billing.subscriptions import subscription_refresh
from tenants.models import AuditEntry
from tests.billing.conftest import advance
from tests.factories import client_for, make_user, member_client, signed_in

pytestmark = pytest.mark.django_db
DAY = 86_400


@pytest.fixture
def console(db):
    operator = make_user(name="Olga Operator", is_operator=True)
    return signed_in(client_for(), operator, schema="public", verified=True)


def new_plan_form(**changes) -> dict:
    data = {
        "code": "solo", "currency": "eur", "name": "Solo", "monthly_price_minor": 900,
        "yearly_price_minor": 9000, "staff_seats_included": 1, "extra_seat_price_minor": 0,
        "max_staff": 1, "max_group_sessions": "", "fee_basis_points": 200, "fee_fixed_minor": 0,
        "display_order": 5, "reason": "A plan for people working alone",
    }  # fmt: skip
    data.update(changes)
    return data


def test_a_created_plan_is_in_stripe_and_on_sale(console, stripe_client, tenant_alpha, owner_alpha):
    assert console.get("/console/plans/new/").status_code == 200
    created = console.post("/console/plans/new/", new_plan_form())
    assert created.status_code == 302
    plan = Plan.objects.get(code="solo")
    assert (plan.currency, plan.monthly_price_minor, plan.retired_at) == ("EUR", 900, None)
    product = stripe_client.v1.products.retrieve(plan_product_id(plan))
    assert product.active and product.name == "Solo"
    for interval, amount in (("month", 900), ("year", 9000)):
        price = stripe_client.v1.prices.list({"lookup_keys": [price_lookup_key(plan, interval)]})
        assert [(p.unit_amount, p.currency, p.active) for p in price.data] == [
            (amount, "eur", True)
        ]
    entry = AuditEntry.objects.get(action="billing.plan_created")
    assert entry.reason == "A plan for people working alone"
    assert entry.data["plan"] == "solo" and entry.data["fields"]["monthly_price_minor"] == 900
    listed = console.get("/console/plans/").content.decode()
    assert "Solo" in listed and "On sale" in listed
    # A business can choose it.

    page = member_client(tenant_alpha, owner_alpha, verified=True).get("/billing/")
    assert 'value="solo"' in page.content.decode()


@pytest.mark.parametrize(
    "bad",
    [
        {"code": "starter"},  # exists
        {"code": "new"},  # the page's own address
        {"code": "two words"},
        {"currency": "EURO"},
        {"currency": "€1"},
        {"reason": ""},
        {"monthly_price_minor": -5},
        {"fee_basis_points": 6000},
    ],
)
def test_bad_new_plans_are_form_errors_that_create_nothing(console, stripe_client, bad):
    before = Plan.objects.count()
    refused = console.post("/console/plans/new/", new_plan_form(**bad))
    assert refused.status_code == 400, bad
    assert Plan.objects.count() == before
    assert stripe_client.v1.products.list({"limit": 100}).data == []
    assert not AuditEntry.objects.filter(action="billing.plan_created").exists()


def test_a_retired_plan_keeps_its_subscriber_renewing_and_is_offered_to_nobody(
    console, subscribed, stripe_client, clock, tenant_alpha, owner_alpha
):
    client, row = subscribed  # alpha on Studio, monthly, paid by card
    studio = Plan.objects.get(code="studio")
    price_id = (
        stripe_client.v1.prices.list({"lookup_keys": [price_lookup_key(studio, "month")]})
        .data[0]
        .id
    )

    done = console.post("/console/plans/studio/retire/", {"reason": "Replaced by Pro"})
    assert done.status_code == 302
    studio.refresh_from_db()
    assert studio.retired_at is not None
    assert not stripe_client.v1.prices.retrieve(price_id).active
    assert not stripe_client.v1.products.retrieve(plan_product_id(studio)).active
    entry = AuditEntry.objects.get(action="billing.plan_retired")
    assert entry.reason == "Replaced by Pro" and entry.data == {
        "plan": "studio",
        "businesses_on_it": 1,
    }

    # Stripe takes the archived Price for no new subscription.
    customer = stripe_client.v1.customers.create({"payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError, match="inactive"):
        stripe_client.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"price": price_id}]}
        )

    # The business keeps it and is told; it cannot be chosen again.
    page = client.get("/billing/").content.decode()
    assert 'id="billing-plan-retired"' in page and 'value="studio"' not in page
    refused = client.post("/billing/change/", {"plan": "studio", "interval": "year"})
    assert refused.status_code == 400
    # Nor can an operator move another business onto it.
    moved = console.post(
        f"/console/tenants/{tenant_alpha.slug}/billing/plan/",
        {"plan": "studio", "interval": "year", "reason": "test"},
        follow=True,
    )
    assert "Choose a plan on sale." in moved.content.decode()
    assert TenantSubscription.objects.get(pk=row.pk).interval == row.interval

    # The subscription renews on the archived Price.
    advance(stripe_client, clock, 32 * DAY)
    subscription = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert subscription.status == "active"
    assert subscription["items"].data[0].price.id == price_id
    invoices = stripe_client.v1.invoices.list({"subscription": subscription.id}).data
    renewal = [i for i in invoices if i.billing_reason == "subscription_cycle"]
    assert renewal and renewal[0].status == "paid"
    assert renewal[0].lines.data[0].pricing.price_details.price == price_id
    subscription_refresh(tenant=tenant_alpha)
    assert TenantSubscription.objects.get(pk=row.pk).plan.code == "studio"

    # Back on sale: the same Prices switched back on, no new one.
    assert console.post("/console/plans/studio/restore/", {"reason": "Back"}).status_code == 302
    studio.refresh_from_db()
    assert studio.retired_at is None
    found = stripe_client.v1.prices.list({"lookup_keys": [price_lookup_key(studio, "month")]})
    assert [(p.id, p.active) for p in found.data] == [(price_id, True)]
    assert 'value="studio"' in client.get("/billing/").content.decode()
    assert AuditEntry.objects.filter(action="billing.plan_restored").count() == 1


def test_the_default_plan_cannot_be_retired_and_a_reason_is_required(console, stripe_client):
    call_command("billing_sync_plans")
    default = Plan.objects.get(is_default=True)
    console.post(f"/console/plans/{default.code}/retire/", {"reason": "try"})
    assert Plan.objects.get(pk=default.pk).retired_at is None
    console.post("/console/plans/pro/retire/", {"reason": ""})
    assert Plan.objects.get(code="pro").retired_at is None
    assert console.post("/console/plans/pro/explode/", {"reason": "x"}).status_code == 404
    assert console.get("/console/plans/pro/retire/").status_code == 405
    assert not AuditEntry.objects.filter(action__startswith="billing.plan_r").exists()
    key = price_lookup_key(Plan.objects.get(code="pro"), "month")
    assert stripe_client.v1.prices.list({"lookup_keys": [key]}).data[0].active


def test_only_operators_create_or_retire(db, stripe_client):
    owner = make_user(name="Not An Operator")
    client = signed_in(client_for(), owner, schema="public", verified=True)
    assert client.post("/console/plans/new/", new_plan_form()).status_code == 404
    assert client.post("/console/plans/pro/retire/", {"reason": "x"}).status_code == 404
    assert not Plan.objects.filter(code="solo").exists()
    assert Plan.objects.get(code="pro").retired_at is None
