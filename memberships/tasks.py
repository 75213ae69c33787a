"""Memberships' jobs: expire credits at their date and remind customers 7 days before (beat,
in every tenant); the reminder email itself (queued through the outbox, once per grant)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from notifications.emails import business_sender
from outbox.durable import DURABLE_TASK
from outbox.periodic import OncePerPeriodTask
from outbox.services import outbox_enqueue
from scheduling import ports
from scheduling.selectors.availability import tenant_time_zone
from tenants.context import current_tenant
from tenants.iteration import each_tenant
from tenants.services import tenant_url

from .models import CreditGrant
from .services.credits import credits_expire_due, credits_expiry_reminders_due
from .services.passes import passes_reconcile

logger = logging.getLogger(__name__)

EXPIRY_REMINDER_TASK = "memberships.credits_expiry_reminder"
EXPIRY_REMINDER_DAYS = 7


def credits_expire_and_remind(*, now: datetime) -> dict[str, int]:
    """One tenant (the current schema): expire what is due, queue the reminders."""
    expired = credits_expire_due(now=now)
    reminded = credits_expiry_reminders_due(
        now=now, days_before=EXPIRY_REMINDER_DAYS,
        remind=lambda grant_id: outbox_enqueue(EXPIRY_REMINDER_TASK,
                                               kwargs={"grant_id": grant_id}),
    )  # fmt: skip
    return {"expired": expired, "reminded": len(reminded)}


@shared_task(name="memberships.tasks.expire_credits_in_every_tenant", base=OncePerPeriodTask)
def expire_credits_in_every_tenant(now: str | None = None) -> dict[str, dict[str, int]]:
    moment = datetime.fromisoformat(now) if now else timezone.now()
    done: dict[str, dict[str, int]] = {}
    for tenant in each_tenant():
        counts = credits_expire_and_remind(now=moment)
        if any(counts.values()):
            done[tenant.schema_name] = counts
            logger.info("credits.expiry_sweep", extra={"tenant": tenant.schema_name, **counts})
    return done


@shared_task(name="memberships.tasks.reconcile_passes_in_every_tenant", base=OncePerPeriodTask)
def reconcile_passes_in_every_tenant() -> dict[str, list[str]]:
    """Pass purchases left pending by a missed webhook, pending pass refunds (last 3 days)."""
    since = timezone.now() - timedelta(days=3)
    fixed: dict[str, list[str]] = {}
    for tenant in each_tenant():
        lines = passes_reconcile(since=since)
        if lines:
            fixed[tenant.schema_name] = lines
    return fixed


@shared_task(name=EXPIRY_REMINDER_TASK, **DURABLE_TASK)
def send_credits_expiry_reminder(grant_id: int) -> str:
    grant = CreditGrant.objects.select_related("customer").filter(pk=grant_id).first()
    if grant is None or grant.expired_at is not None or not grant.remaining or not grant.expires_at:
        return "nothing to remind"
    tenant = current_tenant()
    contact = ports.branding().contact()
    sender = business_sender(business_name=tenant.name, contact_email=contact.contact_email)
    purchase = getattr(grant, "pass_purchase", None)
    zone = ZoneInfo(tenant_time_zone())
    # The business's language and time zone (the `date` filter shows the active zone's time).
    with translation.override(ports.business_language()), timezone.override(zone):
        context = {
            "business": tenant.name,
            "customer": grant.customer,
            "remaining": grant.remaining,
            "name": purchase.name if purchase is not None else grant.get_source_kind_display(),
            "expires_at": grant.expires_at.astimezone(zone),
            "book_url": tenant_url(tenant, reverse("book")),
            "account_url": tenant_url(tenant, reverse("customer_account")),
        }
        subject = gettext("Your %(count)s credit(s) at %(business)s expire soon") % {
            "count": grant.remaining, "business": tenant.name,
        }  # fmt: skip
        body = render_to_string("emails/credits_expiry_reminder.txt", context)
    EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender.from_email,
        to=[grant.customer.email],
        reply_to=sender.reply_to,
    ).send()
    return "sent"
