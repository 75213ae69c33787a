"""Cards on file: the fee amounts, the late window and the consent wording (pure: no Django).

The customer consents to exact amounts, so they are computed once, when the booking is held,
from the booking's price and its policy snapshot, and frozen with the consent
(`connect_payments.models.CardSetup`). The late window is the cancellation policy's: cancelling
is late when the policy would no longer refund in full, i.e. with less notice than the smallest
full-refund tier (`[{"hours_before": 24, "refund_percent": 100}]` → late under 24 hours).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common.money import Money, format_money, percent_of

# Bump when the wording below changes: the version is stored with every consent.
CONSENT_VERSION = "cof-1"


@dataclass(frozen=True)
class FeeTerms:
    """What a booking's customer agrees to: the two fees (0: none) and the late window."""

    currency: str
    no_show_minor: int
    late_cancel_minor: int
    late_window_hours: int | None

    @property
    def requires_card(self) -> bool:
        return self.no_show_minor > 0 or self.late_cancel_minor > 0

    @property
    def max_minor(self) -> int:
        return max(self.no_show_minor, self.late_cancel_minor)


def fee_minor(*, price_minor: int, fixed_minor: int | None, percent: int | None) -> int:
    """A fee: the fixed amount, or `percent` of the price (half-up); none configured → 0."""
    if type(price_minor) is not int or price_minor < 0:
        raise ValueError("price_minor must be an int ≥ 0 of minor units.")
    if fixed_minor is not None:
        if type(fixed_minor) is not int or fixed_minor < 0:
            raise ValueError("fixed_minor must be an int ≥ 0 of minor units.")
        return fixed_minor
    if percent is not None:
        if type(percent) is not int or not 0 <= percent <= 100:
            raise ValueError("percent must be an int between 0 and 100.")
        return percent_of(amount_minor=price_minor, basis_points=percent * 100)
    return 0


def late_window_hours(policy: object) -> int | None:
    """Hours before the start under which a cancellation is late: the smallest `hours_before`
    of a tier refunding 100 % (None: no full-refund tier ahead of the start, so no window)."""
    if not isinstance(policy, Sequence) or isinstance(policy, str | bytes):
        return None
    hours = [
        tier.get("hours_before")
        for tier in policy
        if isinstance(tier, Mapping) and tier.get("refund_percent") == 100
    ]
    ahead = [h for h in hours if type(h) is int and h > 0]
    return min(ahead) if ahead else None


def cancellation_is_late(
    *, starts_at: datetime, cancelled_at: datetime, window_hours: int | None
) -> bool:
    """Less notice than the window (in UTC, so a DST night counts its real hours)."""
    if window_hours is None:
        return False
    notice = starts_at.astimezone(UTC) - cancelled_at.astimezone(UTC)
    return notice < timedelta(hours=window_hours)


_WORDING = {
    "en": {
        "both_same": "You authorise {business} to charge up to {amount} to this card if you do "
        "not attend or cancel less than {hours} before the start.",
        "both": "You authorise {business} to charge up to {no_show} to this card if you do not "
        "attend, or {late} if you cancel less than {hours} before the start.",
        "no_show": "You authorise {business} to charge up to {no_show} to this card if you do "
        "not attend.",
        "late": "You authorise {business} to charge up to {late} to this card if you cancel "
        "less than {hours} before the start.",
        "nothing_now": "Nothing is charged now.",
        "late_now": "Cancelling now costs {amount}: the late-cancellation fee you agreed to is "
        "charged to your card.",
        "hour": "{n} hour",
        "hours": "{n} hours",
    },
    "fr": {
        "both_same": "Vous autorisez {business} à débiter jusqu’à {amount} sur cette carte si "
        "vous ne venez pas ou annulez moins de {hours} avant le début.",
        "both": "Vous autorisez {business} à débiter jusqu’à {no_show} sur cette carte si vous "
        "ne venez pas, ou {late} si vous annulez moins de {hours} avant le début.",
        "no_show": "Vous autorisez {business} à débiter jusqu’à {no_show} sur cette carte si "
        "vous ne venez pas.",
        "late": "Vous autorisez {business} à débiter jusqu’à {late} sur cette carte si vous "
        "annulez moins de {hours} avant le début.",
        "nothing_now": "Rien n’est débité maintenant.",
        "late_now": "Annuler maintenant coûte {amount} : les frais d’annulation tardive que "
        "vous avez acceptés sont débités sur votre carte.",
        "hour": "{n}\u00a0heure",
        "hours": "{n}\u00a0heures",
    },
}


def consent_text(*, business: str, terms: FeeTerms, language: str = "en") -> str:
    """The sentence the customer ticks, with the exact amounts; "" when no fee applies."""
    words = _WORDING.get(language.split("-")[0].lower(), _WORDING["en"])
    locale = "fr" if words is _WORDING["fr"] else "en"

    def money(minor: int) -> str:
        return format_money(Money(minor, terms.currency), locale=locale)

    hours = terms.late_window_hours or 0
    hours_text = words["hour" if hours == 1 else "hours"].format(n=hours)
    late = terms.late_cancel_minor if terms.late_window_hours else 0
    if terms.no_show_minor and late:
        key = "both_same" if terms.no_show_minor == late else "both"
    elif terms.no_show_minor:
        key = "no_show"
    elif late:
        key = "late"
    else:
        return ""
    sentence = words[key].format(
        business=business,
        amount=money(terms.no_show_minor),
        no_show=money(terms.no_show_minor),
        late=money(late),
        hours=hours_text,
    )
    return f"{sentence} {words['nothing_now']}"


def late_fee_notice(*, amount_minor: int, currency: str, language: str = "en") -> str:
    """What the manage page says before a late cancellation that will be charged."""
    words = _WORDING.get(language.split("-")[0].lower(), _WORDING["en"])
    locale = "fr" if words is _WORDING["fr"] else "en"
    return words["late_now"].format(
        amount=format_money(Money(amount_minor, currency), locale=locale)
    )


def consent_digest(text: str) -> str:
    """What the page sends back with the customer's consent: proof it showed this exact text."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
