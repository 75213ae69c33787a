"""The nightly `billing.reconcile` beat job runs once per period even when two beats publish it
(outbox.periodic.OncePerPeriodTask), on a real Celery worker and the real Redis."""

from __future__ import annotations

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.core.management import call_command

from billing.models import SubscriptionStatus, TenantSubscription
from billing.subscriptions import trial_start
from billing.tasks import RECONCILE_TASK, reconcile_billing_task
from outbox import periodic
from outbox.periodic import LOCK_PREFIX, SKIPPED, OncePerPeriodTask
from saas_platform.celery import app
from tenants.models import Tenant
from tests.billing.committed import restored_billing_state
from tests.processes import wait_for
from tests.saas_platform import conftest as platform_fixtures

real_worker = platform_fixtures.real_worker  # a Celery worker thread on the real Redis broker


def _results(*sent) -> list:
    backend = RedisBackend(app=app, url=app.conf.result_backend)
    return [AsyncResult(s.id, backend=backend, app=app).get(timeout=60) for s in sent]


@pytest.fixture
def short_period(settings):
    """The job's beat period cut to 3 s, and no lock left by an earlier run."""
    settings.CELERY_BEAT_SCHEDULE = {"reconcile-billing": {"task": RECONCILE_TASK, "schedule": 3.0}}
    periodic._redis().delete(LOCK_PREFIX + RECONCILE_TASK)
    yield
    periodic._redis().delete(LOCK_PREFIX + RECONCILE_TASK)


def test_the_beat_job_is_a_once_per_period_task_on_the_nightly_schedule(settings) -> None:
    assert isinstance(reconcile_billing_task, OncePerPeriodTask)
    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule[RECONCILE_TASK] == 86400.0


@pytest.mark.celery_worker
def test_two_beats_publishing_the_reconciliation_run_it_once_and_it_repairs(
    real_worker, short_period, stripe_client
) -> None:
    alpha = Tenant.objects.get(slug="alpha")
    with restored_billing_state([alpha]):
        call_command("billing_sync_plans")
        row = trial_start(tenant=alpha)
        stripe_client.v1.subscriptions.cancel(row.stripe_subscription_id)  # its webhook lost

        first, second = _results(reconcile_billing_task.apply_async(),
                                 reconcile_billing_task.apply_async())  # fmt: skip

        ran = [r for r in (first, second) if r != SKIPPED]
        assert len(ran) == 1, (first, second)
        assert ran[0]["repairs"] >= 1  # this run repaired alpha: the other one did nothing
        row.refresh_from_db()
        assert row.status == SubscriptionStatus.CANCELED
        # The lock lasts nine tenths of the period: the next night's run goes ahead.
        lock = LOCK_PREFIX + RECONCILE_TASK
        assert wait_for(lambda: not periodic._redis().exists(lock), timeout=10)
        [third] = _results(reconcile_billing_task.apply_async())
        assert third != SKIPPED and third["repairs"] == 0
    # Put back as it was (no subscription): the transactional tests that follow rely on it.
    assert not TenantSubscription.objects.filter(tenant=alpha).exclude(stripe_subscription_id="")
