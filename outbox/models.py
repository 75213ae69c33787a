"""One row per task that must run because a transaction committed (public schema, all tenants)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A Celery task to run once its transaction commits.

    Written in the same transaction as the change that causes it, so it exists exactly when the
    change does. `dispatched_at` is when it was last handed to the broker, `done_at` when a
    worker finished it. The sweep hands again rows never dispatched (broker down at commit) and
    rows dispatched but not done within the lease (worker killed, message lost); the tasks are
    idempotent, so a second hand-out changes nothing twice.
    """

    schema_name = models.CharField(max_length=63)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_attempts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(done_at__isnull=True), name="outbox_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name}@{self.schema_name} #{self.pk}"
