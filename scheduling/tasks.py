"""Scheduling's job: expire holds that ran out (every minute), in every tenant.

The customer emails and reminders are notifications' (notifications/tasks.py).
"""

import logging

from celery import shared_task

from outbox.periodic import OncePerPeriodTask
from scheduling.services.bookings import booking_expire_due_holds
from tenants.iteration import each_tenant

logger = logging.getLogger(__name__)


@shared_task(base=OncePerPeriodTask)
def expire_holds_in_every_tenant() -> dict[str, int]:
    """Sweep each tenant's schema; returns the number of holds expired per schema."""
    swept: dict[str, int] = {}
    for tenant in each_tenant():
        expired = booking_expire_due_holds()
        if expired:
            swept[tenant.schema_name] = expired
            logger.info(
                "booking.holds_expired", extra={"tenant": tenant.schema_name, "count": expired}
            )
    return swept
