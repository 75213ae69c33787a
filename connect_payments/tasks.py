"""Payment jobs: process stored webhook events, retry pending refunds, reconcile with Stripe."""

import logging
from datetime import timedelta

import stripe
from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services

logger = logging.getLogger(__name__)

RECONCILE_WINDOW = timedelta(days=3)


@shared_task(bind=True, max_retries=8, default_retry_delay=30)
def process_stripe_event(self, event_pk: int) -> str:
    """Apply one received event (the handler switches to the event's tenant schema itself)."""
    try:
        with schema_context(settings.PUBLIC_SCHEMA_NAME):
            return services.stripe_event_process(event_pk=event_pk)
    except stripe.StripeError as error:
        # Re-reading the object from Stripe failed: try again later; the event stays stored.
        services.stripe_event_failed(event_pk=event_pk, error=f"{type(error).__name__}: {error}")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return "failed"
        raise self.retry(exc=error)
    except Exception as error:
        # A bug, not an outage: recorded on the event for the operator, then surfaced.
        services.stripe_event_failed(event_pk=event_pk, error=f"{type(error).__name__}: {error}")
        raise
    finally:
        connection.set_schema_to_public()


def _tenant_schemas() -> list[str]:
    return list(
        Tenant.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).values_list(
            "schema_name", flat=True
        )
    )


@shared_task
def retry_pending_refunds_in_every_tenant() -> dict[str, int]:
    done: dict[str, int] = {}
    for schema in _tenant_schemas():
        with schema_context(schema):
            count = services.refunds_retry_pending()
        if count:
            done[schema] = count
            logger.info("payment.refunds_retried", extra={"tenant": schema, "count": count})
    connection.set_schema_to_public()
    return done


@shared_task
def reconcile_payments_in_every_tenant() -> dict[str, list[str]]:
    since = timezone.now() - RECONCILE_WINDOW
    fixed: dict[str, list[str]] = {}
    for schema in _tenant_schemas():
        with schema_context(schema):
            lines = services.payments_reconcile(since=since)
        if lines:
            fixed[schema] = lines
    connection.set_schema_to_public()
    return fixed
