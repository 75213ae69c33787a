"""Cancellation policy: tiers, JSON snapshots, wording, and the refund at every boundary."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.money import percent_of
from scheduling.cancellation_policy import (
    CancellationPolicy,
    InvalidPolicy,
    PolicyTier,
    RefundReason,
    describe,
    refund_for_cancellation,
)

NBSP = "\u00a0"
STANDARD = CancellationPolicy.from_pairs([(48, 100), (24, 50), (0, 0)])
STARTS_AT = datetime(2025, 6, 14, 10, 0, tzinfo=UTC)


def refund(policy=STANDARD, *, paid=10_000, before=None, cancelled_at=None, **extra):
    return refund_for_cancellation(
        policy=policy,
        paid_minor=paid,
        starts_at=STARTS_AT,
        cancelled_at=cancelled_at if cancelled_at is not None else STARTS_AT - before,
        **extra,
    )


# ------------------------------------------------------------------ the policy


def test_tiers_are_kept_sorted_by_hours_descending():
    policy = CancellationPolicy.from_pairs([(0, 0), (48, 100), (24, 50)])
    assert [tier.hours_before for tier in policy.tiers] == [48, 24, 0]
    assert policy == STANDARD


def test_two_tiers_with_the_same_hours_are_refused():
    with pytest.raises(InvalidPolicy):
        CancellationPolicy.from_pairs([(24, 100), (24, 50)])


@pytest.mark.parametrize(
    ("hours", "percent"), [(-1, 50), (24, -1), (24, 101), (24, 50.0), (True, 5)]
)
def test_a_tier_out_of_range_is_refused(hours, percent):
    with pytest.raises(InvalidPolicy):
        PolicyTier(hours, percent)


def test_a_later_cancellation_cannot_refund_more_than_an_earlier_one():
    with pytest.raises(InvalidPolicy):
        CancellationPolicy.from_pairs([(48, 50), (24, 100)])


def test_tiers_must_be_policy_tiers():
    with pytest.raises(InvalidPolicy):
        CancellationPolicy(((48, 100),))


def test_json_snapshot_round_trips():
    snapshot = STANDARD.to_json()
    assert snapshot == [
        {"hours_before": 48, "refund_percent": 100},
        {"hours_before": 24, "refund_percent": 50},
        {"hours_before": 0, "refund_percent": 0},
    ]
    assert CancellationPolicy.from_json(snapshot) == STANDARD


@pytest.mark.parametrize(
    "data",
    [
        {"hours_before": 48, "refund_percent": 100},
        "48:100",
        [{"hours_before": 48}],
        [{"hours_before": 48, "refund_percent": 100, "extra": 1}],
        [{"hours_before": "48", "refund_percent": 100}],
        [[48, 100]],
    ],
)
def test_a_malformed_json_snapshot_is_refused(data):
    with pytest.raises(InvalidPolicy):
        CancellationPolicy.from_json(data)


def test_an_empty_policy_snapshot_is_valid_and_refunds_nothing():
    policy = CancellationPolicy.from_json([])
    assert refund(policy, before=timedelta(days=30)).amount_minor == 0


# ------------------------------------------------------------------ tier boundaries


@pytest.mark.parametrize(
    ("before", "percent", "amount", "tier_hours"),
    [
        (timedelta(days=10), 100, 10_000, 48),
        (timedelta(hours=48), 100, 10_000, 48),  # exactly on the tier hour
        (timedelta(hours=48) - timedelta(seconds=1), 50, 5_000, 24),  # one second short
        (timedelta(hours=24), 50, 5_000, 24),
        (timedelta(hours=24) - timedelta(seconds=1), 0, 0, 0),
        (timedelta(hours=24) - timedelta(microseconds=1), 0, 0, 0),
        (timedelta(0), 0, 0, 0),
    ],
)
def test_refund_takes_the_largest_tier_whose_hours_are_reached(before, percent, amount, tier_hours):
    decision = refund(before=before)
    assert (decision.percent, decision.amount_minor) == (percent, amount)
    assert decision.tier is not None and decision.tier.hours_before == tier_hours
    assert decision.reason is RefundReason.POLICY_TIER


def test_cancelling_after_the_start_uses_the_zero_hour_tier():
    policy = CancellationPolicy.from_pairs([(24, 100), (0, 20)])
    decision = refund(policy, before=-timedelta(minutes=5))
    assert (decision.percent, decision.amount_minor) == (20, 2_000)
    assert decision.tier == PolicyTier(0, 20)


def test_cancelling_after_the_start_without_a_zero_hour_tier_refunds_nothing():
    policy = CancellationPolicy.from_pairs([(24, 100)])
    decision = refund(policy, before=-timedelta(minutes=5))
    assert (decision.percent, decision.amount_minor, decision.tier) == (0, 0, None)
    assert decision.reason is RefundReason.NO_MATCHING_TIER


def test_cancelling_later_than_the_smallest_tier_refunds_nothing():
    policy = CancellationPolicy.from_pairs([(48, 100), (24, 50)])
    assert refund(policy, before=timedelta(hours=23, minutes=59)).amount_minor == 0


def test_boundary_is_measured_in_real_time_across_a_dst_change():
    # Paris springs forward on 2025-03-30: 48 wall-clock hours are only 47 real hours.
    paris = ZoneInfo("Europe/Paris")
    starts_at = datetime(2025, 3, 31, 10, 0, tzinfo=paris)
    same_wall_time_two_days_before = datetime(2025, 3, 29, 10, 0, tzinfo=paris)
    decision = refund_for_cancellation(
        policy=STANDARD,
        paid_minor=10_000,
        starts_at=starts_at,
        cancelled_at=same_wall_time_two_days_before,
    )
    assert decision.percent == 50  # 47 h of notice, not 48


def test_cancellation_times_in_different_zones_compare_as_instants():
    new_york = ZoneInfo("America/New_York")
    cancelled_at = (STARTS_AT - timedelta(hours=48)).astimezone(new_york)
    assert refund(cancelled_at=cancelled_at).percent == 100


# ------------------------------------------------------------------ amounts


def test_business_cancellation_refunds_everything_still_refundable():
    decision = refund(
        before=timedelta(minutes=10),
        paid=10_000,
        already_refunded_minor=2_500,
        cancelled_by_business=True,
    )
    assert (decision.percent, decision.amount_minor, decision.tier) == (100, 7_500, None)
    assert decision.reason is RefundReason.BUSINESS_CANCELLED


def test_a_deposit_is_refunded_by_percent_of_what_was_paid_not_of_the_price():
    # Price €80, deposit €20 paid: 50 % gives back €10.
    assert refund(before=timedelta(hours=30), paid=2_000).amount_minor == 1_000


def test_refund_rounds_half_up_in_minor_units():
    # 50 % of 1 cent is half a cent: half-up gives the customer the cent.
    assert refund(before=timedelta(hours=30), paid=1).amount_minor == 1
    policy = CancellationPolicy.from_pairs([(24, 33)])
    assert refund(policy, before=timedelta(hours=30), paid=150).amount_minor == 50  # 49.5
    assert refund(policy, before=timedelta(hours=30), paid=149).amount_minor == 49  # 49.17


def test_refund_in_a_zero_decimal_currency():
    # ¥4,501 with 50 %: 2,250.5 yen rounds half-up to 2,251 (yen have no minor unit).
    assert refund(before=timedelta(hours=30), paid=4_501).amount_minor == 2_251


def test_refund_never_exceeds_what_is_still_refundable():
    decision = refund(before=timedelta(days=3), paid=10_000, already_refunded_minor=9_000)
    assert decision.percent == 100
    assert decision.amount_minor == 1_000


def test_refund_is_zero_once_everything_was_refunded():
    decision = refund(before=timedelta(days=3), paid=10_000, already_refunded_minor=10_000)
    assert decision.amount_minor == 0


def test_partial_refund_after_an_earlier_refund_is_capped_not_negative():
    decision = refund(before=timedelta(hours=30), paid=10_000, already_refunded_minor=8_000)
    assert decision.amount_minor == 2_000  # 50 % would be 5,000; only 2,000 remain


def test_nothing_paid_means_nothing_refunded():
    assert refund(before=timedelta(days=3), paid=0).amount_minor == 0


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        refund_for_cancellation(
            policy=STANDARD,
            paid_minor=100,
            starts_at=datetime(2025, 6, 14, 10, 0),
            cancelled_at=datetime(2025, 6, 10, 10, 0, tzinfo=UTC),
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        refund(cancelled_at=datetime(2025, 6, 10, 10, 0))


@pytest.mark.parametrize(("paid", "already"), [(-1, 0), (100, -1), (100, 101), (100.0, 0)])
def test_inconsistent_amounts_are_refused(paid, already):
    with pytest.raises(ValueError):
        refund(before=timedelta(days=3), paid=paid, already_refunded_minor=already)


@settings(max_examples=200, deadline=None)
@given(
    paid=st.integers(0, 10**9),
    already_fraction=st.integers(0, 100),
    minutes_before=st.integers(-10_000, 10_000),
    by_business=st.booleans(),
)
def test_refund_is_always_between_zero_and_what_remains(
    paid, already_fraction, minutes_before, by_business
):
    already = paid * already_fraction // 100
    decision = refund(
        before=timedelta(minutes=minutes_before),
        paid=paid,
        already_refunded_minor=already,
        cancelled_by_business=by_business,
    )
    assert 0 <= decision.amount_minor <= paid - already


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 100))
def test_refund_rounding_agrees_with_money_percent_of(paid, percent):
    policy = CancellationPolicy.from_pairs([(0, percent)])
    expected = percent_of(amount_minor=paid, basis_points=percent * 100)
    assert refund(policy, before=timedelta(hours=1), paid=paid).amount_minor == expected


# ------------------------------------------------------------------ wording


def test_describe_the_standard_policy_in_english():
    assert describe(STANDARD, locale="en") == (
        f"Full refund if you cancel at least 48{NBSP}hours before the start. "
        f"50% refund if you cancel at least 24{NBSP}hours before the start. "
        f"No refund if you cancel less than 24{NBSP}hours before the start."
    )


def test_describe_the_standard_policy_in_french():
    assert describe(STANDARD, locale="fr") == (
        f"Remboursement intégral en cas d’annulation au moins 48{NBSP}heures avant le début. "
        f"Remboursement de 50{NBSP}% en cas d’annulation au moins 24{NBSP}heures avant le début. "
        f"Aucun remboursement en cas d’annulation moins de 24{NBSP}heures avant le début."
    )


def test_describe_a_policy_that_refunds_part_until_the_end():
    policy = CancellationPolicy.from_pairs([(1, 100), (0, 20)])
    assert describe(policy, locale="en") == (
        f"Full refund if you cancel at least 1{NBSP}hour before the start. "
        "20% refund for later cancellations."
    )


def test_describe_always_refundable_and_never_refundable_policies():
    assert describe(CancellationPolicy.from_pairs([(0, 100)])) == "Full refund whenever you cancel."
    assert describe(CancellationPolicy.from_pairs([(0, 0)])) == "No refund if you cancel."
    assert describe(CancellationPolicy(()), locale="fr-FR") == (
        "Aucun remboursement en cas d’annulation."
    )


def test_describe_refuses_an_unknown_locale():
    with pytest.raises(ValueError):
        describe(STANDARD, locale="de")
