"""Periodic jobs that run once per period however many beats publish them.

Exactly one beat is the deployment's rule (docs/deployment.md), but a second one started by
mistake (a redeploy that overlaps, a second machine with the same command) would publish every
job twice. A task built on `OncePerPeriodTask` takes a lock in Redis for nine tenths of its beat
period before it runs; a second publication within that window is skipped. The lock is not
released when the run ends: two beats publishing a few seconds apart must not both run. The
lock holds the message's task id, so the same message delivered again (its worker was killed
mid-run) is not mistaken for a second beat's.

Calling the task directly (`task()`) or eagerly (tests, development without Redis) skips the lock.
When Redis cannot be asked, the job runs anyway (the jobs are idempotent; the lock only saves the
second run's work and makes the double publication visible in the logs).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from django.conf import settings
from tenant_schemas_celery.task import TenantTask

logger = logging.getLogger(__name__)

LOCK_PREFIX = "creneau:periodic:"
WINDOW_FRACTION = 0.9
SKIPPED = "skipped: another beat ran it this period"


def beat_period_seconds(task_name: str) -> float | None:
    """The task's period in CELERY_BEAT_SCHEDULE (a number of seconds), None if it has none."""
    for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values():
        schedule = entry.get("schedule")
        if entry.get("task") == task_name and isinstance(schedule, int | float):
            return float(schedule)
    return None


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def period_lock_take(task_name: str, *, period_seconds: float, run_id: str | None = None) -> bool:
    """True when this run may go ahead: it took the lock, the lock is its own (the same message
    delivered again after a worker died mid-run: `acks_late`), or Redis could not be asked."""
    window_ms = max(1, int(period_seconds * WINDOW_FRACTION * 1000))
    owner = run_id or uuid.uuid4().hex
    key = LOCK_PREFIX + task_name
    try:
        client = _redis()
        if client.set(key, owner, nx=True, px=window_ms):
            return True
        held_by = client.get(key)
    except redis.RedisError as error:
        logger.warning(
            "periodic.lock_unavailable", extra={"task": task_name, "error": type(error).__name__}
        )
        return True
    return run_id is not None and held_by == run_id.encode()


class OncePerPeriodTask(TenantTask):
    """Base class of beat jobs: `@shared_task(base=OncePerPeriodTask)` (tenant-aware like the
    app's default task class). The period is the task's CELERY_BEAT_SCHEDULE entry, else
    `period_seconds`."""

    abstract = True
    period_seconds: float | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if not (request.called_directly or request.is_eager):
            period = beat_period_seconds(self.name) or self.period_seconds
            if period and not period_lock_take(self.name, period_seconds=period, run_id=request.id):
                logger.warning("periodic.skipped_duplicate", extra={"task": self.name})
                return SKIPPED
        return super().__call__(*args, **kwargs)
