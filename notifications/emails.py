"""Customer emails about their bookings: confirmation (with a calendar file), cancellation, move,
reminder and refund, in the business's name and time zone.

Each message is sent at most once: a `NotificationLog` row, unique per (booking, kind, channel,
key), is claimed and locked before sending, so a retried task or an event delivered twice finds
it `sent` and stops. The wording lives in `templates/emails/` (one subject, text and HTML template
per kind), written in the language the customer booked in (`Booking.language`), or the
business's for a booking the team made; French is in locale/fr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from common.money import Money, format_money
from outbox.services import outbox_enqueue
from scheduling import ports
from scheduling.actors import SYSTEM
from scheduling.calendar_files import Business, booking_calendar, business_of
from scheduling.cancellation_policy import CancellationPolicy, InvalidPolicy, describe
from scheduling.models import (
    Booking,
    BookingStatus,
    NotificationChannel,
    NotificationKind,
    NotificationLog,
    NotificationStatus,
    PaymentMode,
)
from scheduling.selectors.integrations import booking_revision
from tenants.context import active_schema, current_tenant
from tenants.services import tenant_url

logger = logging.getLogger(__name__)

# Queued by name so that this module does not import the tasks (which import it); the name is the
# one the task always had, so queued messages and the beat schedule keep working.
SEND_TASK = "scheduling.tasks.send_booking_notification"
REMINDER_LEAD = timedelta(hours=24)
RESCHEDULED_ACTION = "creneau.booking.rescheduled"
ONLINE_MODES = (PaymentMode.ONLINE_FULL, PaymentMode.ONLINE_DEPOSIT)
# The messages that carry the booking's `.ics` (times matter in them).
CALENDAR_KINDS = (NotificationKind.CONFIRMED, NotificationKind.RESCHEDULED,
                  NotificationKind.CANCELLED)  # fmt: skip


class NotificationFailed(Exception):
    """The email backend refused or failed; the attempt is recorded and the task retries."""


class Outcome:
    """What `booking_notification_send` did (the task's result)."""

    SENT = "sent"
    DUPLICATE = "duplicate"  # already sent: a retry or a second event
    SKIPPED = "skipped"  # the booking no longer fits the message (moved, cancelled, a hold)


# ---------------------------------------------------------------------------
# Queueing (on scheduling's booking events: notifications/apps.py)
# ---------------------------------------------------------------------------
def booking_notify_after_commit(
    *, booking_id: int, kind: str, refund_minor: int | None = None, key: str = ""
) -> None:
    """Queue the customer's email once the current transaction commits (never if it rolls back).

    The message is written to the outbox in the booking's own transaction, with the tenant's
    schema, so a broker that is down at commit loses nothing: the outbox sweep hands it to
    Celery when the broker is back, and the send itself happens once (`NotificationLog`).
    """
    outbox_enqueue(
        SEND_TASK,
        args=[booking_id, kind],
        kwargs={"refund_minor": refund_minor, "key": key},
        schema_name=active_schema(),
    )


# ---------------------------------------------------------------------------
# Sending (called by the task)
# ---------------------------------------------------------------------------
def booking_notification_send(
    *,
    booking_id: int,
    kind: str,
    refund_minor: int | None = None,
    key: str = "",
    now: datetime | None = None,
) -> str:
    """Send one message about a booking unless it was already sent; returns an `Outcome`.

    Raises NotificationFailed when the email backend fails (the failure is recorded first).
    """
    if active_schema() == settings.PUBLIC_SCHEMA_NAME:
        raise RuntimeError("Booking notifications run in a tenant's schema, not in public.")
    now = now or timezone.now()
    kind = NotificationKind(kind)
    if kind == NotificationKind.REFUNDED and (not key or refund_minor is None):
        raise ValueError("A refund notification needs the amount and a key such as refund-<id>.")
    booking = Booking.objects.select_related("service", "staff", "customer").get(pk=booking_id)
    message_key = _message_key(booking, kind=kind, key=key, now=now)
    if message_key is None or not booking.customer.email:
        logger.info("notification.skipped", extra={"booking": booking.pk, "kind": kind})
        return Outcome.SKIPPED
    key, previous_starts_at = message_key
    log, _ = NotificationLog.objects.get_or_create(
        booking=booking,
        kind=kind,
        channel=NotificationChannel.EMAIL,
        key=key,
        defaults={"recipient": booking.customer.email, "booking_starts_at": booking.starts_at},
    )
    failure: Exception | None = None
    with transaction.atomic():
        # The row lock makes a concurrent duplicate wait here, then find the message sent.
        log = NotificationLog.objects.select_for_update().get(pk=log.pk)
        if log.status == NotificationStatus.SENT:
            return Outcome.DUPLICATE
        message = booking_email(
            booking=booking, kind=kind, now=now, refund_minor=refund_minor,
            previous_starts_at=previous_starts_at,
        )  # fmt: skip
        log.attempts += 1
        log.recipient = booking.customer.email
        log.booking_starts_at = booking.starts_at
        try:
            message.send()
        except Exception as error:  # SMTP, DNS, a provider's API: any backend failure is retried
            logger.warning(
                "notification.failed",
                extra={"booking": booking.pk, "kind": kind, "attempts": log.attempts},
                exc_info=True,
            )
            failure = error
            log.status = NotificationStatus.FAILED
            log.error = f"{type(error).__name__}: {error}"[:2000]
        else:
            log.status = NotificationStatus.SENT
            log.error = ""
            log.sent_at = timezone.now()
        log.save(
            update_fields=["attempts", "recipient", "booking_starts_at", "status", "error",
                           "sent_at"]
        )  # fmt: skip
    if failure is not None:
        raise NotificationFailed(str(failure)) from failure
    logger.info("notification.sent", extra={"booking": booking.pk, "kind": kind})
    return Outcome.SENT


def _message_key(
    booking: Booking, *, kind: NotificationKind, key: str, now: datetime
) -> tuple[str, datetime | None] | None:
    """(the log key, the previous start for a move), or None when the message no longer fits."""
    status = booking.status
    if kind == NotificationKind.CONFIRMED:
        return ("", None) if status == BookingStatus.CONFIRMED else None
    if kind == NotificationKind.REMINDER:
        if status != BookingStatus.CONFIRMED or booking.starts_at <= now:
            return None
        return booking.starts_at.isoformat(), None
    if kind == NotificationKind.RESCHEDULED:
        # Keyed by the latest move's audit row: moving A → B → A → B sends three emails, and a
        # retry after a second move reports the latest time, which is what the customer needs.
        event = booking.events.filter(action=RESCHEDULED_ACTION).order_by("-pk").first()
        if status != BookingStatus.CONFIRMED or event is None:
            return None
        previous = event.data.get("from", {}).get("starts_at")
        return f"event-{event.pk}", datetime.fromisoformat(previous) if previous else None
    if kind == NotificationKind.CANCELLED:
        # A hold given up while paying was never a booking for the customer: no email.
        was_confirmed = booking.events.filter(
            action="creneau.booking.cancelled", from_status=BookingStatus.CONFIRMED
        ).exists()
        return ("", None) if status == BookingStatus.CANCELLED and was_confirmed else None
    return key, None  # a refund: keyed by the caller, one message per refund


# ---------------------------------------------------------------------------
# Building the message
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Sender:
    """How the business appears in the customer's inbox."""

    from_email: str  # "Alpha Studio <no-reply@…>": the platform's address, the business's name
    reply_to: list[str]


def business_sender(*, business_name: str, contact_email: str) -> Sender:
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return Sender(
        from_email=formataddr((business_name, address)),
        reply_to=[contact_email] if contact_email else [],
    )


def calendar_business() -> Business:
    return business_of(current_tenant())


def manage_url(booking: Booking) -> str:
    path = reverse("manage_booking", args=[booking.reference])
    return tenant_url(current_tenant(), f"{path}?{urlencode({'token': booking.manage_token})}")


def _paid_online(booking: Booking) -> bool:
    """Whether the booking was confirmed by its online payment.

    Only the payments code confirms as the system once Stripe reports the money
    (connect_payments); a team member confirming a hold by hand, or the staff API,
    confirms unpaid bookings, which must not read "paid online".
    """
    return (
        booking.payment_mode in ONLINE_MODES
        and booking.events.filter(
            action="creneau.booking.confirmed",
            actor_label=SYSTEM.label,
            actor_user_id__isnull=True,
        ).exists()
    )


def _money_received(booking: Booking) -> dict:
    """What the payment record says was paid online, the promo discount and the balance due:
    the email is the customer's receipt, so it shows these amounts, not the list price."""
    receipt = ports.payments().receipt(booking=booking)
    if receipt is None:
        return {"paid_amount": "", "discount": "", "promo_code": "", "balance_due": ""}

    def money(minor: int) -> str:
        return format_money(Money(minor, receipt["currency"])) if minor else ""

    return {
        "paid_amount": money(receipt["paid_minor"]),
        "discount": money(receipt["discount_minor"]),
        "promo_code": receipt["promo_code"],
        "balance_due": money(receipt["balance_due_minor"]),
    }


def _policy_text(booking: Booking, language: str) -> str:
    try:
        policy = CancellationPolicy.from_json(booking.policy_snapshot)
    except InvalidPolicy:
        logger.warning("notification.policy_unreadable", extra={"booking": booking.pk})
        return ""
    if not policy.tiers:
        return ""
    try:
        return describe(policy, locale=language)
    except ValueError:  # a language without the policy's wording: English rather than nothing
        return describe(policy)


def email_language(booking: Booking) -> str:
    """The customer's emails are in the language they booked in; the team's bookings (and those
    made before it was recorded) in the business's."""
    return booking.language or ports.business_language()


def booking_email(
    *,
    booking: Booking,
    kind: str,
    now: datetime,
    refund_minor: int | None = None,
    previous_starts_at: datetime | None = None,
) -> EmailMultiAlternatives:
    """The customer's message: subject, plain text, HTML, and the `.ics` where times matter."""
    tenant = current_tenant()
    contact = ports.branding().contact()
    zone_name = tenant.time_zone or "UTC"
    language = email_language(booking)
    context = {
        "kind": kind,
        "business_name": tenant.name,
        "booking": booking,
        "customer_name": booking.customer.name,
        "service_name": booking.service.name,
        "staff_name": booking.staff.display_name,
        "time_zone": zone_name,
        "previous_starts_at": previous_starts_at,
        "address": contact.address,
        "contact_phone": contact.contact_phone,
        "contact_email": contact.contact_email,
        "price": format_money(Money(booking.price_minor, booking.currency)),
        "payment_mode": booking.payment_mode,
        "paid_online": _paid_online(booking),
        **_money_received(booking),
        "refund": (
            None if refund_minor is None else format_money(Money(refund_minor, booking.currency))
        ),
        "refund_minor": refund_minor,
        "policy": _policy_text(booking, language),
        "manage_url": manage_url(booking),
    }
    template = f"emails/booking_{kind}"
    # Times render in the business's zone, named in the text: the customer may be elsewhere.
    with timezone.override(ZoneInfo(zone_name)), translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        ics = None if kind not in CALENDAR_KINDS else booking_calendar(
            booking=booking, business=calendar_business(), revision=booking_revision(booking),
            now=now, manage_url=context["manage_url"],
        )  # fmt: skip
    sender = business_sender(business_name=tenant.name, contact_email=contact.contact_email)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=sender.from_email,
        to=[booking.customer.email],
        reply_to=sender.reply_to,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    if ics is not None:
        message.attach(f"{booking.reference}.ics", ics, "text/calendar; charset=utf-8")
    return message


# ---------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------
def bookings_due_for_reminder(*, now: datetime) -> list[int]:
    """Confirmed bookings starting within REMINDER_LEAD that were not reminded of this start.

    One query. A booking made less than REMINDER_LEAD ahead gets no reminder: its confirmation,
    minutes old, already says everything (Calendly and Acuity do the same). A reminder that
    failed for good is not retried every sweep; its task already retried with backoff.
    """
    reminded = NotificationLog.objects.filter(
        booking=OuterRef("pk"),
        kind=NotificationKind.REMINDER,
        booking_starts_at=OuterRef("starts_at"),
        status__in=(NotificationStatus.SENT, NotificationStatus.FAILED),
    )
    return list(
        Booking.objects.filter(
            status=BookingStatus.CONFIRMED,
            starts_at__gt=now,
            starts_at__lte=now + REMINDER_LEAD,
            created_at__lte=F("starts_at") - REMINDER_LEAD,
        )
        .exclude(Exists(reminded))
        .order_by("starts_at")
        .values_list("pk", flat=True)
    )
