"""Refunds: cancellation at each policy tier (exact refund and fee-refund amounts at Stripe),
staff refunds up to the remainder, Stripe failures retried, unpaid holds cancelled."""

from datetime import timedelta

import pytest

from connect_payments.exceptions import RefundRefused
from connect_payments.models import PaymentRefund, PaymentStatus, RefundStatus
from connect_payments.services.booking_payments import (
    booking_payment_on_return,
    booking_payment_start,
)
from connect_payments.services.cancellation import (
    booking_payment_refund_for_cancellation,
    cancellation_amounts_of,
)
from connect_payments.services.refunds import booking_payment_refund, refunds_retry_pending
from scheduling.actors import CUSTOMER, Actor
from scheduling.models import BookingStatus
from scheduling.services.bookings import booking_cancel
from stripe_local.testing import local

from .conftest import TEN_AM, hold_now

STAFF = Actor("Manon Manager", user_id=None)


def cancel(booking, *, hours_before: float, by_business: bool = False):
    paid_minor, refunded = cancellation_amounts_of(booking=booking)
    decision = booking_cancel(
        booking=booking,
        actor=CUSTOMER,
        by_business=by_business,
        paid_minor=paid_minor,
        already_refunded_minor=refunded,
        now=TEN_AM - timedelta(hours=hours_before),
    )
    return decision, booking_payment_refund_for_cancellation(
        booking=booking, decision=decision, actor=CUSTOMER
    )


def stripe_amounts(sdk, payment) -> tuple[int, int, int]:
    """(refunded on the charge, fee refunded, transfer reversed) as Stripe has them."""
    charge = sdk.v1.charges.retrieve(payment.charge_id, params={"expand": ["application_fee"]})
    transfer = sdk.v1.transfers.list(params={"limit": 100}).data
    [mine] = [t for t in transfer if t.source_transaction == payment.charge_id]
    return charge.amount_refunded, charge.application_fee.amount_refunded, mine.amount_reversed


@pytest.mark.parametrize(
    ("hours_before", "by_business", "percent", "refund", "fee_refund", "reversed_"),
    [
        (72, False, 100, 4500, 138, 4362),  # ≥ 48 h: everything back, the whole transfer reversed
        (30, False, 50, 2250, 69, 2181),  # ≥ 24 h: half, fee returned pro rata
        (2, False, 0, 0, 0, 0),  # late: nothing
        (2, True, 100, 4500, 138, 4362),  # the business cancels: always everything
    ],
)
def test_cancellation_refunds_by_policy_tier(
    paid, sdk, hours_before, by_business, percent, refund, fee_refund, reversed_
):
    booking, payment = paid

    decision, made = cancel(booking, hours_before=hours_before, by_business=by_business)

    assert decision.percent == percent
    assert decision.amount_minor == refund
    payment.refresh_from_db()
    assert stripe_amounts(sdk, payment) == (refund, fee_refund, reversed_)
    assert payment.refunded_minor == refund
    assert payment.fee_refunded_minor == fee_refund
    if refund:
        assert made.status == RefundStatus.SUCCEEDED
        assert (made.amount_minor, made.fee_refunded_minor) == (refund, fee_refund)
        assert made.origin == "cancellation"
        assert made.stripe_refund_id.startswith("re_")
        expected = PaymentStatus.REFUNDED if refund == 4500 else PaymentStatus.PARTIALLY_REFUNDED
        assert payment.status == expected
    else:
        assert made is None
        assert payment.status == PaymentStatus.PAID
        assert payment.events.filter(action="creneau.payment.no_refund").exists()


def test_deposit_cancellation_refunds_a_share_of_the_deposit(
    alpha_account, catalogue, customer, sdk
):
    from scheduling.models import Service

    service = catalogue["service"]
    Service.objects.filter(pk=service.pk).update(
        payment_mode="online_deposit", deposit_fixed_minor=1001
    )
    service.refresh_from_db()
    booking = hold_now(service, customer)
    payment = booking_payment_start(booking=booking)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )
    booking_payment_on_return(booking=booking)
    booking.refresh_from_db()

    decision, made = cancel(booking, hours_before=30)

    # 50 % of the 10.01 deposit actually paid, not of the price: 500.5 → 501.
    assert decision.amount_minor == 501
    assert made.amount_minor == 501
    # fee 1001 × 2.5 % = 25.025 → 25, + 25 = 50; returned pro rata: 501 × 50 / 1001 = 25.02 → 25.
    assert made.fee_refunded_minor == 25


