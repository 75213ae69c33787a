"""A service's cancellation policy and the refund it grants for a given cancellation time.

The policy is snapshotted onto each booking (`to_json()` into a JSONField) so that editing a
service later never changes what a customer agreed to. Pure module: no Django imports.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "CancellationPolicy",
    "InvalidPolicy",
    "PolicyTier",
    "RefundDecision",
    "RefundReason",
    "describe",
    "refund_for_cancellation",
]

_NBSP = "\u00a0"


class InvalidPolicy(ValueError):
    """A policy (or its JSON snapshot) is malformed; the message is safe to show an owner."""


@dataclass(frozen=True, slots=True)
class PolicyTier:
    """`refund_percent` % back when the customer cancels at least `hours_before` hours ahead."""

    hours_before: int
    refund_percent: int

    def __post_init__(self) -> None:
        if type(self.hours_before) is not int or self.hours_before < 0:
            raise InvalidPolicy("Hours before the start must be a whole number ≥ 0.")
        if type(self.refund_percent) is not int or not 0 <= self.refund_percent <= 100:
            raise InvalidPolicy("The refund must be a whole percentage between 0 and 100.")


@dataclass(frozen=True, slots=True)
class CancellationPolicy:
    """Refund tiers, kept sorted by `hours_before`, largest first.

    An empty policy refunds nothing. A later cancellation may never earn a larger refund than an
    earlier one: such a policy is almost certainly a typo, and refusing it keeps `describe()`
    truthful.
    """

    tiers: tuple[PolicyTier, ...]

    def __post_init__(self) -> None:
        tiers = tuple(self.tiers)
        if not all(isinstance(tier, PolicyTier) for tier in tiers):
            raise InvalidPolicy("Policy tiers must be PolicyTier instances.")
        hours = [tier.hours_before for tier in tiers]
        if len(set(hours)) != len(hours):
            raise InvalidPolicy("Two tiers have the same number of hours.")
        ordered = tuple(sorted(tiers, key=lambda tier: tier.hours_before, reverse=True))
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if later.refund_percent > earlier.refund_percent:
                raise InvalidPolicy(
                    f"Cancelling {later.hours_before} h before cannot refund more than "
                    f"cancelling {earlier.hours_before} h before."
                )
        object.__setattr__(self, "tiers", ordered)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[int, int]]) -> CancellationPolicy:
        """`from_pairs([(48, 100), (24, 50), (0, 0)])`: (hours_before, refund_percent) pairs."""
        return cls(tuple(PolicyTier(hours, percent) for hours, percent in pairs))

    def to_json(self) -> list[dict[str, int]]:
        """A JSON-ready snapshot: `[{"hours_before": 48, "refund_percent": 100}, ...]`."""
        return [
            {"hours_before": tier.hours_before, "refund_percent": tier.refund_percent}
            for tier in self.tiers
        ]

    @classmethod
    def from_json(cls, data: Any) -> CancellationPolicy:
        """Rebuild a policy from `to_json()` output, validating it as untrusted input."""
        if not isinstance(data, Sequence) or isinstance(data, str | bytes):
            raise InvalidPolicy("A cancellation policy is a list of tiers.")
        tiers = []
        for item in data:
            if not isinstance(item, Mapping) or set(item) != {"hours_before", "refund_percent"}:
                raise InvalidPolicy("Each tier needs exactly hours_before and refund_percent.")
            tiers.append(PolicyTier(item["hours_before"], item["refund_percent"]))
        return cls(tuple(tiers))

    def tier_for_notice(self, notice: timedelta) -> PolicyTier | None:
        """The tier for a cancellation made `notice` before the start (negative: after it).

        The largest `hours_before` with `notice >= hours_before` wins, so cancelling exactly 48 h
        ahead earns the 48 h tier. After the start no positive tier can match; the 0 h tier, when
        there is one, still applies: it reads "any later cancellation".
        """
        for tier in self.tiers:
            if notice >= timedelta(hours=tier.hours_before):
                return tier
        if self.tiers and self.tiers[-1].hours_before == 0:
            return self.tiers[-1]
        return None


class RefundReason(enum.StrEnum):
    """Why a refund has its size; recorded in the booking's audit trail."""

    BUSINESS_CANCELLED = "business_cancelled"
    POLICY_TIER = "policy_tier"
    NO_MATCHING_TIER = "no_matching_tier"


