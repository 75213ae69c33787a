"""Payment jobs: process stored webhook events, retry pending refunds, reconcile with Stripe.

Tasks import the services, never the other way round: the webhook inbox queues
`process_stripe_event` by its name (`webhooks.inbox.PROCESS_TASK`).
"""

import logging
import smtplib
from datetime import timedelta

import stripe
from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from outbox.durable import DURABLE_TASK
from outbox.gauges import gauge_record
from outbox.periodic import OncePerPeriodTask
from tenants.context import use_public_schema
from tenants.iteration import each_tenant

from .fee_emails import fee_payment_email
from .models import PaymentRefund, RefundStatus
from .services.card_fees import (
    ASK_CUSTOMER_TASK,
    CHARGE_TASK,
    fee_charge_execute,
    fee_claim_customer_email,
    fee_release_customer_email,
    fee_reminders_enqueue,
)
from .services.reconcile import payments_reconcile
from .services.refunds import refunds_retry_pending
from .webhooks.inbox import PROCESS_TASK, stripe_event_failed, stripe_event_process

logger = logging.getLogger(__name__)

RECONCILE_WINDOW = timedelta(days=3)
REFUNDS_PENDING_GAUGE = "refunds_pending"


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
    """Send again the refunds Stripe was not reached for, and record how many are still
    pending across every business (`REFUNDS_PENDING_GAUGE`, read by /healthz and the metrics
    instead of counting every schema on each probe)."""
    done: dict[str, int] = {}
    still_pending = 0
    for tenant in each_tenant():
        count = refunds_retry_pending()
        if count:
            done[tenant.schema_name] = count
            logger.info(
                "payment.refunds_retried", extra={"tenant": tenant.schema_name, "count": count}
            )
        still_pending += PaymentRefund.objects.filter(status=RefundStatus.PENDING).count()
    gauge_record(REFUNDS_PENDING_GAUGE, still_pending)
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


@shared_task(bind=True, name=CHARGE_TASK, max_retries=8, default_retry_delay=60, **DURABLE_TASK)
def charge_booking_fee(self, fee_id: int) -> str:
    """Charge a no-show or late-cancellation fee off-session (queued by the outbox after the
    booking's transition commits). Idempotent: the fee's status under its row lock and one
    Stripe idempotency key per fee. Stripe unreachable: retried with the same key."""
    try:
        return str(fee_charge_execute(fee_id=fee_id).status)
    except stripe.StripeError as error:
        logger.warning("fee.charge_retry", extra={"fee": fee_id, "error": type(error).__name__})
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return "retry"
        raise self.retry(exc=error)


@shared_task(bind=True, name=ASK_CUSTOMER_TASK, max_retries=5, default_retry_delay=120,
             **DURABLE_TASK)  # fmt: skip
def ask_customer_to_pay_fee(self, fee_id: int, reminder: bool = False) -> str:
    """Email the customer the signed link to authenticate and pay a fee (once; reminder once)."""
    fee = fee_claim_customer_email(fee_id=fee_id, reminder=reminder)
    if fee is None:
        return "duplicate"
    try:
        fee_payment_email(fee=fee, reminder=reminder).send()
    except (
        smtplib.SMTPException,
        OSError,
    ) as error:  # the mail server: unclaim, so the retry sends it
        fee_release_customer_email(fee_id=fee_id, reminder=reminder)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return "failed"
        raise self.retry(exc=error)
    return "sent"


@shared_task(base=OncePerPeriodTask, **DURABLE_TASK)
def remind_fees_awaiting_customer_in_every_tenant() -> dict[str, int]:
    """Beat: one reminder for each fee still awaiting the customer 48 hours after the email."""
    done: dict[str, int] = {}
    for tenant in each_tenant():
        count = fee_reminders_enqueue()
        if count:
            done[tenant.schema_name] = count
    return done
