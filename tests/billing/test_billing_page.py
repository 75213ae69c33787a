"""The back office's "Plan and billing" page: owners with a verified second factor only, the
trial's days left, the banners, and only this tenant's invoices."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.mirror import mirror
from billing.models import SubscriptionStatus, TenantSubscription
from billing.subscriptions import trial_start
from tests.factories import make_member, member_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def trials(stripe_client, tenant_alpha, tenant_beta):
    call_command("billing_sync_plans")
    return trial_start(tenant=tenant_alpha), trial_start(tenant=tenant_beta)


def test_owner_with_second_factor_sees_plan_and_days_left(trials, tenant_alpha, owner_alpha):
    page = member_client(tenant_alpha, owner_alpha, verified=True).get("/billing/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Starter" in body and "Trial" in body
    assert "14 days left" in body
    assert 'id="billing-banner"' not in body


def test_only_an_owner_with_a_second_factor_reaches_billing(trials, tenant_alpha, owner_alpha):
    unverified = member_client(tenant_alpha, owner_alpha, verified=False).get("/billing/")
    assert unverified.status_code == 302
    # sent to set up a second factor, then back here
    assert unverified["Location"] == "/account/two_factor/setup/?next=%2Fbilling%2F"
    for role in ("manager", "front_desk", "staff"):
        member = make_member(tenant_alpha, role)
        assert (
            member_client(tenant_alpha, member, verified=True).get("/billing/").status_code == 403
        )


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (SubscriptionStatus.PAST_DUE, "Your last Creneau payment failed"),
        (SubscriptionStatus.PAUSED, "Online booking is paused"),
        (SubscriptionStatus.UNPAID, "Online booking is paused"),
    ],
)
def test_banners_for_past_due_and_paused(trials, tenant_alpha, owner_alpha, status, text):
    TenantSubscription.objects.filter(tenant=tenant_alpha).update(status=status)
    body = member_client(tenant_alpha, owner_alpha, verified=True).get("/billing/").content
    assert text in body.decode()


def test_tenant_a_never_sees_tenant_b_invoices(
    trials, stripe_client, tenant_alpha, owner_alpha, tenant_beta, owner_beta
):
    _, beta = trials
    invoice = stripe_client.v1.invoices.create({"customer": beta.stripe_customer_id})
    mirror("Invoice", invoice)

    alpha_page = member_client(tenant_alpha, owner_alpha, verified=True).get("/billing/")
    beta_page = member_client(tenant_beta, owner_beta, verified=True).get("/billing/")

    assert invoice.id not in alpha_page.content.decode()
    assert "No invoices yet." in alpha_page.content.decode()
    assert (invoice.number or invoice.id) in beta_page.content.decode()
