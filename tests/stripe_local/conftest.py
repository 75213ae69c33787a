"""Fixtures for local Stripe tests: one server per session, an SDK client, a webhook receiver.

Built on importable helpers (stripe_local.server, stripe_local.testing) so the server fixture
can move to tests/conftest.py unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from stripe_local.server import serve_in_thread
from stripe_local.testing import TEST_RETRY_DELAYS, WebhookReceiver, make_client, webhook_receiver


@pytest.fixture(scope="session")
def stripe_base_url() -> Iterator[str]:
    base_url, stop = serve_in_thread(retry_delays=TEST_RETRY_DELAYS)
    yield base_url
    stop()


@pytest.fixture
def client(stripe_base_url: str) -> stripe.StripeClient:
    return make_client(stripe_base_url)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as running:
        yield running
