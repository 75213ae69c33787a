"""Stripe's documented test cards and `pm_card_*` ids, and what each one does when charged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stripe_local.core import StripeError

STRIPE_FEE_PERCENT_BASIS_POINTS = 150  # 1.5 %
STRIPE_FEE_FIXED_MINOR = 25  # plus 25 minor units (cents) per successful charge


def stripe_fee(amount: int) -> int:
    """Local Stripe's processing fee: 1.5 % (rounded half up) + 25 minor units."""
    return (amount * STRIPE_FEE_PERCENT_BASIS_POINTS + 5000) // 10000 + STRIPE_FEE_FIXED_MINOR


@dataclass(frozen=True)
class CardBehaviour:
    brand: str
    funding: str = "credit"
    country: str = "US"
    # "succeed", "decline", "attach_then_decline", "authenticate" (3-D Secure on every payment),
    # "authenticate_unless_setup" (3-D Secure unless set up for off-session use).
    outcome: str = "succeed"
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


DECLINED = "Your card was declined."
CARDS: dict[str, CardBehaviour] = {
    "4242424242424242": CardBehaviour("visa"),
    "4000056655665556": CardBehaviour("visa", funding="debit"),
    "4000002500000003": CardBehaviour("visa", country="FR"),
    "5555555555554444": CardBehaviour("mastercard"),
    "2223003122003222": CardBehaviour("mastercard"),
    "5200828282828210": CardBehaviour("mastercard", funding="debit"),
    "378282246310005": CardBehaviour("amex"),
    "4000000000000002": CardBehaviour(
        "visa",
        outcome="decline",
        code="card_declined",
        decline_code="generic_decline",
        message=DECLINED,
    ),
    "4000000000009995": CardBehaviour(
        "visa",
        outcome="decline",
        code="card_declined",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
    ),
    "4000000000009987": CardBehaviour(
        "visa",
        outcome="decline",
        code="card_declined",
        decline_code="lost_card",
        message=DECLINED,
    ),
    "4000000000009979": CardBehaviour(
        "visa",
        outcome="decline",
        code="card_declined",
        decline_code="stolen_card",
        message=DECLINED,
    ),
    "4000000000000069": CardBehaviour(
        "visa",
        outcome="decline",
        code="expired_card",
        decline_code="expired_card",
        message="Your card has expired.",
    ),
    "4000000000000127": CardBehaviour(
        "visa",
        outcome="decline",
        code="incorrect_cvc",
        decline_code="incorrect_cvc",
        message="Your card's security code is incorrect.",
    ),
    "4000000000000119": CardBehaviour(
        "visa",
        outcome="decline",
        code="processing_error",
        decline_code="processing_error",
        message="An error occurred while processing your card. Try again in a little bit.",
    ),
    "4000000000000341": CardBehaviour(
        "visa",
        outcome="attach_then_decline",
        code="card_declined",
        decline_code="generic_decline",
        message=DECLINED,
    ),
    "4000002500003155": CardBehaviour("visa", outcome="authenticate_unless_setup"),
    "4000002760003184": CardBehaviour("visa", outcome="authenticate"),
    "4000000000003220": CardBehaviour("visa", outcome="authenticate"),
    "4000000000003063": CardBehaviour("visa", outcome="authenticate"),
}

TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_fr": "4000002500000003",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_threeDSecureRequired": "4000000000003063",
}


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def behaviour_for(number: str) -> CardBehaviour:
    known = CARDS.get(number)
    if known is not None:
        return known
    return CardBehaviour(brand_of(number))


def fingerprint(number: str) -> str:
    return hashlib.sha256(("local-stripe:" + number).encode()).hexdigest()[:16]


def validate_card(
    number: str, exp_month: int, exp_year: int, cvc: str | None, now_year: int, now_month: int
) -> None:
    """Stripe's card_error responses for malformed card details (402, like Stripe)."""
    if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_valid(number):
        raise StripeError(
            "Your card number is incorrect.",
            status=402,
            type="card_error",
            code="incorrect_number",
            param="number",
        )
    if not 1 <= exp_month <= 12:
        raise StripeError(
            "Your card's expiration month is invalid.",
            status=402,
            type="card_error",
            code="invalid_expiry_month",
            param="exp_month",
        )
    if exp_year < 100:
        exp_year += 2000
    if exp_year < now_year or exp_year > now_year + 50:
        raise StripeError(
            "Your card's expiration year is invalid.",
            status=402,
            type="card_error",
            code="invalid_expiry_year",
            param="exp_year",
        )
    if exp_year == now_year and exp_month < now_month:
        raise StripeError(
            "Your card's expiration month is invalid.",
            status=402,
            type="card_error",
            code="invalid_expiry_month",
            param="exp_month",
        )
    if cvc is not None and cvc != "" and (not cvc.isdigit() or len(cvc) not in (3, 4)):
        raise StripeError(
            "Your card's security code is invalid.",
            status=402,
            type="card_error",
            code="invalid_cvc",
            param="cvc",
        )
