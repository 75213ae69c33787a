"""The platform's fee rate on a booking payment (pure module: no Django)."""

from __future__ import annotations

from dataclasses import dataclass


def _check_minor(name: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be an int ≥ 0 of minor units.")
    return value


@dataclass(frozen=True, slots=True)
class FeeRate:
    """`basis_points` / 10 000 of the amount (1 bp = 0.01 %), plus `fixed_minor`."""

    basis_points: int
    fixed_minor: int

    def __post_init__(self) -> None:
        _check_minor("basis_points", self.basis_points)
        _check_minor("fixed_minor", self.fixed_minor)
        if self.basis_points > 10_000:
            raise ValueError("A fee rate cannot exceed 100 %.")
