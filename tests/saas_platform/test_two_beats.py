"""Two real `celery beat` processes started by mistake, with a real worker: the reminders sweep
runs once per period, no reminder is sent twice, and when one beat dies the other goes on
(issue #16; decision 0011).

Everything runs in its own processes on a private Redis (tests/processes.py) and the test
database: the worker (prefork, as deployed) and both beats use tests/saas_platform/
beat_settings.py, whose only beat job is the reminders sweep every PERIOD seconds. Reminders
go over SMTP to a sink in this process, which counts them per recipient. What a run did is read
from the worker's log: each sweep's result, or outbox.periodic's SKIPPED for a publication the
lock refused.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from outbox.periodic import SKIPPED
from scheduling.models import Booking, NotificationKind, NotificationLog, NotificationStatus
from scheduling.services.customers import customer_upsert
from tenants.models import Tenant
from tests.processes import ROOT, PrivateRedis, SmtpSink, WorkerProcess, wait_for
from tests.scheduling.conftest import build_catalogue
from tests.scheduling.test_notifications import TEN_AM, confirmed

pytestmark = pytest.mark.celery_worker
PERIOD = 3  # seconds between two publications of one beat
SWEEP = "scheduling.tasks.send_due_reminders_in_every_tenant"
SETTINGS = "tests.saas_platform.beat_settings"


class BeatProcess:
    """`celery beat` in its own process group with its own schedule file, logging to a file."""

    def __init__(self, name: str, broker_url: str, env: dict[str, str]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"creneau-beat-{name}-"))
        self.log_path = self.folder / "beat.log"
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS,
                       "REDIS_URL": broker_url, "PYTHONPATH": str(ROOT), **env}  # fmt: skip
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "saas_platform", "beat", "-l", "INFO",
                 "--schedule", str(self.folder / "schedule"), "--pidfile", ""],
                cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text()

    def published(self) -> int:
        return self.log().count(f"Sending due task send-reminders ({SWEEP})")

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _sweeps(worker: WorkerProcess) -> tuple[int, int]:
    """(sweeps that ran, publications the period lock skipped), from the worker's log."""
    results = re.findall(rf"Task {re.escape(SWEEP)}\[[^\]]+\] succeeded in [^:]+: (.*)",
                         worker.log())  # fmt: skip
    skipped = sum(1 for result in results if SKIPPED in result)
    return len(results) - skipped, skipped


@pytest.fixture
def due_reminder(committed_db) -> Iterator[tuple[Tenant, Booking, str]]:
    """A confirmed booking of tenant alpha starting in 12 hours, made two days ago: due for its
    reminder. Confirmed here (its confirmation email goes to this process's test mailbox)."""
    tenant = Tenant.objects.get(slug="alpha")
    with tenant_context(tenant):
        catalogue = build_catalogue()
        customer = customer_upsert(name="Two Beats",
                                   email=f"beats-{uuid.uuid4().hex[:8]}@example.test")  # fmt: skip
        booking = confirmed(catalogue, customer, TEN_AM)
        start = timezone.now() + timedelta(hours=12)
        Booking.objects.filter(pk=booking.pk).update(
            starts_at=start, ends_at=start + timedelta(hours=1),
            created_at=timezone.now() - timedelta(days=2),
        )  # fmt: skip
    connection.set_schema_to_public()
    yield tenant, booking, customer.email
    with tenant_context(tenant):
        NotificationLog.objects.filter(booking__customer=customer).delete()
        Booking.objects.filter(customer=customer).delete()
        customer.delete()
        for name in ("service", "ada", "ben"):
            catalogue[name].delete()
    connection.set_schema_to_public()


def _reminders(tenant: Tenant, booking: Booking) -> list[NotificationLog]:
    with tenant_context(tenant):
        logs = list(NotificationLog.objects.filter(booking_id=booking.pk,
                                                   kind=NotificationKind.REMINDER))  # fmt: skip
    connection.set_schema_to_public()
    return logs


def test_two_real_beats_run_the_reminder_sweep_once_per_period_and_one_survives_the_other(
    due_reminder,
):
    tenant, booking, email = due_reminder
    broker = PrivateRedis()
    broker.start()
    queue = f"beats-{uuid.uuid4().hex[:8]}"
    env = {"BEAT_TEST_QUEUE": queue, "BEAT_TEST_PERIOD": str(PERIOD)}
    beats: list[BeatProcess] = []
    with SmtpSink() as sink:
        worker = WorkerProcess(broker_url=broker.url, queue=queue, pool="prefork",
                               env={**env, "DJANGO_SETTINGS_MODULE": SETTINGS,
                                    "EMAIL_PORT": str(sink.port)})  # fmt: skip
        try:
            worker.start()
            beats = [BeatProcess(name, broker.url, env) for name in ("a", "b")]
            # Both beats publish the sweep every period: five periods each at least.
            assert wait_for(lambda: min(b.published() for b in beats) >= 5, timeout=120), (
                beats[0].log()[-2000:],
                beats[1].log()[-2000:],
            )
            published = sum(b.published() for b in beats)
            assert wait_for(lambda: sum(_sweeps(worker)) >= published, timeout=60), worker.log()
            ran, skipped = _sweeps(worker)
            # Without the lock every publication runs (ran == published, about twice a beat's
            # count); with it, one run per period: at most one more than a single beat sent.
            assert ran <= max(b.published() for b in beats) + 1, (ran, skipped, published)
            assert skipped >= 3, (ran, skipped, published)  # the lock refused the others

            # The reminder went once, however many sweeps ran.
            assert wait_for(lambda: sink.received[email] >= 1, timeout=60), worker.log()
            [log] = _reminders(tenant, booking)
            assert (log.status, log.attempts) == (NotificationStatus.SENT, 1)

            # One beat dies (SIGKILL, as its machine would): the other goes on alone, and its
            # publications now run, each one (the last lock of the dead beat runs out first).
            beats[0].kill()
            ran_before, _ = _sweeps(worker)
            sent_before = beats[1].published()
            assert wait_for(lambda: beats[1].published() >= sent_before + 3, timeout=60)
            assert wait_for(lambda: _sweeps(worker)[0] >= ran_before + 2, timeout=60), (
                _sweeps(worker),
                worker.log()[-3000:],
            )
            assert sink.received[email] == 1
            assert len(_reminders(tenant, booking)) == 1
        finally:
            for beat in beats:
                beat.kill()
            worker.kill()
            broker.stop()
