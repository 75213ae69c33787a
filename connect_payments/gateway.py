"""The one place that talks to Stripe: a `StripeClient` built from settings, plus error mapping.

Local Stripe and real Stripe differ only by settings (STRIPE_API_BASE set → local server). No
global `stripe.api_key` or `stripe.api_version`: every call goes through `stripe_client()`, with
the API version pinned in settings and an idempotency key on every POST that creates something.
"""

from __future__ import annotations

import hashlib

import stripe
from django.conf import settings

from common.stripe_client import configured_stripe_client

STRIPE_JS_DEFAULT_URL = "https://js.stripe.com/v3/"


class PaymentProviderUnavailable(Exception):
    """Stripe could not be reached or failed on its side (network error, 5xx, rate limit).

    The operation can be retried with the same idempotency key; the message is safe to show.
    """

    code = "payment_provider_unavailable"

    def __init__(self, message: str = "Online payment is temporarily unavailable.") -> None:
        super().__init__(message)


def stripe_client() -> stripe.StripeClient:
    """A client for the configured Stripe (common.stripe_client: one per configuration)."""
    return configured_stripe_client()


def stripe_js_url() -> str:
    if settings.STRIPE_JS_URL:
        return settings.STRIPE_JS_URL
    if settings.STRIPE_API_BASE:
        return settings.STRIPE_API_BASE.rstrip("/") + "/v3/"
    return STRIPE_JS_DEFAULT_URL


def publishable_key() -> str:
    return settings.STRIPE_PUBLISHABLE_KEY


def idempotency_key(*parts: object) -> str:
    """A stable key for one operation on one object: the same parts always give the same key.

    Hashed so that keys stay under Stripe's 255 characters and reveal nothing in logs.
    """
    text = ":".join(str(part) for part in parts)
    return "creneau-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def is_provider_failure(error: stripe.StripeError) -> bool:
    """Errors worth retrying later: Stripe or the network failed, not our request."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return True
    status = getattr(error, "http_status", None)
    return isinstance(status, int) and status >= 500
