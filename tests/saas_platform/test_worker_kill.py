"""A real Celery worker process killed with SIGKILL in the middle of sending a customer's email:
the email is sent once, by the next worker, and never twice (issues #16 and #17).

The worker runs in its own process (tests/processes.py) on a private Redis broker and the test
database, sending over SMTP to a sink in this process that holds the message at DATA, so the
kill lands while the task is inside `message.send()`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from notifications.emails import SEND_TASK
from outbox.models import OutboxMessage
from outbox.services import outbox_dispatch
from saas_platform.celery import app
from scheduling.models import (
    Booking,
    NotificationKind,
    NotificationLog,
    NotificationStatus,
    SchedulingSettings,
)
from scheduling.services.bookings import booking_confirm
from scheduling.services.customers import customer_upsert
from tenants.models import Tenant
from tests.processes import PrivateRedis, SmtpSink, WorkerProcess, app_on_broker, wait_for
from tests.scheduling.conftest import build_catalogue
from tests.scheduling.test_notifications import TEN_AM, hold

pytestmark = pytest.mark.celery_worker
# Seconds a message may stay unacknowledged before the next worker restores it (1800 deployed;
# short here so the test does not wait half an hour, as a machine's outage would).
VISIBILITY_SECONDS = 2


@pytest.fixture
def broker(committed_db) -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    with app_on_broker(app, server.url, queue):
        yield server
    server.stop()


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def booking_to_confirm(committed_db) -> Iterator[tuple[Tenant, Booking]]:
    """A committed held booking in tenant alpha for a new customer, removed afterwards."""
    tenant = Tenant.objects.get(slug="alpha")
    with tenant_context(tenant):
        had_settings = SchedulingSettings.objects.exists()
        catalogue = build_catalogue()
        customer = customer_upsert(
            name="Killed Worker", email=f"kill-{uuid.uuid4().hex[:8]}@example.test"
        )
        held = hold(catalogue, customer, TEN_AM)
    connection.set_schema_to_public()
    yield tenant, held
    with tenant_context(tenant):
        NotificationLog.objects.filter(booking__customer=customer).delete()
        Booking.objects.filter(customer=customer).delete()
        customer.delete()
        for name in ("service", "ada", "ben"):
            catalogue[name].delete()
        if not had_settings:
            SchedulingSettings.objects.all().delete()
    OutboxMessage.objects.filter(task_name=SEND_TASK, args__0=held.pk).delete()


def _worker(broker: PrivateRedis, sink: SmtpSink) -> WorkerProcess:
    # Prefork, as deployed: its main process acknowledges an early-acked message while the
    # child runs the task (the solo pool's loop is blocked by the task, so it acks late anyway).
    return WorkerProcess(
        broker_url=broker.url,
        queue=app.conf.task_default_queue,
        pool="prefork",
        env={"EMAIL_PORT": str(sink.port), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS)},
    )


def _confirm_and_wait_until_held(tenant, held, sink, worker) -> OutboxMessage:
    with tenant_context(tenant):
        booking_confirm(booking=held)  # its confirmation email goes to the outbox, then Celery
    connection.set_schema_to_public()
    [row] = OutboxMessage.objects.filter(task_name=SEND_TASK, args__0=held.pk)
    assert row.dispatched_at is not None, row.last_error
    assert sink.holding.wait(90), f"the worker never reached the SMTP sink:\n{worker.log()}"
    return row


def _log(tenant, held) -> NotificationLog | None:
    with tenant_context(tenant):
        log = NotificationLog.objects.filter(
            booking_id=held.pk, kind=NotificationKind.CONFIRMED
        ).first()
    connection.set_schema_to_public()
    return log


def _assert_sent_once(tenant, held, sink, row) -> None:
    email = held.customer.email
    assert wait_for(lambda: sink.received[email] >= 1, 90)
    assert wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).done_at is not None)
    log = _log(tenant, held)
    assert log is not None and log.status == NotificationStatus.SENT
    # The killed attempt rolled back with its connection: one attempt, one message.
    assert log.attempts == 1
    assert sink.received[email] == 1


def test_worker_killed_mid_email_the_next_worker_sends_it_once(broker, sink, booking_to_confirm):
    tenant, held = booking_to_confirm
    sink.hold = True
    first = _worker(broker, sink)
    first.start()
    try:
        row = _confirm_and_wait_until_held(tenant, held, sink, first)
        first.kill()  # the whole machine, as it were: no chance to requeue anything
    finally:
        first.kill()
    sink.hold = False
    sink.release.set()  # the held conversation finds its client gone: nothing accepted
    assert sink.received[held.customer.email] == 0
    assert _log(tenant, held).status != NotificationStatus.SENT  # type: ignore[union-attr]
    time.sleep(VISIBILITY_SECONDS + 0.5)  # the message's visibility timeout runs out

    second = _worker(broker, sink)
    second.start()
    try:
        _assert_sent_once(tenant, held, sink, row)
        # The outbox hands the task once more (its lease ran out, as after a lost message):
        # the task finds the email sent and sends nothing.
        OutboxMessage.objects.filter(pk=row.pk).update(done_at=None)
        assert outbox_dispatch(OutboxMessage.objects.get(pk=row.pk))
        assert wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).done_at is not None)
        assert sink.received[held.customer.email] == 1, second.log()
    finally:
        second.kill()


def test_pool_child_killed_mid_email_is_requeued_at_once_and_sent_once(
    broker, sink, booking_to_confirm
):
    """The OOM killer's case: the pool child dies, the worker lives on and requeues the message
    (`reject_on_worker_lost`) instead of acknowledging it as failed."""
    tenant, held = booking_to_confirm
    sink.hold = True
    worker = _worker(broker, sink)
    worker.env["CELERY_VISIBILITY_TIMEOUT"] = "3600"  # only the requeue can bring it back
    worker.start()
    try:
        row = _confirm_and_wait_until_held(tenant, held, sink, worker)
        sink.hold = False
        worker.kill_pool_child()
        sink.release.set()
        _assert_sent_once(tenant, held, sink, row)
        assert "WorkerLostError" in worker.log() or "Process" in worker.log()
    finally:
        worker.kill()
