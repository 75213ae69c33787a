"""The offer email (a freed place, a link to accept or decline it, until when it is open) and
the kind notices of an offer that did not become a booking (taken first by someone else, saved
card declined).

Each sent once per offer: the offer row is locked and `email_sent_at` (`notice_sent_at`) checked
under the lock, so a task handed twice by the outbox (or retried after a failure) never sends
two messages.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from notifications.emails import business_sender
from scheduling import ports
from tenants.context import current_tenant
from tenants.services import tenant_url

from .models import OPEN_ENTRY_STATUSES, OfferStatus, WaitlistEntry, WaitlistOffer

logger = logging.getLogger(__name__)


class OfferEmailFailed(Exception):
    """The email backend refused or failed; the task retries."""


def offer_url(offer: WaitlistOffer) -> str:
    path = reverse("waitlist_offer", args=[offer.pk])
    return tenant_url(current_tenant(), f"{path}?{urlencode({'token': offer.token})}")


def leave_url(entry: WaitlistEntry) -> str:
    path = reverse("waitlist_leave", args=[entry.pk])
    return tenant_url(current_tenant(), f"{path}?{urlencode({'token': entry.token})}")


def _context(offer: WaitlistOffer) -> dict[str, object]:
    tenant = current_tenant()
    contact = ports.branding().contact()
    place, entry = offer.place, offer.entry
    return {
        "business_name": tenant.name,
        "customer_name": entry.name,
        "service_name": entry.service.name,
        "staff_name": place.staff.display_name,
        "starts_at": place.starts_at,
        "expires_at": offer.expires_at,
        "time_zone": tenant.time_zone or "UTC",
        "offer_url": offer_url(offer),
        "leave_url": leave_url(entry),
        "address": contact.address,
        "contact_phone": contact.contact_phone,
        "contact_email": contact.contact_email,
    }


def _message(offer: WaitlistOffer, template: str, extra: dict[str, object] | None = None):
    """`emails/<template>{_subject.txt,.txt,.html}` in the business's zone and the language
    of the page the person joined on."""
    context = {**_context(offer), **(extra or {})}
    zone, language = str(context["time_zone"]), offer.entry.language or settings.LANGUAGE_CODE
    with timezone.override(ZoneInfo(zone)), translation.override(language):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    contact_email = str(context["contact_email"])
    sender = business_sender(business_name=str(context["business_name"]),
                             contact_email=contact_email)  # fmt: skip
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender.from_email, to=[offer.entry.email],
        reply_to=sender.reply_to, headers={"Auto-Submitted": "auto-generated"},
    )  # fmt: skip
    message.attach_alternative(html, "text/html")
    return message


def offer_email(offer: WaitlistOffer) -> EmailMultiAlternatives:
    return _message(offer, "waitlist_offer")


def _locked_offer(offer_id: int) -> WaitlistOffer:
    return (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("place", "place__staff", "entry", "entry__service")
        .get(pk=offer_id)
    )


def _send(message: EmailMultiAlternatives, offer: WaitlistOffer, what: str) -> None:
    try:
        message.send()
    except Exception as error:  # SMTP, DNS, a provider's API: any backend failure is retried
        logger.warning(f"waitlist.{what}_failed", extra={"offer": offer.pk}, exc_info=True)
        raise OfferEmailFailed(str(error)) from error


def offer_email_send(*, offer_id: int) -> str:
    """Send the offer's email unless it was sent, or the offer is no longer open."""
    with transaction.atomic():
        offer = _locked_offer(offer_id)
        if offer.email_sent_at is not None:
            return "duplicate"
        if offer.status != OfferStatus.PENDING:
            return "skipped"
        _send(offer_email(offer), offer, "offer_email")
        WaitlistOffer.objects.filter(pk=offer.pk).update(email_sent_at=timezone.now())
    logger.info("waitlist.offer_emailed", extra={"offer": offer_id})
    return "sent"


NOTICE_TEMPLATES = {
    OfferStatus.LOST: "waitlist_place_taken",
    OfferStatus.CARD_DECLINED: "waitlist_card_declined",
}


def offer_notice_send(*, offer_id: int) -> str:
    """The kind email of an offer that did not become the person's booking: someone else took
    the place first (`lost`), or automatic mode's charge of their saved card was declined.
    Both say that they are still on the waitlist (they are: the entry is back to waiting).
    Sent once per offer; not sent when the person left the waitlist meanwhile."""
    with transaction.atomic():
        offer = _locked_offer(offer_id)
        if offer.notice_sent_at is not None:
            return "duplicate"
        template = NOTICE_TEMPLATES.get(OfferStatus(offer.status))
        if template is None or offer.entry.status not in OPEN_ENTRY_STATUSES:
            return "skipped"
        _send(_message(offer, template), offer, "notice_email")
        WaitlistOffer.objects.filter(pk=offer.pk).update(notice_sent_at=timezone.now())
    logger.info("waitlist.notice_emailed", extra={"offer": offer_id, "status": offer.status})
    return "sent"
