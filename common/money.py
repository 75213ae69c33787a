"""Money as an integer of minor units plus an ISO 4217 code: arithmetic, rounding, parsing, display.

Floats never appear: a price, a fee or a refund is an exact count of cents (or yen, or fils), and
every rounding is explicit (half-up, in minor units). `Decimal` is used for display only.
Pure module: no Django imports, so fee and refund arithmetic is fast to test at the boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

__all__ = [
    "CURRENCY_EXPONENTS",
    "DEFAULT_EXPONENT",
    "MAX_AMOUNT_MINOR",
    "CurrencyMismatch",
    "InvalidAmount",
    "Money",
    "MoneyError",
    "UnsupportedLocale",
    "currency_exponent",
    "format_money",
    "parse_major_units",
    "percent_of",
]

# ISO 4217 minor-unit exponents that differ from the default, plus the common ones spelled out so
# a reader does not have to remember which are the default. Stripe uses the same exponents.
CURRENCY_EXPONENTS: Final = MappingProxyType(
    {
        "BHD": 3,
        "CHF": 2,
        "EUR": 2,
        "GBP": 2,
        "JOD": 3,
        "JPY": 0,
        "KRW": 0,
        "KWD": 3,
        "OMR": 3,
        "TND": 3,
        "USD": 2,
        "VND": 0,
    }
)
DEFAULT_EXPONENT: Final = 2

# Amounts are stored in PostgreSQL `bigint` columns; anything larger is a bug or an attack.
MAX_AMOUNT_MINOR: Final = 2**63 - 1

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# ASCII digits only: `\d` would accept Arabic-Indic or full-width digits that `int()` converts.
_MAJOR_UNITS = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?")

# Display symbols; currencies without one are shown with their ISO code.
_SYMBOLS: Final = MappingProxyType(
    {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "KRW": "₩", "CHF": "CHF"}
)
_NBSP = "\u00a0"  # keeps "45,00 €" on one line
_NARROW_NBSP = "\u202f"  # French thousands separator (CLDR)


class MoneyError(ValueError):
    """Base class for money errors; a ValueError so form layers can report it as invalid input."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies were combined or compared."""


class InvalidAmount(MoneyError):
    """An amount could not be parsed or is out of range; the message is safe to show a user."""


class UnsupportedLocale(MoneyError):
    """`format_money` was asked for a locale it has no rules for."""


def currency_exponent(currency: str) -> int:
    """Number of decimal places of `currency`'s minor unit (JPY 0, EUR 2, KWD 3)."""
    _check_currency(currency)
    return CURRENCY_EXPONENTS.get(currency, DEFAULT_EXPONENT)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `amount_minor` units of the currency's smallest unit (cents for EUR).

    Negative amounts are allowed (a ledger balance can go below zero); arithmetic and ordering
    between different currencies raise `CurrencyMismatch` rather than silently mixing them.
    """

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        _check_int("amount_minor", self.amount_minor)
        if abs(self.amount_minor) > MAX_AMOUNT_MINOR:
            raise InvalidAmount("Amount is too large.")
        _check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        return currency_exponent(self.currency)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "add")
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "subtract")
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount_minor < other.amount_minor

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount_minor >= other.amount_minor

    def _require_same_currency(self, other: Money, operation: str) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(
                f"Cannot {operation} {self.currency} and {other.currency} amounts."
            )


def percent_of(*, amount_minor: int, basis_points: int) -> int:
    """`amount_minor × basis_points / 10 000`, rounded half-up to a whole minor unit.

    Basis points (1 bp = 0.01 %) keep fee rates such as 2.5 % integral. Integer arithmetic only:
    a float would turn 0.5 cent into 0.49999 and round the fee the wrong way.
    """
    _check_int("amount_minor", amount_minor)
    _check_int("basis_points", basis_points)
    if amount_minor < 0:
        raise InvalidAmount("amount_minor must not be negative.")
    if basis_points < 0:
        raise InvalidAmount("basis_points must not be negative.")
    quotient, remainder = divmod(amount_minor * basis_points, 10_000)
    if remainder * 2 >= 10_000:
        quotient += 1
    return quotient


def parse_major_units(*, text: str, currency: str) -> int:
    """Parse a user-typed amount in major units ("45.5" EUR) into minor units (4550).

    Strict on purpose: a dot is the only decimal separator (the form layer normalises locale
    input), no sign, no thousands separators, and no more decimals than the currency has, so
    "45.505" EUR or "4500.5" JPY is refused instead of being silently rounded.
    """
    exponent = currency_exponent(currency)
    match = _MAJOR_UNITS.fullmatch(text.strip())
    if match is None:
        raise InvalidAmount("Enter an amount with digits and at most one dot, such as 45.50.")
    fraction = match["fraction"] or ""
    if len(fraction) > exponent:
        if exponent == 0:
            raise InvalidAmount(f"{currency} amounts cannot have decimals.")
        raise InvalidAmount(f"{currency} amounts have at most {exponent} decimals.")
    scale: int = 10**exponent
    amount_minor = int(match["whole"]) * scale + int(fraction.ljust(exponent, "0") or "0")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidAmount("Amount is too large.")
    return amount_minor


def format_money(money: Money, *, locale: str = "en") -> str:
    """Display an amount the way a customer of that locale reads it.

    "en": "€45.00", "¥4,500", "-$3.10", "KWD 1.250". "fr": "45,00 €", "4 500 ¥" (no-break spaces,
    CLDR style, so a line never breaks between the number and the symbol). Locale tags such as
    "fr-FR" or "en_US" use their language; other languages raise `UnsupportedLocale`.
    """
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    if language not in ("en", "fr"):
        raise UnsupportedLocale(f"No money format for locale {locale!r}.")
    exponent = money.exponent
    magnitude = Decimal(abs(money.amount_minor)).scaleb(-exponent)
    digits = f"{magnitude:,.{exponent}f}"  # "4,500.00": en separators
    sign = "-" if money.amount_minor < 0 else ""
    symbol = _SYMBOLS.get(money.currency)
    if language == "en":
        if symbol is None or symbol.isalpha():
            return f"{sign}{symbol or money.currency}{_NBSP}{digits}"
        return f"{sign}{symbol}{digits}"
    digits = digits.replace(",", _NARROW_NBSP).replace(".", ",")
    return f"{sign}{digits}{_NBSP}{symbol or money.currency}"


def _check_int(name: str, value: object) -> None:
    # bool is an int subclass: Money(True, "EUR") is a bug, not one cent.
    if type(value) is not int:
        raise InvalidAmount(f"{name} must be an int of minor units, not {type(value).__name__}.")


def _check_currency(currency: object) -> None:
    if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency):
        raise MoneyError(
            f"Currency must be an ISO 4217 code of 3 upper-case letters: {currency!r}."
        )