def test_staff_partial_refunds_up_to_the_remainder(paid, sdk):
    booking, payment = paid

    first = booking_payment_refund(
        payment=payment, amount_minor=1000, reason="Late start", actor=STAFF
    )
    second = booking_payment_refund(
        payment=payment, amount_minor=3000, reason="Goodwill", actor=STAFF
    )
    with pytest.raises(RefundRefused) as caught:
        booking_payment_refund(payment=payment, amount_minor=501, reason="Too much", actor=STAFF)

    assert "500" in str(caught.value)
    assert [first.status, second.status] == ["succeeded", "succeeded"]
    payment.refresh_from_db()
    assert payment.refunded_minor == 4000
    assert stripe_amounts(sdk, payment)[0] == 4000
    assert PaymentRefund.objects.filter(payment=payment).count() == 2
    audit = payment.events.filter(action="creneau.payment.refund_requested")
    assert [e.actor_label for e in audit] == ["Manon Manager", "Manon Manager"]
    assert [e.message for e in audit] == ["Late start", "Goodwill"]
    last = booking_payment_refund(payment=payment, amount_minor=500, reason="Rest", actor=STAFF)
    assert last.status == "succeeded"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


@pytest.mark.parametrize("amount", [0, -5])
def test_refund_amount_must_be_positive_and_reasoned(paid, amount):
    _, payment = paid
    with pytest.raises(RefundRefused):
        booking_payment_refund(payment=payment, amount_minor=amount, reason="x", actor=STAFF)
    with pytest.raises(RefundRefused):
        booking_payment_refund(payment=payment, amount_minor=100, reason="  ", actor=STAFF)
    assert not PaymentRefund.objects.exists()


def test_refund_failing_at_stripe_stays_pending_and_is_retried(paid, sdk, stripe_base_url):
    booking, payment = paid
    local(stripe_base_url, "/_local/fail_next", {"path": "/v1/refunds", "status": 500})

    refund = booking_payment_refund(
        payment=payment, amount_minor=1200, reason="Retry me", actor=STAFF
    )

    assert refund.status == RefundStatus.PENDING
    assert refund.attempts == 1
    assert refund.last_error
    # Still reserved: the remainder already counts it, so nobody can over-refund meanwhile.
    with pytest.raises(RefundRefused):
        booking_payment_refund(payment=payment, amount_minor=3301, reason="x", actor=STAFF)

    assert refunds_retry_pending() == 1
    assert refunds_retry_pending() == 0

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    payment.refresh_from_db()
    assert payment.refunded_minor == 1200
    refunds = sdk.v1.refunds.list(params={"payment_intent": payment.payment_intent_id}).data
    assert [r.amount for r in refunds] == [1200]  # one refund at Stripe, not two


def test_cancelling_an_unpaid_hold_cancels_its_payment_intent(
    alpha_account, catalogue, customer, sdk
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)

    decision, made = cancel(booking, hours_before=72)

    assert decision.amount_minor == 0 and made is None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert sdk.v1.payment_intents.retrieve(payment.payment_intent_id).status == "canceled"


def test_payment_for_a_cancelled_booking_is_refunded_in_full(
    alpha_account, catalogue, customer, sdk
):
    booking = hold_now(catalogue["service"], customer)
    payment = booking_payment_start(booking=booking)
    # The customer pays in one tab while cancelling in another: the cancel comes first here,
    # and Stripe refused to cancel an intent that is paid a moment later.
    booking_cancel(booking=booking, actor=CUSTOMER, by_business=False)
    sdk.v1.payment_intents.confirm(
        payment.payment_intent_id, params={"payment_method": "pm_card_visa"}
    )

    payment = booking_payment_on_return(booking=booking)

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    [refund] = payment.refunds.all()
    assert (refund.amount_minor, refund.status, refund.origin) == (
        4500,
        "succeeded",
        "booking_gone",
    )


def test_refund_refused_by_stripe_is_failed_with_its_message(paid, sdk):
    booking, payment = paid
    # Someone refunded 40.00 in the Stripe dashboard and no event has arrived yet.
    sdk.v1.refunds.create(params={"payment_intent": payment.payment_intent_id, "amount": 4000})

    refund = booking_payment_refund(
        payment=payment, amount_minor=1000, reason="Goodwill", actor=STAFF
    )

    assert refund.status == RefundStatus.FAILED
    assert "greater than unrefunded amount" in refund.last_error
    assert refunds_retry_pending() == 0  # refused for good: not retried
    assert payment.events.filter(action="creneau.payment.refund_failed").count() == 1
