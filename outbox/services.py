"""Enqueue after-commit tasks, hand them to Celery, mark them done, sweep what was left."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# The message header that carries the row's id to the worker (read back by outbox.signals).
HEADER = "creneau_outbox_id"
# A row the broker refused, or that a killed worker never finished, is handed again after these
# (settings override them; see docs/operations.md).
DEFAULT_GRACE_SECONDS = 30  # never dispatched: the commit's own hand-out failed or is under way
DEFAULT_LEASE_SECONDS = 1200  # dispatched, not done: longer than the email task's longest backoff
MAX_DISPATCHES = 20


def _seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=int(getattr(settings, name, default)))


def outbox_enqueue(
    task_name: str,
    *,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    schema_name: str | None = None,
) -> OutboxMessage:
    """Write the task down in the current transaction; hand it to Celery once it commits.

    The schema is the connection's (the tenant whose change causes the task) unless given. If
    the transaction rolls back, the row and the hand-out vanish with it.
    """
    schema = schema_name or str(getattr(connection, "schema_name", settings.PUBLIC_SCHEMA_NAME))
    message = OutboxMessage.objects.create(
        schema_name=schema, task_name=task_name, args=list(args), kwargs=kwargs or {}
    )
    transaction.on_commit(lambda: outbox_dispatch(message))
    return message


def outbox_dispatch(message: OutboxMessage) -> bool:
    """Hand one row to the broker; True when the broker took it. Never raises: a broker outage
    is recorded on the row (if the database is up) and the sweep tries again."""
    try:
        current_app.tasks[message.task_name].apply_async(
            args=message.args,
            kwargs=message.kwargs,
            headers={"_schema_name": message.schema_name, HEADER: message.pk},
            # Nobody reads these results; asking for one subscribes the result backend, whose
            # consumer gives up for good after a Redis outage ("must be restarted").
            ignore_result=True,
        )
    except Exception as error:
        logger.warning(
            "outbox.dispatch_failed",
            extra={"outbox": message.pk, "task": message.task_name, "tenant": message.schema_name},
            exc_info=True,
        )
        _record(message, error=f"{type(error).__name__}: {error}"[:2000], dispatched=False)
        return False
    _record(message, error="", dispatched=True)
    return True


def _record(message: OutboxMessage, *, error: str, dispatched: bool) -> None:
    fields: dict[str, Any] = {"last_error": error}
    if dispatched:
        fields["dispatched_at"] = timezone.now()
    try:
        OutboxMessage.objects.filter(pk=message.pk).update(
            dispatch_attempts=message.dispatch_attempts + 1, **fields
        )
    except Exception:  # the database went too: the row stays open and the sweep finds it
        logger.warning("outbox.record_failed", extra={"outbox": message.pk}, exc_info=True)


def outbox_mark_done(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(done_at=timezone.now())


def outbox_touch(message_id: int) -> None:
    """The task is retrying on its own: its lease starts again, the sweep leaves it alone."""
    OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(
        dispatched_at=timezone.now()
    )


def outbox_due(*, now: datetime | None = None) -> QuerySet[OutboxMessage]:
    """Open rows to hand again: never dispatched after the grace, or dispatched and not done
    within the lease; bounded by MAX_DISPATCHES (the rest are for an operator)."""
    now = now or timezone.now()
    grace = _seconds("OUTBOX_GRACE_SECONDS", DEFAULT_GRACE_SECONDS)
    lease = _seconds("OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
    return OutboxMessage.objects.filter(
        Q(dispatched_at__isnull=True, created_at__lte=now - grace)
        | Q(dispatched_at__lte=now - lease),
        done_at__isnull=True,
        dispatch_attempts__lt=MAX_DISPATCHES,
    ).order_by("created_at")


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Hand again what is due; returns how many the broker took. Rows are locked while handed
    (SKIP LOCKED), so two sweeps running at once never hand the same row twice."""
    handed = 0
    with transaction.atomic():
        rows = list(outbox_due(now=now).select_for_update(skip_locked=True)[:limit])
        for message in rows:
            if outbox_dispatch(message):
                handed += 1
    if rows:
        logger.info("outbox.swept", extra={"due": len(rows), "handed": handed})
    return handed


def outbox_backlog(*, now: datetime | None = None) -> dict[str, int]:
    """Open rows, those overdue for the sweep, and those given up (for health and operators)."""
    now = now or timezone.now()
    open_rows = OutboxMessage.objects.filter(done_at__isnull=True)
    return {
        "open": open_rows.count(),
        "overdue": outbox_due(now=now).count(),
        "given_up": open_rows.filter(dispatch_attempts__gte=MAX_DISPATCHES).count(),
    }
