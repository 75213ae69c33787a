"""Errors that, like Stripe's, are saved under the request's idempotency key."""

from __future__ import annotations

from typing import Any

from stripe_local import cards
from stripe_local.core import StripeError


def saved_error(message: str, **kwargs: Any) -> StripeError:
    """A state error that, like Stripe, is saved under its idempotency key."""
    extra = kwargs.pop("extra", {}) or {}
    extra["_save"] = True
    return StripeError(message, extra=extra, **kwargs)


def decline_error(behaviour: cards.CardBehaviour, extra: dict[str, Any]) -> StripeError:
    extra = dict(extra)
    extra["_save"] = True
    return StripeError(
        behaviour.message or cards.DECLINED,
        status=402,
        type="card_error",
        code=behaviour.code,
        decline_code=behaviour.decline_code,
        extra=extra,
    )
