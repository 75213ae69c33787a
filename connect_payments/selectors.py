"""Reads of payments: whether a business can take payments, what the booking API shows a
customer and the staff calendar's summary (the money pages' rows: `money_rows`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from common.money import Money, format_money
from scheduling.models import Booking, PaymentMode, Service
from tenants.models import Tenant

from . import gateway
from .models import (
    BookingPayment,
    CardSetup,
    CardSetupStatus,
    ConnectedAccount,
    FeeCharge,
    PaymentStatus,
)

ONLINE_MODES = (PaymentMode.ONLINE_FULL, PaymentMode.ONLINE_DEPOSIT)


def connected_account_of(tenant: Tenant) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(tenant_id=tenant.pk).first()


def online_payment_available(tenant: Tenant) -> bool:
    return ConnectedAccount.objects.filter(tenant_id=tenant.pk, charges_enabled=True).exists()


def service_needs_online_payment(service: Service) -> bool:
    return service.payment_mode in ONLINE_MODES and service.price_minor > 0


def payment_of(booking: Booking) -> BookingPayment | None:
    return BookingPayment.objects.filter(booking=booking).first()


def _customer_status(payment: BookingPayment) -> str:
    return payment.intent_status or "unavailable"


def payment_for_new_booking(payment: BookingPayment | None) -> dict[str, Any] | None:
    """The `payment` object of a hold (and of the payment retry): what the widget needs to pay.

    The platform fee is never shown to customers.
    """
    if payment is None:
        return None
    message = payment.provider_message or None
    if payment.payment_intent_id is None and message is None:
        message = "Online payment is temporarily unavailable."
    return {
        "required": True,
        "kind": payment.kind,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
        "balance_due_minor": payment.balance_due_minor,
        "discount_minor": payment.discount_minor,
        "promo_code": payment.promo_code.code if payment.promo_code else None,
        "client_secret": payment.client_secret or None,
        "publishable_key": gateway.publishable_key(),
        "stripe_js_url": gateway.stripe_js_url(),
        "status": _customer_status(payment),
        "message": message if payment.payment_intent_id is None else None,
    }


def payment_for_booking_status(payment: BookingPayment | None) -> dict[str, Any] | None:
    """The `payment` object of a booking's status (the return path): paid, due, Stripe's error."""
    if payment is None:
        return None
    return {
        "status": _customer_status(payment),
        "amount_minor": payment.amount_minor,
        "paid_minor": payment.paid_minor,
        "refunded_minor": payment.refunded_minor,
        "discount_minor": payment.discount_minor,
        "balance_due_minor": payment.balance_due_minor,
        "currency": payment.currency,
        "last_error": payment.last_error or None,
    }


def payment_summary_for_staff(booking: Booking) -> dict[str, Any]:
    """What the staff calendar shows on a booking: "paid / deposit / due", for every role.

    `due_minor` (to collect at the venue) is shown to front desk too; amounts moved to the
    business (fee, net) are only on the money pages.
    """
    return staff_summary_of(booking, payment_of(booking))


def staff_summary_of(booking: Booking, payment: BookingPayment | None) -> dict[str, Any]:
    """`payment_summary_for_staff` of a payment already read (`payment_of(booking)`)."""
    if payment is None:
        if booking.payment_mode == "free":
            return {"label": "Free", "due_minor": 0, "currency": booking.currency}
        return {
            "label": "To pay at the venue",
            "due_minor": booking.price_minor,
            "currency": booking.currency,
        }
    if payment.paid_minor == 0:
        label = "Awaiting online payment"
        due = 0
    elif payment.status == PaymentStatus.REFUNDED:
        label, due = "Refunded", 0
    elif payment.balance_due_minor and payment.balance_paid_at is None:
        label, due = "Deposit paid, balance due", payment.balance_due_minor
    elif payment.balance_due_minor:
        label, due = "Deposit and balance paid", 0
    else:
        label, due = "Paid online", 0
    if payment.status == PaymentStatus.PARTIALLY_REFUNDED:
        label += " (partly refunded)"
    return {"label": label, "due_minor": due, "currency": payment.currency}


def card_fee_summary_of(booking: Booking, *, with_money: bool) -> dict[str, Any]:
    """The staff calendar's lines for a card on file: the card (brand and last four only, for
    every role) and the fee with its status (the amount and the fee's page for money roles)."""
    setup = CardSetup.objects.filter(booking=booking).select_related("card").first()
    if setup is None:
        return {}
    lines: dict[str, Any] = {"card_label": "Card on file: not saved yet"}
    if setup.status == CardSetupStatus.SAVED and setup.card is not None:
        removed = " (removed by the customer)" if setup.card.removed_at else ""
        lines["card_label"] = f"Card on file: {setup.card.label}{removed}"
    fee = FeeCharge.objects.filter(booking=booking).first()
    if fee is not None:
        amount = f" {format_money(Money(fee.amount_minor, fee.currency))}" if with_money else ""
        lines["fee_label"] = f"{fee.get_kind_display()}{amount} · {fee.get_status_display()}"
        lines["fee_url"] = reverse("fee_detail", args=[fee.pk]) if with_money else ""
    return lines
