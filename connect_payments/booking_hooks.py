"""What the public booking API (scheduling.api) and the staff pages call for payments.

One call per moment of a booking, so the scheduling views stay thin and know nothing of Stripe:
before a hold, after it commits, on the customer's status/return page, and on cancellation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduling.cancellation_policy import RefundDecision
from scheduling.models import Booking, Service
from scheduling.services import Actor, booking_cancel
from tenants.context import current_tenant

from .models import PromoCode
from .selectors import (
    online_payment_available,
    payment_for_booking_status,
    payment_for_new_booking,
    service_needs_online_payment,
)
from .services.booking_payments import (
    booking_payment_check_available,
    booking_payment_on_return,
    booking_payment_start,
)
from .services.cancellation import (
    booking_payment_refund_for_cancellation,
    cancellation_amounts_of,
)
from .services.promo_codes import promo_code_for_hold


def payments_check_before_hold(
    *, service: Service, promo_code: object = None, customer_email: str = ""
) -> PromoCode | None:
    """Before the hold: raises PaymentsUnavailable (409 `payments_unavailable`) for a service
    paid online when the business cannot take payments yet, and PromoCodeInvalid (400
    `promo_code_invalid`) for a promo code that cannot be used; returns the promo code."""
    booking_payment_check_available(service=service)
    return promo_code_for_hold(code=promo_code, service=service, customer_email=customer_email)


def payment_after_hold(
    *, booking: Booking, promo: PromoCode | None = None
) -> dict[str, Any] | None:
    """Call once the hold is committed (never inside its transaction): the `payment` object."""
    return payment_for_new_booking(booking_payment_start(booking=booking, promo=promo))


def payment_on_status(*, booking: Booking) -> dict[str, Any] | None:
    """The return path: re-read a held booking's PaymentIntent (confirming it when paid), then
    the `payment` object of the booking's status. Refresh the booking after calling this."""
    return payment_for_booking_status(booking_payment_on_return(booking=booking))


def booking_cancel_with_refund(
    *,
    booking: Booking,
    actor: Actor,
    by_business: bool,
    reason: str = "",
    now: datetime | None = None,
) -> RefundDecision:
    """Cancel with the policy applied to the money really paid, then refund it through Stripe.

    For the customer's cancel endpoint and the staff calendar alike.
    """
    paid_minor, already_refunded_minor = cancellation_amounts_of(booking=booking)
    decision = booking_cancel(
        booking=booking,
        actor=actor,
        by_business=by_business,
        reason=reason,
        paid_minor=paid_minor,
        already_refunded_minor=already_refunded_minor,
        now=now,
    )
    booking_payment_refund_for_cancellation(booking=booking, decision=decision, actor=actor)
    return decision


class OnlinePaymentAvailability:
    """`ServiceSerializer.online_payment_available`, with one query per request, not per row."""

    def __init__(self) -> None:
        self._enabled: bool | None = None

    def __call__(self, service: Service) -> bool:
        if not service_needs_online_payment(service):
            return True
        if self._enabled is None:
            self._enabled = online_payment_available(current_tenant())
        return self._enabled
