"""Memberships' Celery jobs: the "fix your card" email of a failed renewal (through the outbox)
and the nightly reconciliation of members' subscriptions with Stripe (beat).

Imported by `memberships.webhooks` at start-up, so the worker knows the tasks."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from outbox.durable import DURABLE_TASK
from outbox.periodic import OncePerPeriodTask
from scheduling import ports
from tenants.context import current_tenant
from tenants.iteration import each_tenant
from tenants.services import tenant_url

from .models.memberships import Membership
from .services.memberships_billing import PAYMENT_FAILED_EMAIL_TASK
from .services.memberships_reconcile import memberships_reconcile

logger = logging.getLogger(__name__)

ACCOUNT_CARD_PATH = "/my/memberships/{pk}/card/"


@shared_task(name=PAYMENT_FAILED_EMAIL_TASK, **DURABLE_TASK)
def membership_payment_failed_email(membership_id: int) -> str:
    """Tell the member the renewal failed, with a link to fix the card on the account page.
    Queued once per failed invoice (a conditional update claims it)."""
    membership = Membership.objects.select_related("customer").get(pk=membership_id)
    tenant = current_tenant()
    context = {
        "membership": membership,
        "business_name": tenant.name,
        "card_url": tenant_url(tenant, ACCOUNT_CARD_PATH.format(pk=membership.pk)),
    }
    with translation.override(ports.business_language()):
        subject = gettext("%(business)s: your membership payment failed") % {
            "business": tenant.name
        }
        body = render_to_string("emails/membership_payment_failed.txt", context)
    send_mail(
        subject=subject,
        message=body,
        from_email=None,
        recipient_list=[membership.customer.email],
    )
    logger.info("membership.payment_failed_email_sent", extra={"membership": membership.pk})
    return "sent"


@shared_task(base=OncePerPeriodTask, **DURABLE_TASK)
def reconcile_memberships_in_every_tenant() -> dict[str, list[str]]:
    """Nightly: the same repair as `manage.py reconcile_memberships`."""
    fixed: dict[str, list[str]] = {}
    for tenant in each_tenant():
        lines = memberships_reconcile()
        if lines:
            fixed[tenant.schema_name] = lines
    return fixed
