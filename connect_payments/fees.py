"""Platform fee and deposit arithmetic, in integer minor units (pure module: no Django).

Rounding is explicit and half-up in minor units; a fee never exceeds the amount charged and is
never negative. The rate itself is billing's (`billing.selectors.fee_rate_of`, a
`billing.rates.FeeRate`); its percentage is `common.money.percent_of`.
"""

from __future__ import annotations

from billing.rates import FeeRate
from common.money import percent_of

__all__ = [
    "application_fee_minor",
    "application_fee_refund_minor",
    "deposit_minor",
    "discount_minor",
    "half_up_ratio",
]


def half_up_ratio(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded half-up, for non-negative integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive.")
    if numerator < 0:
        raise ValueError("numerator must not be negative.")
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if remainder * 2 >= denominator else 0)


def _check_minor(name: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be an int ≥ 0 of minor units.")
    return value


def application_fee_minor(*, amount_minor: int, rate: FeeRate) -> int:
    """The platform's fee on a charge of `amount_minor`: percentage (half-up) + fixed, capped.

    Zero-decimal currencies (JPY) need nothing special: minor units are yen.
    """
    _check_minor("amount_minor", amount_minor)
    percentage = percent_of(amount_minor=amount_minor, basis_points=rate.basis_points)
    return min(percentage + rate.fixed_minor, amount_minor)


def application_fee_refund_minor(*, refund_minor: int, fee_minor: int, charged_minor: int) -> int:
    """The share of the fee Stripe returns with a refund (`refund_application_fee=true`).

    Pro rata, half-up: refunding 1 500 of a 4 500 charge whose fee was 125 returns 42.
    """
    _check_minor("refund_minor", refund_minor)
    _check_minor("fee_minor", fee_minor)
    _check_minor("charged_minor", charged_minor)
    if refund_minor > charged_minor:
        raise ValueError("A refund cannot exceed the amount charged.")
    if charged_minor == 0:
        return 0
    return min(half_up_ratio(refund_minor * fee_minor, charged_minor), fee_minor)


def deposit_minor(
    *, price_minor: int, deposit_fixed_minor: int | None, deposit_percent: int | None
) -> int:
    """The deposit taken online: a fixed amount or a percentage (half-up), never above the price."""
    _check_minor("price_minor", price_minor)
    if deposit_fixed_minor is not None:
        return min(_check_minor("deposit_fixed_minor", deposit_fixed_minor), price_minor)
    if deposit_percent is not None:
        if type(deposit_percent) is not int or not 0 <= deposit_percent <= 100:
            raise ValueError("deposit_percent must be an int between 0 and 100.")
        return half_up_ratio(price_minor * deposit_percent, 100)
    raise ValueError("A deposit needs a fixed amount or a percentage.")


def discount_minor(*, price_minor: int, percent: int | None, amount_minor: int | None) -> int:
    """A promo code's discount on `price_minor`: a percentage (half-up) or a fixed amount, never
    more than the price."""
    _check_minor("price_minor", price_minor)
    if percent is not None:
        if type(percent) is not int or not 0 <= percent <= 100:
            raise ValueError("percent must be an int between 0 and 100.")
        return half_up_ratio(price_minor * percent, 100)
    if amount_minor is not None:
        return min(_check_minor("amount_minor", amount_minor), price_minor)
    raise ValueError("A discount needs a percentage or an amount.")
