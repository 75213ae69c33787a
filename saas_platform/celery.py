"""Celery application; tenant-schemas-celery carries the sender's schema in every message."""

import logging
import os

import redis
from celery.signals import before_task_publish
from tenant_schemas_celery.app import CeleryApp as TenantAwareCeleryApp

from .heartbeat import BEAT_KEY, HEARTBEAT_TASK, mark_alive

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas_platform.settings.local")

logger = logging.getLogger(__name__)

app = TenantAwareCeleryApp("creneau")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect(dispatch_uid="creneau-beat-heartbeat")
def _stamp_beat_heartbeat(sender: str | None = None, **kwargs: object) -> None:
    """Only beat publishes the heartbeat task: its publication is beat's sign of life."""
    if sender != HEARTBEAT_TASK:
        return
    try:
        mark_alive(BEAT_KEY)
    except redis.RedisError as error:  # the message itself goes through the broker's retry
        logger.warning("health.beat_mark_failed", extra={"error": type(error).__name__})