@dataclass(frozen=True, slots=True)
class RefundDecision:
    """What to refund: `percent` of the amount paid, `amount_minor` after caps, and why."""

    percent: int
    amount_minor: int
    tier: PolicyTier | None
    reason: RefundReason


def refund_for_cancellation(
    *,
    policy: CancellationPolicy,
    paid_minor: int,
    already_refunded_minor: int = 0,
    starts_at: datetime,
    cancelled_at: datetime,
    cancelled_by_business: bool = False,
) -> RefundDecision:
    """Decide the refund for a cancellation, in minor units of the payment's currency.

    The percent applies to what was actually paid (a deposit, not the price), rounds half-up to a
    minor unit, and is capped by what is still refundable, so a second call after a partial
    refund never refunds twice. A business that cancels refunds everything still refundable,
    whatever its policy says.
    """
    for name, value in (
        ("paid_minor", paid_minor),
        ("already_refunded_minor", already_refunded_minor),
    ):
        if type(value) is not int or value < 0:
            raise ValueError(f"{name} must be an int ≥ 0.")
    if already_refunded_minor > paid_minor:
        raise ValueError("already_refunded_minor exceeds paid_minor: the ledger is inconsistent.")
    for name, moment in (("starts_at", starts_at), ("cancelled_at", cancelled_at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware.")
    refundable = paid_minor - already_refunded_minor

    if cancelled_by_business:
        return RefundDecision(100, refundable, None, RefundReason.BUSINESS_CANCELLED)

    # In UTC: subtracting two datetimes that share a tzinfo is wall-clock arithmetic in Python,
    # which would count a DST night as 24 h when only 23 h really pass.
    tier = policy.tier_for_notice(starts_at.astimezone(UTC) - cancelled_at.astimezone(UTC))
    if tier is None:
        return RefundDecision(0, 0, None, RefundReason.NO_MATCHING_TIER)
    amount = min(_percent_half_up(paid_minor, tier.refund_percent), refundable)
    return RefundDecision(tier.refund_percent, amount, tier, RefundReason.POLICY_TIER)


def describe(policy: CancellationPolicy, *, locale: str = "en") -> str:
    """One or two sentences for the booking widget, in English ("en") or French ("fr")."""
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    if language not in _PHRASES:
        raise ValueError(f"No cancellation-policy wording for locale {locale!r}.")
    phrases = _PHRASES[language]
    refunding = [tier for tier in policy.tiers if tier.refund_percent > 0]
    if not refunding:
        return phrases["never"]
    sentences = []
    for tier in refunding:
        amount = phrases["full"] if tier.refund_percent == 100 else phrases["partial"]
        amount = amount.format(percent=tier.refund_percent)
        if tier.hours_before > 0:
            when = phrases["at_least"].format(hours=_hours(tier.hours_before, phrases))
        elif len(refunding) == 1:
            when = phrases["any_time"]
        else:
            when = phrases["later"]
        sentences.append(f"{amount} {when}.")
    lowest = refunding[-1].hours_before
    if lowest > 0:
        sentences.append(phrases["none_after"].format(hours=_hours(lowest, phrases)) + ".")
    return " ".join(sentences)


_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "never": "No refund if you cancel.",
        "full": "Full refund",
        "partial": "{percent}% refund",
        "at_least": "if you cancel at least {hours} before the start",
        "any_time": "whenever you cancel",
        "later": "for later cancellations",
        "none_after": "No refund if you cancel less than {hours} before the start",
        "hour": "hour",
        "hours": "hours",
    },
    "fr": {
        "never": "Aucun remboursement en cas d’annulation.",
        "full": "Remboursement intégral",
        "partial": f"Remboursement de {{percent}}{_NBSP}%",
        "at_least": "en cas d’annulation au moins {hours} avant le début",
        "any_time": "quel que soit le moment de l’annulation",
        "later": "pour les annulations plus tardives",
        "none_after": "Aucun remboursement en cas d’annulation moins de {hours} avant le début",
        "hour": "heure",
        "hours": "heures",
    },
}


def _hours(count: int, phrases: Mapping[str, str]) -> str:
    return f"{count}{_NBSP}{phrases['hour'] if count == 1 else phrases['hours']}"


def _percent_half_up(amount_minor: int, percent: int) -> int:
    # Same rule as common.money.percent_of (a test checks they agree). Not imported from
    # there because importing the saas_platform package loads Celery and Django, and this module
    # must stay importable without them.
    quotient, remainder = divmod(amount_minor * percent, 100)
    return quotient + (1 if remainder * 2 >= 100 else 0)
