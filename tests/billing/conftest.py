"""Billing fixtures: a local Stripe server for the session and settings pointing at it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import stripe
from django.core.management import call_command

from billing.mirror import mirror
from billing.models import SubscriptionStatus, TenantSubscription
from billing.subscriptions import subscription_refresh, trial_start
from stripe_local.server import serve_in_thread
from stripe_local.testing import TEST_RETRY_DELAYS, local, make_client
from tests.factories import member_client

SECRET_KEY = "sk_test_CreneauBillingTests00000000001"


@pytest.fixture(scope="session")
def stripe_base_url() -> Iterator[str]:
    base_url, stop = serve_in_thread(retry_delays=TEST_RETRY_DELAYS)
    yield base_url
    stop()


@pytest.fixture(autouse=True)
def stripe_settings(settings, stripe_base_url):
    """Every test starts with an empty local Stripe."""
    local(stripe_base_url, "/_local/reset", {})
    settings.STRIPE_API_BASE = stripe_base_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return settings


@pytest.fixture
def stripe_client(stripe_base_url: str) -> stripe.StripeClient:
    return make_client(stripe_base_url)


@pytest.fixture
def clock(stripe_client):
    return stripe_client.v1.test_helpers.test_clocks.create({"frozen_time": int(time.time())})


@pytest.fixture
def subscribed(stripe_client, clock, tenant_alpha, owner_alpha):
    """Alpha on the Studio plan, monthly, paid by card, its customer on a test clock."""
    call_command("billing_sync_plans")
    customer = stripe_client.v1.customers.create(
        {
            "name": tenant_alpha.name,
            "test_clock": clock.id,
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    mirror("Customer", customer)  # as customer_ensure does
    TenantSubscription.objects.update_or_create(
        tenant=tenant_alpha, defaults={"stripe_customer_id": customer.id}
    )
    trial_start(tenant=tenant_alpha)
    client = member_client(tenant_alpha, owner_alpha, verified=True)
    row = TenantSubscription.objects.get(tenant=tenant_alpha)
    sub = stripe_client.v1.subscriptions.retrieve(row.stripe_subscription_id)
    studio = stripe_client.v1.prices.list({"lookup_keys": ["creneau_studio_monthly"]}).data[0]
    stripe_client.v1.subscriptions.update(
        sub.id,
        {
            "items": [{"id": sub["items"].data[0].id, "price": studio.id}],
            "trial_end": "now",
            "proration_behavior": "none",
        },
    )
    subscription_refresh(tenant=tenant_alpha)
    row.refresh_from_db()
    assert row.status == SubscriptionStatus.ACTIVE and row.plan.code == "studio"
    return client, row


def advance(stripe_client, clock, seconds: int) -> None:
    """Move a Stripe test clock forward (and with it the subscriptions of its customers)."""
    current = stripe_client.v1.test_helpers.test_clocks.retrieve(clock.id).frozen_time
    stripe_client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": current + seconds})
