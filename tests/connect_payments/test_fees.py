"""Fee, fee-refund and deposit arithmetic at the boundaries (pure functions, no database)."""

import pytest

from billing.rates import FeeRate
from common.money import percent_of
from connect_payments.fees import (
    application_fee_minor,
    application_fee_refund_minor,
    deposit_minor,
    half_up_ratio,
)


@pytest.mark.parametrize(
    ("amount", "basis_points", "fixed", "expected"),
    [
        (1, 250, 0, 0),  # 0.025 of a cent rounds down
        (1, 250, 25, 1),  # capped: never more than the amount charged
        (1, 10_000, 0, 1),
        (20, 250, 0, 1),  # 0.5 exactly: half-up
        (19, 250, 0, 0),  # 0.475
        (4500, 250, 25, 138),  # 112.5 → 113, + 25
        (4500, 0, 0, 0),
        (0, 250, 25, 0),  # nothing charged, no fee
        (100, 150, 0, 2),  # 1.5 → 2
        (300, 150, 0, 5),  # 4.5 → 5
        (99_999_999, 10_000, 100, 99_999_999),
    ],
)
def test_application_fee_is_half_up_and_capped(amount, basis_points, fixed, expected):
    assert application_fee_minor(amount_minor=amount, rate=FeeRate(basis_points, fixed)) == expected


def test_zero_decimal_currency_counts_whole_yen():
    # JPY has no minor unit: 4 500 yen at 2.5 % is 112.5 yen → 113 yen, plus 30 yen fixed.
    assert application_fee_minor(amount_minor=4500, rate=FeeRate(250, 30)) == 143
    assert application_fee_minor(amount_minor=50, rate=FeeRate(100, 0)) == 1  # 0.5 yen → 1


def test_fee_is_never_negative_and_rates_are_checked():
    with pytest.raises(ValueError):
        FeeRate(-1, 0)
    with pytest.raises(ValueError):
        FeeRate(0, -5)
    with pytest.raises(ValueError):
        FeeRate(10_001, 0)
    with pytest.raises(ValueError):
        application_fee_minor(amount_minor=-1, rate=FeeRate(100, 0))
    with pytest.raises(ValueError):
        application_fee_minor(amount_minor=10.0, rate=FeeRate(100, 0))  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, 1, 19, 20, 21, 199, 4500, 123_457])
@pytest.mark.parametrize("basis_points", [0, 1, 150, 250, 333, 5000, 10_000])
def test_percentage_part_agrees_with_money_percent_of(amount, basis_points):
    fee = application_fee_minor(amount_minor=amount, rate=FeeRate(basis_points, 0))
    assert fee == percent_of(amount_minor=amount, basis_points=basis_points)


@pytest.mark.parametrize(
    ("refund", "fee", "charged", "expected"),
    [
        (4500, 138, 4500, 138),  # full refund returns the whole fee
        (2250, 138, 4500, 69),  # half
        (1500, 125, 4500, 42),  # 41.67 → 42
        (2250, 137, 4500, 69),  # 68.5 → 69 (half-up)
        (1, 138, 4500, 0),
        (0, 138, 4500, 0),
        (100, 0, 4500, 0),
    ],
)
def test_fee_refund_is_pro_rata_half_up(refund, fee, charged, expected):
    assert (
        application_fee_refund_minor(refund_minor=refund, fee_minor=fee, charged_minor=charged)
        == expected
    )


def test_fee_refund_refuses_a_refund_above_the_charge():
    with pytest.raises(ValueError):
        application_fee_refund_minor(refund_minor=4501, fee_minor=100, charged_minor=4500)


@pytest.mark.parametrize(
    ("price", "fixed", "percent", "expected"),
    [
        (4500, 1000, None, 1000),
        (4500, 9000, None, 4500),  # never above the price
        (4500, None, 30, 1350),
        (4501, None, 50, 2251),  # 2250.5 → 2251
        (1, None, 50, 1),
        (4500, None, 100, 4500),
    ],
)
def test_deposit_fixed_or_percent(price, fixed, percent, expected):
    assert (
        deposit_minor(price_minor=price, deposit_fixed_minor=fixed, deposit_percent=percent)
        == expected
    )


def test_deposit_needs_a_rule_and_half_up_ratio_checks_its_input():
    with pytest.raises(ValueError):
        deposit_minor(price_minor=4500, deposit_fixed_minor=None, deposit_percent=None)
    with pytest.raises(ValueError):
        deposit_minor(price_minor=4500, deposit_fixed_minor=None, deposit_percent=101)
    with pytest.raises(ValueError):
        half_up_ratio(1, 0)
    assert half_up_ratio(5, 10) == 1
    assert half_up_ratio(4, 10) == 0
