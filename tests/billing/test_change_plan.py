"""Changing plan on the "Plan and billing" page, against a running local Stripe with a test
clock: an upgrade charges at once exactly the previewed proration; a downgrade waits for the
period end (the renewal is billed at the lower price) and is refused over the lower plan's
limits; the portal link and the billing details reach the Stripe customer."""

from __future__ import annotations

import html
import re

import pytest
import requests
from django_tenants.utils import tenant_context

from billing.models import Plan
from billing.subscriptions import subscription_refresh
from common.money import Money, format_money
from scheduling.models import StaffMember
from tests.billing.conftest import advance

pytestmark = pytest.mark.django_db
DAY = 86_400


def _field(body: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


def _amount_shown(body: str) -> str:
    match = re.search(r'id="confirm-amount">([^<]+)<', body)
    assert match
    return html.unescape(match.group(1)).split(" at ")[0]


def test_upgrade_charges_now_exactly_the_previewed_proration(
    subscribed, stripe_client, clock, tenant_alpha
):
    client, row = subscribed
    advance(stripe_client, clock, 10 * DAY)  # a third of the month used
    page = client.post("/billing/change/", {"plan": "pro", "interval": "month"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Charged now" in body
    before = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id).latest_invoice

    done = client.post("/billing/change/confirm/", {"token": _field(body, "token")})
    assert done.status_code == 302

    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert sub.latest_invoice != before
    invoice = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.billing_reason == "subscription_update" and invoice.status == "paid"
    # a prorated difference: more than nothing, less than a full month of the difference
    assert 0 < invoice.amount_paid < 9900 - 4900
    assert _amount_shown(body) == format_money(Money(invoice.amount_paid, "EUR"))
    row.refresh_from_db()
    assert row.plan.code == "pro"
    assert Plan.objects.get(code="pro") == type(tenant_alpha).objects.get(pk=tenant_alpha.pk).plan


def test_downgrade_waits_for_the_period_end(subscribed, stripe_client, clock, tenant_alpha):
    client, row = subscribed
    page = client.post("/billing/change/", {"plan": "starter", "interval": "month"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "From the end of the current period" in body
    assert _amount_shown(body) == format_money(Money(1900, "EUR"))
    client.post("/billing/change/confirm/", {"token": _field(body, "token")})

    row.refresh_from_db()
    assert row.plan.code == "studio"  # still Studio until the renewal
    assert "the Starter plan, monthly" in client.get("/billing/").content.decode()
    first = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id).latest_invoice

    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    schedule = stripe_client.v1.subscription_schedules.retrieve(sub.schedule)
    assert schedule.end_behavior == "release" and len(schedule.phases) == 2
    advance(stripe_client, clock, 25 * DAY)
    subscription_refresh(tenant=tenant_alpha)  # what the customer.subscription.* handler runs
    row.refresh_from_db()
    assert row.plan.code == "studio"
    advance(stripe_client, clock, 6 * DAY)  # past the period end
    subscription_refresh(tenant=tenant_alpha)
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    renewal = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert renewal.id != first
    assert renewal.billing_reason == "subscription_cycle"
    assert renewal.amount_due == 1900  # no proration credit, the lower price from the renewal
    row.refresh_from_db()
    assert row.plan.code == "starter"


def test_downgrade_refused_over_the_lower_plans_limit(subscribed, stripe_client, tenant_alpha):
    client, row = subscribed
    with tenant_context(tenant_alpha):
        StaffMember.objects.all().delete()
        for n in range(8):
            StaffMember.objects.create(display_name=f"Staff {n}", is_active=True)
    page = client.post("/billing/change/", {"plan": "starter", "interval": "month"})
    assert page.status_code == 400
    assert "You have 8 active staff members; the Starter plan allows 3." in page.content.decode()
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert not (sub.metadata or {}).get("pending_plan")


def test_keeping_the_plan_releases_the_schedule(subscribed, stripe_client, clock, tenant_alpha):
    client, row = subscribed
    body = client.post("/billing/change/", {"plan": "starter", "interval": "month"}).content
    client.post("/billing/change/confirm/", {"token": _field(body.decode(), "token")})
    assert client.post("/billing/change/cancel/").status_code == 302
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert sub.schedule is None
    advance(stripe_client, clock, 31 * DAY)
    subscription_refresh(tenant=tenant_alpha)
    row.refresh_from_db()
    assert row.plan.code == "studio"
    renewal = stripe_client.v1.invoices.retrieve(
        stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id).latest_invoice
    )
    assert renewal.amount_due == 4900


def test_an_upgrade_replaces_a_scheduled_downgrade(subscribed, stripe_client, tenant_alpha):
    client, row = subscribed
    body = client.post("/billing/change/", {"plan": "starter", "interval": "month"}).content
    client.post("/billing/change/confirm/", {"token": _field(body.decode(), "token")})
    body = client.post("/billing/change/", {"plan": "pro", "interval": "month"}).content
    assert client.post("/billing/change/confirm/", {"token": _field(body.decode(), "token")})
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    assert sub.schedule is None
    assert sub["items"].data[0].price.lookup_key == "creneau_pro_monthly"
    row.refresh_from_db()
    assert row.plan.code == "pro"


def test_same_plan_is_a_form_error(subscribed):
    client, _ = subscribed
    page = client.post("/billing/change/", {"plan": "studio", "interval": "month"})
    assert page.status_code == 400
    assert "already on the Studio plan" in page.content.decode()


def test_portal_button_redirects_to_a_stripe_portal_session(
    subscribed, stripe_client, stripe_base_url
):
    client, row = subscribed
    response = client.post("/billing/portal/")
    assert response.status_code == 302
    session_id = response["Location"].split("/_local/portal/")[1].split("/")[0]
    assert response["Location"].startswith(f"{stripe_base_url}/_local/portal/bps_")
    page = requests.get(response["Location"], timeout=10)
    assert page.status_code == 200 and session_id
    assert client.get("/billing/portal/").status_code == 405


def test_billing_details_go_on_the_stripe_customer(subscribed, stripe_client):
    client, row = subscribed
    data = {
        "name": "Yoga Alpha SARL",
        "line1": "1 rue de la Paix",
        "line2": "",
        "postal_code": "75002",
        "city": "Paris",
        "country": "fr",
    }
    assert client.post("/billing/details/", data).status_code == 302
    customer = stripe_client.v1.customers.retrieve(row.stripe_customer_id)
    assert customer.name == "Yoga Alpha SARL"
    assert customer.address.city == "Paris" and customer.address.country == "FR"
    bad = client.post("/billing/details/", {**data, "country": "France"})
    assert bad.status_code == 400
    assert "two-letter country code" in bad.content.decode()
