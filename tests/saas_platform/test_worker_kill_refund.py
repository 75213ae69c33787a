"""A real Celery worker process killed with SIGKILL in the middle of executing a refund: after a
new worker takes over, Stripe holds exactly one refund and ours is recorded once (issues #16, #17).

Local Stripe runs in this process behind a relay that lets the refund request through (Stripe
makes the refund) and then holds Stripe's answer, so the kill lands after the money moved and
before the worker recorded it: the worst moment. The next run sends the same idempotency key.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from connect_payments.models import BookingPayment, ConnectedAccount, PaymentRefund, RefundStatus
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from connect_payments.services.refunds import refund_reserve
from connect_payments.tasks import retry_pending_refunds_in_every_tenant
from saas_platform.celery import app
from scheduling.actors import Actor
from scheduling.models import Booking, BookingStatus, SchedulingSettings, Service
from scheduling.services.customers import customer_upsert
from stripe_local.server import serve_in_thread
from stripe_local.testing import TEST_RETRY_DELAYS, make_client, onboarded_account
from tenants.models import Tenant
from tests.connect_payments.conftest import TEN_AM, hold_now
from tests.processes import HoldingRelay, PrivateRedis, WorkerProcess, app_on_broker, wait_for
from tests.scheduling.conftest import build_catalogue

pytestmark = pytest.mark.celery_worker
SECRET_KEY = "sk_test_CreneauWorkerKillRefund0001"
VISIBILITY_SECONDS = 2


@pytest.fixture
def stripe_base(settings) -> Iterator[str]:
    base_url, stop = serve_in_thread(retry_delays=TEST_RETRY_DELAYS)
    settings.STRIPE_API_BASE = base_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield base_url
    stop()


@pytest.fixture
def paid_booking(committed_db, stripe_base) -> Iterator[tuple[Tenant, Booking, BookingPayment]]:
    """A committed booking of alpha paid online through local Stripe, removed afterwards."""
    tenant = Tenant.objects.get(slug="alpha")
    sdk = make_client(stripe_base, api_key=SECRET_KEY)
    account = ConnectedAccount.objects.create(
        tenant=tenant, account_id=onboarded_account(sdk, stripe_base), charges_enabled=True,
        payouts_enabled=True, details_submitted=True,
    )  # fmt: skip
    with tenant_context(tenant):
        had_settings = SchedulingSettings.objects.exists()
        catalogue = build_catalogue()
        Service.objects.filter(pk=catalogue["service"].pk).update(payment_mode="online_full")
        catalogue["service"].refresh_from_db()
        customer = customer_upsert(name="Refund Kill", email=f"rk-{uuid.uuid4().hex[:6]}@x.test")
        booking = hold_now(catalogue["service"], customer, starts_at=TEN_AM)
        payment = booking_payment_start(booking=booking)
        sdk.v1.payment_intents.confirm(
            payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
        )
        payment = booking_payment_on_return(booking=booking)
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CONFIRMED and payment.paid_minor == 4500
    connection.set_schema_to_public()
    yield tenant, booking, payment
    with tenant_context(tenant):
        PaymentRefund.objects.filter(payment__booking=booking).delete()
        BookingPayment.objects.filter(booking=booking).delete()
        Booking.objects.filter(customer=customer).delete()
        customer.delete()
        for name in ("service", "ada", "ben"):
            catalogue[name].delete()
        if not had_settings:
            SchedulingSettings.objects.all().delete()
    account.delete()


def test_worker_killed_mid_refund_the_next_worker_refunds_once(paid_booking, stripe_base):
    tenant, booking, payment = paid_booking
    with tenant_context(tenant), transaction.atomic():
        locked = BookingPayment.objects.select_for_update().get(pk=payment.pk)
        refund = refund_reserve(
            locked, amount_minor=2000, origin="staff", reason="Worker kill test",
            actor=Actor("test"),
        )  # fmt: skip
    connection.set_schema_to_public()
    broker = PrivateRedis()
    broker.start()
    queue = f"refund-{uuid.uuid4().hex[:8]}"
    with (
        HoldingRelay(stripe_base, hold=("POST", "/v1/refunds")) as relay,
        app_on_broker(app, broker.url, queue),
    ):

        def worker() -> WorkerProcess:
            return WorkerProcess(
                broker_url=broker.url, queue=queue, pool="prefork",
                env={"STRIPE_API_BASE": relay.url, "STRIPE_SECRET_KEY": SECRET_KEY,
                     "STRIPE_MAX_NETWORK_RETRIES": "0", "STRIPE_READ_TIMEOUT": "60",
                     "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS)},
            )  # fmt: skip

        first = worker()
        first.start()
        try:
            retry_pending_refunds_in_every_tenant.apply_async()  # what beat sends
            assert relay.holding.wait(90), first.log()
            first.kill()  # Stripe made the refund; the worker never heard back
        finally:
            first.kill()
            relay.release.set()
        with tenant_context(tenant):
            assert PaymentRefund.objects.get(pk=refund.pk).status == RefundStatus.PENDING
        connection.set_schema_to_public()
        time.sleep(VISIBILITY_SECONDS + 0.5)

        second = worker()
        second.start()
        try:

            def recorded() -> bool:
                # The refund's result, then the payment's totals re-read from Stripe (after the
                # Stripe call, in their own transaction): wait for both, not only the first.
                with tenant_context(tenant):
                    status = PaymentRefund.objects.get(pk=refund.pk).status
                    totals = BookingPayment.objects.get(pk=payment.pk).refunded_minor
                connection.set_schema_to_public()
                return status == RefundStatus.SUCCEEDED and totals == 2000

            # The same message comes back (its own beat lock lets it through) and sends the
            # refund again with the same idempotency key.
            assert wait_for(recorded, 90), second.log()
        finally:
            second.kill()
            broker.stop()
        assert relay.seen[("POST", "/v1/refunds")] == 2  # really sent twice...
    refunds = make_client(stripe_base, api_key=SECRET_KEY).v1.refunds.list(
        params={"payment_intent": payment.payment_intent_id}
    )
    assert [r.amount for r in refunds.data] == [2000]  # ...and refunded once
    with tenant_context(tenant):
        payment.refresh_from_db()
        assert payment.refunded_minor == 2000
        assert PaymentRefund.objects.filter(payment=payment).count() == 1
    connection.set_schema_to_public()
