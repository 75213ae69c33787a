"""What scheduling asks of payments (`scheduling.ports.Payments`), answered by connect_payments.

Registered once in `ConnectPaymentsConfig.ready()` (`scheduling.ports.register_payments`), so
scheduling calls `ports.payments()` and never imports connect_payments. One call per moment of a
booking: before a hold, after it commits, on the customer's status/return page, on cancellation;
plus what the staff calendar and the customer's receipt show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from scheduling.actors import Actor
from scheduling.cancellation_policy import RefundDecision
from scheduling.models import Booking, Service
from tenants.context import current_tenant

from .models import PromoCode
from .selectors import (
    card_fee_summary_of,
    online_payment_available,
    payment_for_booking_status,
    payment_for_new_booking,
    payment_of,
    service_needs_online_payment,
    staff_summary_of,
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


class ConnectPayments:
    """`scheduling.ports.Payments` through Stripe Connect."""

    def check_before_hold(
        self, *, service: Service, promo_code: object = None, customer_email: str = ""
    ) -> PromoCode | None:
        return payments_check_before_hold(
            service=service, promo_code=promo_code, customer_email=customer_email
        )

    def after_hold(
        self, *, booking: Booking, promo: PromoCode | None = None
    ) -> dict[str, Any] | None:
        return payment_after_hold(booking=booking, promo=promo)

    def on_status(self, *, booking: Booking) -> dict[str, Any] | None:
        return payment_on_status(booking=booking)

    def cancellation_amounts(self, *, booking: Booking) -> tuple[int, int]:
        return cancellation_amounts_of(booking=booking)

    def refund_for_cancellation(
        self, *, booking: Booking, decision: RefundDecision, actor: Actor
    ) -> None:
        booking_payment_refund_for_cancellation(booking=booking, decision=decision, actor=actor)

    def online_payment_check(self) -> Callable[[Service], bool]:
        return OnlinePaymentAvailability()

    def staff_summary(self, *, booking: Booking, with_money: bool) -> dict[str, Any]:
        payment = payment_of(booking)
        summary = staff_summary_of(booking, payment)
        summary["detail_url"] = (
            reverse("payment_detail", args=[payment.pk])
            if with_money and payment is not None
            else ""
        )
        summary.update(card_fee_summary_of(booking, with_money=with_money))
        return summary

    def receipt(self, *, booking: Booking) -> dict[str, Any] | None:
        payment = payment_of(booking)
        if payment is None or payment.paid_minor == 0:
            return None
        return {
            "paid_minor": payment.paid_minor,
            "discount_minor": payment.discount_minor,
            "promo_code": payment.promo_code.code if payment.promo_code else "",
            "balance_due_minor": payment.balance_due_minor
            if payment.balance_paid_at is None
            else 0,
            "currency": payment.currency,
        }
