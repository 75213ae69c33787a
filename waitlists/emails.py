"""The offer email: a freed place, a link to accept or decline it, and until when it is open.

Sent once per offer: the offer row is locked and `email_sent_at` checked under the lock, so a
task handed twice by the outbox (or retried after a failure) never sends two messages.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.emails import business_sender
from scheduling import ports
from tenants.context import current_tenant
from tenants.services import tenant_url

from .models import OfferStatus, WaitlistEntry, WaitlistOffer

logger = logging.getLogger(__name__)


class OfferEmailFailed(Exception):
    """The email backend refused or failed; the task retries."""


def offer_url(offer: WaitlistOffer) -> str:
    path = reverse("waitlist_offer", args=[offer.pk])
    return tenant_url(current_tenant(), f"{path}?{urlencode({'token': offer.token})}")


def leave_url(entry: WaitlistEntry) -> str:
    path = reverse("waitlist_leave", args=[entry.pk])
    return tenant_url(current_tenant(), f"{path}?{urlencode({'token': entry.token})}")


def offer_email(offer: WaitlistOffer) -> EmailMultiAlternatives:
    tenant = current_tenant()
    contact = ports.branding().contact()
    place, entry = offer.place, offer.entry
    zone_name = tenant.time_zone or "UTC"
    context: dict[str, object] = {
        "business_name": tenant.name,
        "customer_name": entry.name,
        "service_name": entry.service.name,
        "staff_name": place.staff.display_name,
        "starts_at": place.starts_at,
        "expires_at": offer.expires_at,
        "time_zone": zone_name,
        "offer_url": offer_url(offer),
        "leave_url": leave_url(entry),
        "address": contact.address,
        "contact_phone": contact.contact_phone,
        "contact_email": contact.contact_email,
    }
    with timezone.override(ZoneInfo(zone_name)):
        subject = " ".join(render_to_string("emails/waitlist_offer_subject.txt", context).split())
        text = render_to_string("emails/waitlist_offer.txt", context)
        html = render_to_string("emails/waitlist_offer.html", context)
    sender = business_sender(business_name=tenant.name, contact_email=contact.contact_email)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender.from_email, to=[entry.email],
        reply_to=sender.reply_to, headers={"Auto-Submitted": "auto-generated"},
    )  # fmt: skip
    message.attach_alternative(html, "text/html")
    return message


def offer_email_send(*, offer_id: int) -> str:
    """Send the offer's email unless it was sent, or the offer is no longer open."""
    with transaction.atomic():
        offer = (
            WaitlistOffer.objects.select_for_update(of=("self",))
            .select_related("place", "place__staff", "entry", "entry__service")
            .get(pk=offer_id)
        )
        if offer.email_sent_at is not None:
            return "duplicate"
        if offer.status != OfferStatus.PENDING:
            return "skipped"
        try:
            offer_email(offer).send()
        except Exception as error:  # SMTP, DNS, a provider's API: any backend failure is retried
            logger.warning("waitlist.offer_email_failed", extra={"offer": offer.pk}, exc_info=True)
            raise OfferEmailFailed(str(error)) from error
        WaitlistOffer.objects.filter(pk=offer.pk).update(email_sent_at=timezone.now())
    logger.info("waitlist.offer_emailed", extra={"offer": offer_id})
    return "sent"
