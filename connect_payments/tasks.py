"""Payment jobs: process stored webhook events, retry pending refunds, reconcile with Stripe.

Tasks import the services, never the other way round: the webhook inbox queues
`process_stripe_event` by its name (`webhooks.inbox.PROCESS_TASK`).
"""

import logging
from datetime import timedelta

import stripe
from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from outbox.durable import DURABLE_TASK
from outbox.periodic import OncePerPeriodTask
from tenants.context import use_public_schema
from tenants.iteration import each_tenant

from .services.reconcile import payments_reconcile
from .services.refunds import refunds_retry_pending
from .webhooks.inbox import PROCESS_TASK, stripe_event_failed, stripe_event_process

logger = logging.getLogger(__name__)

RECONCILE_WINDOW = timedelta(days=3)


@shared_task(bind=True, name=PROCESS_TASK, max_retries=8, default_retry_delay=30, **DURABLE_TASK)
def process_stripe_event(self, event_pk: int) -> str:
    """Apply one received event (the handler switches to the event's tenant schema itself)."""
    try:
        with schema_context(settings.PUBLIC_SCHEMA_NAME):
            return stripe_event_process(event_pk=event_pk)
    except stripe.StripeError as error:
        # Re-reading the object from Stripe failed: try again later; the event stays stored.
        stripe_event_failed(event_pk=event_pk, error=f"{type(error).__name__}: {error}")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return "failed"
        raise self.retry(exc=error)
    except Exception as error:
        # A bug, not an outage: recorded on the event for the operator, then surfaced.
        stripe_event_failed(event_pk=event_pk, error=f"{type(error).__name__}: {error}")
        raise
    finally:
        use_public_schema()


@shared_task(base=OncePerPeriodTask, **DURABLE_TASK)
def retry_pending_refunds_in_every_tenant() -> dict[str, int]:
    done: dict[str, int] = {}
    for tenant in each_tenant():
        count = refunds_retry_pending()
        if count:
            done[tenant.schema_name] = count
            logger.info(
                "payment.refunds_retried", extra={"tenant": tenant.schema_name, "count": count}
            )
    return done


@shared_task(base=OncePerPeriodTask, **DURABLE_TASK)
def reconcile_payments_in_every_tenant() -> dict[str, list[str]]:
    since = timezone.now() - RECONCILE_WINDOW
    fixed: dict[str, list[str]] = {}
    for tenant in each_tenant():
        lines = payments_reconcile(since=since)
        if lines:
            fixed[tenant.schema_name] = lines
    return fixed
