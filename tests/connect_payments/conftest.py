"""Payment fixtures: a local Stripe server for the session, settings pointing at it, an onboarded
connected account for alpha, a fee plan, and a webhook endpoint whose signed deliveries (sent by
local Stripe over HTTP) are relayed to the platform host's webhook view."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.models import Plan
from connect_payments.models import ConnectedAccount
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from scheduling.models import BookingStatus, Service
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert
from stripe_local.server import serve_in_thread
from stripe_local.testing import (
    TEST_RETRY_DELAYS,
    WebhookReceiver,
    local,
    make_client,
    onboarded_account,
    webhook_receiver,
)
from tests.factories import client_for
from tests.scheduling.conftest import build_catalogue, paris

SECRET_KEY = "sk_test_CreneauPaymentsTests0000000001"
PUBLISHABLE_KEY = "pk_test_CreneauPaymentsTests0000000001"
TEN_AM = paris(2030, 6, 4, 10)


@pytest.fixture(scope="session")
def stripe_base_url() -> Iterator[str]:
    base_url, stop = serve_in_thread(retry_delays=TEST_RETRY_DELAYS)
    yield base_url
    stop()


@pytest.fixture(autouse=True)
def stripe_settings(settings, stripe_base_url):
    """Every test starts with an empty local Stripe (no accounts, keys, endpoints or faults)."""
    local(stripe_base_url, "/_local/reset", {})
    settings.STRIPE_API_BASE = stripe_base_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_WEBHOOK_SECRET = "whsec_not_registered"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    settings.STRIPE_JS_URL = ""
    return settings


@pytest.fixture
def sdk(stripe_base_url) -> stripe.StripeClient:
    return make_client(stripe_base_url, api_key=SECRET_KEY)


@pytest.fixture
def fee_plan(tenant_alpha) -> Plan:
    """2.5 % + 0.25 on every payment of alpha."""
    plan = Plan.objects.create(
        code="pay-tests",
        name="Pay tests",
        monthly_price_minor=0,
        fee_basis_points=250,
        fee_fixed_minor=25,
    )
    tenant_alpha.plan = plan
    tenant_alpha.save(update_fields=["plan"])
    return plan


@pytest.fixture
def alpha_account(tenant_alpha, sdk, stripe_base_url, fee_plan) -> ConnectedAccount:
    """Alpha's Express account, onboarded in local Stripe and mapped with charges enabled."""
    account_id = onboarded_account(sdk, stripe_base_url)
    return ConnectedAccount.objects.create(
        tenant=tenant_alpha,
        account_id=account_id,
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
    )


@pytest.fixture
def alpha(tenant_alpha):
    with tenant_context(tenant_alpha):
        yield tenant_alpha


def in_schema(tenant) -> None:
    """Back in the tenant's schema after a request to another host switched the connection."""
    connection.set_tenant(tenant)


@pytest.fixture
def catalogue(alpha):
    """Scheduling's catalogue (Ada, Ben, a 60-minute massage at 45.00), paid online in full."""
    built = build_catalogue()
    Service.objects.filter(pk=built["service"].pk).update(payment_mode="online_full")
    built["service"].refresh_from_db()
    return built


@pytest.fixture
def customer(alpha):
    return customer_upsert(name="Chloé Client", email="chloe@example.test")


def hold_now(service, customer, *, starts_at=TEN_AM, staff_id=None, hold_minutes_ago=0):
    """A hold made with the real clock (its expiry is real); `hold_minutes_ago` back-dates it."""
    now = timezone.now() - timedelta(minutes=hold_minutes_ago)
    return booking_hold(
        service=service, starts_at=starts_at, customer=customer, staff_id=staff_id, now=now
    )


# ---------------------------------------------------------------------------
# Webhooks: a real endpoint in local Stripe, deliveries relayed to our view
# ---------------------------------------------------------------------------
class Webhooks:
    def __init__(self, receiver: WebhookReceiver, sdk: stripe.StripeClient, base_url: str):
        self.receiver = receiver
        self.sdk = sdk
        self.base_url = base_url
        self.platform = client_for(None)

    def deliveries(self, event_type: str, object_id: str, timeout: float = 10.0) -> list[dict]:
        """Signed deliveries of `event_type` about `object_id`, as local Stripe sent them."""

        def matching(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
            found = []
            for delivery in received:
                event = json.loads(delivery["body"])
                obj = event["data"]["object"]
                if event["type"] == event_type and object_id in (
                    obj.get("id"),
                    obj.get("payment_intent"),
                    event.get("account"),
                ):
                    found.append(delivery)
            return found

        self.receiver.wait_for(lambda received: bool(matching(received)), timeout=timeout)
        found = matching(self.receiver.received)
        assert found, f"no {event_type} delivery for {object_id}"
        return found

    def relay(self, delivery: dict, *, captured) -> Any:
        """POST a delivery's exact body and signature to /stripe/webhook/ on the platform host;
        `captured` is pytest-django's django_capture_on_commit_callbacks (runs the task)."""
        with captured(execute=True):
            response = self.platform.post(
                "/stripe/webhook/",
                delivery["body"],
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=delivery["signature"],
            )
        return response


@pytest.fixture
def webhooks(settings, sdk, stripe_base_url) -> Iterator[Webhooks]:
    with webhook_receiver() as receiver:
        platform = sdk.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"]}
        )
        connect = sdk.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"], "connect": True}
        )
        settings.STRIPE_WEBHOOK_SECRET = platform.secret
        settings.STRIPE_CONNECT_WEBHOOK_SECRET = connect.secret
        try:
            yield Webhooks(receiver, sdk, stripe_base_url)
        finally:
            sdk.v1.webhook_endpoints.delete(platform.id)
            sdk.v1.webhook_endpoints.delete(connect.id)
            local(stripe_base_url, "/_local/webhooks/wait", {"timeout": 5})


@pytest.fixture
def paid(alpha_account, catalogue, customer, sdk):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    payment = booking_payment_on_return(booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    return booking, payment
