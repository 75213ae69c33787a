"""Periodic scheduling jobs: every minute, expire holds that ran out, in every tenant."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from tenants.models import Tenant

from .services import booking_expire_due_holds

logger = logging.getLogger(__name__)


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
