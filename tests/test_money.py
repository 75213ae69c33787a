"""Money: exact minor units, explicit half-up rounding, strict parsing, locale display."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.money import (
    CURRENCY_EXPONENTS,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    MoneyError,
    UnsupportedLocale,
    currency_exponent,
    format_money,
    parse_major_units,
    percent_of,
)

NBSP = "\u00a0"
NNBSP = "\u202f"


# ------------------------------------------------------------------ value type


def test_money_keeps_minor_units_and_currency():
    price = Money(4500, "EUR")
    assert price.amount_minor == 4500
    assert price.currency == "EUR"
    assert price.exponent == 2


@pytest.mark.parametrize("amount", [45.0, True, False, "4500", None, 4500.5])
def test_money_refuses_anything_but_an_int_amount(amount):
    with pytest.raises(InvalidAmount):
        Money(amount, "EUR")


@pytest.mark.parametrize("currency", ["eur", "EURO", "EU", "", "E1R", None, "€"])
def test_money_refuses_a_currency_that_is_not_three_upper_case_letters(currency):
    with pytest.raises(MoneyError):
        Money(100, currency)


def test_money_refuses_amounts_beyond_a_postgres_bigint():
    with pytest.raises(InvalidAmount):
        Money(2**63, "EUR")


def test_money_is_immutable():
    price = Money(100, "EUR")
    with pytest.raises(AttributeError):
        price.amount_minor = 200


def test_zero_is_zero_in_the_given_currency():
    assert Money.zero("JPY") == Money(0, "JPY")


def test_adding_and_subtracting_the_same_currency():
    assert Money(4500, "EUR") + Money(1, "EUR") == Money(4501, "EUR")
    assert Money(4500, "EUR") - Money(4501, "EUR") == Money(-1, "EUR")
    assert -Money(5, "USD") == Money(-5, "USD")


def test_adding_different_currencies_raises_currency_mismatch():
    with pytest.raises(CurrencyMismatch):
        Money(100, "EUR") + Money(100, "USD")
    with pytest.raises(CurrencyMismatch):
        Money(100, "EUR") - Money(100, "GBP")


def test_comparing_different_currencies_raises_currency_mismatch():
    with pytest.raises(CurrencyMismatch):
        Money(100, "EUR") < Money(200, "USD")  # noqa: B015
    with pytest.raises(CurrencyMismatch):
        Money(100, "EUR") >= Money(200, "USD")  # noqa: B015


def test_equal_amounts_in_different_currencies_are_not_equal():
    assert Money(100, "EUR") != Money(100, "USD")


def test_amounts_order_by_minor_units_one_unit_apart():
    one_cent_less = Money(4499, "EUR")
    price = Money(4500, "EUR")
    assert one_cent_less < price <= price
    assert price > one_cent_less >= one_cent_less
    assert sorted([price, one_cent_less]) == [one_cent_less, price]


def test_adding_a_float_is_not_supported():
    with pytest.raises(TypeError):
        Money(100, "EUR") + 0.5


def test_currency_exponents_come_from_the_table_with_a_default_of_two():
    assert currency_exponent("JPY") == 0
    assert currency_exponent("KRW") == 0
    assert currency_exponent("EUR") == 2
    assert currency_exponent("KWD") == 3
    assert currency_exponent("BHD") == 3
    assert currency_exponent("TND") == 3
    assert currency_exponent("SEK") == 2  # not in the table
    assert CURRENCY_EXPONENTS["USD"] == 2


# ------------------------------------------------------------------ percent_of


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [
        (4500, 250, 113),  # 2.5 % of €45.00 = 112.5 cents: exactly half, rounds up
        (4499, 250, 112),  # 112.475 rounds down
        (20, 2500, 5),  # 25 % of 20 = 5 exactly
        (2, 2500, 1),  # 0.5 → 1
        (1, 4999, 0),  # 0.4999 → 0
        (1, 5000, 1),  # 0.5 → 1: the smallest amount, the exact half
        (1, 10_000, 1),
        (0, 10_000, 0),
        (12345, 0, 0),
        (100, 15_000, 150),  # rates above 100 % are arithmetic, not an error
        (3, 3333, 1),  # 0.9999 → 1
    ],
)
def test_percent_of_rounds_half_up_in_minor_units(amount, basis_points, expected):
    assert percent_of(amount_minor=amount, basis_points=basis_points) == expected


@pytest.mark.parametrize(
    ("amount", "basis_points"), [(-1, 100), (100, -1), (100.0, 100), (1, True)]
)
def test_percent_of_refuses_negative_or_non_int_inputs(amount, basis_points):
    with pytest.raises(InvalidAmount):
        percent_of(amount_minor=amount, basis_points=basis_points)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12), st.integers(0, 20_000))
def test_percent_of_is_never_more_than_half_a_minor_unit_off(amount, basis_points):
    exact_times_10000 = amount * basis_points
    result = percent_of(amount_minor=amount, basis_points=basis_points)
    difference = result * 10_000 - exact_times_10000  # in 1/10000 of a minor unit
    assert -5_000 < difference <= 5_000


# ------------------------------------------------------------------ parse_major_units


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("45.5", "EUR", 4550),
        ("45.50", "EUR", 4550),
        ("45", "EUR", 4500),
        ("0.01", "EUR", 1),
        ("0", "EUR", 0),
        (" 12.30 ", "USD", 1230),
        ("4500", "JPY", 4500),
        ("1.250", "KWD", 1250),
        ("1.2", "KWD", 1200),
        ("0.001", "BHD", 1),
    ],
)
def test_parse_major_units_to_minor_units(text, currency, expected):
    assert parse_major_units(text=text, currency=currency) == expected


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("45.505", "EUR"),  # more decimals than EUR has
        ("45.500", "EUR"),  # even trailing zeros: refuse, do not guess
        ("4500.5", "JPY"),
        ("4500.0", "JPY"),
        ("1.2500", "KWD"),
        ("-45", "EUR"),
        ("+45", "EUR"),
        ("", "EUR"),
        ("abc", "EUR"),
        ("45,50", "EUR"),
        ("1,000.00", "EUR"),
        ("1e3", "EUR"),
        (".5", "EUR"),
        ("45.", "EUR"),
        ("NaN", "EUR"),
        ("٤٥", "EUR"),  # Arabic-Indic digits: int() would accept them
        ("9" * 20, "EUR"),  # beyond a bigint
    ],
)
def test_parse_major_units_refuses_invalid_text(text, currency):
    with pytest.raises(InvalidAmount):
        parse_major_units(text=text, currency=currency)


def test_parse_major_units_refuses_a_bad_currency():
    with pytest.raises(MoneyError):
        parse_major_units(text="1", currency="euro")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**15), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_formatting_in_english_and_parsing_back_gives_the_same_minor_units(amount, currency):
    shown = format_money(Money(amount, currency), locale="en")
    digits = shown.lstrip("€¥").removeprefix(f"KWD{NBSP}").replace(",", "")
    assert parse_major_units(text=digits, currency=currency) == amount


# ------------------------------------------------------------------ format_money


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money(4500, "EUR"), "en", "€45.00"),
        (Money(4500, "EUR"), "fr", f"45,00{NBSP}€"),
        (Money(4500, "JPY"), "en", "¥4,500"),
        (Money(4500, "JPY"), "fr", f"4{NNBSP}500{NBSP}¥"),
        (Money(1, "EUR"), "en", "€0.01"),
        (Money(123456789, "USD"), "en", "$1,234,567.89"),
        (Money(123456789, "EUR"), "fr", f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
        (Money(1250, "KWD"), "en", f"KWD{NBSP}1.250"),
        (Money(1250, "KWD"), "fr", f"1,250{NBSP}KWD"),
        (Money(4550, "CHF"), "en", f"CHF{NBSP}45.50"),
        (Money(-310, "USD"), "en", "-$3.10"),
        (Money(-310, "EUR"), "fr-FR", f"-3,10{NBSP}€"),
        (Money(999, "GBP"), "en_GB", "£9.99"),
        (Money(0, "EUR"), "en", "€0.00"),
    ],
)
def test_format_money_per_locale(money, locale, expected):
    assert format_money(money, locale=locale) == expected


def test_format_money_refuses_an_unknown_locale():
    with pytest.raises(UnsupportedLocale):
        format_money(Money(100, "EUR"), locale="de")
