"""Billing jobs: the trial at signup, emails to the owner (queued through the outbox)."""

from __future__ import annotations

import logging

import stripe
from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string

from outbox.durable import DURABLE_TASK
from outbox.periodic import OncePerPeriodTask
from tenants.models import Tenant
from tenants.services import tenant_url

from .models import TenantSubscription
from .reconcile import billing_reconcile
from .seats import SEATS_SYNC_TASK, seats_sync
from .services import TRIAL_START_TASK
from .subscriptions import owner_email, trial_start
from .webhooks import EMAIL_TASK

logger = logging.getLogger(__name__)

SUBJECTS = {
    "trial_will_end": "Your Creneau trial ends in 3 days",
    "payment_failed": "Your Creneau payment failed: please update your card",
}


@shared_task(bind=True, name=TRIAL_START_TASK, max_retries=12, default_retry_delay=60)
def trial_start_task(self, tenant_id: int) -> str:
    """Stripe down at signup: retried (the idempotency keys make retries return the first
    attempt's objects), and the outbox hands the task again if the broker lost it."""
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        row = trial_start(tenant=tenant)
    except stripe.APIConnectionError as error:
        raise self.retry(exc=error)
    return row.status


@shared_task(name=EMAIL_TASK)
def owner_email_task(tenant_id: int, kind: str) -> str:
    row = TenantSubscription.objects.select_related("tenant", "plan").get(tenant_id=tenant_id)
    email = owner_email(row.tenant)
    if not email:
        return "no owner"
    context = {"row": row, "tenant": row.tenant, "billing_url": tenant_url(row.tenant, "/billing/")}
    send_mail(
        subject=SUBJECTS[kind],
        message=render_to_string(f"emails/billing_{kind}.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    logger.info("billing.email_sent", extra={"tenant": row.tenant.schema_name, "kind": kind})
    return kind


RECONCILE_TASK = "billing.reconcile"


@shared_task(name=RECONCILE_TASK, base=OncePerPeriodTask, **DURABLE_TASK)
def reconcile_billing_task() -> dict[str, int]:
    """Nightly (beat): the same repair as `manage.py reconcile_billing`, once per period even
    when two beats publish it (outbox.periodic); idempotent, so a redelivery after a killed
    worker (`acks_late`) only re-reads Stripe again."""
    report = billing_reconcile()
    return {"checked": report.checked, "repairs": len(report.repairs)}


@shared_task(bind=True, name=SEATS_SYNC_TASK, max_retries=12, default_retry_delay=60)
def seats_sync_task(self, tenant_id: int) -> int | None:
    """Staff changed: the seat quantity set to the count read now (idempotent, never a delta)."""
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        return seats_sync(tenant=tenant)
    except stripe.APIConnectionError as error:
        raise self.retry(exc=error)
