"""Scheduling jobs: expire holds that ran out (every minute) and email customers about their
bookings (after each change, and reminders every 15 minutes), in every tenant."""

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from scheduling.models import NotificationKind
from scheduling.notifications import (
    NotificationFailed,
    booking_notification_send,
    bookings_due_for_reminder,
)
from scheduling.services.bookings import booking_expire_due_holds
from tenants.models import Tenant

logger = logging.getLogger(__name__)

NOTIFICATION_MAX_RETRIES = 5
NOTIFICATION_RETRY_BASE_SECONDS = 60  # then 2, 4, 8, 16 minutes: about half an hour in all


@shared_task
def expire_holds_in_every_tenant() -> dict[str, int]:
    """Sweep each tenant's schema; returns the number of holds expired per schema."""
    swept: dict[str, int] = {}
    schemas = Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).values_list(
        "schema_name", flat=True
    )
    for schema in schemas:
        with schema_context(schema):
            expired = booking_expire_due_holds()
        if expired:
            swept[schema] = expired
            logger.info("booking.holds_expired", extra={"tenant": schema, "count": expired})
    connection.set_schema_to_public()
    return swept


@shared_task(bind=True, max_retries=NOTIFICATION_MAX_RETRIES)
def send_booking_notification(
    self, booking_id: int, kind: str, refund_minor: int | None = None, key: str = "",
    now: str | None = None,
) -> str:  # fmt: skip
    """Email the customer about their booking, once (see scheduling.notifications).

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
                extra={"tenant": connection.schema_name, "booking": booking_id, "kind": kind},
            )
            return "failed"
        countdown = NOTIFICATION_RETRY_BASE_SECONDS * 2**self.request.retries
        raise self.retry(exc=error, countdown=countdown)


@shared_task
def send_due_reminders_in_every_tenant(now: str | None = None) -> dict[str, int]:
    """Queue a reminder for each booking starting within 24 h, tenant by tenant; returns how
    many were queued per schema. Sent from inside each schema, so each task runs there."""
    queued: dict[str, int] = {}
    tenants = Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME)
    moment = datetime.fromisoformat(now) if now else timezone.now()
    for tenant in tenants:
        with tenant_context(tenant):
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
    connection.set_schema_to_public()
    return queued
