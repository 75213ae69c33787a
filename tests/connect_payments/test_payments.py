"""Pay to book against local Stripe: PaymentIntents, the return path, declines, Stripe outages,
payments that arrive after the hold expired."""

from datetime import timedelta

import pytest
import stripe

from connect_payments.exceptions import PaymentNotPossible, PaymentsUnavailable
from connect_payments.gateway import PaymentProviderUnavailable, idempotency_key
from connect_payments.models import BookingPayment, PaymentStatus, RefundStatus
from connect_payments.services.booking_payments import (
    booking_payment_check_available,
    booking_payment_on_return,
    booking_payment_retry,
    booking_payment_start,
)
from scheduling.models import Booking, BookingEvent, BookingStatus, Service
from scheduling.services.bookings import booking_expire
from stripe_local.testing import local

from .conftest import hold_now


def pay(sdk, payment, card: str = "pm_card_visa"):
    """What Stripe.js does in the widget: confirm the PaymentIntent with a card."""
    return sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": card}
    )


def confirmations(booking) -> int:
    return BookingEvent.objects.filter(booking=booking, to_status=BookingStatus.CONFIRMED).count()


def test_paid_in_full_creates_a_destination_charge_with_fee_and_metadata(
    alpha_account, catalogue, customer, sdk
):
    booking = hold_now(catalogue["service"], customer)

    payment = booking_payment_start(booking=booking)

    assert payment.kind == "full"
    assert (payment.amount_minor, payment.fee_minor, payment.balance_due_minor) == (4500, 138, 0)
    assert payment.status == PaymentStatus.AWAITING_PAYMENT
    intent = sdk.v1.payment_intents.retrieve(payment.payment_intent_id)
    assert intent.amount == 4500
    assert intent.currency == "eur"
    assert intent.application_fee_amount == 138
    assert intent.transfer_data.destination == alpha_account.account_id
    assert intent.on_behalf_of == alpha_account.account_id
    assert intent.metadata.to_dict() == {
        "tenant_schema": alpha_account.tenant.schema_name,
        "booking_reference": booking.reference,
    }
    assert intent.receipt_email == "chloe@example.test"
    assert booking.reference in intent.description
    assert payment.client_secret == intent.client_secret

    pay(sdk, payment)
    payment = booking_payment_on_return(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == PaymentStatus.PAID
    assert payment.paid_minor == 4500
    assert payment.charge_id.startswith("ch_")
    assert payment.net_minor == 4500 - 138


def test_return_path_twice_confirms_once(alpha_account, catalogue, customer, sdk):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    pay(sdk, payment)

    booking_payment_on_return(booking=booking)
    booking_payment_on_return(booking=Booking.objects.get(pk=booking.pk))

    assert confirmations(booking) == 1
    assert payment.events.filter(action="creneau.payment.succeeded").count() == 1


def test_deposit_charges_the_deposit_and_records_the_balance(
    alpha_account, catalogue, customer, sdk
):
    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(payment_mode="online_deposit", deposit_percent=30)
    service.refresh_from_db()
    booking = hold_now(service, customer)

    payment = booking_payment_start(booking=booking)

    assert payment.kind == "deposit"
    assert (payment.amount_minor, payment.balance_due_minor) == (1350, 3150)
    assert payment.fee_minor == 59  # 33.75 → 34, + 25
    assert sdk.v1.payment_intents.retrieve(payment.payment_intent_id).amount == 1350
    pay(sdk, payment)
    payment = booking_payment_on_return(booking=booking)
    assert payment.paid_minor == 1350
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize("mode", ["pay_at_venue", "free"])
def test_pay_at_venue_and_free_make_no_stripe_call(alpha, catalogue, customer, mode):
    # No connected account at all: these services must still be bookable.
    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(
        payment_mode=mode, price_minor=0 if mode == "free" else 4500
    )
    service.refresh_from_db()
    booking_payment_check_available(service=service)
    booking = hold_now(service, customer)

    assert booking_payment_start(booking=booking) is None
    assert not BookingPayment.objects.exists()


def test_tenant_without_charges_enabled_cannot_take_online_payments(
    alpha, catalogue, customer, sdk, stripe_base_url, fee_plan
):
    from connect_payments.models import ConnectedAccount

    service = catalogue["service"]
    with pytest.raises(PaymentsUnavailable) as caught:
        booking_payment_check_available(service=service)
    assert caught.value.http_status == 409
    assert caught.value.code == "payments_unavailable"

    # An account whose onboarding is not finished does not help either.
    account = sdk.v1.accounts.create(params={"type": "express", "country": "FR"})
    ConnectedAccount.objects.create(tenant=alpha, account_id=account.id)
    with pytest.raises(PaymentsUnavailable):
        booking_payment_check_available(service=service)


def test_decline_keeps_the_hold_then_another_card_succeeds(alpha_account, catalogue, customer, sdk):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)

    with pytest.raises(stripe.CardError):
        pay(sdk, payment, "pm_card_chargeDeclined")
    payment = booking_payment_on_return(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD
    assert payment.paid_minor == 0
    assert payment.intent_status == "requires_payment_method"
    assert payment.last_error == "Your card was declined."
    assert payment.events.filter(action="creneau.payment.failed").count() == 1

    pay(sdk, payment, "pm_card_visa")
    payment = booking_payment_on_return(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.last_error == ""
    assert payment.paid_minor == 4500


def test_stripe_500_on_creation_keeps_the_hold_and_the_retry_makes_one_intent(
    alpha_account, catalogue, customer, sdk, stripe_base_url
):
    local(
        stripe_base_url,
        "/_local/fail_next",
        {"path": "/v1/payment_intents", "method": "POST", "status": 500, "count": 1},
    )
    booking = hold_now(catalogue["service"], customer)

    payment = booking_payment_start(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD
    assert payment.payment_intent_id is None
    assert payment.provider_message
    assert payment.events.filter(action="creneau.payment.provider_failed").exists()

    local(
        stripe_base_url,
        "/_local/fail_next",
        {"path": "/v1/payment_intents", "method": "POST", "status": 503, "count": 1},
    )
    with pytest.raises(PaymentProviderUnavailable):
        booking_payment_retry(booking=booking)

    payment = booking_payment_retry(booking=booking)
    again = booking_payment_retry(booking=booking)

    assert payment.payment_intent_id and again.payment_intent_id == payment.payment_intent_id
    assert payment.idempotency_key == idempotency_key(
        "payment_intent.create", alpha_account.tenant.schema_name, booking.reference
    )
    made = [
        intent
        for intent in sdk.v1.payment_intents.list(params={"limit": 100}).data
        if intent.metadata.get("booking_reference") == booking.reference
    ]
    assert len(made) == 1


def test_payment_retry_refused_once_the_booking_is_not_held(alpha_account, catalogue, customer):
    booking = hold_now(catalogue["service"], customer, hold_minutes_ago=30)
    booking_expire(booking_ids=[booking.pk])
    booking.refresh_from_db()

    with pytest.raises(PaymentNotPossible) as caught:
        booking_payment_retry(booking=booking)
    assert caught.value.http_status == 409


def test_payment_after_expiry_retakes_a_free_slot(alpha_account, catalogue, customer, sdk):
    booking = hold_now(catalogue["service"], customer, hold_minutes_ago=30)
    payment = booking_payment_start(booking=booking)
    assert booking_expire(booking_ids=[booking.pk]) == 1

    pay(sdk, payment)
    payment = booking_payment_on_return(booking=Booking.objects.get(pk=booking.pk))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.hold_expires_at is None
    event = BookingEvent.objects.filter(booking=booking).last()
    assert (event.from_status, event.to_status) == ("expired", "confirmed")
    assert payment.status == PaymentStatus.PAID
    assert not payment.refunds.exists()


def test_payment_after_expiry_is_refunded_when_the_slot_was_taken(
    alpha_account, catalogue, customer, sdk
):
    from scheduling.services.customers import customer_upsert

    service, ada = catalogue["service"], catalogue["ada"]
    late = hold_now(service, customer, staff_id=ada.pk, hold_minutes_ago=30)
    payment = booking_payment_start(booking=late)
    booking_expire(booking_ids=[late.pk])
    other = customer_upsert(name="Other", email="other@example.test")
    taker = hold_now(service, other, staff_id=ada.pk)  # the same time, the same person

    pay(sdk, payment)
    payment = booking_payment_on_return(booking=Booking.objects.get(pk=late.pk))

    late.refresh_from_db()
    taker.refresh_from_db()
    assert late.status == BookingStatus.EXPIRED
    assert taker.status == BookingStatus.HELD
    [refund] = payment.refunds.all()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount_minor == 4500
    assert refund.fee_refunded_minor == 138
    assert refund.origin == "slot_lost"
    assert "taken" in refund.reason
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_minor == 4500
    charge = sdk.v1.charges.retrieve(payment.charge_id)
    assert charge.amount_refunded == 4500


def test_expired_hold_without_payment_stays_expired(alpha_account, catalogue, customer):
    booking = hold_now(catalogue["service"], customer, hold_minutes_ago=30)
    payment = booking_payment_start(booking=booking)
    booking_expire(booking_ids=[booking.pk])

    booking_payment_on_return(booking=Booking.objects.get(pk=booking.pk))

    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    payment.refresh_from_db()
    assert payment.paid_minor == 0
    assert not payment.refunds.exists()


@pytest.mark.parametrize(("outcome", "confirmed"), [("complete", True), ("fail", False)])
def test_three_d_secure_passed_and_failed(
    alpha_account, catalogue, customer, sdk, stripe_base_url, outcome, confirmed
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    intent = pay(sdk, payment, "pm_card_threeDSecure2Required")
    assert intent.status == "requires_action"
    payment = booking_payment_on_return(booking=booking)
    assert payment.intent_status == "requires_action"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD

    local(
        stripe_base_url,
        f"/_local/3ds/{payment.payment_intent_id}",
        {"outcome": outcome, "client_secret": payment.client_secret},
    )
    payment = booking_payment_on_return(booking=booking)

    booking.refresh_from_db()
    if confirmed:
        assert booking.status == BookingStatus.CONFIRMED
        assert payment.paid_minor == 4500
    else:
        assert booking.status == BookingStatus.HELD  # another card may still be tried
        assert payment.paid_minor == 0
        assert payment.intent_status == "requires_payment_method"
        assert payment.last_error


def test_rescheduling_a_paid_booking_keeps_its_payment(alpha_account, catalogue, customer, sdk):
    from scheduling.actors import CUSTOMER
    from scheduling.services.bookings import booking_reschedule

    from .conftest import TEN_AM

    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    pay(sdk, payment)
    booking_payment_on_return(booking=booking)

    moved = booking_reschedule(
        booking=Booking.objects.get(pk=booking.pk),
        new_start=TEN_AM + timedelta(days=1),
        actor=CUSTOMER,
    )

    assert moved.status == BookingStatus.CONFIRMED
    payment.refresh_from_db()
    assert (payment.booking_id, payment.paid_minor, payment.status) == (booking.pk, 4500, "paid")
    assert not payment.refunds.exists()
    assert sdk.v1.charges.retrieve(payment.charge_id).amount_refunded == 0
