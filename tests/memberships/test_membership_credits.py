"""Membership credits over renewals, against local Stripe on a test clock: rollover (none or up
to K), an unlimited membership with a daily cap, cancellation at period end (and not before the
minimum commitment), retiring an offer. Renewals are read back through reconciliation
(`membership_refresh_all`, the same idempotent services the webhooks call)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memberships.models import Membership, MembershipOfferStatus, MembershipStatus
from memberships.services.memberships import (
    MembershipChangeRefused,
    MembershipNotAvailable,
    OfferTerms,
    membership_cancel_at_period_end,
    membership_join,
    membership_join_returned,
    membership_offer_create,
    membership_offer_retire,
    membership_offer_update,
)
from memberships.services.memberships_billing import membership_refresh_all
from scheduling.exceptions import CreditUnavailable
from scheduling.services.bookings import booking_hold
from scheduling.services.customers import customer_upsert
from tests.scheduling.conftest import NOW, paris

from .membership_helpers import advance, join_and_pay, membership_grants, new_clock, offer_on_sale


def _joined(sdk, catalogue, customer, **terms) -> tuple[Membership, str]:
    offer = offer_on_sale([catalogue["service"]], **terms)
    clock = new_clock(sdk)
    membership = join_and_pay(sdk, offer, customer, clock=clock)
    return membership_join_returned(membership=membership), clock


def _hold(catalogue, customer, *, day: int, hour: int):
    return booking_hold(service=catalogue["service"], starts_at=paris(2030, 6, day, hour),
                        customer=customer, staff_id=catalogue["ada"].pk, now=NOW,
                        use_credit=True)  # fmt: skip


@pytest.mark.parametrize(("rollover_max", "next_period"), [(0, 8), (3, 11), (10, 14)])
def test_unused_credits_roll_over_up_to_the_limit(
    alpha_account, catalogue, customer, sdk, rollover_max, next_period
):
    membership, clock = _joined(sdk, catalogue, customer, rollover_max=rollover_max)
    _hold(catalogue, customer, day=4, hour=10)
    _hold(catalogue, customer, day=5, hour=10)  # 6 of 8 left at the end of the period
    advance(sdk, clock, membership.current_period_end + timedelta(hours=2))
    membership_refresh_all(membership=membership)
    membership_refresh_all(membership=membership)  # twice: nothing rolls over twice

    first, second = membership_grants(membership)
    assert first.remaining == 6
    assert second.credits_total == next_period and second.remaining == next_period
    assert membership.periods.order_by("period_start").last().credits_rolled_over == (
        next_period - 8
    )


def test_unlimited_membership_with_a_daily_cap(alpha_account, catalogue, customer, sdk):
    membership, _ = _joined(sdk, catalogue, customer, credits_per_period=None, cap_per_day=1)
    [grant] = membership_grants(membership)
    assert grant.credits_total is None and grant.cap_per_day == 1

    assert _hold(catalogue, customer, day=4, hour=10).payment_mode == "credit"
    with pytest.raises(CreditUnavailable):
        _hold(catalogue, customer, day=4, hour=14)  # the same day: over the cap
    assert _hold(catalogue, customer, day=5, hour=10).payment_mode == "credit"
    assert _hold(catalogue, customer, day=6, hour=10).payment_mode == "credit"


def test_cancellation_at_period_end_keeps_the_period_and_renews_no_more(
    alpha_account, catalogue, customer, sdk
):
    membership, clock = _joined(sdk, catalogue, customer)
    end = membership.current_period_end
    membership = membership_cancel_at_period_end(membership=membership)
    assert membership.cancel_at_period_end and membership.status == MembershipStatus.ACTIVE
    subscription = sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id)
    assert subscription.cancel_at_period_end and subscription.cancel_at == int(end.timestamp())
    # The credits of the paid period stay usable until its end.
    assert _hold(catalogue, customer, day=4, hour=10).payment_mode == "credit"

    advance(sdk, clock, end + timedelta(hours=2))
    membership = membership_refresh_all(membership=membership)
    assert membership.status == MembershipStatus.ENDED and membership.ended_at == end
    assert len(membership_grants(membership)) == 1
    assert membership.periods.count() == 1
    with pytest.raises(MembershipChangeRefused):
        membership_cancel_at_period_end(membership=membership)


def test_undoing_a_cancellation_keeps_the_membership_renewing(
    alpha_account, catalogue, customer, sdk
):
    membership, clock = _joined(sdk, catalogue, customer)
    membership_cancel_at_period_end(membership=membership)
    membership = membership_cancel_at_period_end(membership=membership, cancel=False)
    assert not membership.cancel_at_period_end
    advance(sdk, clock, membership.current_period_end + timedelta(hours=2))
    membership = membership_refresh_all(membership=membership)
    assert membership.status == MembershipStatus.ACTIVE and membership.periods.count() == 2


def test_cancelling_during_the_minimum_commitment_ends_it_at_the_commitment(
    alpha_account, catalogue, customer, sdk
):
    membership, _ = _joined(sdk, catalogue, customer, minimum_periods=3)
    assert membership.commitment_ends_at is not None
    # Three monthly periods from 3 June 2030: until 3 September.
    assert membership.commitment_ends_at == membership.current_period_start.replace(month=9)
    membership = membership_cancel_at_period_end(membership=membership)
    subscription = sdk.v1.subscriptions.retrieve(membership.stripe_subscription_id)
    assert subscription.cancel_at == int(membership.commitment_ends_at.timestamp())


def test_joining_fee_is_paid_once_on_the_first_invoice(alpha_account, catalogue, customer, sdk):
    membership, _ = _joined(sdk, catalogue, customer, joining_fee_minor=2000)
    [period] = membership.periods.all()
    assert period.amount_paid_minor == 6000 + 2000


def test_retiring_an_offer_stops_joining_but_keeps_members(alpha_account, catalogue, customer, sdk):
    membership, clock = _joined(sdk, catalogue, customer)
    offer = membership_offer_retire(offer=membership.offer)
    assert offer.status == MembershipOfferStatus.RETIRED
    other = customer_upsert(name="Dan", email="dan@example.test")
    with pytest.raises(MembershipNotAvailable):
        membership_join(offer=offer, customer=other)
    advance(sdk, clock, membership.current_period_end + timedelta(hours=2))
    membership = membership_refresh_all(membership=membership)
    assert membership.status == MembershipStatus.ACTIVE and membership.periods.count() == 2


def test_offer_terms_are_checked_and_frozen_once_on_sale(alpha_schema, catalogue):
    service_ids = [catalogue["service"].pk]
    with pytest.raises(MembershipChangeRefused):
        membership_offer_create(
            terms=OfferTerms("Bad", 1000, "eur", "month", credits_per_period=5, cap_per_day=1),
            service_ids=service_ids,
        )
    with pytest.raises(MembershipChangeRefused):
        membership_offer_create(
            terms=OfferTerms("Bad", 1000, "eur", "month", credits_per_period=None, rollover_max=2),
            service_ids=service_ids,
        )
    with pytest.raises(MembershipChangeRefused):
        membership_offer_create(
            terms=OfferTerms("Bad", 0, "eur", "month", 4), service_ids=service_ids
        )
    offer = membership_offer_create(
        terms=OfferTerms("Ok", 1000, "eur", "month", 4), service_ids=service_ids
    )
    offer.status = MembershipOfferStatus.RETIRED
    offer.save(update_fields=["status"])
    renamed = membership_offer_update(
        offer=offer, terms=OfferTerms("Renamed", 99999, "eur", "year", 40), service_ids=service_ids
    )
    assert (renamed.name, renamed.price_minor, renamed.interval) == ("Renamed", 1000, "month")


def test_an_unpaid_join_expires_and_the_customer_can_join_again(
    alpha_account, catalogue, customer, sdk
):
    offer = offer_on_sale([catalogue["service"]])
    clock = new_clock(sdk)
    first = membership_join(offer=offer, customer=customer, test_clock=clock)
    advance(sdk, clock, NOW + timedelta(hours=24))  # Stripe expires it after 23 hours
    again = membership_join(offer=offer, customer=customer, test_clock=clock)
    first.refresh_from_db()
    assert first.status == MembershipStatus.ENDED and first.stripe_status == "incomplete_expired"
    assert again.pk != first.pk and again.client_secret != first.client_secret
    assert again.status == MembershipStatus.INCOMPLETE
