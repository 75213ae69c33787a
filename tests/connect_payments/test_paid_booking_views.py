"""What the team and the customer see of a paid booking: staff cancellations refund through
Stripe, the booking page shows paid / due, the confirmation email is a receipt."""

import json
from datetime import timedelta

from django.db import connection

from connect_payments.models import PaymentStatus
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from scheduling.models import BookingStatus
from scheduling.views import base as views_base
from tenants.roles import Role
from tests.factories import client_for, make_member, member_client

from .conftest import hold_now
from .test_refunds import stripe_amounts


def test_staff_cancellation_refunds_everything_paid(paid, sdk, tenant_alpha, monkeypatch):
    booking, payment = paid
    # Two hours before the start: the customer's own policy would refund nothing, but the
    # business cancels, so everything paid goes back, application fee included.
    monkeypatch.setattr(views_base, "now", lambda: booking.starts_at - timedelta(hours=2))
    desk = member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK))

    preview = desk.get(f"/bookings/{booking.reference}/cancel/")
    assert preview.status_code == 200
    assert "45.00" not in preview.content.decode()  # front desk sees no amounts
    response = desk.post(f"/bookings/{booking.reference}/cancel/", {"reason": "Therapist ill"})

    assert response.status_code == 302
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_minor == payment.paid_minor == 4500
    assert stripe_amounts(sdk, payment) == (4500, 138, 4362)


def test_booking_page_shows_paid_to_everyone_and_the_money_record_to_owners(
    paid, tenant_alpha, owner_alpha
):
    booking, payment = paid
    desk = member_client(tenant_alpha, make_member(tenant_alpha, Role.FRONT_DESK))
    page = desk.get(f"/bookings/{booking.reference}/").content.decode()
    assert "Paid online" in page
    assert f"/payments/{payment.pk}/" not in page
    owner = member_client(tenant_alpha, owner_alpha, verified=True)
    assert (
        f"/payments/{payment.pk}/" in owner.get(f"/bookings/{booking.reference}/").content.decode()
    )


def test_confirmation_email_is_a_receipt_of_what_was_paid(
    alpha_account, catalogue, customer, sdk, django_capture_on_commit_callbacks, mailoutbox
):
    """A deposit paid online: the email says how much was paid and how much is due."""
    service = catalogue["service"]
    service.payment_mode, service.deposit_percent = "online_deposit", 30
    service.save(update_fields=["payment_mode", "deposit_percent"])
    booking = hold_now(service, customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        booking_payment_on_return(booking=booking)
    [email] = [m for m in mailoutbox if "confirmed" in m.subject.lower()]
    assert "€13.50 paid online; €31.50 is due at the venue" in email.body


def test_a_customer_of_a_suspended_business_cancels_and_is_refunded(paid, sdk, tenant_alpha):
    booking, payment = paid  # 2030-06-04: far enough ahead for the policy's full refund
    tenant_alpha.status, tenant_alpha.suspended_reason = "suspended", "Unpaid invoices"
    tenant_alpha.save(update_fields=["status", "suspended_reason"])
    response = client_for(tenant_alpha).post(
        f"/api/v1/bookings/{booking.reference}/cancel/",
        json.dumps({"token": booking.manage_token, "reason": "Plans changed"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    connection.set_tenant(tenant_alpha)
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_minor == 4500
    assert stripe_amounts(sdk, payment)[0] == 4500
