"""Writes of the widget: branding changes, and confirming a booking that needs no payment."""

import hashlib
import logging

from django.db import transaction
from django.utils import timezone

from connect_payments.services.card_setup import CardRequired, card_required_unsaved
from scheduling.actors import CUSTOMER
from scheduling.exceptions import BookingError
from scheduling.models import PAID_WITH_CREDIT, Booking, BookingStatus, PaymentMode
from scheduling.services.bookings import booking_confirm

from .contrast import parse_hex_colour
from .logo import inspect_logo
from .models import Branding
from .origins import parse_origins

logger = logging.getLogger(__name__)

# A booking paid with a credit (scheduling.models.PAID_WITH_CREDIT) has nothing to pay either.
NO_PAYMENT_MODES = (PaymentMode.FREE, PaymentMode.PAY_AT_VENUE, PAID_WITH_CREDIT)


class HoldExpired(BookingError):
    code = "hold_expired"
    http_status = 409
    default_message = "The time reserved for you ran out. Please pick a time again."


class PaymentRequired(BookingError):
    code = "payment_required"
    http_status = 409
    default_message = "This booking is confirmed once it is paid."


def branding_update(*, branding: Branding, fields: dict) -> Branding:
    """Save branding settings; colours and origins are normalised, the logo checked again."""
    for name, value in fields.items():
        if name in ("primary_colour", "accent_colour"):
            value = parse_hex_colour(value)
        elif name == "allowed_origins":
            value = parse_origins(value)
        setattr(branding, name, value)
    with transaction.atomic():
        if branding.pk is None and Branding.objects.exists():
            branding.pk = Branding.objects.values_list("pk", flat=True).first()
        branding.save()
    return branding


def branding_set_logo(*, branding: Branding, data: bytes | None, name: str = "") -> Branding:
    """Replace (or, with `data=None`, remove) the logo."""
    if data is None:
        branding.logo, branding.logo_content_type, branding.logo_version = b"", "", ""
        branding.logo_width = branding.logo_height = 0
    else:
        info = inspect_logo(data, declared_name=name)
        branding.logo = data
        branding.logo_content_type = info.content_type
        branding.logo_width, branding.logo_height = info.width, info.height
        branding.logo_version = hashlib.sha256(data).hexdigest()[:16]
    return branding_update(branding=branding, fields={})


def booking_confirm_without_payment(*, booking: Booking) -> Booking:
    """The customer's last step for a free or pay-at-venue booking: held → confirmed.

    Confirming twice is harmless; a hold past its expiry is refused even before the sweeper
    marks it expired, because another customer may already have taken the time.
    """
    if booking.status == BookingStatus.CONFIRMED:
        return booking
    if booking.payment_mode not in NO_PAYMENT_MODES:
        raise PaymentRequired()
    if booking.status != BookingStatus.HELD or (
        booking.hold_expires_at is not None and booking.hold_expires_at <= timezone.now()
    ):
        raise HoldExpired()
    if card_required_unsaved(booking):
        raise CardRequired()  # confirmed by saving the card (widgets/card_checkout.py)
    confirmed = booking_confirm(booking=booking, actor=CUSTOMER, reason="Confirmed by the customer")
    logger.info("widget.booking.confirmed", extra={"reference": booking.reference})
    return confirmed
