"""Promo codes: their discount, their uses, the check at booking time, the staff's writes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from scheduling.actors import Actor
from scheduling.models import BookingStatus, Service

from ..exceptions import PromoCodeInvalid
from ..fees import discount_minor
from ..models import BookingPayment, PromoCode, PromoKind
from ..selectors import service_needs_online_payment

logger = logging.getLogger(__name__)

REDEEMED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def promo_discount_minor(*, promo: PromoCode, price_minor: int) -> int:
    if promo.kind == PromoKind.PERCENT:
        return discount_minor(price_minor=price_minor, percent=promo.percent, amount_minor=None)
    return discount_minor(price_minor=price_minor, percent=None, amount_minor=promo.amount_minor)


def promo_uses(promo: PromoCode, *, now: datetime | None = None) -> QuerySet[BookingPayment]:
    """The payments that use up one redemption of a code: confirmed (completed, no-show)
    bookings, and live holds, which reserve theirs so the last use cannot be sold twice at
    confirmation. An expired, cancelled or run-out hold uses nothing."""
    now = now or timezone.now()
    return BookingPayment.objects.filter(promo_code=promo).filter(
        Q(booking__status__in=REDEEMED_STATUSES)
        | Q(booking__status=BookingStatus.HELD, booking__hold_expires_at__gt=now)
    )


def promo_limits_check(promo: PromoCode, *, customer_email: str, now: datetime) -> None:
    uses = promo_uses(promo, now=now)
    if promo.max_redemptions is not None and uses.count() >= promo.max_redemptions:
        raise PromoCodeInvalid("This promo code has been used up.")
    if promo.max_per_customer is not None and (
        uses.filter(booking__customer__email__iexact=customer_email.strip()).count()
        >= promo.max_per_customer
    ):
        raise PromoCodeInvalid("You have already used this promo code.")


def promo_code_for_hold(
    *, code: object, service: Service, customer_email: str, now: datetime | None = None
) -> PromoCode | None:
    """Validate a promo code typed at booking time (before the hold); None when none was given.

    The limits are checked here to answer early; they are decided for good under the code's row
    lock when the payment is reserved (`booking_payment_reserve`).
    """
    if code is None or code == "":
        return None
    if not isinstance(code, str) or len(code) > 40:
        raise PromoCodeInvalid()
    code = code.strip()
    if not code:
        return None
    if not service_needs_online_payment(service):
        raise PromoCodeInvalid("Promo codes apply to services paid online.")
    promo = PromoCode.objects.filter(code__iexact=code, is_active=True).first()
    if promo is None:
        raise PromoCodeInvalid("This promo code does not exist.")
    now = now or timezone.now()
    if promo.valid_from and now < promo.valid_from:
        raise PromoCodeInvalid("This promo code is not valid yet.")
    if promo.valid_until and now >= promo.valid_until:
        raise PromoCodeInvalid("This promo code has expired.")
    if promo.services.exists() and not promo.services.filter(pk=service.pk).exists():
        raise PromoCodeInvalid("This promo code does not apply to this service.")
    promo_limits_check(promo, customer_email=customer_email, now=now)
    if promo_discount_minor(promo=promo, price_minor=service.price_minor) >= service.price_minor:
        # A booking paid online must still pay something (Stripe has a minimum charge).
        raise PromoCodeInvalid("This promo code cannot be used for this service.")
    return promo


def promo_code_create(*, data: Mapping[str, Any], actor: Actor) -> PromoCode:
    """Create a promo code from a validated PromoCodeForm's data."""
    with transaction.atomic():
        promo = PromoCode.objects.create(
            code=data["code"],
            kind=data["kind"],
            percent=data["percent"],
            amount_minor=data["amount_minor"],
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
            max_redemptions=data.get("max_redemptions"),
            max_per_customer=data.get("max_per_customer"),
        )
        promo.services.set(data.get("services") or [])
    logger.info("promo_code.created", extra={"promo": promo.pk, "by": actor.user_id})
    return promo


def promo_code_deactivate(*, promo: PromoCode) -> None:
    PromoCode.objects.filter(pk=promo.pk).update(is_active=False)
