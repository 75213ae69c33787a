"""Rows of the business's other money, written as connect_payments' and memberships' services
leave them (no Stripe call: the dashboard reads rows, not Stripe): a no-show fee charged (and
refunded), a pass bought (and refunded in part), a membership invoice paid (and refunded)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from connect_payments.models import CardCustomer, CardSetup, FeeCharge
from memberships.models import (
    Membership,
    MembershipOffer,
    MembershipPeriod,
    PassOffer,
    PassPurchase,
    PassRefund,
)
from scheduling.models import Booking, Customer

_numbers = itertools.count(1)


def fee_charge(booking: Booking, *, amount: int, platform_fee: int, paid_at: datetime,
               kind: str = "no_show") -> FeeCharge:  # fmt: skip
    number = next(_numbers)
    owner, _ = CardCustomer.objects.get_or_create(
        customer=booking.customer, defaults={"stripe_customer_id": f"cus_ins{number}"}
    )
    setup = CardSetup.objects.create(
        booking=booking, owner=owner, currency="EUR", no_show_fee_minor=amount,
        consent_text="I agree", consent_version="1", consented_at=paid_at - timedelta(days=3),
        idempotency_key=f"ins-setup-{number}", status="saved",
    )  # fmt: skip
    return FeeCharge.objects.create(
        booking=booking, setup=setup, kind=kind, status="paid", amount_minor=amount,
        currency="EUR", application_fee_minor=platform_fee, destination_account_id="acct_ins",
        idempotency_key=f"ins-fee-{number}", payment_intent_id=f"pi_insfee{number}",
        created_at=paid_at, updated_at=paid_at, paid_at=paid_at,
    )  # fmt: skip


def refund_fee(fee: FeeCharge, at: datetime) -> None:
    FeeCharge.objects.filter(pk=fee.pk).update(status="refunded", refund_id="re_ins",
                                               updated_at=at)  # fmt: skip


def pass_purchase(customer: Customer, *, paid: int, platform_fee: int,
                  paid_at: datetime) -> PassPurchase:  # fmt: skip
    number = next(_numbers)
    offer = PassOffer.objects.create(
        name=f"Pass {number}",
        credits=10,
        validity_days=365,
        price_minor=paid,
        currency="EUR",
        status="on_sale",
    )
    return PassPurchase.objects.create(
        offer=offer, customer=customer, status="paid", name=offer.name, credits=10,
        validity_days=365, validity_starts="purchase", price_minor=paid, currency="EUR",
        fee_minor=platform_fee, destination_account_id="acct_ins",
        idempotency_key=f"ins-pass-{number}", payment_intent_id=f"pi_inspass{number}",
        paid_minor=paid, created_at=paid_at, paid_at=paid_at,
    )  # fmt: skip


def pass_refund(purchase: PassPurchase, *, amount: int, at: datetime,
                status: str = "succeeded") -> PassRefund:  # fmt: skip
    refund = PassRefund.objects.create(purchase=purchase, amount_minor=amount, status=status,
                                       idempotency_key=f"ins-passrefund-{next(_numbers)}",
                                       created_at=at)  # fmt: skip
    if status == "succeeded":
        PassPurchase.objects.filter(pk=purchase.pk).update(
            refunded_minor=purchase.refunded_minor + amount)  # fmt: skip
    return refund


def membership_period(customer: Customer, *, paid: int, fee_percent: str,
                      paid_at: datetime) -> MembershipPeriod:  # fmt: skip
    number = next(_numbers)
    offer = MembershipOffer.objects.create(name=f"Plan {number}", price_minor=paid,
                                           currency="EUR", interval="month")  # fmt: skip
    membership = Membership.objects.create(
        offer=offer, customer=customer, status="active", name=offer.name, price_minor=paid,
        currency="EUR", interval="month", fee_percent=Decimal(fee_percent),
        destination_account_id="acct_ins", stripe_subscription_id=f"sub_ins{number}",
    )  # fmt: skip
    return MembershipPeriod.objects.create(
        membership=membership, invoice_id=f"in_ins{number}", billing_reason="subscription_create",
        period_start=paid_at, period_end=paid_at + timedelta(days=30), amount_paid_minor=paid,
        currency="EUR", payment_intent_id=f"pi_insmem{number}", paid_at=paid_at,
    )  # fmt: skip


def refund_period(period: MembershipPeriod) -> None:
    """As memberships' `membership_period_refund` records it: the amount, no time."""
    MembershipPeriod.objects.filter(pk=period.pk).update(
        refund_id="re_insmem", refunded_minor=period.amount_paid_minor)  # fmt: skip
