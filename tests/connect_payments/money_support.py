"""Money records written as the payment services leave them once Stripe has answered (paid,
refunded), straight into the tenant's tables: the pages that read them (payments list, CSV,
customers' totals) are tested against real PostgreSQL without a Stripe round trip per row. The
services that write these rows have their own tests against local Stripe."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from connect_payments.models import (
    BookingPayment,
    CardCustomer,
    CardSetup,
    FeeCharge,
    FeeKind,
    FeeStatus,
    PaymentStatus,
)
from memberships.models import (
    Membership,
    MembershipOffer,
    MembershipPeriod,
    MembershipStatus,
    PassOffer,
    PassPurchase,
    PassPurchaseStatus,
)
from scheduling.models import Booking, BookingStatus, Customer

from .conftest import TEN_AM, hold_now

_numbers = count(1)
ACCOUNT = "acct_money_rows_tests"


def _n() -> int:
    return next(_numbers)


def booking_for(service, customer: Customer, *, weeks_ahead: int | None = None) -> Booking:
    """A hold on a Tuesday at 10:00 (opening hours), a week apart from the others."""
    return hold_now(service, customer, starts_at=TEN_AM + timedelta(weeks=weeks_ahead or _n()))


def paid_booking(service, customer: Customer, *, paid_at=None, refunded: int = 0,
                 fee_refunded: int = 0, starts_at=None) -> BookingPayment:  # fmt: skip
    """A booking paid 45.00 online with a 1.38 platform fee."""
    n = _n()
    status = PaymentStatus.PARTIALLY_REFUNDED if refunded else PaymentStatus.PAID
    booking = (hold_now(service, customer, starts_at=starts_at) if starts_at
               else booking_for(service, customer, weeks_ahead=n))  # fmt: skip
    return BookingPayment.objects.create(
        booking=booking, kind="full", status=status,
        currency="EUR", price_minor=4500, amount_minor=4500, fee_minor=138, balance_due_minor=0,
        paid_minor=4500, refunded_minor=refunded, fee_refunded_minor=fee_refunded,
        destination_account_id=ACCOUNT, idempotency_key=f"test-payment-{n}",
        payment_intent_id=f"pi_rows_booking_{n}", charge_id=f"ch_rows_booking_{n}",
        paid_at=paid_at or timezone.now(),
    )  # fmt: skip


def charged_fee(service, customer: Customer, *, status: str = FeeStatus.PAID,
                paid_at=None) -> FeeCharge:  # fmt: skip
    """A no-show fee of 20.00 (platform fee 0.75) charged to the saved card."""
    n = _n()
    booking = booking_for(service, customer, weeks_ahead=n)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.NO_SHOW)
    owner, _ = CardCustomer.objects.get_or_create(
        customer=customer, defaults={"stripe_customer_id": f"cus_rows_{customer.pk}"}
    )
    setup = CardSetup.objects.create(
        booking=booking, owner=owner, currency="EUR", no_show_fee_minor=2000,
        consent_text="I agree", consent_version="test", consented_at=timezone.now(),
        idempotency_key=f"test-setup-{n}", status="saved",
    )  # fmt: skip
    charged = status in (FeeStatus.PAID, FeeStatus.REFUNDED)
    return FeeCharge.objects.create(
        booking=booking, setup=setup, kind=FeeKind.NO_SHOW, status=status, amount_minor=2000,
        currency="EUR", application_fee_minor=75, destination_account_id=ACCOUNT,
        idempotency_key=f"test-fee-{n}", payment_intent_id=f"pi_rows_fee_{n}",
        charge_id=f"ch_rows_fee_{n}" if charged else "",
        paid_at=(paid_at or timezone.now()) if charged else None,
    )  # fmt: skip


def sold_pass(customer: Customer, *, paid_minor: int = 9000, fee_minor: int = 250,
              refunded: int = 0, paid_at=None) -> PassPurchase:  # fmt: skip
    n = _n()
    offer = PassOffer.objects.create(
        name=f"10 classes #{n}", credits=10, validity_days=90, price_minor=paid_minor,
        currency="EUR", status="on_sale",
    )  # fmt: skip
    return PassPurchase.objects.create(
        offer=offer, customer=customer, status=PassPurchaseStatus.PAID, name=offer.name,
        credits=10, validity_days=90, validity_starts="purchase", price_minor=paid_minor,
        currency="EUR", fee_minor=fee_minor, destination_account_id=ACCOUNT,
        idempotency_key=f"test-pass-{n}", payment_intent_id=f"pi_rows_pass_{n}",
        charge_id=f"ch_rows_pass_{n}", paid_minor=paid_minor, refunded_minor=refunded,
        paid_at=paid_at or timezone.now(),
    )  # fmt: skip


def membership_invoice(customer: Customer, *, amount_minor: int = 6000,
                       fee_percent: str = "2.50", refunded: int = 0,
                       paid_at=None) -> MembershipPeriod:  # fmt: skip
    n = _n()
    offer = MembershipOffer.objects.create(name=f"Unlimited #{n}", price_minor=amount_minor,
                                           currency="EUR", status="on_sale")  # fmt: skip
    membership = Membership.objects.create(
        offer=offer, customer=customer, status=MembershipStatus.ACTIVE, name=offer.name,
        price_minor=amount_minor, currency="EUR", interval="month",
        fee_percent=Decimal(fee_percent), destination_account_id=ACCOUNT,
        stripe_subscription_id=f"sub_rows_{n}",
    )  # fmt: skip
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    return MembershipPeriod.objects.create(
        membership=membership, invoice_id=f"in_rows_{n}", billing_reason="subscription_create",
        period_start=start, period_end=start + timedelta(days=30), amount_paid_minor=amount_minor,
        currency="EUR", payment_intent_id=f"pi_rows_membership_{n}",
        charge_id=f"ch_rows_membership_{n}", refunded_minor=refunded,
        paid_at=paid_at or timezone.now(),
    )  # fmt: skip
