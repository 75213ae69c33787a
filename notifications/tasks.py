"""Customer emails about bookings: one task per message (after each change) and the reminder sweep
(every 15 minutes), in every tenant.

The tasks keep the names they had when they lived in scheduling/tasks.py, so messages already
queued and the beat schedule (settings CELERY_BEAT_SCHEDULE) keep working.
"""

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from outbox.durable import DURABLE_TASK
from outbox.periodic import OncePerPeriodTask
from scheduling.models import NotificationKind
from tenants.context import active_schema
from tenants.iteration import each_tenant

from .emails import (
    SEND_TASK,
    NotificationFailed,
    booking_notification_send,
    bookings_due_for_reminder,
)

logger = logging.getLogger(__name__)

NOTIFICATION_MAX_RETRIES = 5
NOTIFICATION_RETRY_BASE_SECONDS = 60  # then 2, 4, 8, 16 minutes: about half an hour in all


@shared_task(bind=True, max_retries=NOTIFICATION_MAX_RETRIES, name=SEND_TASK, **DURABLE_TASK)
def send_booking_notification(
    self, booking_id: int, kind: str, refund_minor: int | None = None, key: str = "",
    now: str | None = None,
) -> str:  # fmt: skip
    """Email the customer about their booking, once (see notifications.emails).

    Runs in the tenant's schema (tenant-schemas-celery). A failing email backend is retried with
    exponential backoff; after the last attempt the failure stays recorded and the task returns
    "failed" instead of raising. Run eagerly (development without Redis), the first retry comes
    back to the queueing helper as Celery's `Retry`, which it logs: a request never waits.
    """
    try:
        return booking_notification_send(
            booking_id=booking_id, kind=kind, refund_minor=refund_minor, key=key,
            now=datetime.fromisoformat(now) if now else None,
        )  # fmt: skip
    except NotificationFailed as error:
        if self.request.retries >= NOTIFICATION_MAX_RETRIES:
            logger.error(
                "notification.gave_up",
                extra={"tenant": active_schema(), "booking": booking_id, "kind": kind},
            )
            return "failed"
        countdown = NOTIFICATION_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown)


@shared_task(name="scheduling.tasks.send_due_reminders_in_every_tenant", base=OncePerPeriodTask)
def send_due_reminders_in_every_tenant(now: str | None = None) -> dict[str, int]:
    """Queue a reminder for each booking starting within 24 h, tenant by tenant; returns how
    many were queued per schema. Sent from inside each schema, so each task runs there."""
    queued: dict[str, int] = {}
    moment = datetime.fromisoformat(now) if now else timezone.now()
    for tenant in each_tenant():
        due = bookings_due_for_reminder(now=moment)
        for booking_id in due:
            send_booking_notification.delay(
                booking_id, NotificationKind.REMINDER.value, now=moment.isoformat()
            )
        if due:
            queued[tenant.schema_name] = len(due)
            logger.info(
                "booking.reminders_queued", extra={"tenant": tenant.schema_name, "count": len(due)}
            )
    return queued
