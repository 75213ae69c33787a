"""The one place that talks to Stripe: a `StripeClient` built from settings, plus error mapping.

Local Stripe and real Stripe differ only by settings (STRIPE_API_BASE set → local server). No
global `stripe.api_key` or `stripe.api_version`: every call goes through `stripe_client()`, with
the API version pinned in settings and an idempotency key on every POST that creates something.
"""

from __future__ import annotations

import functools
import hashlib

import stripe
from django.conf import settings

STRIPE_JS_DEFAULT_URL = "https://js.stripe.com/v3/"


class PaymentProviderUnavailable(Exception):
    """Stripe could not be reached or failed on its side (network error, 5xx, rate limit).

    The operation can be retried with the same idempotency key; the message is safe to show.
    """

    code = "payment_provider_unavailable"

    def __init__(self, message: str = "Online payment is temporarily unavailable.") -> None:
        super().__init__(message)


def stripe_client() -> stripe.StripeClient:
    """A client for the configured Stripe (settings read at each call, so that tests can
    override them; one client per configuration, so HTTP connections are reused)."""
    return _client_for(
        settings.STRIPE_SECRET_KEY or "sk_test_local_without_key",
        settings.STRIPE_API_BASE.rstrip("/"),
        settings.STRIPE_API_VERSION,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        (float(settings.STRIPE_CONNECT_TIMEOUT), float(settings.STRIPE_READ_TIMEOUT)),
    )


@functools.lru_cache(maxsize=8)
def _client_for(
    key: str, base: str, version: str, retries: int, timeout: tuple[float, float]
) -> stripe.StripeClient:
    kwargs: dict = {}
    if base:
        kwargs["base_addresses"] = {"api": base, "connect": base, "files": base}
    return stripe.StripeClient(
        key,
        stripe_version=version,
        max_network_retries=retries,
        # Bounded connect and read waits on every call: a hanging Stripe costs a request at most
        # (connect + read) × (1 + retries) seconds, and the caller's StripeError path answers.
        http_client=stripe.RequestsClient(timeout=timeout),
        **kwargs,
    )


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
