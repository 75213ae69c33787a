"""A second beat started by mistake: each periodic job still runs once per period (issue #16).

Two publications of the same job (what two beats send) are executed by a real Celery worker on
the real Redis; the lock of outbox.periodic lets one run and skips the other.
"""

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult

from notifications.tasks import send_due_reminders_in_every_tenant
from outbox import periodic
from outbox.periodic import LOCK_PREFIX, SKIPPED, period_lock_take
from saas_platform.celery import app
from tests.processes import wait_for

REMINDERS = send_due_reminders_in_every_tenant.name


def _results(*sent) -> list:
    backend = RedisBackend(app=app, url=app.conf.result_backend)
    return [AsyncResult(s.id, backend=backend, app=app).get(timeout=30) for s in sent]


@pytest.fixture
def short_period(settings):
    """The reminders' beat period cut to 2 s, and no lock left by an earlier run."""
    settings.CELERY_BEAT_SCHEDULE = {"send-reminders": {"task": REMINDERS, "schedule": 2.0}}
    periodic._redis().delete(LOCK_PREFIX + REMINDERS)
    yield
    periodic._redis().delete(LOCK_PREFIX + REMINDERS)


@pytest.mark.celery_worker
def test_two_beats_publishing_the_reminder_sweep_run_it_once_per_period(real_worker, short_period):
    first, second = _results(
        send_due_reminders_in_every_tenant.apply_async(),
        send_due_reminders_in_every_tenant.apply_async(),
    )
    assert sorted([first == SKIPPED, second == SKIPPED]) == [False, True], (first, second)
    # The lock lasts nine tenths of the period, not forever: the next period's run goes ahead.
    lock = LOCK_PREFIX + REMINDERS
    assert wait_for(lambda: not periodic._redis().exists(lock), timeout=10)
    [third] = _results(send_due_reminders_in_every_tenant.apply_async())
    assert third != SKIPPED


def test_a_direct_call_is_never_skipped(short_period, db):
    assert period_lock_take(REMINDERS, period_seconds=60)  # as if a beat had just run it
    assert send_due_reminders_in_every_tenant() != SKIPPED


def test_the_job_runs_when_redis_cannot_be_asked(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert period_lock_take(REMINDERS, period_seconds=60)


def test_the_same_message_delivered_again_after_a_killed_worker_is_not_skipped(short_period):
    assert period_lock_take(REMINDERS, period_seconds=60, run_id="task-1")
    assert period_lock_take(REMINDERS, period_seconds=60, run_id="task-1")  # redelivered
    assert not period_lock_take(REMINDERS, period_seconds=60, run_id="task-2")  # second beat
