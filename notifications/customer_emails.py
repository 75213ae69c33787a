"""Customer account emails: the one-time sign-in link (queued by scheduling through the outbox).

Runs in the tenant's schema (tenant-schemas-celery). Sending twice is harmless only in the
sense that the same link is sent again; the outbox hands a row once in the normal case.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from outbox.durable import DURABLE_TASK
from scheduling import ports
from scheduling.models import CustomerSignInLink
from scheduling.services.customer_sign_in import (
    SIGN_IN_EMAIL_TASK,
    SIGN_IN_LINK_MINUTES,
    sign_in_token_of,
)
from tenants.context import current_tenant
from tenants.services import tenant_url

from .emails import business_sender

logger = logging.getLogger(__name__)


@shared_task(name=SIGN_IN_EMAIL_TASK, **DURABLE_TASK)
def send_customer_sign_in_link(link_id: int) -> str:
    link = CustomerSignInLink.objects.select_related("customer").filter(pk=link_id).first()
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        return "stale"
    tenant = current_tenant()
    path = reverse("customer_sign_in_link", args=[sign_in_token_of(link)])
    contact = ports.branding().contact()
    sender = business_sender(business_name=tenant.name, contact_email=contact.contact_email)
    context = {
        "business": tenant.name,
        "customer": link.customer,
        "url": tenant_url(tenant, path),
        "minutes": SIGN_IN_LINK_MINUTES,
    }
    with translation.override(ports.business_language()):
        subject = gettext("Your sign-in link for %(business)s") % {"business": tenant.name}
        body = render_to_string("emails/customer_sign_in.txt", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender.from_email,
        to=[link.customer.email],
        reply_to=sender.reply_to,
    )
    message.send()
    logger.info("customer.sign_in_link_sent", extra={"tenant": tenant.schema_name})
    return "sent"
