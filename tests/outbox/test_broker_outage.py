"""The outbox with a real Redis broker killed (SIGKILL) and restarted: after-commit work written
in the same transaction is handed to Celery by the sweep once the broker is back; nothing is lost
and nothing is done twice.

A private `redis-server` on a free port is the broker, so the machine's Redis (other tests, other
checkouts) is never touched; a real Celery worker thread consumes it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from connect_payments.models import StripeEvent, StripeEventOutcome
from notifications.emails import SEND_TASK
from outbox.models import OutboxMessage
from outbox.services import outbox_backlog, outbox_sweep
from saas_platform.celery import app
from scheduling.models import Booking, NotificationLog, NotificationStatus, SchedulingSettings
from scheduling.services.bookings import booking_confirm
from scheduling.services.customers import customer_upsert
from stripe_local.app.webhooks import sign
from stripe_local.server import serve_in_thread
from stripe_local.testing import TEST_RETRY_DELAYS, make_client
from tenants.models import Tenant
from tests.processes import PrivateRedis, reset_broker_pool, wait_for
from tests.scheduling.conftest import build_catalogue
from tests.scheduling.test_notifications import TEN_AM, hold

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def broker(committed_db, settings) -> Iterator[PrivateRedis]:
    """Celery pointed at a private Redis (not eager), restored afterwards."""
    server = PrivateRedis()
    server.start()
    queue = f"outbox-{uuid.uuid4().hex[:8]}"
    keys = ("task_always_eager", "broker_url", "result_backend", "task_default_queue")
    previous = {key: app.conf[key] for key in keys}
    app.conf.update(
        task_always_eager=False,
        broker_url=server.url,
        result_backend=server.url,
        task_default_queue=queue,
        # Fail fast while the broker is down (the default retries the publish three times).
        broker_connection_timeout=1,
    )
    reset_broker_pool(app)
    settings.OUTBOX_GRACE_SECONDS = 0
    # Rows left open by earlier tests (eager runs that raised Retry, for bookings since deleted)
    # would be handed to this worker too: only this test's rows may be due.
    OutboxMessage.objects.filter(done_at__isnull=True).update(done_at=timezone.now())
    try:
        yield server
    finally:
        app.conf.update(previous)
        reset_broker_pool(app)
        if server.process and server.process.poll() is None:
            server.kill()


@contextmanager
def worker(queue: str) -> Iterator[None]:
    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=[queue]
    ):
        yield


@pytest.fixture
def alpha_bookings(committed_db) -> Iterator[dict]:
    """A committed catalogue and four customers in tenant alpha, removed afterwards."""
    tenant = Tenant.objects.get(slug="alpha")
    with tenant_context(tenant):
        had_settings = SchedulingSettings.objects.exists()
        catalogue = build_catalogue()
        customers = [
            customer_upsert(name=f"Outage {n}", email=f"outage-{uuid.uuid4().hex[:6]}@example.test")
            for n in range(4)
        ]
    yield {"tenant": tenant, "catalogue": catalogue, "customers": customers}
    with tenant_context(tenant):
        NotificationLog.objects.filter(booking__customer__in=customers).delete()
        Booking.objects.filter(customer__in=customers).delete()
        for customer in customers:
            customer.delete()
        catalogue["service"].delete()
        catalogue["ada"].delete()
        catalogue["ben"].delete()
        if not had_settings:
            SchedulingSettings.objects.all().delete()
    OutboxMessage.objects.filter(task_name=SEND_TASK, schema_name=tenant.schema_name).delete()


def test_confirmations_made_while_redis_is_dead_are_sent_once_when_it_returns(
    broker, alpha_bookings
):
    tenant, catalogue = alpha_bookings["tenant"], alpha_bookings["catalogue"]
    before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    broker.kill()
    bookings = []
    with tenant_context(tenant):
        for hour, customer in enumerate(alpha_bookings["customers"]):
            start = TEN_AM.replace(hour=9 + 2 * hour)  # 60 min and a 15-minute buffer
            bookings.append(booking_confirm(booking=hold(catalogue, customer, start)))
    connection.set_schema_to_public()
    assert all(b.status == "confirmed" for b in bookings), "the outage broke a booking"
    rows = OutboxMessage.objects.filter(
        pk__gt=before, task_name=SEND_TASK, schema_name=tenant.schema_name
    )  # booking ids are reused by earlier tests' schemas: only rows written now
    assert sorted(r.args[0] for r in rows) == sorted(b.pk for b in bookings)
    assert all(r.dispatched_at is None and r.last_error for r in rows), "handed to a dead broker?"
    assert outbox_backlog()["overdue"] >= 4
    assert mail.outbox == []

    broker.start()  # same port: the app's broker URL is unchanged
    with worker(app.conf.task_default_queue):
        assert outbox_sweep() >= 4
        assert wait_for(lambda: len(mail.outbox) >= 4)
        assert wait_for(lambda: not rows.filter(done_at__isnull=True).exists())
        # A row handed again (as after a lost message) sends nothing more: one email per booking.
        again = rows.first()
        OutboxMessage.objects.filter(pk=again.pk).update(done_at=None, dispatched_at=None)
        assert outbox_sweep() >= 1
        assert wait_for(lambda: rows.get(pk=again.pk).done_at is not None)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(c.email for c in alpha_bookings["customers"])
    with tenant_context(tenant):
        logs = NotificationLog.objects.filter(booking__in=bookings)
        assert [log.status for log in logs] == [NotificationStatus.SENT] * 4
        assert {log.attempts for log in logs} == {1}


@pytest.fixture
def local_stripe(settings) -> Iterator[str]:
    base_url, stop = serve_in_thread(retry_delays=TEST_RETRY_DELAYS)
    settings.STRIPE_API_BASE = base_url
    settings.STRIPE_SECRET_KEY = "sk_test_CreneauOutboxTests00000000001"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_WEBHOOK_SECRET = "whsec_outage_test"
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = ""
    yield base_url
    stop()


def test_a_webhook_received_while_redis_is_dead_is_processed_once_when_it_returns(
    broker, local_stripe, settings
):
    account = make_client(local_stripe, api_key=settings.STRIPE_SECRET_KEY).v1.accounts.create(
        params={"type": "express", "country": "FR"}
    )
    event_id = f"evt_outage{uuid.uuid4().hex[:10]}"
    body = json.dumps({
        "id": event_id, "object": "event", "type": "account.updated", "api_version": "2024-06-20",
        "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
        "data": {"object": {"id": account.id, "object": "account"}},
    })  # fmt: skip
    broker.kill()
    try:
        response = Client().post(
            "/stripe/webhook/", body, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, settings.STRIPE_WEBHOOK_SECRET),
            HTTP_HOST="localhost",
        )  # fmt: skip
        assert response.status_code == 200, response.content  # Stripe must not redeliver forever
        stored = StripeEvent.objects.get(event_id=event_id)
        assert stored.outcome == StripeEventOutcome.RECEIVED and stored.processed_at is None
        [row] = OutboxMessage.objects.filter(task_name__endswith="process_stripe_event",
                                             args=[stored.pk])  # fmt: skip
        assert row.dispatched_at is None

        broker.start()
        with worker(app.conf.task_default_queue):
            assert outbox_sweep() >= 1
            processed = wait_for(lambda: StripeEvent.objects.get(pk=stored.pk).processed_at)
            assert processed, StripeEvent.objects.get(pk=stored.pk).error
            assert wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).done_at is not None)
        stored.refresh_from_db()
        assert stored.attempts == 1  # processed once
        assert stored.outcome in (StripeEventOutcome.PROCESSED, StripeEventOutcome.IGNORED)
    finally:
        for event in StripeEvent.objects.filter(event_id=event_id):
            OutboxMessage.objects.filter(args=[event.pk]).delete()
            event.delete()
