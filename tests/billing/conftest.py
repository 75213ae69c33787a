"""Billing fixtures: a local Stripe server for the session and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from stripe_local.server import serve_in_thread
from stripe_local.testing import TEST_RETRY_DELAYS, local, make_client

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
